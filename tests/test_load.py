"""Loading YAML: every malformed file gets one located, plain-words problem, no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from research_news.load import MAX_FILE_BYTES, LoadFailed, load_document

CASES = {
    "syntax": (b"title: [unclosed\nauthors: x\n", 2, 8, "began on line 1, column 8"),
    "bad indent": (b"title: x\n  subtitle: y\n", 2, 11, "invalid YAML"),
    "tab": (b"title: x\nauthors:\n\t- name: Ada\n", 3, 1, "tab is used for indentation"),
    "tab after spaces": (b"title: x\nauthors:\n  - name: Ada\n  \t  role: PI\n", 4, 3,
                         "tab is used for indentation"),
    "empty": (b"", 1, 1, "the file is empty"),
    "only comments": (b"# nothing here\n\n", 1, 1, "the file is empty"),
    "top-level list": (b"# a list\n- title: x\n", 2, 1, "holds a list; it must be a mapping"),
    "scalar": (b"just text\n", 1, 1, "holds a single value"),
    "invalid utf-8": (b"title: ok\nsubtitle: caf\xe9\n", 2, 14, "invalid UTF-8"),
    "duplicate key": (b"title: a\nsubtitle: b\ntitle: c\n", 3, 1, "duplicate field `title`"),
    "python tag": (b"title: !!python/object/apply:os.system ['echo hi']\n", 1, 8, "YAML tags"),
    "local tag": (b"title: x\nauthors: !custom [1]\n", 2, 10, "YAML tags"),
    "alias": (b"a: &x hello\nb: *x\n", 2, 4, "aliases"),
    "escape character": (b"title: x\nsubtitle: Ho\x1bw\n", 2, 13, "invisible control character (U+001B)"),
    "nul": (b"title: x\x00\n", 1, 9, "invisible control character (U+0000)"),
    "c1 control": ("title: x\nsubtitle: a\u009bb\n".encode(), 2, 12, "invisible control character (U+009B)"),
    "line separator": ("title: x\nwhy_it_matters: |\n  one\u2028two\nmethodology: y\n".encode(), 3, 6,
                       "invisible line separator (U+2028)"),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_file_is_reported_at_its_position(tmp_path: Path, name: str) -> None:
    content, line, column, words = CASES[name]
    path = tmp_path / "brief.yaml"
    path.write_bytes(content)
    with pytest.raises(LoadFailed) as failure:
        load_document(path)
    problem = failure.value.problem
    assert (problem.line, problem.column) == (line, column), str(problem)
    assert words in problem.message
    assert problem.path == path


def test_a_tab_inside_a_block_scalar_is_text(tmp_path: Path) -> None:
    """YAML forbids tabs in indentation, not in a ``|`` block's text (a table, code, a poem)."""
    path = tmp_path / "brief.yaml"
    path.write_text("methodology: |\n  Columns:\n  \tgroup\tshare\n  \t\n  end\ntitle: x\n")
    document = load_document(path)
    assert document.data["methodology"] == "Columns:\n\tgroup\tshare\n\t\nend\n"
    assert document.data["title"] == "x"


def test_duplicate_key_names_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text("title: a\nsubtitle: b\ntitle: c\n")
    with pytest.raises(LoadFailed) as failure:
        load_document(path)
    assert "line 1" in failure.value.problem.hint


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 12):
        previous, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(LoadFailed) as failure:  # refused at the first alias, before any expansion
        load_document(path)
    assert (failure.value.problem.line, failure.value.problem.column) == (2, 8)


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"title: " + b"x" * (MAX_FILE_BYTES + 1) + b"\n")
    with pytest.raises(LoadFailed) as failure:
        load_document(path)
    assert (failure.value.problem.line, failure.value.problem.column) == (1, 1)
    assert "limit" in failure.value.problem.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LoadFailed) as failure:
        load_document(tmp_path / "nope.yaml")
    assert failure.value.problem.message == "no such file"


def test_dates_stay_text_for_the_model_to_judge(tmp_path: Path) -> None:
    path = tmp_path / "issue.yaml"
    path.write_text("date: 2023-02-30\nother: 2023-01-16\n")
    document = load_document(path)
    assert document.data["date"] == "2023-02-30"
    assert document.data["other"] == "2023-01-16"


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    path.write_bytes("\ufefftitle: Café\n".encode("utf-8"))
    assert load_document(path).data["title"] == "Café"


def test_positions_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text("title: x\nauthors:\n  - name: Ada\n    email: a@b.org\n")
    data = load_document(path).data
    assert data["authors"][0].lc.value("email") == (3, 11)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    os.mkfifo(path)
    with pytest.raises(LoadFailed) as failure:  # opening it would wait forever for a writer
        load_document(path)
    assert failure.value.problem.message == "is not a regular file"


def test_an_overlong_number_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "issue.yaml"
    path.write_text("number: " + "9" * 5000 + "\ncode: 0x" + "f" * 5000 + "\n")
    data = load_document(path).data
    assert data["number"] == "9" * 5000 and data["code"] == "0x" + "f" * 5000


def test_an_item_indented_too_far_is_folded_into_the_one_above_and_warned_about(tmp_path: Path) -> None:
    """Valid YAML that says something else: the writer meant three takeaways and gets two."""
    path = tmp_path / "brief.yaml"
    path.write_text("key_takeaways:\n  - First point\n   - meant as a second item\n  - Third\n"
                    "methodology: |\n  - a markdown list in a block is fine\n  - and stays\n"
                    'quoted: "a\n  - b"\n')
    document = load_document(path)
    assert document.data["key_takeaways"] == ["First point - meant as a second item", "Third"]
    [warning] = document.warnings
    assert (warning.line, warning.column, warning.severity) == (3, 4, "warning")
    assert "YAML joined it to the previous line" in warning.message
