"""Where a link is reported: generated markdown in generated YAML, every link found where it is written.

The markdown mixes the cases that mislead a search for the href: the same href as plain
text before the link, the same href twice, entity-encoded hrefs, reference-style links
whose href is in a definition at the end, autolinks and images, in paragraphs, list
items, quotes and headings, in literal (``|``) and folded (``>``) blocks and one-line
plain values, at two indentations.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from research_news.load import load_document
from research_news.markdown import links_in
from research_news.validate import text_locator

HREFS = ["javascript:x", "javascript:x(1)", "https://x.io/a", "data:t", "mailto:a@b.io", "j:1"]
WORDS = st.sampled_from(["a", "see", "the", "study", "x", "javascript:x", "j:1", "https://x.io/a", "(a)", "a.b"])


@dataclass
class Piece:
    """A word, or a link and where (from the piece's start) its reported position is."""

    text: str
    marker: int | None = None  # index in ``text`` of the href (or of an image's `!`)
    reference: str | None = None  # the label of a reference-style link
    href: str | None = None  # a reference's href, written in its definition


@st.composite
def pieces(draw) -> Piece:
    kind = draw(st.sampled_from(["word", "word", "inline", "angle", "entity", "image", "autolink", "reference"]))
    if kind == "word":
        return Piece(draw(WORDS))
    href, text = draw(st.sampled_from(HREFS)), draw(st.sampled_from(["a", "the study", "x y"]))
    if kind == "inline":
        return Piece(f"[{text}]({href})", len(text) + 3)
    if kind == "angle":
        return Piece(f"[{text}](<{href}>)", len(text) + 4)
    if kind == "entity":  # markdown-it hands back `javascript:x`, which is not written here
        return Piece(f"[{text}](&#106;avascript:x)", len(text) + 3)
    if kind == "image":
        return Piece(f"![{text}]({href})", 0)
    if kind == "autolink":
        return Piece(f"<{href.replace('j:1', 'jx:1')}>", 1)  # an autolink scheme has 2 letters or more
    label = f"r{draw(st.integers(0, 3))}"  # a label used twice is reported twice at its definition
    return Piece(f"[{text}][{label}]", reference=label, href=href)


@dataclass
class Markdown:
    """Markdown source lines, each a list of pieces, with a prefix such as `- ` or `> `."""

    lines: list[tuple[str, list[Piece]]] = field(default_factory=list)


@st.composite
def documents(draw, one_line: bool) -> Markdown:
    doc = Markdown()
    if one_line:
        words = draw(st.lists(pieces(), min_size=1, max_size=8))
        doc.lines.append(("Text ", [p for p in words if p.reference is None]))
        return doc
    for _ in range(draw(st.integers(1, 4))):
        prefix = draw(st.sampled_from(["", "", "- ", "> ", "## "]))
        for number in range(1 if prefix == "## " else draw(st.integers(1, 3))):
            line = draw(st.lists(pieces(), min_size=1, max_size=6))
            doc.lines.append((prefix if number == 0 or prefix == "> " else "", line))
        doc.lines.append(("", []))
    return doc


def write(doc: Markdown, style: str, indent: int) -> tuple[str, list[tuple[int, int]], tuple]:
    """The YAML file, the (line, column) where each link should be reported, in order, and the value's path."""
    head = ["title: T", "authors:", "  - name: A", "key_takeaways:"]
    loc: tuple = ("key_takeaways", 0)
    if indent == 2:
        head, loc = ["title: T"], ("why_it_matters",)
    key = "  - " if loc[0] == "key_takeaways" else "why_it_matters: "
    lines = [*head]
    pad = " " * indent
    expected: list[tuple[int, int] | str] = []  # a position, or a label whose definition is not written yet
    labels: dict[str, str] = {}  # the first definition of a label is the one markdown uses
    for prefix, words in doc.lines:
        text = (key if style == "plain" else pad) + prefix
        row = len(lines) + (1 if style == "plain" or len(lines) > len(head) else 2)  # after the `|` line
        for piece in words:
            if piece.reference:
                labels.setdefault(piece.reference, piece.href)
                expected.append(piece.reference)
            elif piece.marker is not None:
                expected.append((row, len(text) + piece.marker + 1))
            text += piece.text + " "
        if style != "plain" and len(lines) == len(head):
            lines.append(f"{key}{style}")
        lines.append(text.rstrip(" ") if words or style == "plain" else "")
        if style == ">" and not words:
            lines.append("")  # folding joins lines: a second blank line keeps blocks apart
    definitions: dict[str, tuple[int, int]] = {}
    for label, href in labels.items():
        lines += ["", ""]
        definitions[label] = (len(lines) + 1, indent + len(f"[{label}]: ") + 1)
        lines.append(f"{pad}[{label}]: {href}")
    lines.append("methodology: M.")
    return "\n".join(lines) + "\n", [definitions[e] if isinstance(e, str) else e for e in expected], loc


def located(text: str, loc: tuple) -> list[tuple[int, int]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "brief.yaml"
        path.write_text(text, encoding="utf-8")
        doc = load_document(path)
    value = doc.data
    for segment in loc:
        value = value[segment]
    locate = text_locator(doc, loc)
    return [locate(link.offset) for link in links_in(value)]


@settings(max_examples=300, deadline=None)
@given(doc=documents(one_line=False), style=st.sampled_from(["|", ">"]), indent=st.sampled_from([2, 4]))
def test_each_link_is_located_where_it_is_written_in_a_block(doc: Markdown, style: str, indent: int) -> None:
    text, expected, loc = write(doc, style, indent)
    assert located(text, loc) == expected, text


@settings(max_examples=100, deadline=None)
@given(doc=documents(one_line=True), indent=st.sampled_from([2, 4]))
def test_each_link_is_located_where_it_is_written_in_a_plain_value(doc: Markdown, indent: int) -> None:
    text, expected, loc = write(doc, "plain", indent)
    assert located(text, loc) == expected, text


# --- quoted values: exact up to the first escape, the value's start after it ---------------------

QUOTED_WORDS = st.sampled_from(["a", "study", "café", "東京", "🎉", "b'c", 'd"e', "f\\g", "x:y", "#1"])


@settings(max_examples=50, deadline=None)
@given(
    words=st.lists(QUOTED_WORDS, min_size=1, max_size=8),
    quote=st.sampled_from(["'", '"']),
    indent=st.sampled_from([0, 4]),
)
def test_text_in_a_quoted_value_is_located_up_to_the_first_escape(words: list[str], quote: str, indent: int) -> None:
    import json

    value = " ".join(words)
    written = "'" + value.replace("'", "''") + "'" if quote == "'" else json.dumps(value, ensure_ascii=False)
    escaped = {"'"} if quote == "'" else {'"', "\\"}
    first_escape = min((value.index(c) for c in escaped if c in value), default=len(value))
    head = "title: T\n" + ("why_it_matters: " if indent == 0 else "authors:\n  - name: A\n    role: ")
    loc = ("why_it_matters",) if indent == 0 else ("authors", 0, "role")
    text = head + written + "\nmethodology: M.\n"
    row = head.count("\n") + 1
    start = (row, len(head.rsplit("\n", 1)[-1]) + 1)  # the opening quote
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "brief.yaml"
        path.write_text(text, encoding="utf-8")
        doc = load_document(path)
    locate = text_locator(doc, loc)
    offset = 0
    for word in words:
        expected = (row, start[1] + 1 + offset) if offset < first_escape else start
        assert locate(offset) == expected, (text, word)
        offset += len(word) + 1
