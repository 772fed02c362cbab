"""Rendering on every core (parallel.py): the same files whichever process made them, the same
errors, and an email edition that is the same bytes for the same content."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from research_news import parallel
from research_news.build import build
from research_news.exceptions import ContentError, ResearchNewsError
from research_news.layout import BUILTIN_LAYOUTS
from research_news.validate import load_content

from .conftest import REPO, run_cli

SLUG = "2024-05-minimal"
AGAIN = ("--only", "pdf,email", "--attach-pdf", "--force", "-q")


def files(folder: Path) -> dict[str, bytes]:
    """Every file of a build folder, by its path in it."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def sent(monkeypatch) -> list[parallel.Piece]:
    """The pieces the build sent to worker processes."""
    pieces: list[parallel.Piece] = []
    submit = parallel.Workers.submit

    def recording(self, piece):
        pieces.append(piece)
        return submit(self, piece)

    monkeypatch.setattr(parallel.Workers, "submit", recording)
    return pieces


def test_every_file_is_the_same_bytes_from_one_process_from_workers_and_from_the_cache(
    sample_tree: Path, tmp_path: Path, sent: list[parallel.Piece]
) -> None:
    issue = sample_tree / "2023-01-data-and-society"  # two languages: each has its PDF, offprints, web, email
    alone = build(issue, tmp_path / "alone", offprints=True, jobs=1)
    assert sent == []
    together = build(issue, tmp_path / "together", offprints=True, jobs=2)
    made_by_workers = {(piece.lang, name) for piece in sent for name, _ in piece.pieces}
    assert {("fr", "pdf"), ("fr", "offprints"), ("en", "web"), ("en", "email"), ("fr", "email")} <= made_by_workers
    assert not {("en", "pdf"), ("en", "offprints")} & made_by_workers  # laid out here meanwhile, and cut from it
    [french] = [piece for piece in sent if ("pdf", "pdf") in piece.pieces]
    assert french.lang == "fr" and {name for name, _ in french.pieces} == {"pdf", "offprints"}  # one layout
    expected = files(alone.out_dir)
    assert {"2023-01-data-and-society.pdf", "fr/2023-01-data-and-society.pdf", "fr/email.html"} <= set(expected)
    assert files(together.out_dir) == expected
    assert together.warnings == alone.warnings and together.pages == alone.pages

    (together.out_dir / "index.html").unlink()  # not up to date any more: every edition comes from the cache
    sent.clear()
    cached = build(issue, tmp_path / "together", offprints=True, jobs=2)
    assert not cached.up_to_date and sent == []
    assert {path.name for path in cached.reused} >= {"2023-01-data-and-society.pdf", "index.html"}
    assert files(cached.out_dir) == expected


