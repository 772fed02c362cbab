"""print_process.py: ``build`` lays the print edition out in a process forked as the command starts;
the files are the same bytes as a build in one process, a print process that fails costs only
time, and none is left running, whatever happens to the build."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from research_news import print_process
from research_news.render import forked

from .conftest import FIXTURES
from .test_build import snapshot
from .test_forked import _gone

can_fork = pytest.mark.skipif(not forked._can_fork(), reason="a print process only on Linux with two cores or more")

WATCHED = """
import json, os, signal, sys
from research_news import launch, print_process
from research_news.render import forked

report, kill = sys.argv[1], sys.argv[2] == "kill"
seen = {"main": os.getpid()}
taken, result = print_process.taken, forked.Early.result


def write():
    with open(report, "w") as out:
        json.dump(seen, out)


def watched_taken():
    early = taken()
    if early is not None:
        seen["child"] = early._child[0]
        write()
        if kill:
            os.kill(early._child[0], signal.SIGKILL)
    return early


def watched_result(self):
    got = result(self)
    seen["from_child"] = got is not None
    write()
    return got


print_process.taken, forked.Early.result = watched_taken, watched_result
sys.argv = ["research-news", *sys.argv[3:]]
launch.main()
"""


def _build(report: Path, *args: str | Path, kill: bool = False) -> subprocess.CompletedProcess:
    """``research-news build …`` in a process that reports its print process in ``report`` (and kills
    it as the build takes it, with ``kill``)."""
    return subprocess.run(
        [sys.executable, "-c", WATCHED, str(report), "kill" if kill else "keep", "build", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _seen(report: Path) -> dict:
    return json.loads(report.read_text()) if report.exists() else {}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "bilingual-minimal", tmp_path / "tree")
    return tmp_path / "tree"


def _in_one_process(issue: Path, out: Path, *args: str) -> dict[str, bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "research_news", "build", str(issue), "-o", str(out), "--jobs", "1", "-q", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return snapshot(out / issue.name)


@can_fork
@pytest.mark.parametrize(
    "tree_name, options",
    [("minimal", ["--offprints"]), ("bilingual-minimal", ["--offprints"]), ("minimal", ["--attach-pdf"])],
)
def test_the_print_process_lays_the_issue_out_and_the_files_are_the_same_bytes(
    tmp_path: Path, tree_name: str, options: list[str]
):
    shutil.copytree(FIXTURES / tree_name, tmp_path / "tree")
    issue = tmp_path / "tree" / "2024-05-minimal"
    done = _build(tmp_path / "seen.json", issue, "-o", tmp_path / "out", *options)
    assert done.returncode == 0, done.stderr
    seen = _seen(tmp_path / "seen.json")
    assert seen["from_child"] and seen["child"] != seen["main"]
    assert _gone(seen["child"], within=0)  # it exited, and the build waited for it
    assert snapshot(tmp_path / "out" / issue.name) == _in_one_process(issue, tmp_path / "alone", *options)
    assert "Rendering the print edition" in done.stderr and "Traceback" not in done.stderr


@can_fork
def test_a_print_process_that_dies_costs_only_time(tmp_path: Path, tree: Path):
    issue = tree / "2024-05-minimal"
    done = _build(tmp_path / "seen.json", issue, "-o", tmp_path / "out", kill=True)
    assert done.returncode == 0, done.stderr
    assert _seen(tmp_path / "seen.json")["from_child"] is False  # laid out by the build's own process
    assert snapshot(tmp_path / "out" / issue.name) == _in_one_process(issue, tmp_path / "alone")


@can_fork
def test_no_print_process_is_left_after_a_build_that_fails(tmp_path: Path, tree: Path):
    issue = tree / "2024-05-minimal"
    brief = issue / "briefs" / "one.yaml"
    brief.write_text(brief.read_text() + "\nnot_a_field: 1\n")
    done = _build(tmp_path / "seen.json", issue, "-o", tmp_path / "out")
    assert done.returncode == 1 and "not_a_field" in done.stdout + done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert _gone(_seen(tmp_path / "seen.json")["child"], within=0)  # stopped, and waited for, by the build
    assert not (tmp_path / "out").exists()


def _children(pid: int) -> list[int]:
    """The processes ``pid`` forked and has not waited for yet (Linux's /proc children list)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


@can_fork
def test_an_interrupted_build_leaves_no_process_and_writes_nothing(tmp_path: Path, sample_tree: Path):
    """Ctrl-C while the print process has a forked child writing PDFs (the first layout's, while it
    tries an arrangement for 2023-03's one hole; else the offprints, while it writes the issue's):
    every process is gone when the build has exited (each waited for by its parent), WeasyPrint's
    copies of the fonts are removed, nothing is written."""
    issue = sample_tree / "2023-03-advertising-and-democracy"
    report = tmp_path / "seen.json"
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    build = subprocess.Popen(
        [
            *(sys.executable, "-c", WATCHED, str(report), "keep", "build", str(issue)),
            *("-o", str(tmp_path / "out"), "--offprints"),  # a writer for the trial, or else for the offprints
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    try:
        deadline = time.monotonic() + 120
        while "child" not in _seen(report) and time.monotonic() < deadline:
            time.sleep(0.01)
        child = _seen(report)["child"]
        writers: list[int] = []
        while not writers and build.poll() is None and time.monotonic() < deadline:
            writers = _children(child)
            time.sleep(0.005)
        assert writers, "the print process forked no writer before the build ended"
        os.killpg(build.pid, signal.SIGINT)  # Ctrl-C: the whole group
        build.communicate(timeout=60)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    assert build.returncode != 0
    assert _gone(child, within=0) and all(_gone(writer, within=0) for writer in writers)
    assert not list(temporary.iterdir())
    written = [path for path in (tmp_path / "out").rglob("*") if path.is_file()]
    assert all(".research-news-cache" in path.parts for path in written)  # at most pagination's decision


@pytest.mark.parametrize(
    "argv, wanted",
    [
        (["build", "issues/x"], True),
        (["build", "issues/x", "--force", "-q"], True),  # an option it does not read: wanted
        (["build", "issues/x", "--only", "pdf,web"], True),
        (["build", "issues/x", "--only=offprints"], True),
        (["build", "issues/x", "--only", "web", "--offprints"], True),
        (["build", "issues/x", "--only", "email", "--attach-pdf"], True),
        (["build", "issues/x", "--jobs", "2"], True),
        (["build", "issues/x", "--only", "web,email"], False),
        (["build", "issues/x", "--only=web"], False),
        (["build", "issues/x", "--jobs", "1"], False),
        (["build", "issues/x", "--jobs=1"], False),
        (["build", "issues/x", "-j", "1"], False),
        (["build", "issues/x", "-j1"], False),
        (["build", "issues/x", "-j", "01"], False),
        (["build", "--help"], False),
        (["check", "issues/x"], False),
        ([], False),
    ],
)
def test_a_print_process_is_wanted_for_a_build_that_lays_an_issue_out(argv: list[str], wanted: bool):
    assert print_process.wanted(argv) is wanted


@can_fork
def test_no_print_process_for_jobs_1_spelled_in_a_way_it_does_not_read(tmp_path: Path, tree: Path):
    """``-qj1`` (click's short options run together) is one process to the command line: the build
    does not use the print process started for it (it stops it), and lays the issue out itself."""
    issue = tree / "2024-05-minimal"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            WATCHED,
            tmp_path / "seen.json",
            "keep",
            "build",
            issue,
            "-o",
            tmp_path / "out",
            "-qj1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    seen = _seen(tmp_path / "seen.json")
    assert "child" in seen and "from_child" not in seen  # started (it does not read -qj1), not given the job
    assert _gone(seen["child"], within=0)


def test_while_the_print_process_works_the_other_editions_come_first_and_see_what_they_would():
    """The rendering order (build._order) and what each edition finds in ``options.rendered``
    (build._rendered_before): an edition rendered in its turn (an email that attaches the PDF, a
    package's edition) sees exactly the editions before it, in the registry's order."""
    from types import SimpleNamespace

    from research_news import build

    names = ["pdf", "offprints", "web", "email", "package"]
    plan = SimpleNamespace(names=names)
    printed = SimpleNamespace(number=0, pieces=(("pdf", "pdf"), ("offprints", "one")))
    lookups = {(0, name): object() for name in ("pdf", "offprints", "web")}  # email attaches: in its turn
    order = build._order([plan], lookups, printed)
    assert order == [(0, "web"), (0, "pdf"), (0, "offprints"), (0, "email"), (0, "package")]
    assert build._order([plan], lookups, None) == [(0, name) for name in names]
    made: dict = {}
    seen = {}
    for number, name in order:
        seen[name] = list(build._rendered_before(plan, number, name, made))
        made[number, name] = SimpleNamespace(rendered=name)
    assert seen == {
        "web": [],
        "pdf": [],
        "offprints": ["pdf"],
        "email": ["pdf", "offprints", "web"],
        "package": ["pdf", "offprints", "web", "email"],
    }
    assert list(build._rendered_before(plan, 0, None, made)) == names


def test_the_print_editions_error_is_reported_first_only_where_one_process_would_have():
    """An edition that fails while the print process lays out: the print job's error (if it has one) is
    reported instead only when, in one process, the print edition would have been rendered before it."""
    from types import SimpleNamespace

    from research_news import build

    plans = [SimpleNamespace(names=["pdf", "web", "email"]), SimpleNamespace(names=["pdf", "web", "email"])]
    first_language = SimpleNamespace(number=0, pieces=(("pdf", "pdf"),))
    translation = SimpleNamespace(number=1, pieces=(("pdf", "pdf"),))  # the first language's PDF was cached
    assert build._comes_after(plans, first_language, (0, "web"))
    assert build._comes_after(plans, first_language, (1, "pdf"))
    assert not build._comes_after(plans, translation, (0, "web"))
    assert build._comes_after(plans, translation, (1, "email"))
    assert not build._comes_after(plans, first_language, None)
