"""Rendering on every core: the jobs of a build (each language's print PDF with its offprints, cut
from the same layout; the web and email editions) rendered in worker processes while the build's own
process lays out the first language's PDF.

A worker is started (``spawn``) the first time a piece is sent to it and rebuilds the edition from
the issue folder once per language (jinja templates and Markup do not travel between processes);
what comes back is a :class:`~research_news.editions.Rendered` per piece — bytes, paths and located
warnings — exactly what :func:`~research_news.editions.render_pieces` returns in the build's own
process, so the files are the same byte for byte whichever process made them.

Why spawn and not fork: ``build`` runs under the progress spinner's thread, and ``serve`` builds
from request threads; a child forked while another thread holds a lock (Pango's, fontconfig's,
a stream's) would wait for it forever. Each worker pays for importing WeasyPrint once, on the
other core, while this process renders.

A user-visible error in a worker (:class:`~research_news.exceptions.ResearchNewsError`, and a
:class:`~research_news.exceptions.ContentError` with its located problems) comes back as data and
is raised again here as the same error; an ``OSError`` travels as itself (the build words it,
see build.py); a worker that dies (out of memory) is one plain error.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exceptions import ContentError, Problem, ResearchNewsError

if TYPE_CHECKING:
    from .assemble import Edition


@dataclass(frozen=True)
class Piece:
    """One job for a worker: the ``pieces`` (``(edition, piece)`` pairs, see editions.render_pieces) of
    the issue in ``lang``, rendered together, with the build's choices."""

    issue_dir: Path
    lang: str
    out_dir: Path  # the edition's folder: build/<slug>/ or build/<slug>/<lang>/
    pieces: tuple[tuple[str, str], ...]
    pdf_variant: str | None = "pdf/ua-1"
    pad_to: int | None = None
    memo: Any = None  # cache.Memo: where pagination's decisions are kept between builds


@dataclass
class _Failed:
    """A user-visible error raised in a worker, as data: its type, and its problems or its message."""

    kind: type[ResearchNewsError]
    message: str = ""
    problems: list[Problem] = field(default_factory=list)

    def error(self) -> ResearchNewsError:
        if issubclass(self.kind, ContentError):
            return ContentError(self.problems)
        try:
            return self.kind(self.message)
        except TypeError:  # an error type made from something else than its message
            return ResearchNewsError(self.message)


def worker_count(jobs: int | None) -> int:
    """How many worker processes a build may start: ``jobs`` processes render at once (default: one per
    core), and the build's own process is one of them (it lays out the first language's PDF)."""
    return max(0, (jobs if jobs is not None else os.cpu_count() or 1) - 1)


class Workers:
    """A pool of worker processes, started when the first piece is sent; ``with`` stops it."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, piece: Piece) -> Future:
        return self.call(_render, piece)

    def call(self, function: Callable[..., Any], *arguments: Any) -> Future:
        """Start ``function(*arguments)`` in a worker (a module's function: it travels by name);
        :func:`result_of` gives what it returned, or raises the user-visible error it raised."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.count, mp_context=get_context("spawn"), initializer=exit_without_teardown
            )
        try:
            return self._pool.submit(reported, function, *arguments)
        except BrokenProcessPool:  # a worker died before (out of memory?): the same one plain error
            raise _stopped() from None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def result_of(future: Future):
    """What a worker rendered, or the error it raised, raised here as the same user-visible error."""
    try:
        got = future.result()
    except BrokenProcessPool:
        raise _stopped() from None
    return unreported(got)


def unreported(got: Any) -> Any:
    """What :func:`reported` gave back from another process: the result, or the user-visible error it
    caught, raised here as the same error."""
    if isinstance(got, _Failed):
        raise got.error()
    return got


def _stopped() -> ResearchNewsError:
    return ResearchNewsError(
        "a process rendering the editions stopped without a word (out of memory?); "
        "run again with --jobs 1 to render everything in one process; nothing was written"
    )


# --- in the worker ------------------------------------------------------------------------


def exit_without_teardown() -> None:
    """(A worker's first call) make the worker's exit, once the pool stops it, skip the interpreter's
    teardown: freeing every module and object of a process that laid out an issue took 0.3 s, which
    the build waited for. A worker's results have all been sent by then, and it writes no file."""
    atexit.register(_exit_now)


def _exit_now() -> None:
    """The worker's last exit handler. The only two registered before it (when the worker's process
    imported multiprocessing and logging) are multiprocessing's, which the process ran already when
    the pool stopped it, and logging's, run here."""
    import logging

    from .launch import flushed

    logging.shutdown()
    if flushed():
        os._exit(0)


_EDITIONS: dict[tuple[Path, str], Edition] = {}


def reported(function: Callable[..., Any], *arguments: Any) -> Any:
    """(In a worker) what ``function(*arguments)`` returns, or the user-visible error it raised, as data
    that :func:`result_of` raises again in the parent."""
    try:
        return function(*arguments)
    except ContentError as error:
        return _Failed(ContentError, problems=error.problems)
    except ResearchNewsError as error:
        return _Failed(type(error), str(error))


def _render(piece: Piece):
    """The pieces rendered as the build's own process would: a Rendered for each."""
    from . import editions as registry
    from .assemble import assemble
    from .translations import in_language
    from .validate import load_content

    edition = _EDITIONS.get((piece.issue_dir, piece.lang))
    if edition is None:
        edition = _EDITIONS[piece.issue_dir, piece.lang] = assemble(
            in_language(load_content(piece.issue_dir), piece.lang)
        )
    options = registry.Options(piece.out_dir, piece.pdf_variant, False, piece.pad_to, memo=piece.memo)
    return registry.render_pieces(edition, options, list(piece.pieces))
