"""render/forked.py: a forked child does the last jobs, the results come back in order, the same bytes as
in one process, and a child that fails or hangs costs a PDF nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from research_news.assemble import assemble
from research_news.render import forked
from research_news.render import pdf as pdf_module
from research_news.validate import load_content

from .conftest import SAMPLE_ISSUE, SAMPLE_ROOT

STANDING_ISSUE = SAMPLE_ROOT / "2023-03-advertising-and-democracy"  # its one trial finds nothing better

can_fork = pytest.mark.skipif(not forked._can_fork(), reason="forks only on Linux with two cores or more")


@pytest.fixture
def children(monkeypatch) -> list[tuple[int, int]]:
    """(pid, how many jobs) of each child ``forked._start`` made."""
    made: list[tuple[int, int]] = []
    start = forked._start

    def recorded(jobs):
        child = start(jobs)
        if child is not None:
            made.append((child[0], len(jobs)))
        return child

    monkeypatch.setattr(forked, "_start", recorded)
    return made


def _same_pdfs(one, other, slugs: list[str]) -> None:
    """The issue and every offprint of two print jobs: the same bytes and the same warnings."""
    assert one.issue.data == other.issue.data and one.issue.warnings == other.issue.warnings
    for slug in slugs:
        assert one.offprints[slug].data == other.offprints[slug].data
        assert one.offprints[slug].warnings == other.offprints[slug].warnings


def _pid(value: int):
    return lambda: (value, os.getpid())


@can_fork
def test_the_child_does_the_last_jobs_and_the_results_come_in_order():
    results = forked.in_two([(4, _pid(0)), (1, _pid(1)), (1, _pid(2)), (2, _pid(3))])
    assert [value for value, _ in results] == [0, 1, 2, 3]
    assert {pid for _, pid in results[:1]} == {os.getpid()}
    assert {pid for _, pid in results[1:]} != {os.getpid()} and len({pid for _, pid in results[1:]}) == 1


def test_the_child_takes_the_last_jobs_up_to_half_the_weight():
    jobs = [(121, None), *[(3, None)] * 40]
    assert forked._split_at(jobs) == 1  # the issue for the parent, every offprint for the child
    assert forked._split_at([(2, None), (1, None), (1, None), (1, None), (1, None)]) == 2
    assert forked._split_at([(1, None), (10, None)]) == 2  # nothing the child could take: no child
    assert forked._split_at([(1, None)]) == 1


def _spin(started, seconds: float) -> None:
    started.set()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        pass


def _sleep(started, seconds: float) -> None:
    started.set()
    time.sleep(seconds)


@pytest.mark.skipif(not forked._can_fork(), reason="forks only on Linux with a core to spare")
@pytest.mark.parametrize("work", [_spin, _sleep])
def test_no_child_while_a_worker_uses_the_other_core(work):
    """A bilingual build's worker lays the translation out on the other core: a child beside it would
    slow both. A worker asleep (waiting for work) leaves its core free."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    started = context.Event()
    worker = context.Process(target=work, args=(started, 30))
    worker.start()
    try:
        assert started.wait(60)  # past its start-up: now busy, or asleep
        deadline, steady = time.monotonic() + 30, 0
        while steady < 10 and time.monotonic() < deadline:  # so for 10 looks in a row
            steady = steady + 1 if forked._running(worker.pid) == (work is _spin) else 0
            time.sleep(0.05)
        spare = len(os.sched_getaffinity(0)) - 1 - (work is _spin)
        assert forked._can_fork() == (spare >= 1)
    finally:
        worker.terminate()
        worker.join()


