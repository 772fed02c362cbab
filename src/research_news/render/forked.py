"""PDFs of one layout written on two cores: a forked copy of the process writes a share of them.

A print job writes the issue's PDF and then each offprint from one layout (render/pdf.py). The
layout's pages hold Pango objects, which cannot be sent to another process, so the build's worker
(parallel.py) cannot help; a child made by ``fork`` has them all, as a copy. :func:`in_two` gives
the child the last of the jobs, about half of the pages to write, writes the rest itself, then
takes the child's PDFs through a pipe. Writing the same pages from a copy of the same layout gives
the same bytes (tests/test_forked.py compares them).

Measured on the 48-brief issue: its PDF (121 pages) takes 2.9 s to write, its 48 offprints 2.4 s;
the child writes most of the offprints while the parent writes the issue.

Where it is not done: anywhere but Linux (``fork`` is not safe with macOS's system frameworks, and
Windows has none), with one core to run on, for fewer than two jobs, or inside a daemon process. The
child writes no file and prints nothing (its standard streams go to ``/dev/null``, so a lock another
thread held at the fork cannot stop it), and leaves with ``os._exit``, running no exit handler of
the parent's (the font folders stay for the parent to remove). If it fails, is killed or takes far
longer than the parent's share, the parent writes its share itself: never a missing PDF.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import pickle
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")

PATIENCE = 4.0
"""How many times the parent's own share of the work it waits for the child, past that share (and at
least :data:`MIN_WAIT` seconds), before it writes the child's share itself."""

MIN_WAIT = 30.0


def in_two(jobs: Sequence[tuple[int, Callable[[], T]]]) -> list[T]:
    """Each job's result, in order; a job is (its weight, the call that does it). On two cores or more,
    a forked child does the last jobs, about half the weight, while this process does the first."""
    split = _split_at(jobs) if _can_fork() and len(jobs) > 1 else len(jobs)
    if split == len(jobs):
        return [job() for _, job in jobs]
    child = None
    try:
        child = _start([job for _, job in jobs[split:]])
        if child is None:
            return [job() for _, job in jobs]
        started = time.monotonic()
        mine = [job() for _, job in jobs[:split]]
    except BaseException:  # an error, an interrupt: the child's work is not wanted
        if child is not None:
            _results(*child, deadline=0.0)
        raise
    theirs: list[T] | None = _results(
        *child, deadline=time.monotonic() + max(MIN_WAIT, PATIENCE * (time.monotonic() - started))
    )
    if theirs is None or len(theirs) != len(jobs) - split:
        theirs = [job() for _, job in jobs[split:]]
    return [*mine, *theirs]


class Ahead(Generic[T]):
    """Jobs a forked child starts on now, while this process does something else whose outcome says
    whether they are wanted: :meth:`taken` waits for their results, :meth:`cancel` kills the child.
    Without a child (see :func:`in_two` for where none is made), :meth:`taken` gives None."""

    def __init__(self, jobs: Sequence[Callable[[], T]]) -> None:
        self._count, self._started = len(jobs), time.monotonic()
        self._child = _start(list(jobs)) if jobs and _can_fork() else None

    def taken(self) -> list[T] | None:
        """The jobs' results, in order, once the child is done; None when there was no child, or it
        failed or took far longer than it has been running (:data:`PATIENCE`)."""
        if self._child is None:
            return None
        waited = max(MIN_WAIT, PATIENCE * (time.monotonic() - self._started))
        try:
            results: list[T] | None = _results(*self._child, deadline=time.monotonic() + waited)
        finally:
            self._child = None  # waited for, whatever happened
        return results if results is not None and len(results) == self._count else None

    def cancel(self) -> None:
        """Kill the child, if there is one still, and wait for it (nothing when it was taken)."""
        if self._child is None:
            return
        try:
            _results(*self._child, deadline=0.0)
        finally:
            self._child = None


