"""Writing: a failed or interrupted write never replaces a good file with a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from research_news.write import WriteFailed, bytes_filler, replace_all, write_bytes, write_text

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