def test_on_one_core_everything_is_done_here(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    results = forked.in_two([(1, _pid(0)), (1, _pid(1))])
    assert [pid for _, pid in results] == [os.getpid()] * 2


@can_fork
def test_a_child_that_fails_leaves_its_jobs_to_the_parent():
    parent = os.getpid()

    def only_here():
        if os.getpid() != parent:
            raise RuntimeError("the child cannot")
        return "done here"

    assert forked.in_two([(1, lambda: "first"), (1, only_here)]) == ["first", "done here"]


@can_fork
def test_a_child_that_hangs_is_killed_and_its_jobs_done_here(monkeypatch, children):
    monkeypatch.setattr(forked, "MIN_WAIT", 0.5)
    parent = os.getpid()

    def hangs_in_the_child():
        while os.getpid() != parent:
            time.sleep(1)
        return "done here"

    started = time.monotonic()
    assert forked.in_two([(1, lambda: "first"), (1, hangs_in_the_child)]) == ["first", "done here"]
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(children[0][0], os.WNOHANG)  # the child was waited for: no zombie left


@can_fork
def test_the_print_jobs_pdfs_are_the_same_bytes_written_in_two(monkeypatch, children):
    edition = assemble(load_content(SAMPLE_ISSUE))
    slugs = [brief.slug for brief in edition.briefs]
    in_two = pdf_module.render_print(edition, offprints=slugs)
    assert children and children[-1][1] >= 1  # the child wrote offprints
    monkeypatch.setattr(forked, "_can_fork", lambda: False)
    in_one = pdf_module.render_print(edition, offprints=slugs)
    _same_pdfs(in_two, in_one, slugs)


@can_fork
def test_jobs_ahead_are_done_by_a_child_and_taken_in_order():
    ahead = forked.Ahead([_pid(0), _pid(1)])
    results = ahead.taken()
    assert [value for value, _ in results] == [0, 1]
    assert {pid for _, pid in results} != {os.getpid()}
    ahead.cancel()  # taken: nothing left to kill


@can_fork
def test_jobs_ahead_no_longer_wanted_are_killed_at_once(children):
    ahead = forked.Ahead([lambda: time.sleep(60)])
    started = time.monotonic()
    ahead.cancel()
    assert time.monotonic() - started < 5
    assert ahead.taken() is None
    with pytest.raises(ChildProcessError):
        os.waitpid(children[0][0], os.WNOHANG)


def test_without_a_child_nothing_is_done_ahead(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert forked.Ahead([_pid(0)]).taken() is None


def _written_here(monkeypatch) -> list[int]:
    """Counts the PDFs this process writes (a forked child's writes are counted in its own copy)."""
    count = [0]
    write = pdf_module._write

    def counted(*args, **kwargs):
        count[0] += 1
        return write(*args, **kwargs)

    monkeypatch.setattr(pdf_module, "_write", counted)
    return count


@can_fork
@pytest.mark.parametrize(("issue", "stands"), [(STANDING_ISSUE, True), (SAMPLE_ISSUE, False)])
def test_the_first_layouts_pdfs_are_written_during_the_trials_and_taken_if_it_stands(monkeypatch, issue, stands):
    """2023-03's trial finds nothing better: its PDFs come from the child that wrote them while the
    trial ran, the same bytes. The sample's trial moves a figure: the child is killed, and this process
    writes the PDFs of the layout made."""
    edition = assemble(load_content(issue))
    slugs = [brief.slug for brief in edition.briefs]
    written_here = _written_here(monkeypatch)
    ahead = forked.Ahead
    started: list[forked.Ahead] = []
    monkeypatch.setattr(forked, "Ahead", lambda jobs: started.append(ahead(jobs)) or started[-1])
    during = pdf_module.render_print(edition, offprints=slugs)
    assert len(started) == 1  # one child, started before the first trial
    assert written_here[0] == (0 if stands else 1)  # after a move: the issue here, the offprints in two
    monkeypatch.setattr(forked, "_can_fork", lambda: False)
    after = pdf_module.render_print(edition, offprints=slugs)
    _same_pdfs(during, after, slugs)


@can_fork
def test_when_this_process_fails_its_share_the_child_is_killed_and_waited_for(children):

    def fails():
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        forked.in_two([(1, fails), (1, lambda: time.sleep(60))])
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(children[0][0], os.WNOHANG)


def _can_fork_here() -> bool:
    return forked._can_fork()


@can_fork
def test_a_pool_worker_forks_no_child():
    """A bilingual build's worker lays the translation out while the build's process lays out the issue:
    a child of the worker would have no core of its own."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(_can_fork_here).result(timeout=60) is False


@can_fork
def test_pdfs_written_ahead_are_not_taken_once_the_layout_read_more(minimal_edition):
    """A splice the issue turns down leaves its trials' reads and refusals on the first layout's fetcher:
    the PDFs written before would lack them."""
    laid_out = pdf_module._lay_out(minimal_edition, pdf_module.ISSUE_TEMPLATE, pdf_module.Arrangement(), None)

    class Made:
        pass

    layout = Made()
    layout.laid_out = laid_out
    for more in (False, True):
        ahead = pdf_module._WrittenAhead(minimal_edition, None, True, [])
        ahead.start(laid_out)
        if more:
            laid_out.fetcher.read.add(minimal_edition.issue_dir / "more.svg")
        try:
            taken = ahead.taken(layout)
        finally:
            ahead.cancel()
        if more:
            assert taken is None
        else:
            assert taken is not None and taken[0].data == pdf_module._write(minimal_edition, laid_out, None).data


@can_fork
@pytest.mark.parametrize(("jobs", "forks"), [(1, False), (2, True)])
def test_jobs_1_means_no_forked_writer_either(sample_tree, tmp_path, monkeypatch, children, jobs, forks):
    from research_news.build import build

    monkeypatch.setattr(forked, "_running", lambda pid: False)  # the worker's state does not decide here
    build(sample_tree / "2023-03-advertising-and-democracy", tmp_path / "out", offprints=True, jobs=jobs)
    assert bool(children) == forks


@can_fork
def test_an_interrupt_while_forking_is_raised_here_and_the_child_killed(monkeypatch):
    """An interrupt that comes while the process forks is held until the child is known, then raised in
    this process, which kills the child it made; the child ignores interrupts (its parent answers them)."""
    import signal

    forks: list[int] = []
    fork = os.fork

    def interrupted_fork():
        pid = fork()
        if pid:
            forks.append(pid)
            os.kill(os.getpid(), signal.SIGINT)  # arrives while interrupts wait: raised once they may be
        return pid

    import threading

    handler, mask = signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, set())
    other = threading.Event()
    beside = threading.Thread(target=other.wait, args=(30,))  # the signal may reach another thread, as in a build
    beside.start()
    monkeypatch.setattr(os, "fork", interrupted_fork)
    try:
        with pytest.raises(KeyboardInterrupt):
            forked._start([lambda: time.sleep(60)])
    finally:
        other.set()
        beside.join()
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)
    assert signal.getsignal(signal.SIGINT) is handler  # as it was: later commands are interrupted as before
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == mask


def test_no_child_where_the_system_reaps_children(monkeypatch):
    import signal

    monkeypatch.setattr(signal, "getsignal", lambda number: signal.SIG_IGN if number == signal.SIGCHLD else None)
    assert forked._can_fork() is False


# --- a child forked before its job is known (Early: the print process) -------------------------

_READY: list[int] = []


def _get_ready() -> None:
    _READY.append(os.getpid())


def _ready_pids(extra: int) -> tuple[int, list[int], int]:
    return os.getpid(), list(_READY), extra


def _fails() -> None:
    raise RuntimeError("cannot")


def _gone(pid: int, within: float = 10.0) -> bool:
    """Whether ``pid`` has exited (and been reaped by someone), now or within ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state == "Z" and within > 0:  # exited; its parent (gone too: init) reaps it
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


@can_fork
def test_an_early_child_gets_ready_then_does_the_job_it_is_given():
    early = forked.Early(_get_ready)
    assert early.started
    assert early.give(_ready_pids, 7)
    ((pid, ready, extra),) = early.result()
    assert pid != os.getpid() and ready == [pid] and extra == 7  # got ready in the child, not here
    assert _READY == []
    assert early.result() is None  # one job
    early.cancel()  # done: nothing left to stop


@can_fork
@pytest.mark.parametrize("prepare, job", [(_fails, _ready_pids), (_get_ready, _fails)])
def test_an_early_child_that_fails_gives_none(prepare, job):
    early = forked.Early(prepare)
    pid = early._child[0]
    early.give(job, 1)
    assert early.result() is None  # the caller does the job itself
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # waited for: no zombie


@can_fork
def test_a_job_that_cannot_travel_is_not_given_and_the_child_is_stopped():
    early = forked.Early(_get_ready)
    pid = early._child[0]
    assert not early.give(lambda: "a lambda cannot be pickled")
    assert not early.started and early.result() is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@can_fork
def test_a_user_visible_error_comes_back_as_the_same_error():
    from research_news import parallel
    from research_news.exceptions import ResearchNewsError

    early = forked.Early(_get_ready)
    early.give(parallel.reported, _refuses, "no such layout")
    (got,) = early.result()
    with pytest.raises(ResearchNewsError, match="no such layout"):
        parallel.unreported(got)


def _refuses(message: str) -> None:
    from research_news.exceptions import ResearchNewsError

    raise ResearchNewsError(message)


def _sleep_after_marking(mark: str) -> None:
    """A job that leaves a temporary file (as WeasyPrint copies fonts), says it is working, and sleeps."""
    import tempfile

    Path(tempfile.mkdtemp(prefix="fonts-")).joinpath("font.otf").write_bytes(b"font")
    Path(mark).write_text("working")
    time.sleep(60)


def _temporary_file() -> str:
    import tempfile

    folder = tempfile.mkdtemp(prefix="fonts-")
    Path(folder, "font.otf").write_bytes(b"font")
    return folder


def _wait_for(path: Path, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert path.exists()


@can_fork
def test_an_early_child_stopped_at_its_job_is_waited_for_and_its_temporary_files_removed(tmp_path):
    working = tmp_path / "working"
    early = forked.Early(_get_ready)
    pid, temporary = early._child[0], Path(early._temporary)
    early.give(_sleep_after_marking, str(working))
    _wait_for(working)
    assert [path.name for path in temporary.rglob("*.otf")] == ["font.otf"]  # its own folder, not ours
    started = time.monotonic()
    early.cancel()
    assert time.monotonic() - started < 1.0  # SIGTERM unwound it: not the second's wait for SIGKILL
    assert _gone(pid, within=0)  # waited for: not even a zombie
    assert not temporary.exists()


@can_fork
def test_an_early_childs_temporary_files_are_removed_once_its_result_is_taken():
    early = forked.Early(_get_ready)
    temporary = Path(early._temporary)
    early.give(_temporary_file)
    (folder,) = early.result()
    assert Path(folder).parent == temporary and not temporary.exists()


@can_fork
def test_an_early_child_stopped_before_its_job_is_killed_at_once(tmp_path):
    early = forked.Early(lambda: time.sleep(60))
    pid = early._child[0]
    started = time.monotonic()
    early.cancel()
    assert time.monotonic() - started < 0.5
    assert _gone(pid, within=0)


EARLY_THEN_EXIT = """
import os, sys, time
from research_news.render import forked
early = forked.Early(lambda: time.sleep(float(sys.argv[1])))
print(early._child[0], flush=True)
os._exit(0)  # no exit handler, no cancel: as a process killed, or one that ends without giving the job
"""


@can_fork
@pytest.mark.parametrize("getting_ready", [0.0, 60.0])
def test_an_early_child_ends_with_its_parent(getting_ready, tmp_path):
    """Given nothing (its parent gone), it ends once ready; still getting ready, Linux's parent-death
    signal ends it."""
    import subprocess
    import sys

    temporary = tmp_path / "temporary"
    temporary.mkdir()
    said = subprocess.run(
        [sys.executable, "-c", EARLY_THEN_EXIT, str(getting_ready)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    assert _gone(int(said.stdout))
    deadline = time.monotonic() + 10
    while list(temporary.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not list(temporary.iterdir())  # its temporary folder: removed by the child, its parent gone


@pytest.mark.skipif(not forked._can_fork(), reason="forks only on Linux with a core to spare")
def test_no_child_while_a_process_named_beside_uses_the_other_core(monkeypatch):
    """The print process is the build's workers' sibling, not their parent: the build names them."""
    import subprocess
    import sys

    spinning = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        deadline = time.monotonic() + 30
        while not forked._running(spinning.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert forked._running(spinning.pid)
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})  # two cores, whatever the machine has
        with forked.permitted(True, (spinning.pid,)):
            assert not forked._can_fork()  # this process and the one named take both
        assert forked._can_fork()  # not named: not counted (not this process's child by multiprocessing)
    finally:
        spinning.kill()
        spinning.wait()
