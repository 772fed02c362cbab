"""Writing: a failed or interrupted write never replaces a good file with a broken one."""

from __future__ import annotations

import contextlib
import errno
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from research_news.write import WriteFailed, bytes_filler, copy_filler, replace_all, write_bytes, write_text

from .conftest import run_cli


def test_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "issue.pdf"
    write_bytes(target, b"first")
    write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["issue.pdf"]


def crashing(error: BaseException):
    def fill(temporary: Path) -> None:
        temporary.write_bytes(b"half-writ")
        raise error

    return fill


@pytest.mark.parametrize("error", [RuntimeError("renderer crashed"), KeyboardInterrupt()])
def test_a_failure_while_writing_replaces_nothing(tmp_path: Path, error: BaseException) -> None:
    first, second = tmp_path / "issue.pdf", tmp_path / "email.html"
    first.write_bytes(b"good pdf")
    second.write_bytes(b"good html")
    with pytest.raises(type(error)):
        replace_all({first: bytes_filler(b"new pdf"), second: crashing(error)})
    assert first.read_bytes() == b"good pdf" and second.read_bytes() == b"good html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["email.html", "issue.pdf"]  # no temporary left


def test_a_folder_in_the_way_replaces_nothing(tmp_path: Path) -> None:
    first, blocked = tmp_path / "issue.pdf", tmp_path / "email.html"
    first.write_bytes(b"good pdf")
    blocked.mkdir()
    with pytest.raises(WriteFailed) as failure:
        replace_all({first: bytes_filler(b"new pdf"), blocked: bytes_filler(b"new html")})
    assert "email.html" in str(failure.value) and "a folder is in the way" in str(failure.value)
    assert first.read_bytes() == b"good pdf"


def test_an_unwritable_output_is_an_error_not_a_traceback(minimal_issue: Path, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "afile"
    not_a_folder.write_text("")
    result = run_cli("build", minimal_issue, "--out", not_a_folder, "--only", "pdf")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith(f"error: could not write {not_a_folder}")


# --- a full disk, a file-size limit: one line naming the file that was not written ----------


@contextlib.contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """While inside, a write past ``limit`` bytes fails with EFBIG, as one to a full disk fails with ENOSPC.

    RLIMIT_FSIZE holds for root too (permission bits do not), so this runs the same in CI.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the signal kills the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_copy_that_does_not_fit_names_the_output_not_the_source(tmp_path: Path) -> None:
    source, target = tmp_path / "photo.png", tmp_path / "build" / "assets" / "photo-copy.png"
    source.write_bytes(b"\x89PNG" + bytes(20_000))
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old photo")
    with file_size_limit(8_192), pytest.raises(WriteFailed) as failure:
        replace_all({target: copy_filler(source)})
    message = str(failure.value)
    assert message.startswith(f"could not write {target}: File too large"), message
    assert str(source) not in message
    assert target.read_bytes() == b"old photo"
    assert [p.name for p in target.parent.iterdir()] == ["photo-copy.png"]


def test_a_source_that_cannot_be_read_is_named_as_read(tmp_path: Path) -> None:
    missing = tmp_path / "gone.png"
    with pytest.raises(WriteFailed) as failure:
        replace_all({tmp_path / "out.png": copy_filler(missing)})
    assert str(failure.value).startswith(f"could not read {missing}: No such file or directory")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_folder_it_made(tmp_path: Path) -> None:
    with pytest.raises(WriteFailed):
        replace_all(
            {
                tmp_path / "a" / "b" / "ok.txt": bytes_filler(b"fine"),
                tmp_path / "a" / "c" / "late.txt": crashing(OSError(errno.ENOSPC, "No space left on device")),
            }
        )
    assert list(tmp_path.iterdir()) == []