class Early:
    """A child forked before its job is known, so that it gets ready (``prepare``: importing what the job
    needs) on another core while this process works the job out; :meth:`give` sends it the job (a
    module's function and its arguments, pickled), :meth:`result` waits for what it returned.

    The child does one job, or none: it ends when this process gives it nothing (closes its pipe) or
    exits, even by SIGKILL (Linux's parent-death signal). It writes no file of the build's and prints
    nothing (its standard streams go to ``/dev/null``), and ignores interrupts (this process answers
    them, and stops it). Stopped while doing its job (:meth:`cancel`: SIGTERM), it unwinds as from an
    error: what it was writing is removed and the children it forked in turn are killed (a child that
    has not exited a second later is killed). Its temporary files (WeasyPrint's copies of the fonts)
    go to a folder of its own, which this process removes once the child has ended, however it ended.
    """

    def __init__(self, prepare: Callable[[], None]) -> None:
        self._child: tuple[int, int] | None = None  # (pid, the pipe the result comes through)
        self._job: int | None = None  # the pipe the job goes through
        self._given = False
        self._temporary: str | None = None
        try:
            self._temporary = tempfile.mkdtemp(prefix="research-news-print-")
            job_read, self._job = os.pipe()
            result_read, result_write = os.pipe()
        except OSError:
            self._close_job()
            self._remove_temporary()
            return
        try:
            with _interrupts_held(), warnings.catch_warnings():  # an interrupt is raised once the child is known
                warnings.simplefilter("ignore", DeprecationWarning)
                parent = os.getpid()
                try:
                    pid = os.fork()
                except OSError:
                    pid = -1
                if pid == 0:
                    status = 1
                    try:
                        os.close(self._job)
                        os.close(result_read)
                        status = _early_child(prepare, parent, self._temporary, job_read, result_write)
                    finally:
                        os._exit(status)
                if pid > 0:
                    self._child = (pid, result_read)
        except BaseException:  # an interrupt: the child is not wanted
            if self._child is not None:
                _kill(self._child[0])
                _waited(self._child[0])
                self._child = None  # its pipe closed below
            raise
        finally:
            os.close(job_read)
            os.close(result_write)
            if self._child is None:
                os.close(result_read)
                self._close_job()
                self._remove_temporary()

    @property
    def started(self) -> bool:
        """Whether there is a child, still waiting for its job or doing it."""
        return self._child is not None

    def give(self, function: Callable[..., Any], *arguments: Any) -> bool:
        """Send the child its job, ``function(*arguments)``, and go on: a thread writes it into the pipe
        while the child, perhaps still getting ready, reads it. False (and the child stopped) when there
        is no child, or the job cannot be pickled."""
        if self._child is None or self._job is None:
            return False
        try:
            data = pickle.dumps((function, arguments), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # something of the job's that cannot travel: this process does it
            self.cancel()
            return False
        pipe, self._job, self._given = self._job, None, True
        threading.Thread(target=_send, args=(pipe, data), name="job for the forked child", daemon=True).start()
        return True

    def result(self) -> tuple[Any] | None:
        """``(what the job returned,)`` once the child has done it; None when it failed (an error, an
        import that failed, a crash): the caller then does the job itself."""
        if self._child is None:
            return None
        child, self._child = self._child, None
        try:
            results: list[Any] | None = _results(*child, deadline=None, stop=_terminate)  # an interrupt stops it
        finally:
            self._remove_temporary()
        return (results[0],) if results is not None and len(results) == 1 else None

    def cancel(self) -> None:
        """Stop the child, if there is one still (nothing after :meth:`result`), and wait for it: given its
        job, SIGTERM first, so that it unwinds (SIGKILL if it has not exited within a second); else
        SIGKILL at once. Then remove its temporary folder."""
        self._close_job()
        if self._child is not None:
            child, self._child = self._child, None
            _results(*child, deadline=0.0, stop=_terminate if self._given else _kill)  # stops it, waits for it
        self._remove_temporary()

    def _close_job(self) -> None:
        if self._job is not None:
            with contextlib.suppress(OSError):
                os.close(self._job)
            self._job = None

    def _remove_temporary(self) -> None:
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None


def _terminate(pid: int) -> None:
    """Stop the child ``pid`` and wait for it: SIGTERM, so that it unwinds; SIGKILL if it has not exited
    within a second (stuck in a library's code, which a Python signal handler waits for, or in code that
    caught the exception the handler raised: WeasyPrint's SVG drawing catches everything)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            return
        time.sleep(0.005)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _waited(pid)


def _kill(pid: int) -> None:
    """Kill the child ``pid`` (a zombie until waited for: the pid is still its own)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _send(pipe: int, data: bytes) -> None:
    """Write ``data`` into ``pipe`` and close it; a child that has gone (EPIPE) is :meth:`Early.result`'s
    to find out."""
    try:
        with os.fdopen(pipe, "wb") as out:
            out.write(data)
    except OSError:
        pass


def _early_child(prepare: Callable[[], None], parent: int, temporary: str | None, job: int, out: int) -> int:
    """(In the child of :class:`Early`) get ready, read the job, do it, send what it returned: the exit
    status. Temporary files go to ``temporary``, which the parent removes."""

    def stop(number: int, frame: object) -> None:
        raise SystemExit(1)  # unwound as an error: ``finally`` blocks remove what was half made

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop)
    _die_with_parent(signal.SIGTERM)
    try:
        if os.getppid() != parent:  # the parent exited before the line above: nobody wants the job
            return 1
        if temporary is not None:
            tempfile.tempdir = temporary
            os.environ["TMPDIR"] = temporary
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (freed by os._exit)
        prepare()
        with os.fdopen(job, "rb") as given:
            data = given.read()
        if not data:
            return 0  # given nothing: the parent did not need it
        function, arguments = pickle.loads(data)
        result = pickle.dumps([function(*arguments)], protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(out, "wb") as sent:
            sent.write(result)
    except BaseException:  # whatever it was (SIGTERM too), the parent does the job itself
        return 1
    finally:
        if temporary is not None and os.getppid() != parent:  # the parent is gone: nobody else will remove it
            shutil.rmtree(temporary, ignore_errors=True)
    return 0


def _die_with_parent(number: int) -> None:
    """Ask Linux to send this process the signal ``number`` when its parent exits, however it exits
    (prctl PR_SET_PDEATHSIG): a child working for a process that is gone must not run on."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, number, 0, 0, 0)  # 1: PR_SET_PDEATHSIG


_PERMITTED: contextvars.ContextVar[bool] = contextvars.ContextVar("forks_permitted", default=True)
_OTHERS: contextvars.ContextVar[tuple[int, ...]] = contextvars.ContextVar("others_working", default=())


@contextlib.contextmanager
def permitted(allowed: bool, beside: tuple[int, ...] = ()) -> Iterator[None]:
    """Inside this block (in this thread), children are made only when ``allowed``: ``--jobs 1`` asks
    for everything in one process. ``beside``: processes other than this one's own children whose
    running takes a core too (the build's workers, for the print process, which is their sibling)."""
    tokens = _PERMITTED.set(allowed), _OTHERS.set(beside)
    try:
        yield
    finally:
        _PERMITTED.reset(tokens[0])
        _OTHERS.reset(tokens[1])


def _can_fork() -> bool:
    """Whether a forked child would have a core of its own: on Linux, outside a pool's worker, with a
    core that neither this process nor a process working beside it (one of its workers, or those
    :func:`permitted` names) is using: a bilingual build's worker laying out the translation, and a
    child beside it, would slow each other."""
    if sys.platform != "linux" or not hasattr(os, "fork") or not _PERMITTED.get():
        return False
    if signal.getsignal(signal.SIGCHLD) == signal.SIG_IGN:
        return False  # children reaped by the system: one could not be waited for, nor its pid trusted
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        return False  # a pool's worker: the build's own process has the other core
    children = [child.pid for child in multiprocessing.active_children() if child.pid]
    busy = sum(_running(pid) for pid in {*children, *_OTHERS.get()})
    return len(os.sched_getaffinity(0)) - 1 - busy >= 1


def _waited(pid: int) -> int | None:
    """The exit status of the child ``pid``, once it has exited; None when it cannot be known (SIGCHLD
    ignored: the system reaped it)."""
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except ChildProcessError:
        return None


def _running(pid: int) -> bool:
    """Whether the process ``pid`` is running or waiting for a core (not asleep, waiting for work)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]  # after the command's name, which may hold spaces
    except (OSError, IndexError):
        return False
    return state in ("R", "D")


def _split_at(jobs: Sequence[tuple[int, Callable[[], T]]]) -> int:
    """The index from which the child takes the jobs: the last ones, until it has half the weight."""
    total = sum(weight for weight, _ in jobs)
    theirs, split = 0, len(jobs)
    while split > 1 and theirs + jobs[split - 1][0] <= total / 2:
        split -= 1
        theirs += jobs[split][0]
    return split


def _start(jobs: list[Callable[[], T]]) -> tuple[int, int] | None:
    """(the child's pid, the pipe its results come through), the child doing ``jobs``; None when no
    child could be made. An interrupt that comes while the process forks is held until the child is
    known, then raised here, and the child killed; the child ignores interrupts (its parent answers
    them, and kills it)."""
    try:
        read, write = os.pipe()
    except OSError:
        return None
    made: list[int] = []
    try:
        with _interrupts_held(), _terminations_held(), warnings.catch_warnings():  # 3.12 warns: see above
            warnings.simplefilter("ignore", DeprecationWarning)
            _fork(jobs, read, write, made)
        os.close(write)
        write = -1
    except BaseException as error:
        if made:
            _results(made[0], read, deadline=0.0)  # kills it, waits for it, closes ``read``
        else:
            os.close(read)
        if write >= 0:
            with contextlib.suppress(OSError):
                os.close(write)
        if isinstance(error, OSError):  # no child: the jobs are done here
            return None
        raise
    return made[0], read


def _fork(jobs: list[Callable[[], T]], read: int, write: int, made: list[int]) -> None:
    """Fork; in the child, do ``jobs`` and exit (never returning into the parent's code: nothing runs
    between the fork and the ``try`` that ends in ``os._exit``); in the parent, add the child's pid to
    ``made``."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not a print process's handler (see Early)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # held by the parent while it forked
            _die_with_parent(signal.SIGKILL)  # its parent killed (a print process stopped): no writer left
            if os.getppid() == parent:
                os.close(read)
                status = _child(jobs, write)
        finally:
            os._exit(status)
    made.append(pid)


@contextlib.contextmanager
def _terminations_held() -> Iterator[None]:
    """Inside this block, SIGTERM waits (blocked for this thread): a print process stopped while it forks
    a writer (see :class:`Early`) unwinds only once the writer is known, and killed on the way."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Inside this block, an interrupt (SIGINT, whose Python handler runs in the main thread) is noted
    instead of raised, and raised when the block ends. Outside the main thread, or when the handler is
    not Python's own, nothing changes: the interrupt does not reach this thread's code."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.getsignal(signal.SIGINT)
    if not callable(handler):
        yield
        return
    held: list[Any] = []
    signal.signal(signal.SIGINT, lambda number, frame: held.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        if held:  # raised even when the block failed: the interrupt is what the user asked for
            handler(signal.SIGINT, held[0])


def _child(jobs: list[Callable[[], T]], pipe: int) -> int:
    """Do ``jobs`` and send their results through ``pipe``: the child's exit status."""
    try:
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (freed by os._exit)
        data = pickle.dumps([job() for job in jobs], protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(pipe, "wb") as out:
            out.write(data)
    except BaseException:  # whatever it was, the parent does the jobs itself
        return 1
    return 0


def _results(pid: int, pipe: int, *, deadline: float | None, stop: Callable[[int], None] = _kill) -> list[T] | None:
    """What the child sent, once it has exited well; None when it failed, or missed ``deadline`` (None:
    no deadline) or was interrupted (it is then stopped, by ``stop``). The child is waited for in every
    case: no zombie is left."""
    finished = False
    try:
        chunks: list[bytes] = []
        readable = select.poll()  # not select.select: a descriptor past 1024 is fine
        readable.register(pipe, select.POLLIN)
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            if not readable.poll(None if left is None else left * 1000):
                return None
            chunk = os.read(pipe, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        finished = True
    finally:
        os.close(pipe)
        if not finished:
            stop(pid)
        status = _waited(pid)
    if status != 0:
        return None
    try:
        results = pickle.loads(b"".join(chunks))
    except Exception:  # a cut-off pipe: the parent does the jobs itself
        return None
    return results if isinstance(results, list) else None
