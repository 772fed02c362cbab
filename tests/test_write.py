"""Writing: a failed or interrupted write never replaces a good file with a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from research_news.write import atomic_path, write_bytes, write_text


def test_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "issue.pdf"
    write_bytes(target, b"first")
    write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["issue.pdf"]


def test_a_failure_while_writing_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "issue.pdf"
    target.write_bytes(b"good")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_bytes(b"half-writ")
            raise RuntimeError("renderer crashed")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["issue.pdf"]  # no temporary left behind


def test_an_interrupt_while_writing_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "issue.pdf"
    target.write_bytes(b"good")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as temporary:
            temporary.write_bytes(b"half")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"good"
    assert len(list(tmp_path.iterdir())) == 1
