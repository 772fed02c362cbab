"""The preview's PDFs, rendered one at a time in a worker process of their own.

WeasyPrint is CPU-bound and holds the GIL for seconds: in the server's process it would
stall the HTML previews and the events that reload them. One worker process, started with
WeasyPrint already imported and keeping its own :class:`~research_news.serve.previews.ContentCache`,
renders what it is sent; the server's side keeps the queue, so a job made stale by a newer
save is dropped before it starts, and Ctrl-C ends the worker at once (it ignores SIGINT, which
the terminal sends to the whole process group, and is terminated by the server instead).
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess

from ..exceptions import ContentError, Problem, ResearchNewsError
from .previews import ContentCache, Target, edition_for

ISSUE = "issue"
"""What a job renders: the issue's PDF, or else the offprint of the brief with that slug."""


@dataclass(frozen=True)
class PdfJob:
    target: Target
    what: str
    generation: int


@dataclass
class PdfResult:
    job: PdfJob
    data: bytes | None = None
    pages: int = 0
    warnings: list[Problem] = field(default_factory=list)
    failure: str | None = None
    seconds: float = 0.0


# --- the worker process ------------------------------------------------------------------


def _worker(connection) -> None:
    """The worker's loop: render each job received, send back its result; ``None`` ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from ..render import pdf  # noqa: F401 - import WeasyPrint now, not on the first save

    cache = ContentCache()
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        connection.send(render_job(job, cache))


_LAYOUTS: dict[tuple[str, int], object] = {}
"""The last print layout this worker made, by (target, generation): the issue's PDF and every offprint
of one version of the content are written from one layout, as a build does (render/pdf.py)."""

_DECISIONS: dict[str, dict[str, str]] = {}
"""Pagination's decisions, by target, kept in memory for the next save's layout (a cache.Memo's ``kept``):
the briefs the writer did not touch are laid out as decided, and not tried again, as in a build with
its cache (a 48-brief issue's PDF came 8.1 s after a save instead of 13.7 s). Under a key of the code,
the layout's files and the images, so a layout or an image edited is decided again."""


def render_job(job: PdfJob, cache: ContentCache) -> PdfResult:
    """Render one job; every failure becomes the result's ``failure``, told in the preview page."""
    from ..cache import Memo, memo_base
    from ..render.pdf import DEFAULT_VARIANT, PrintLayout
    from ..uptodate import Digests

    started = time.perf_counter()
    try:
        key = (job.target.key, job.generation)
        layout = _LAYOUTS.get(key)
        if not isinstance(layout, PrintLayout):
            _LAYOUTS.clear()  # one at a time: a layout of a long issue is large
            edition = edition_for(job.target, cache)
            kept = _DECISIONS.setdefault(job.target.key, {})
            memo = Memo(None, memo_base(edition, Digests(), DEFAULT_VARIANT), kept=kept)
            layout = _LAYOUTS[key] = PrintLayout(edition, DEFAULT_VARIANT, memo=memo)
        rendered = layout.issue() if job.what == ISSUE else layout.offprint(job.what)
        return PdfResult(job, rendered.data, rendered.pages, rendered.warnings, seconds=time.perf_counter() - started)
    except ContentError as error:
        failure = f"the content has errors: {error.problems[0]}" if error.problems else "the content has errors"
    except ResearchNewsError as error:
        failure = str(error)
    except OSError as error:  # a file deleted or half-written while it was read: the next save renders again
        failure = f"could not read {error.filename or 'a file'}: {error.strerror or error}"
    except Exception as error:  # a bug in research-news or WeasyPrint: told, never a dead worker
        failure = f"the PDF could not be rendered ({type(error).__name__}: {error}); this is a bug"
    return PdfResult(job, failure=failure, seconds=time.perf_counter() - started)


# --- the server's side -------------------------------------------------------------------


class PdfWorker:
    """Sends jobs to the worker process one at a time and hands each result to ``on_result``
    (called in this class's thread)."""

    def __init__(self, on_result: Callable[[PdfResult], None]):
        self._on_result = on_result
        self._pending: list[PdfJob] = []
        self._running: PdfJob | None = None
        self._condition = threading.Condition()
        self._closed = False
        self._process: SpawnProcess | None = None
        self._connection: Connection | None = None
        self._thread = threading.Thread(target=self._run, name="research-news PDF jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, jobs: list[PdfJob]) -> None:
        """Queue ``jobs`` in order, after dropping queued jobs they make stale (same target and PDF)."""
        with self._condition:
            wanted = {(job.target.key, job.what) for job in jobs}
            self._pending = [job for job in self._pending if (job.target.key, job.what) not in wanted] + jobs
            self._condition.notify()

    def busy_with(self, key: str) -> set[str]:
        """The PDFs of target ``key`` queued or being rendered."""
        with self._condition:
            jobs = [*self._pending, *([self._running] if self._running else [])]
            return {job.what for job in jobs if job.target.key == key}

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._pending.clear()
            self._condition.notify()
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._pending and not self._closed:
                    self._condition.wait()
                if self._closed:
                    return
                job = self._running = self._pending.pop(0)
            result = self._render(job)
            with self._condition:
                self._running = None
                if self._closed:
                    return
            self._on_result(result)

    def _render(self, job: PdfJob) -> PdfResult:
        try:
            connection = self._ready_connection()
            connection.send(job)
            return connection.recv()
        except (EOFError, OSError) as error:  # the worker died (killed, out of memory): the next job starts another
            self._process = None
            return PdfResult(
                job, failure=f"the PDF worker stopped ({error or type(error).__name__}); save again to retry"
            )
        except Exception as error:  # it could not start at all: told in the page, and this thread goes on
            self._process = None
            return PdfResult(job, failure=f"the PDF worker could not start ({type(error).__name__}: {error})")

    def _ready_connection(self):
        if self._process is None or not self._process.is_alive():
            # spawn, not fork: the server runs threads and an event loop that a fork would copy mid-way
            context = multiprocessing.get_context("spawn")
            self._connection, child = context.Pipe()
            self._process = context.Process(target=_worker, args=(child,), name="research-news PDF worker", daemon=True)
            self._process.start()
            child.close()
        return self._connection
