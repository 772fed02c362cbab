"""What the building commands (build, site) share on the command line: their progress lines
and the meaning of ``--pdf-variant none``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from ..exceptions import UsageError

if TYPE_CHECKING:  # launch.py reads PDF_VARIANTS before anything heavy is loaded
    from rich.console import Console

PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3b", "pdf/a-3u", "pdf/ua-2", "none")


def steps(console: Console) -> Callable[[str], AbstractContextManager[None]]:
    """``with step("Rendering PDF"): …`` shows a spinner while it runs, then a tick."""

    @contextlib.contextmanager
    def step(label: str) -> Iterator[None]:
        with console.status(f"{label}…"):
            yield
        console.print(f"[green]✓[/green] {label}")

    return step


def pdf_variant(chosen: str) -> str | None:
    """The variant WeasyPrint is asked for (``none``: a plain PDF); any other word is a usage error."""
    if chosen not in PDF_VARIANTS:
        raise UsageError(f"--pdf-variant takes {', '.join(PDF_VARIANTS)}; got {chosen!r}")
    return None if chosen == "none" else chosen