def test_the_email_edition_is_the_same_bytes_on_every_build(minimal_issue: Path, tmp_path: Path) -> None:
    first = build(minimal_issue, tmp_path / "first", only=("pdf", "email"), attach_pdf=True, force=True)
    # Another process: what used to be drawn at random (the address marker) is drawn there again.
    again = subprocess.run(
        [sys.executable, "-m", "research_news", "build", minimal_issue, "--out", tmp_path / "again", *AGAIN],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert again.returncode == 0, again.stderr
    built = files(first.out_dir)
    assert {"email.html", "email.txt", f"{SLUG}.eml"} <= set(built)
    assert files(tmp_path / "again" / SLUG) == built
    head = built[f"{SLUG}.eml"].split(b"\r\n\r\n")[0].decode()
    assert "Date: Tue, 14 May 2024 00:00:00 +0000" in head  # the issue's date; send sets the day it sends


def test_the_address_marker_is_a_hash_of_the_email_not_of_chance(minimal_issue: Path, tmp_path: Path) -> None:
    brief = minimal_issue / "briefs" / "one.yaml"
    before = build(minimal_issue, tmp_path / "out", only=("email",))
    marker = before.out_dir.joinpath("email.txt").read_text().rsplit("email=", 1)[1].strip()
    brief.write_text(brief.read_text().replace("A short study of small things", "A short study of small beings"))
    after = build(minimal_issue, tmp_path / "out", only=("email",))
    assert marker.startswith("rnaddr") and marker not in after.out_dir.joinpath("email.txt").read_text()


def broken_web_layout(tree: Path) -> None:
    """A layout whose web theme names a font by a path: the web edition stops with a layout error."""
    theme = (BUILTIN_LAYOUTS / "default" / "web" / "theme.css.j2").read_text()
    (tree / "layouts" / "broken" / "web").mkdir(parents=True)
    (tree / "layouts" / "broken" / "layout.yaml").write_text("name: Broken\n")
    (tree / "layouts" / "broken" / "web" / "theme.css.j2").write_text(
        theme.replace("font_url(face.file)", "font_url('../' ~ face.file)")
    )
    publication = tree / "publication.yaml"
    publication.write_text(publication.read_text() + "layout: broken\n")


def test_an_error_in_a_worker_is_the_error_the_build_gives_in_one_process(
    minimal_tree: Path, tmp_path: Path, sent: list[parallel.Piece]
) -> None:
    broken_web_layout(minimal_tree)
    issue = minimal_tree / SLUG
    alone = run_cli("build", issue, "--out", tmp_path / "alone", "--offprints", "--jobs", "1")
    together = run_cli("build", issue, "--out", tmp_path / "together", "--offprints", "--jobs", "2")
    assert ("web", "web") in {one for piece in sent for one in piece.pieces}  # the web edition failed in a worker
    assert together.exit_code == alone.exit_code == 1
    assert together.stderr.splitlines()[-1] == alone.stderr.splitlines()[-1]
    assert "font_url('../" in alone.stderr and "Traceback" not in together.stderr
    assert not (tmp_path / "together" / SLUG).exists()


def test_located_problems_from_a_worker_are_raised_here_as_they_were(minimal_issue: Path, tmp_path: Path) -> None:
    (minimal_issue / "briefs" / "one.yaml").write_text("title: [unclosed\n")  # the worker reads the issue again
    with parallel.Workers(1) as workers:
        future = workers.submit(parallel.Piece(minimal_issue, "en", tmp_path, (("web", "web"),)))
        with pytest.raises(ContentError) as raised:
            parallel.result_of(future)
    with pytest.raises(ContentError) as here:
        load_content(minimal_issue)
    assert raised.value.problems == here.value.problems and raised.value.problems[0].path.name == "one.yaml"


def test_one_worker_means_everything_in_this_process(minimal_tree: Path, tmp_path: Path, sent) -> None:
    shutil.copy(minimal_tree / SLUG / "briefs" / "one.yaml", minimal_tree / SLUG / "briefs" / "two.yaml")
    issue_yaml = minimal_tree / SLUG / "issue.yaml"
    issue_yaml.write_text(issue_yaml.read_text() + "      - briefs/two.yaml\n")
    result = run_cli("build", minimal_tree / SLUG, "--out", tmp_path / "out", "--offprints", "-j", "1")
    assert result.exit_code == 0, result.stderr
    assert sent == []


@pytest.mark.parametrize(
    ("arguments", "unneeded"),
    [
        (["check", "{issue}"], ("weasyprint", "research_news.send", "research_news.serve", "research_news.site")),
        (["build", "--help"], ("weasyprint", "research_news.send", "research_news.serve", "research_news.site")),
        (["build", "{issue}", "--out", "{out}", "--only", "web"], ("weasyprint", "research_news.send")),
    ],
)
def test_a_command_imports_only_what_it_needs(minimal_issue: Path, tmp_path: Path, arguments, unneeded) -> None:
    """WeasyPrint takes a good part of a second to import: a check, a help text and a build with no PDF to
    lay out never load it, nor the modules of the other commands."""
    filled = [argument.format(issue=minimal_issue, out=tmp_path / "out") for argument in arguments]
    script = (
        "import sys\nfrom research_news.cli import app\n"
        f"sys.argv = ['research-news', *{filled!r}]\n"
        "try:\n    app()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        f"print(sorted(name for name in {unneeded!r} if name in sys.modules))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == "[]"


def test_html_editions_alone_start_no_worker(minimal_issue: Path, tmp_path: Path, sent: list[parallel.Piece]) -> None:
    """Without a PDF to lay out meanwhile, a worker's start (imports, reading the issue again) costs more
    than the web and email editions it would render."""
    build(minimal_issue, tmp_path / "out", only=("web", "email"), jobs=2)
    assert sent == []


def test_a_worker_that_died_is_one_plain_error_whenever_work_is_sent() -> None:
    """Killed (out of memory, say) before or while it works: the next piece sent, and the one it held,
    are the same user-visible error, never a traceback."""
    import os
    import signal

    with parallel.Workers(1) as workers:
        running = workers.call(os.getpid)  # starts the worker
        parallel.result_of(running)
        pid = next(iter(workers._pool._processes))  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(ResearchNewsError, match="stopped without a word"):
            parallel.result_of(workers.call(os.getpid))
        with pytest.raises(ResearchNewsError, match="stopped without a word"):
            workers.call(os.getpid)


class _FreedAtTeardown:
    """Writes a file when freed: a module's object is freed only by the interpreter's teardown."""

    def __init__(self, trace: Path) -> None:
        self.trace = trace

    def __del__(self) -> None:
        self.trace.write_text("freed")


def leave_traces(folder: Path) -> int:
    """(In a worker) an exit handler that leaves a file, and an object only the teardown frees."""
    import atexit

    atexit.register((folder / "atexit").write_text, "ran")
    sys.modules[__name__].kept = _FreedAtTeardown(folder / "teardown")  # type: ignore[attr-defined]
    return os.getpid()


def test_a_worker_runs_its_exit_handlers_and_then_exits_without_the_teardown(tmp_path: Path) -> None:
    """A worker whose results are all sent has nothing left to do: it skips freeing every module and
    object (0.3 s after a layout, which the build waited for), but what it registered to run at exit runs."""
    with parallel.Workers(1) as workers:
        pid = parallel.result_of(workers.call(leave_traces, tmp_path))
    assert pid != os.getpid()
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not (tmp_path / "teardown").exists()


def test_no_font_folder_is_left_behind_by_a_build_or_its_workers(tmp_path: Path) -> None:
    """WeasyPrint copies a layout's fonts into a temporary folder per font configuration, removed when the
    configuration is freed; the build's process and its workers exit without freeing it, so the folders
    are removed at exit. The sample's first issue is in two languages: its French PDF is laid out in a worker."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    issue = REPO / "issues" / "2023-01-data-and-society"
    options = ["--out", str(tmp_path / "build"), "--only", "pdf", "--jobs", "2", "-q"]
    done = subprocess.run(
        [sys.executable, "-m", "research_news", "build", str(issue), *options],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "build" / "2023-01-data-and-society" / "fr").is_dir()
    assert sorted(path.name for path in temporary.iterdir()) == []


def test_a_job_no_worker_has_started_is_taken_back_and_rendered_here(minimal_edition, tmp_path: Path) -> None:
    """A bilingual build's worker lays the translation out first; this process, done with its own PDF,
    renders the HTML editions still waiting in the queue instead of waiting for the worker."""
    from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError

    from research_news import build as building
    from research_news.editions import Options

    plan = building._Plan(minimal_edition, Options(tmp_path), ["web"], [], "")
    job = building._Job(0, (("web", "web"),))
    waiting: Future = Future()  # pending: no worker has taken it
    sent = {job: waiting}
    with ThreadPoolExecutor(1) as thread:
        fresh = thread.submit(building._fresh, [job], sent, {}, plan, 0, "web", "web")
        try:
            rendered = fresh.result(timeout=20)
        except TimeoutError:
            waiting.set_result({("web", "web"): None})  # let the thread go: it waited for the worker
            raise
    assert waiting.cancelled() and job not in sent
    assert any(output.path.name == "index.html" for output in rendered.outputs)

    started: Future = Future()
    started.set_running_or_notify_cancel()  # a worker is rendering it: its result is waited for
    started.set_result({("web", "web"): "from the worker"})
    assert building._fresh([job], {job: started}, {}, plan, 0, "web", "web") == "from the worker"


@pytest.mark.parametrize(
    ("arguments", "imports"), [((), True), (("--only", "web"), False), (("--only", "web", "--offprints"), True)]
)
def test_weasyprint_is_imported_meanwhile_only_for_a_build_that_lays_out(
    minimal_issue: Path, tmp_path: Path, monkeypatch, arguments, imports
) -> None:
    from research_news.commands import build as build_command

    started: list[bool] = []
    monkeypatch.setattr(build_command, "_import_weasyprint_meanwhile", lambda: started.append(True))
    result = run_cli("build", minimal_issue, "--out", tmp_path / "out", "-j", "1", *arguments)
    assert result.exit_code == 0, result.stderr
    assert started == ([True] if imports else [])


def test_a_failed_import_meanwhile_says_nothing(monkeypatch) -> None:
    """The build imports WeasyPrint in its turn and reports a failure there, in words."""
    import importlib
    import threading

    from research_news.commands import build as build_command

    def failing(name):
        raise OSError("cannot load library 'libpango-1.0-0'")

    unhandled: list[object] = []
    monkeypatch.setattr(importlib, "import_module", failing)
    monkeypatch.setattr(threading, "excepthook", unhandled.append)
    before = set(threading.enumerate())
    build_command._import_weasyprint_meanwhile()
    for thread in set(threading.enumerate()) - before:
        thread.join(10)
    assert unhandled == []
