"""The build command: what it writes, what it refuses, and that failures write nothing."""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from research_news.build import Output, write_ahead, write_outputs
from research_news.exceptions import ResearchNewsError
from research_news.manifest import MANIFEST_NAME
from research_news.render import pdf as pdf_module

from .conftest import run_cli


def outputs(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_content_errors_stop_the_build_before_anything_is_written(minimal_issue: Path, tmp_path: Path) -> None:
    brief = minimal_issue / "briefs" / "one.yaml"
    brief.write_text(brief.read_text().replace("ada@example.org", "ada at example"))
    result = run_cli("build", minimal_issue, "--out", tmp_path / "build")
    assert result.exit_code == 1
    assert "one.yaml:6:12: authors[0].email" in result.stderr
    assert "nothing was written" in result.stderr
    assert not (tmp_path / "build").exists()


def test_usage_errors_exit_two(minimal_issue: Path, tmp_path: Path) -> None:
    assert run_cli("build", tmp_path / "nowhere").exit_code == 2
    assert run_cli("build", minimal_issue, "--only", "fax").exit_code == 2
    assert run_cli("build", minimal_issue, "--pdf-variant", "pdf/x-1").exit_code == 2


def test_without_email_settings_the_email_is_skipped_with_a_warning(minimal_tree: Path, tmp_path: Path) -> None:
    (minimal_tree / "publication.yaml").write_text("name: Minimal Chair\n")
    out = tmp_path / "build"
    result = run_cli("build", minimal_tree / "2024-05-minimal", "--out", out, "--only", "web,email")
    assert result.exit_code == 1 and "web_base_url" in result.stderr  # asked for by name: an error
    assert not out.exists()
    result = run_cli("build", minimal_tree / "2024-05-minimal", "--out", out, "--pdf-variant", "none")
    assert result.exit_code == 0, result.stderr
    [warning] = [line for line in result.stderr.splitlines() if "the email edition" in line]  # said once
    assert (
        "publication.yaml:1:1: warning: the email edition cannot be built: publication.yaml has no web_base_url "
        "and no email.from (add `web_base_url: https://…`, the address the web editions are published under, "
        "and `from: Name <address>` under `email:`)"
    ) in warning
    written = outputs(out / "2024-05-minimal")
    assert {"2024-05-minimal.pdf", "index.html"} <= written
    assert not {"email.html", "email.txt", "2024-05-minimal.eml"} & written


def test_web_and_email_editions_with_a_summary(minimal_issue: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = run_cli("build", minimal_issue, "--out", out, "--only", "web,email")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Built {out}/2024-05-minimal/: ")
    assert {
        "index.html",
        "email.html",
        "email.txt",
        "2024-05-minimal.eml",
        "assets/2024-05-minimal/images/chart.png",
    } <= outputs(out / "2024-05-minimal")


# --- a full disk or a file-size limit, in any stage: one line, the old outputs intact -------


def run_with_file_size_limit(
    limit: int, *args: str | Path, temporary: Path | None = None
) -> subprocess.CompletedProcess:
    """The CLI in a process whose files may not grow past ``limit`` bytes (see test_write.file_size_limit),
    with its temporary files (WeasyPrint's fonts) in ``temporary``."""

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "TMPDIR": str(temporary)} if temporary else None
    return subprocess.run(
        [sys.executable, "-m", "research_news", *map(str, args)],
        preexec_fn=limit_file_size,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "limit, only, failed, outcome",
    [
        # WeasyPrint writes each font to a temporary file before the layout starts
        (
            1_000,
            "pdf,web,email",
            "could not write a temporary file in {tmp} while rendering the print edition: ",
            "set TMPDIR to a folder with room",
        ),
        # the web edition renders, then its largest font (200 KB) does not fit
        (
            150_000,
            "web",
            "could not write {out}/2024-05-minimal/assets/fonts/SourceSans3-Semibold.woff: ",
            "no file was replaced",
        ),
    ],
)
def test_a_write_that_fails_in_any_stage_is_one_line_and_keeps_the_old_outputs(
    minimal_issue: Path, tmp_path: Path, limit: int, only: str, failed: str, outcome: str
) -> None:
    out = tmp_path / "build"
    assert run_cli("build", minimal_issue, "--out", out, "--only", only).exit_code == 0
    before = snapshot(out)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    result = run_with_file_size_limit(  # --force: nothing changed, and the build must render again
        limit, "build", minimal_issue, "--out", out, "--only", only, "--quiet", "--force", temporary=temporary
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback
    assert result.stderr.startswith("error: " + failed.format(out=out, tmp=temporary)), result.stderr
    assert "File too large" in result.stderr and outcome in result.stderr
    assert snapshot(out) == before


def test_a_write_that_fails_in_an_offprint_process_is_one_line(sample_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = run_with_file_size_limit(
        400_000,
        "build",
        sample_tree / "2023-01-data-and-society",
        "--out",
        out,
        "--only",
        "web",
        "--offprints",
        "--quiet",
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: could not write a temporary file in ")
    assert "while rendering the offprints: File too large" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert not out.exists()


# --- a killed build: its staged files do not stay to be published ---------------------------

PAUSED_WRITE = """
import sys
from pathlib import Path
from research_news import build, write

def paused(data):
    def fill(temporary):  # half the file staged, then wait for a line on stdin (or a kill)
        temporary.write_bytes(data[: len(data) // 2])
        print(temporary, flush=True)
        sys.stdin.readline()
        temporary.write_bytes(data)
    return fill

target = Path(sys.argv[2])
if sys.argv[1] == "replace":  # the file layer alone
    write.replace_all({target: paused(b"<p>from the paused build</p>")})
else:  # a build's write stage: the lock, the manifest
    first = [True]
    def paused_once(data):
        fill = paused(data) if first[0] else write.bytes_filler(data)
        first[0] = False
        return fill
    build.bytes_filler = paused_once
    output = build.Output(target, b"<p>from the paused build</p>", edition="web")
    build.write_outputs([output], target.parent, ["web"])
"""


def paused_write(mode: str, target: Path) -> tuple[subprocess.Popen, Path]:
    """A process stopped halfway through staging ``target``, and the staged file's path."""
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSED_WRITE, mode, str(target)],
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    staged = Path(process.stdout.readline().strip())
    assert staged.is_file() and staged.parent == target.parent
    return process, staged


def test_the_next_build_removes_what_a_killed_build_left_staged(minimal_issue: Path, tmp_path: Path) -> None:
    folder = tmp_path / "build" / "2024-05-minimal"
    folder.mkdir(parents=True)
    process, staged = paused_write("replace", folder / "index.html")
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert staged.is_file()  # what rsync would publish
    users = {
        ".htaccess": b"Options -Indexes",
        ".index.html.k3j4h5g6.tmp": b"an editor's backup",
        ".research-news-staged.notes.tmp": b"not a name research-news makes",
    }
    for name, data in users.items():
        (folder / name).write_bytes(data)

    assert run_cli("build", minimal_issue, "--out", tmp_path / "build", "--only", "web").exit_code == 0
    assert not staged.exists()
    assert not [p for p in folder.rglob(".research-news-staged.*") if p.name not in users]
    assert {name: (folder / name).read_bytes() for name in users} == users


def _blocked_on_a_lock(pid: int) -> bool:
    """Whether ``pid`` waits for a file lock (Linux lists waiters in /proc/locks with ``->``)."""
    return any(
        line.split()[1] == "->" and line.split()[5] == str(pid) for line in Path("/proc/locks").read_text().splitlines()
    )


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks to see a waiting build")
def test_builds_of_one_issue_take_turns_and_keep_each_others_staged_files(minimal_issue: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    folder = out / "2024-05-minimal"
    folder.mkdir(parents=True)
    first, staged = paused_write("build", folder / "index.html")
    second = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "research_news",
            "build",
            str(minimal_issue),
            "--out",
            str(out),
            "--only",
            "web",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while second.poll() is None and not _blocked_on_a_lock(second.pid):
            time.sleep(0.05)
        assert second.returncode is None, second.communicate()  # it waits for the first to finish
        assert staged.is_file()  # and removed nothing of the first's meanwhile
        first.communicate("go\n", timeout=60)
        assert first.returncode == 0
        assert second.wait(timeout=60) == 0, second.communicate()
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert (folder / "index.html").read_text().startswith("<!doctype html>")  # the second's, renamed last
    assert not list(folder.rglob(".research-news-staged.*"))


# --- outputs the content no longer makes ------------------------------------------------------


def written(folder: Path, files: dict[str, str], editions: list[str]) -> None:
    """Run the write stage alone: ``files`` maps a path in ``folder`` to the edition that writes it."""
    write_outputs(
        [Output(folder / name, name.encode(), edition=edition) for name, edition in files.items()], folder, editions
    )


def test_a_build_removes_only_files_its_editions_wrote_before_and_not_again(tmp_path: Path) -> None:
    folder = tmp_path / "build" / "issue"
    written(
        folder,
        {
            "issue.pdf": "pdf",
            "index.html": "web",
            "assets/issue/images/gone.png": "web",
            "assets/issue/figures/kept-folder.png": "web",
            "email.html": "email",
        },
        ["pdf", "web", "email"],
    )
    theirs = {
        "send.db": b"ledger",
        "send.lock": b"",
        "notes.txt": b"the editor's",
        "assets/issue/figures/editor.png": b"the editor's too",
    }
    for name, data in theirs.items():
        (folder / name).write_bytes(data)

    written(folder, {"index.html": "web"}, ["web"])  # --only web, after the figures left the content
    assert outputs(folder) == {"issue.pdf", "index.html", "email.html", MANIFEST_NAME, *theirs}
    assert not (folder / "assets" / "issue" / "images").exists()  # emptied, so removed
    assert {name: (folder / name).read_bytes() for name in theirs} == theirs
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert manifest["editions"] == {"email": ["email.html"], "pdf": ["issue.pdf"], "web": ["index.html"]}
    assert manifest["stale"] == []


def test_files_written_ahead_are_listed_as_stale_until_the_write_that_follows_lists_them(tmp_path: Path) -> None:
    """The site writes its pages before its images are drawn: only what differs, every file inside the
    folder; a new one is listed as a file to remove until the site's write lists it (so a build that
    fails in between leaves nothing no manifest knows of), and the edition's other files stay."""
    folder = tmp_path / "site"
    written(folder, {"index.html": "site", "card.png": "site"}, ["site"])
    stamp = (folder / "index.html").stat().st_mtime_ns
    pages = [Output(folder / "index.html", b"index.html", edition="site"), Output(folder / "new.html", b"new")]
    assert write_ahead(pages, folder) == 1  # index.html holds its bytes already
    assert (folder / "index.html").stat().st_mtime_ns == stamp and (folder / "new.html").read_bytes() == b"new"
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert manifest["editions"] == {"site": ["card.png", "index.html"]} and manifest["stale"] == ["new.html"]
    assert (folder / "card.png").is_file()
    written(folder, {"index.html": "site", "card.png": "site"}, ["site"])  # the next build does not make it
    assert outputs(folder) == {"index.html", "card.png", MANIFEST_NAME}
    write_ahead(pages, folder)
    written(folder, {"index.html": "site", "card.png": "site", "new.html": "site"}, ["site"])  # the write after
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert manifest["editions"] == {"site": ["card.png", "index.html", "new.html"]} and manifest["stale"] == []
    with pytest.raises(ResearchNewsError, match="outside"):
        write_ahead([Output(folder / ".." / "escaped.html", b"x")], folder)
    assert not (tmp_path / "escaped.html").exists()


def test_files_left_to_remove_by_a_killed_build_are_removed_by_the_next(tmp_path: Path) -> None:
    folder = tmp_path / "issue"
    written(folder, {"index.html": "web"}, ["web"])
    (folder / "old.png").write_bytes(b"published by an earlier build")
    (folder / MANIFEST_NAME).write_text(
        json.dumps({"format": 1, "editions": {"web": ["index.html"]}, "stale": ["old.png"]})
    )
    written(folder, {"email.html": "email"}, ["email"])  # another edition: the pending removal still happens
    assert outputs(folder) == {"index.html", "email.html", MANIFEST_NAME}


def test_a_manifest_never_removes_a_file_outside_the_folder(tmp_path: Path) -> None:
    folder, victim = tmp_path / "build" / "issue", tmp_path / "victim.txt"
    victim.write_text("keep me")
    folder.mkdir(parents=True)
    (folder / "linked").symlink_to(tmp_path)
    (folder / MANIFEST_NAME).write_text(
        json.dumps(
            {
                "format": 1,
                "editions": {"web": ["../../victim.txt", str(victim), "linked/victim.txt", "index.html"]},
                "stale": [],
            }
        )
    )
    written(folder, {"index.html": "web"}, ["web"])
    assert victim.read_text() == "keep me"


def test_a_brief_removed_from_the_issue_takes_its_offprint_and_images_with_it(
    minimal_issue: Path, tmp_path: Path
) -> None:
    brief = (minimal_issue / "briefs" / "one.yaml").read_text()
    (minimal_issue / "briefs" / "two.yaml").write_text(
        brief.replace("A short study", "A second study").replace("chart.png", "second-chart.png")
    )
    (minimal_issue / "images" / "second-chart.png").write_bytes((minimal_issue / "images" / "chart.png").read_bytes())
    issue_yaml = minimal_issue / "issue.yaml"
    issue_yaml.write_text(issue_yaml.read_text() + "      - briefs/two.yaml\n")
    out = tmp_path / "build"
    folder = out / "2024-05-minimal"
    second = {"offprints/two.pdf", "assets/2024-05-minimal/images/second-chart.png"}
    assert run_cli("build", minimal_issue, "--out", out, "--offprints").exit_code == 0
    assert second <= outputs(folder)
    (folder / "send.db").write_bytes(b"who got the issue")
    (folder / "send.lock").write_bytes(b"")

    issue_yaml.write_text(issue_yaml.read_text().replace("      - briefs/two.yaml\n", ""))
    assert run_cli("build", minimal_issue, "--out", out, "--only", "pdf", "--pdf-variant", "none").exit_code == 0
    assert second <= outputs(folder)  # neither the web edition nor the offprints were rebuilt
    assert run_cli("build", minimal_issue, "--out", out, "--offprints").exit_code == 0
    assert not second & outputs(folder)
    assert {"offprints/one.pdf", "assets/2024-05-minimal/images/chart.png", "send.lock"} <= outputs(folder)
    assert (folder / "send.db").read_bytes() == b"who got the issue"


@pytest.mark.parametrize(
    "error, message",
    [
        (
            OSError(errno.ENOSPC, "No space left on device"),
            "could not write a temporary file in {tmp} while rendering the offprints: No space left on device "
            "(free some space and build again); set TMPDIR to a folder with room to put them elsewhere; nothing was written",
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/var/cache/fonts/x.ttf"),
            "could not write /var/cache/fonts/x.ttf while rendering the offprints: Read-only file system "
            "(the file system is read-only: write somewhere else); nothing was written",
        ),
        (
            OSError(errno.EAGAIN, "Resource temporarily unavailable"),
            "could not render the offprints: Resource temporarily unavailable; nothing was written",
        ),
    ],
)
def test_an_os_error_while_rendering_says_what_failed(
    minimal_issue: Path, tmp_path: Path, monkeypatch, error: OSError, message: str
) -> None:
    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(pdf_module, "render_offprints", failing)  # e.g. a process pool that cannot start
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile caches the folder: read TMPDIR again
    result = run_cli("build", minimal_issue, "--out", tmp_path / "build", "--only", "web", "--offprints")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "error: " + message.format(tmp=tmp_path)
    assert not (tmp_path / "build").exists()


def test_strict_build_writes_nothing_while_there_is_a_warning(minimal_tree: Path, tmp_path: Path) -> None:
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text() + "limits:\n  why_it_matters: 2\n")
    out = tmp_path / "out"
    strict = run_cli("build", minimal_tree / "2024-05-minimal", "--out", out, "--only", "web", "--strict")
    assert strict.exit_code == 1 and "why_it_matters: 4 words; the publication's limit is 2" in strict.stderr
    assert "warning:" not in strict.stderr and not (out / "2024-05-minimal").exists()
    relaxed = run_cli("build", minimal_tree / "2024-05-minimal", "--out", out, "--only", "web")
    assert relaxed.exit_code == 0 and (out / "2024-05-minimal" / "index.html").is_file()
