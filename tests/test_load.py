"""Loading YAML: every malformed file gets one located, plain-words problem, no traceback."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research_news.load import MAX_FILE_BYTES, LoadFailed, load_document

CASES = {
    "syntax": (b"title: [unclosed\nauthors: x\n", 2, 8, "began on line 1, column 8"),
    "bad indent": (b"title: x\n  subtitle: y\n", 2, 11, "invalid YAML"),
    "tab": (b"title: x\nauthors:\n\t- name: Ada\n", 3, 1, "tab is used for indentation"),
    "tab after spaces": (b"title: x\nauthors:\n  - name: Ada\n  \t  role: PI\n", 4, 3, "tab is used for indentation"),
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
    "line separator": (
        "title: x\nwhy_it_matters: |\n  one\u2028two\nmethodology: y\n".encode(),
        3,
        6,
        "invisible line separator (U+2028)",
    ),
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
    path.write_text(
        "key_takeaways:\n  - First point\n   - meant as a second item\n  - Third\n"
        "methodology: |\n  - a markdown list in a block is fine\n  - and stays\n"
        'quoted: "a\n  - b"\n'
    )
    document = load_document(path)
    assert document.data["key_takeaways"] == ["First point - meant as a second item", "Third"]
    [warning] = document.warnings
    assert (warning.line, warning.column, warning.severity) == (3, 4, "warning")
    assert "YAML joined it to the previous line" in warning.message


# --- Property: the loader reads what ruamel.yaml's safe loader reads, and knows where -------------
#
# Documents are generated as trees of the shapes briefs use (mappings, block and flow lists,
# lists of mappings; plain, quoted, literal and folded scalars, unicode text) and written out
# by hand, so the test knows where each key, value and item starts. The loader must agree
# with ruamel's safe loader on every value, and its positions must point there.

_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}
_KEYS = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True).filter(
    lambda key: key.lower() not in _RESERVED
) | st.sampled_from(["clé", "名前", "naïve_key", "ключ"])
_WORDS = st.sampled_from(
    [
        "Ada",
        "study",
        "café",
        "naïve",
        "Zoë",
        "東京",
        "données",
        "a-b",
        "x.y",
        "(note)",
        "l'été",
        "50%",
        "C++",
        "e=mc2",
        "🎉",
        "a/b",
        "v2.1",
        "I'm",
    ]
)
_NUMBERS = st.integers(-10_000, 10**9).map(str) | st.sampled_from(["1.5", "-0.25", "3e4", "true", "false", "~"])
_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Zl", "Zp"), blacklist_characters="\ufeff"), max_size=30
)


@dataclass
class Scalar:
    style: str  # "plain", "'", '"', "|", "|-", ">", ">-"
    text: str  # as written after the key or dash (block scalars: the indicator), without the block's lines
    block: list[str] = field(default_factory=list)  # a block scalar's lines, not yet indented


@dataclass
class Sequence:
    items: list
    flow: bool = False


@dataclass
class Mapping:
    pairs: list  # (key, node)


@st.composite
def scalars(draw, flow: bool = False) -> Scalar:
    style = draw(st.sampled_from(["plain", "plain", "'", '"'] + ([] if flow else ["|", "|-", ">", ">-"])))
    if style == "plain":
        words = draw(st.lists(_WORDS, min_size=1, max_size=5))
        return Scalar(style, draw(_NUMBERS) if draw(st.booleans()) and not flow else " ".join(words))
    if style == "'":
        return Scalar(style, "'" + draw(_TEXT).replace("'", "''") + "'")
    if style == '"':
        return Scalar(style, json.dumps(draw(_TEXT), ensure_ascii=False))
    lines = draw(st.lists(st.lists(_WORDS, max_size=4).map(" ".join), min_size=1, max_size=5))
    lines[0] = lines[0] or "text"  # a first line starting with spaces would need an indentation indicator
    lines[-1] = lines[-1] or "end"  # trailing blank lines are chomped: valid, but not this test's subject
    return Scalar(style, style, lines)


def nodes(depth: int) -> st.SearchStrategy:
    if depth == 0:
        return scalars()
    return st.one_of(
        scalars(),
        scalars(),
        st.lists(scalars(flow=True), max_size=4).map(lambda items: Sequence(items, flow=True)),
        st.lists(st.one_of(scalars(), mappings(depth - 1)), min_size=1, max_size=3).map(Sequence),
        mappings(depth - 1),
    )


def mappings(depth: int) -> st.SearchStrategy:
    return st.lists(
        st.tuples(_KEYS, st.deferred(lambda: nodes(depth))), min_size=1, max_size=4, unique_by=lambda pair: pair[0]
    ).map(Mapping)


class Writer:
    """Writes a node tree as block YAML, noting the (line, column), 0-based, where each node starts."""

    def __init__(self):
        self.lines: list[str] = []
        self.positions: dict[tuple, tuple[int, int]] = {}  # path → start; a key's path ends with ("key",)

    def scalar(self, node: Scalar, head: str, indent: int, path: tuple) -> None:
        self.positions[path] = (len(self.lines), len(head))
        self.lines.append(head + node.text)
        self.lines += [" " * (indent + 2) + line if line else "" for line in node.block]

    def flow(self, node: Sequence, head: str, path: tuple) -> None:
        self.positions[path] = (len(self.lines), len(head))
        text = "["
        for index, item in enumerate(node.items):
            text += ", " if index else ""
            self.positions[(*path, index)] = (len(self.lines), len(head) + len(text))
            text += item.text
        self.lines.append(head + text + "]")

    def mapping(self, node: Mapping, indent: int, path: tuple, head: str | None = None) -> None:
        self.positions[path] = (len(self.lines), indent)
        for number, (key, value) in enumerate(node.pairs):
            prefix = (head if number == 0 and head is not None else " " * indent) + key + ":"
            self.positions[(*path, key, "key")] = (len(self.lines), indent)
            self.value(value, prefix, indent, (*path, key))

    def value(self, node, prefix: str, indent: int, path: tuple) -> None:
        """``node`` after ``prefix`` (a key and colon, or a dash), on the same line or on the next ones."""
        if isinstance(node, Scalar):
            self.scalar(node, prefix + " ", indent, path)
        elif isinstance(node, Sequence) and node.flow:
            self.flow(node, prefix + " ", path)
        elif isinstance(node, Sequence):
            self.lines.append(prefix)
            self.sequence(node, indent + 2, path)
        else:
            self.lines.append(prefix)
            self.mapping(node, indent + 2, path)

    def sequence(self, node: Sequence, indent: int, path: tuple) -> None:
        self.positions[path] = (len(self.lines), indent)
        for index, item in enumerate(node.items):
            dash = " " * indent + "- "
            if isinstance(item, Mapping):  # its first key on the dash's line
                self.mapping(item, indent + 2, (*path, index), head=dash)
            else:
                self.scalar(item, dash, indent, (*path, index))


def located_nodes(data, path: tuple = ()):
    """(path, position the loader gives) for every key, value and item under ``data``."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*path, key, "key"), data.lc.key(key)
            yield (*path, key), data.lc.value(key)
            yield from located_nodes(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield (*path, index), data.lc.item(index)
            yield from located_nodes(value, (*path, index))


@settings(max_examples=80)
@given(document=mappings(2))
def test_the_loader_agrees_with_ruamel_and_locates_every_value(document: Mapping) -> None:
    from ruamel.yaml import YAML

    writer = Writer()
    writer.mapping(document, 0, ())
    text = "\n".join(writer.lines) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "brief.yaml"
        path.write_text(text, encoding="utf-8")
        loaded = load_document(path).data
    assert loaded == YAML(typ="safe", pure=True).load(text), text
    located = dict(located_nodes(loaded))
    expected = {where: at for where, at in writer.positions.items() if where}  # the document itself has no position
    assert located == expected, text
