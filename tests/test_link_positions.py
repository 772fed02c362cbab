"""Where a link is reported: generated markdown in generated YAML, every link found where it is written.

The markdown mixes the cases that mislead a search for the href: the same href as plain
text before the link, the same href twice, entity-encoded hrefs, reference-style links
whose href is in a definition at the end, autolinks and images, in paragraphs, list
items, quotes and headings, in literal (``|``) and folded (``>``) blocks and one-line
plain values, at two indentations.
"""

from __future__ import annotations

import re
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


# --- quoted values: exact everywhere, escapes and folded lines included -------------------------

QUOTED_WORDS = st.sampled_from(["a", "study", "café", "東京", "🎉", "b'c", 'd"e', "f\\g", "x:y", "#1"])


def _load(text: str):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "brief.yaml"
        path.write_text(text, encoding="utf-8")
        return load_document(path)


@settings(max_examples=50, deadline=None)
@given(
    words=st.lists(QUOTED_WORDS, min_size=1, max_size=8),
    quote=st.sampled_from(["'", '"']),
    indent=st.sampled_from([0, 4]),
)
def test_text_in_a_quoted_value_is_located_where_it_is_written(words: list[str], quote: str, indent: int) -> None:
    import json

    def written(text: str) -> str:  # as the value is written between its quotes
        return text.replace("'", "''") if quote == "'" else json.dumps(text, ensure_ascii=False)[1:-1]

    value = " ".join(words)
    head = "title: T\n" + ("why_it_matters: " if indent == 0 else "authors:\n  - name: A\n    role: ")
    loc = ("why_it_matters",) if indent == 0 else ("authors", 0, "role")
    text = head + quote + written(value) + quote + "\nmethodology: M.\n"
    row = head.count("\n") + 1
    opening = len(head.rsplit("\n", 1)[-1]) + 1  # the opening quote's column
    locate = text_locator(_load(text), loc)
    offset = 0
    for word in words:
        assert locate(offset) == (row, opening + 1 + len(written(value[:offset]))), (text, word)
        offset += len(word) + 1


# A token of a double-quoted value: (as written, as read). Separators between tokens: (as written,
# as read), the written one's "\n" followed by the next line's indentation.
TOKENS = st.sampled_from(
    [
        ("word", "word"),
        ("café", "café"),
        ("🎉", "🎉"),
        ('\\"', '"'),
        ("\\\\", "\\"),
        ("\\n", "\n"),
        ("\\t", "\t"),
        ("\\u00e9", "é"),
        ("\\x41", "A"),
        ("\\U0001F600", "\U0001f600"),
        ("\\/", "/"),
        ("\\_", "\xa0"),
        ("[a](https://x.io)", "[a](https://x.io)"),
    ]
)
SEPARATORS = st.sampled_from(
    [
        (" ", " "),
        ("", ""),
        ("\n", " "),  # a line break folds into a space
        ("  \n", " "),  # and the spaces before it are dropped
        ("\n\n", "\n"),  # a blank line is a line break
        ("\\ \n", "  "),  # an escaped space is kept, then the fold
        ("\\\n", ""),  # an escaped line break joins the lines
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    tokens=st.lists(st.tuples(TOKENS, SEPARATORS), min_size=1, max_size=10),
    indent=st.sampled_from([2, 6]),
)
def test_each_character_of_a_multi_line_double_quoted_value_is_located(tokens, indent: int) -> None:
    """Every token of a double-quoted value written over several lines, with escapes, is located at its
    first written character (the property holds only if the loaded value is the one the test meant)."""
    pad = " " * indent
    source, value, places = 'why_it_matters: "', "", []
    for number, ((written, read), (between, joined)) in enumerate(tokens):
        lines = source.split("\n")
        places.append((len(value), len(lines), len(lines[-1]) + 1))
        source += written
        value += read
        if number < len(tokens) - 1:  # separators between tokens only
            source += between.replace("\n", "\n" + pad)
            value += joined
    doc = _load(source + '"\nmethodology: M.\n')
    assert doc.data["why_it_matters"] == value  # the test's model of YAML is YAML's
    locate = text_locator(doc, ("why_it_matters",))
    assert [locate(offset) for offset, _, _ in places] == [(line, column) for _, line, column in places], source


def test_a_problem_after_an_escape_is_located_where_it_is_written(sample_tree: Path, cli) -> None:
    """A brief whose methodology is double-quoted, with escapes, over two lines: `check` points each
    problem at the HTML tag or the link itself, not at the opening quote."""
    brief = sample_tree / "2023-03-advertising-and-democracy" / "briefs" / "political-ads-2022.yaml"
    text = brief.read_text(encoding="utf-8")
    start = text.index("methodology: |")
    end = start + next(match.start() for match in re.finditer(r"\n(?=[a-z_]+:)", text[start:]))
    line = text[:start].count("\n") + 2  # the value's second line
    quoted = (
        'methodology: "We read each \\"library\\" \\u2014 line by line,\n'
        '  then <b>coded</b> the [adverts](javascript:alert(1)) by hand."'
    )
    brief.write_text(text[:start] + quoted + text[end:], encoding="utf-8")
    result = cli("check", sample_tree)
    assert result.exit_code == 1
    shown = f"{brief.relative_to(Path.cwd()) if brief.is_relative_to(Path.cwd()) else brief}"
    for column, what in ((8, "<b> is HTML"), (16, "</b> is HTML"), (35, 'the link "javascript:alert(1)"')):
        assert f"{shown}:{line}:{column}: " in result.stdout, (column, result.stdout)
        assert what in result.stdout
