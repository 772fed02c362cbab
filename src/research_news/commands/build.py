"""`research-news build`: every edition of an issue, into build/<slug>/.

An up-to-date build is answered by uptodate.py alone: this module imports the build pipeline
(and the registry of editions, which loads the content models) only when there is work to do.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from .. import print_process, uptodate
from ..exceptions import UsageError, counted
from ..tree import ISSUE_FILE
from .progress import pdf_variant as chosen_variant
from .progress import steps

if TYPE_CHECKING:
    from ..render import forked

BUILT_IN = ("pdf", "offprints", "web", "email")
"""The built-in editions' names, for the help (editions.BUILT_IN, which takes long to import)."""


def build(
    issue_dir: Annotated[Path, typer.Argument(help="The issue folder (holding issue.yaml).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where build/<slug>/ goes.")] = Path("build"),
    only: Annotated[
        str | None,
        typer.Option(
            help=f"Comma-separated editions to build: {','.join(BUILT_IN)} "
            "or one an installed package adds (default: all the publication "
            "is set up for, offprints only with --offprints)."
        ),
    ] = None,
    offprints: Annotated[bool, typer.Option("--offprints", help="Also write one PDF per brief.")] = False,
    pdf_variant: Annotated[
        str, typer.Option(help="pdf/ua-1 (tagged, accessible; default), pdf/a-3b for archives, or none.")
    ] = "pdf/ua-1",
    attach_pdf: Annotated[bool, typer.Option("--attach-pdf", help="Attach the PDF to the .eml message.")] = False,
    pad_to: Annotated[
        int | None,
        typer.Option(
            "--pad-to",
            help="Make the print edition's page count a multiple of this (4 for a stapled booklet), "
            "with pages for notes before the back page.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Render every edition again, reusing nothing from earlier builds."),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            help="Processes rendering at once (default: one per core; 1 renders everything in this process).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary line.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Warnings are errors: nothing is written while there is one (for CI).")
    ] = False,
) -> None:
    """Build the print PDF, the web edition and the email edition of an issue (and any edition a package adds)."""
    wanted = None if only is None else tuple(part.strip() for part in only.split(",") if part.strip())
    if wanted is not None and not wanted:
        raise UsageError(_choices_message(only or ""))
    if pad_to is not None and pad_to < 2:
        raise UsageError(f"--pad-to takes a page count of 2 or more (4 for a stapled booklet); got {pad_to}")
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs takes a number of processes, 1 or more; got {jobs}")
    try:
        is_issue = (issue_dir / ISSUE_FILE).is_file()
    except OSError as error:  # a name too long, a symbolic link loop
        raise UsageError(f"{issue_dir}: {error.strerror or error}") from None
    if not is_issue:
        raise UsageError(f"{issue_dir} is not an issue folder (it has no {ISSUE_FILE})")
    console = Console(stderr=True, quiet=quiet)
    variant = chosen_variant(pdf_variant)
    chosen: dict[str, Any] = {
        "only": wanted,
        "offprints": offprints,
        "pdf_variant": variant,
        "attach_pdf": attach_pdf,
        "pad_to": pad_to,
    }
    # A build with nothing to do, told before anything heavy loads (a record of unknown editions never matches).
    result = None if force else uptodate.unchanged(issue_dir, out, **chosen, strict=strict)
    if result is not None:
        with steps(console)("Checking content"):  # what the full path shows before it finds nothing to do
            pass
    else:
        printer = print_process.taken()  # laying the issue out already, if launch.py started it
        if printer is None and print_process.lays_out_print(wanted, offprints, attach_pdf):
            _import_weasyprint_meanwhile()
        result = _build(issue_dir, out, chosen, strict=strict, force=force, jobs=jobs, console=console, printer=printer)
    for warning in result.warnings:
        typer.echo(str(warning), err=True)
    typer.echo(_summary(result))


def _import_weasyprint_meanwhile() -> None:
    """Start importing WeasyPrint (0.3 s, see weasyprint_import.py) on a thread while this one loads the
    build pipeline and reads and checks the content, which leave the interpreter to it now and then
    (reading files): the first layout starts 0.1 to 0.15 s sooner (2023-03). Only WeasyPrint itself,
    which imports nothing of research-news, so the two threads never wait for a module the other is
    importing. A failure is the build's to report, when it imports WeasyPrint in its turn."""

    def importing() -> None:
        with contextlib.suppress(BaseException):  # reported where the build imports it
            importlib.import_module("weasyprint")

    threading.Thread(target=importing, name="import WeasyPrint", daemon=True).start()


def _choices_message(only: str) -> str:
    from .. import editions

    return editions.choices_message(only)


def _build(
    issue_dir: Path,
    out: Path,
    chosen: dict,
    *,
    strict: bool,
    force: bool,
    jobs: int | None,
    console: Console,
    printer: forked.Early | None,
):
    """The full build (build.py), after the editions named are checked against the registry; ``printer``
    is stopped whatever happens, when the build has not given it its job."""
    from .. import editions
    from ..build import build as build_issue

    try:
        if chosen["only"] is not None and editions.unknown(chosen["only"]):
            raise UsageError(editions.choices_message(chosen["only"]))
        return build_issue(
            issue_dir, out, **chosen, strict=strict, force=force, jobs=jobs, step=steps(console), printer=printer
        )
    finally:
        if printer is not None:
            printer.cancel()


def _summary(result) -> str:
    if result.up_to_date:
        return uptodate.up_to_date_line(result.out_dir)
    total = sum(output.size for output in result.outputs)
    pages = f", {result.pages} PDF pages" if result.pages else ""
    said = [
        counted(count, severity)
        for severity in ("warning", "note")  # notes say what the build did (a figure moved), not what is wrong
        if (count := sum(1 for problem in result.warnings if problem.severity == severity))
    ]
    reused = (
        f" ({len(result.outputs) - len(result.reused)} rendered, {len(result.reused)} reused)" if result.reused else ""
    )
    return (
        f"Built {result.out_dir}/: {counted(len(result.outputs), 'file')}{reused}{pages}, {_size(total)} "
        + ", ".join([f"in {result.seconds:.1f} s", *said])
    )


def _size(count: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if count < 1024 or unit == "MB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return ""
