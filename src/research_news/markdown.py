"""Markdown → HTML, the only way text written by researchers becomes markup.

CommonMark via markdown-it-py with raw HTML off (typed ``<script>`` stays text), images
off (images belong under ``figures:``, where they get alt text and a credit), and links
limited to http, https and mailto; plus two GitHub extensions, tables and strikethrough,
and footnotes (``[^1]`` and ``[^1]: …``). Headings are shifted below the heading of the part
they sit in, so ``###`` inside "Methodology" is a sub-heading of it.

Footnotes belong to a brief: its markdown fields are rendered separately, so a
:class:`Footnotes` collects them across the fields, numbers them in the order they are
first cited, and gives each an id prefixed with the brief's slug (several briefs of an
issue each have a ``[^1]``). Templates show them at the end of the brief. Outside a
brief (editorial, listings) footnote syntax stays text, and ``check`` says so.

The scanners at the end find what ``check`` reports in markdown: links (with where they
are written, tables and footnotes included), raw HTML, and footnotes.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from markdown_it import MarkdownIt, rules_inline
from markdown_it.common.utils import escapeHtml, normalizeReference
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import escapedSplit
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.footnote.index import footnote_def, footnote_ref

from .typography import DEFAULT_QUOTES, Quotes, typeset_markdown_tokens

ALLOWED_SCHEMES = ("http", "https", "mailto")


def link_allowed(href: str) -> bool:
    """True for the link schemes docs/format.md allows."""
    return urlsplit(href.strip()).scheme.lower() in ALLOWED_SCHEMES


class _SafeLinks(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        return link_allowed(url)


def _dialect(lang: str, quotes: Quotes) -> MarkdownIt:
    """A new parser of the one markdown dialect every edition reads: CommonMark with tables,
    strikethrough and footnotes, no raw HTML, no images, safe links only, and the typography of
    ``lang`` (its ``quotes``, from the labels, and its spacing: :mod:`research_news.typography`),
    which reaches table cells and footnotes too."""
    md = _SafeLinks("commonmark", {"html": False, "typographer": True, "quotes": list(quotes)})
    md.enable(["replacements", "smartquotes", "table", "strikethrough"])
    md.disable("image")
    _footnote_syntax(md, only_in_briefs=True)
    md.core.ruler.after("smartquotes", "typography", lambda state: typeset_markdown_tokens(state.tokens, lang, quotes))
    md.core.ruler.push("footnote_definitions", _set_definitions_aside)
    return md


# --- footnotes -----------------------------------------------------------------------

_COLLECTOR = "research_news_footnotes"
"""Key of the parse environment that holds the :class:`Footnotes` of the brief being rendered."""


def _footnote_syntax(md: MarkdownIt, *, only_in_briefs: bool) -> None:
    """``[^label]`` references and ``[^label]: …`` definitions, read by mdit-py-plugins.

    ``only_in_briefs``: recognised only while a :class:`Footnotes` collects them (elsewhere
    they stay text). A definition does not forget the number of a footnote already cited
    in an earlier field of the brief (the plugin resets it, as it expects one document).
    """
    footnote_plugin(md, inline=False, move_to_end=False)
    if not only_in_briefs:
        return

    def definition(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        if _COLLECTOR not in state.env:
            return False
        refs = state.env.setdefault("footnotes", {}).setdefault("refs", {})
        before = dict(refs)
        found = footnote_def(state, start, end, silent)
        for key, number in before.items():
            if number >= 0:
                refs[key] = number
        return found

    def reference(state: StateInline, silent: bool) -> bool:
        return _COLLECTOR in state.env and footnote_ref(state, silent)

    md.block.ruler.at("footnote_def", definition, {"alt": ["paragraph", "reference"]})
    md.inline.ruler.at("footnote_ref", reference)


def _set_definitions_aside(state: StateCore) -> None:
    """Move footnote definitions out of the field's tokens into its :class:`Footnotes`,
    which shows them at the end of the brief; note in which field each footnote is cited."""
    collector: Footnotes | None = state.env.get(_COLLECTOR)
    if collector is None:
        return
    kept: list[Token] = []
    inside: list[Token] | None = None
    for token in state.tokens:
        if token.type == "footnote_reference_open":
            inside, label = [], token.meta["label"]
        elif token.type == "footnote_reference_close" and inside is not None:
            collector.definitions.setdefault(label, inside)
            inside = None
        elif inside is not None:
            inside.append(token)
        else:
            kept.append(token)
            for child in token.children or []:
                if child.type == "footnote_ref":
                    collector.cited_in.setdefault(child.meta["id"], []).append(collector.field)
    state.tokens = kept


@dataclass(frozen=True)
class Footnote:
    """One footnote of a brief as the editions show it."""

    number: int
    id: str  # its anchor, unique in the issue: fn-<brief slug>-<number>
    label: str  # as written: `[^label]`
    html: Markup  # its text (one paragraph: inline, without <p>)
    backlinks: tuple[str, ...]  # the anchors of the places that cite it, in order
    cited_in: tuple[str, ...]  # the fields that cite it (the keys given to Footnotes.render)
    tokens: tuple[Token, ...]  # its text parsed, for the plain-text renderer


class Footnotes:
    """The footnotes of one brief, collected while its markdown fields are rendered.

    Numbered across the brief in the order they are first cited, whichever field holds
    their definition; ids are prefixed with ``prefix`` (the brief's slug). Pass every field
    as ``texts`` first, so a footnote cited before the field defining it is still found.
    """

    def __init__(self, prefix: str, texts: Iterable[str] = (), numbers: dict[str, int] | None = None):
        self.prefix = prefix
        self.definitions: dict[str, list[Token]] = {}
        self.cited_in: dict[int, list[str]] = {}
        self.field = ""
        if numbers is None:
            refs = {f":{label}": -1 for label in defined_footnotes(texts)}
            listed: dict[int, dict] = {}
        else:  # numbers already given (the plain text follows the HTML editions' numbering)
            refs = {f":{label}": number - 1 for label, number in numbers.items()}
            listed = {number - 1: {"label": label, "count": 0} for label, number in numbers.items()}
        self.env: dict = {_COLLECTOR: self, "footnotes": {"refs": refs, "list": listed}, "docId": prefix}

    def parse(self, text: str, md: MarkdownIt, field: str) -> list[Token]:
        """``text`` (the field ``field`` of the brief) parsed by ``md``, its footnotes collected."""
        self.field = field
        return md.parse(text, self.env)

    def anchor(self, number: int) -> str:
        return f"fn-{self.prefix}-{number}"

    def backlink(self, number: int, citation: int) -> str:
        """The anchor of the ``citation``-th (0-based) place citing footnote ``number``."""
        return f"fnref-{self.prefix}-{number}" + (f"-{citation + 1}" if citation else "")

    def shown(self, lang: str, quotes: Quotes = DEFAULT_QUOTES) -> list[Footnote]:
        """The footnotes cited so far, in number order, their text rendered."""
        md = _renderer(lang, 4, tuple(quotes))
        found = []
        for index, data in sorted(self.env["footnotes"]["list"].items()):
            tokens = self.definitions.get(data.get("label", ""))
            if tokens is None:
                continue
            number = index + 1
            found.append(
                Footnote(
                    number,
                    self.anchor(number),
                    data["label"],
                    Markup(md.renderer.render(_unwrapped(tokens), md.options, self.env)),
                    tuple(self.backlink(number, citation) for citation in range(max(1, data.get("count", 0)))),
                    tuple(dict.fromkeys(self.cited_in.get(index, []))),
                    tuple(tokens),
                )
            )
        return found


def _unwrapped(tokens: list[Token]) -> list[Token]:
    """A one-paragraph footnote as its inline content, so a back link can follow its last word."""
    if [token.type for token in tokens] == ["paragraph_open", "inline", "paragraph_close"]:
        return tokens[1:2]
    return tokens


def defined_footnotes(texts: Iterable[str]) -> list[str]:
    """The labels of the footnotes defined in ``texts`` (``[^label]: …``), in order."""
    labels: dict[str, None] = {}
    for text in texts:
        if "[^" not in text:  # no definition can be in it: not worth a parse (most fields of most briefs)
            continue
        env: dict = {}
        for token in _scanner().parse(text, env):
            if token.type == "footnote_reference_open":
                labels[token.meta["label"]] = None
    return list(labels)


@functools.cache
def parser(lang: str, quotes: Quotes = DEFAULT_QUOTES) -> MarkdownIt:
    """The markdown dialect for ``lang``, for renderers that walk its syntax tree (the plain-text email).

    Shared: add no render rules to it (the HTML renderer below builds its own).
    """
    return _dialect(lang, quotes)


@functools.cache
def _renderer(lang: str, heading_level: int, quotes: Quotes) -> MarkdownIt:
    """The HTML renderer: sub-headings below the part's heading, safe external links, table
    headers that say they head columns, alignment as classes (no inline style: the preview
    forbids it) and footnote references numbered across the brief."""
    md = _dialect(lang, quotes)

    def heading_open(self, tokens, idx, options, env):
        token = tokens[idx]
        # docs/format.md uses ### and #### for sub-headings; # and ## are treated like ###.
        level = min(6, heading_level + max(0, int(token.tag[1]) - 3))
        token.tag = tokens[idx + 2].tag = f"h{level}"
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("heading_open", heading_open)

    def link_open(self, tokens, idx, options, env):
        # External links in a publication open where the reader is; rel keeps referrers private.
        tokens[idx].attrSet("rel", "noopener noreferrer")
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)

    def table_open(self, tokens, idx, options, env):
        # A wide table scrolls inside its own box on a phone instead of widening the page; the
        # box takes the keyboard focus so that it can be scrolled without a mouse.
        return '<div class="table-scroll" tabindex="0">\n' + self.renderToken(tokens, idx, options, env)

    def table_close(self, tokens, idx, options, env):
        return self.renderToken(tokens, idx, options, env) + "</div>\n"

    def cell_open(self, tokens, idx, options, env):
        token = tokens[idx]
        align = str(token.attrGet("style") or "").removeprefix("text-align:")
        token.attrs.pop("style", None)
        if align:
            token.attrSet("class", f"align-{align}")
        if token.tag == "th":
            token.attrSet("scope", "col")
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("table_open", table_open)
    md.add_render_rule("table_close", table_close)
    md.add_render_rule("th_open", cell_open)
    md.add_render_rule("td_open", cell_open)

    def footnote_ref(self, tokens, idx, options, env):
        collector: Footnotes = env[_COLLECTOR]
        number = tokens[idx].meta["id"] + 1
        own = escapeHtml(collector.backlink(number, tokens[idx].meta.get("subId", 0)))
        target = escapeHtml(collector.anchor(number))
        return f'<sup class="footnote-ref"><a href="#{target}" id="{own}" role="doc-noteref">{number}</a></sup>'

    md.add_render_rule("footnote_ref", footnote_ref)
    return md


def render(
    text: str | None,
    lang: str = "en",
    heading_level: int = 4,
    quotes: Quotes = DEFAULT_QUOTES,
    footnotes: Footnotes | None = None,
    field: str = "",
) -> Markup:
    """HTML for markdown ``text``; its ``###`` headings become ``<h{heading_level}>``.

    In a brief, ``footnotes`` collects its footnotes, noting they are cited in ``field``.
    """
    if not text:
        return Markup("")
    md = _renderer(lang, heading_level, tuple(quotes))
    if footnotes is None:
        return Markup(md.render(text))
    return Markup(md.renderer.render(footnotes.parse(text, md, field), md.options, footnotes.env))


def render_inline(text: str | None, lang: str = "en", quotes: Quotes = DEFAULT_QUOTES) -> Markup:
    """HTML for one line of markdown, without a wrapping paragraph."""
    if not text:
        return Markup("")
    return Markup(_renderer(lang, 4, tuple(quotes)).renderInline(text))


@dataclass(frozen=True)
class Link:
    """A link or image written in markdown source, for validation."""

    href: str
    is_image: bool
    offset: int  # where the href (for an image, its `![`) is written in the source text


def _noting_source(rule: Callable[[StateInline, bool], bool]) -> Callable[[StateInline, bool], bool]:
    """``rule`` (link, image or autolink) that also notes on its token where it is written.

    markdown-it keeps no source positions for inline tokens, and searching the text for a
    decoded href afterwards is both ambiguous and slow; the parser knows where it is, so
    ask it. ``meta["at"]`` is the href's index in the block's inline source (for an image,
    the index of its ``!``), or -1 for a reference-style link, whose href is written in
    the definition ``meta["reference"]`` names.
    """

    def noted(state: StateInline, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        if not rule(state, silent):
            return False
        if not silent:
            for index in range(count, len(state.tokens)):  # pending text may be pushed first
                token = state.tokens[index]
                if token.type in ("link_open", "image"):
                    token.meta["at"] = _href_index(state, start, token)
                    if token.meta["at"] < 0:
                        token.meta["reference"] = _reference_label(state, start)
                    break
        return True

    return noted


def _href_index(state: StateInline, start: int, token: Token) -> int:
    """Where the href of the link or image that starts at ``start`` is in ``state.src``."""
    src = state.src
    if token.type == "image" or src[start] != "[":
        return start if token.type == "image" else start + 1  # an image's `!`; an autolink's `<`
    if src[state.pos - 1] != ")":
        return -1  # `[text][label]`, `[label][]` or `[label]`
    at = state.md.helpers.parseLinkLabel(state, start, True) + 2  # past `](`
    while src[at] in " \t\n":
        at += 1
    return at + 1 if src[at] == "<" else at


def _reference_label(state: StateInline, start: int) -> str:
    """The definition a reference-style link starting at ``start`` uses, as markdown-it reads it."""
    label_end = state.md.helpers.parseLinkLabel(state, start, True)
    label = ""
    if state.src[label_end + 1 : label_end + 2] == "[":  # `[text][label]`; `[label][]` leaves it empty
        second_end = state.md.helpers.parseLinkLabel(state, label_end + 1)
        label = state.src[label_end + 2 : second_end] if second_end >= 0 else ""
    return normalizeReference(label or state.src[start + 1 : label_end])


class _AllLinks(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        return True  # see every link, so bad ones can be reported


def _noting_start(rule: Callable[[StateInline, bool], bool], kind: str) -> Callable[[StateInline, bool], bool]:
    """``rule`` that notes on the ``kind`` token it makes where it starts (``meta["at"]``)."""

    def noted(state: StateInline, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        if not rule(state, silent):
            return False
        if not silent:
            for token in state.tokens[count:]:
                if token.type == kind:
                    token.meta["at"] = start
                    break
        return True

    return noted


def _scanning(md: MarkdownIt) -> MarkdownIt:
    """``md`` made to see what ``check`` reports, with where each is written: every link and
    image (bad ones too), and every footnote reference, defined or not, in any field."""
    md.enable(["table", "strikethrough"])
    _footnote_syntax(md, only_in_briefs=False)
    md.inline.ruler.at("link", _noting_source(rules_inline.link))
    md.inline.ruler.at("image", _noting_source(rules_inline.image))
    md.inline.ruler.at("autolink", _noting_source(rules_inline.autolink))
    cite = functools.partial(footnote_ref, always_match=True)  # cited but never defined: reported
    md.inline.ruler.at("footnote_ref", _noting_start(cite, "footnote_ref"))
    return md


@functools.cache
def _scanner() -> MarkdownIt:
    return _scanning(_AllLinks("commonmark", {"html": False}))


@functools.cache
def _html_scanner() -> MarkdownIt:
    """The scanner reading raw HTML as CommonMark would, to point at what the editions show as text."""
    md = _scanning(_AllLinks("commonmark", {"html": True}))
    md.inline.ruler.at("html_inline", _noting_start(rules_inline.html_inline, "html_inline"))
    return md


@dataclass(frozen=True)
class Mark:
    """Something written in markdown that ``check`` reports, and where: a footnote's label, raw HTML."""

    written: str
    offset: int


def links_in(text: str) -> list[Link]:
    """Every link and image in markdown ``text``, in order, including ones rendering would drop.

    Linear in the length of ``text``: each block's lines are matched to the text once.
    """
    found: list[Link] = []
    for token, offset in _noted(text, _scanner()):
        if token.type in ("link_open", "image"):
            is_image = token.type == "image"
            found.append(Link(str(token.attrGet("src" if is_image else "href") or ""), is_image, offset))
    return found


def footnotes_in(text: str) -> tuple[list[Mark], list[Mark]]:
    """(the footnotes ``text`` cites, the footnotes it defines), by label, with where each is written."""
    cited, defined = [], []
    for token, offset in _noted(text, _scanner()):
        if token.type == "footnote_ref":
            cited.append(Mark(token.meta["label"], offset))
        elif token.type == "footnote_reference_open":
            defined.append(Mark(token.meta["label"], offset))
    return cited, defined


def raw_html_in(text: str) -> list[Mark]:
    """The raw HTML in ``text`` (tags, comments) that the editions show as typed, with where it starts."""
    if "<" not in text:
        return []
    found = []
    for token, offset in _noted(text, _html_scanner()):
        if token.type in ("html_inline", "html_block"):
            found.append(Mark(token.content.strip().split("\n")[0], offset))
    return found


def cut_table_rows(text: str) -> list[Mark]:
    """The table rows in ``text`` with more cells than their header: GFM drops the extra
    cells. Each is given as the number of cells it has, at the start of the row."""
    tokens = _scanner().parse(text)
    source = _NEWLINES.sub("\n", text)
    lines = _LineStarts(source)
    found, columns = [], 0
    for token in tokens:
        if token.type == "table_open":
            columns = 0
        elif token.type == "th_open":
            columns += 1
        elif token.type == "tr_open" and token.map and columns:
            start, end = lines.bounds(token.map[0])
            row = source[start:end].strip()
            cells = escapedSplit(row)
            cells = cells[1 if row.startswith("|") else 0 : -1 if row.endswith("|") and len(cells) > 1 else None]
            if len(cells) > columns:
                found.append(Mark(str(len(cells)), start + len(source[start:end]) - len(source[start:end].lstrip())))
    return found


def _noted(text: str, md: MarkdownIt) -> Iterable[tuple[Token, int]]:
    """(token, offset in ``text``) for every block the scanners report (footnote definitions,
    HTML blocks) and every inline token a noting rule marked."""
    env: dict = {}
    tokens = md.parse(text, env)
    source = _NEWLINES.sub("\n", text)  # what markdown-it parsed; offsets are into it
    lines = _LineStarts(source)
    definitions = _DefinitionOffsets(source, lines, env.get("references", {}))
    cells = _CellCursor(source, lines)
    for index, block in enumerate(tokens):
        if block.type in ("footnote_reference_open", "html_block") and block.map:
            start, end = lines.bounds(block.map[0])
            yield block, start + len(source[start:end]) - len(source[start:end].lstrip(" \t>"))
        if block.type != "inline" or not block.children:
            continue
        in_cell = index > 0 and tokens[index - 1].type in ("th_open", "td_open")
        inline = _InlineSource(block, source, lines, cells if in_cell else None)
        for token in block.children:
            if "at" not in token.meta:
                continue
            at = token.meta["at"]
            yield token, definitions.offset(token.meta["reference"]) if at < 0 else inline.offset(at)


_NEWLINES = re.compile(r"\r\n?")
"""markdown-it turns every line break into ``\\n`` before parsing."""


class _LineStarts:
    """Offsets of the starts of the lines of a text, found once."""

    def __init__(self, text: str):
        self.starts = [0] + [match.end() for match in re.finditer("\n", text)]
        self.length = len(text)

    def bounds(self, line: int) -> tuple[int, int]:
        """(start, end) of ``line`` (0-based) without its line break; an empty span past the end."""
        if line >= len(self.starts):
            return self.length, self.length
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else self.length
        return self.starts[line], end


class _CellCursor:
    """How far along its line the last table cell was found: cells are found left to right,
    so two cells holding the same text are told apart."""

    def __init__(self, text: str, lines: _LineStarts):
        self.text, self.lines = text, lines
        self.after: dict[int, int] = {}

    def find(self, written: str, line: int) -> int:
        start, end = self.lines.bounds(line)
        at = self.text.find(written, max(start, self.after.get(line, start)), end)
        if at >= 0:
            self.after[line] = at + len(written)
        return at


class _InlineSource:
    """Maps indexes in a block's inline source to offsets in the whole text.

    The inline source is the block's lines with their indentation and block markers
    (``> ``, ``- ``, ``#``) removed, so each of its lines is found in the text line it
    came from (``block.map``), searched once however many links the line holds. A table
    cell is one of several on its line: ``cells`` finds it after the cells before it.
    """

    def __init__(self, block: Token, text: str, lines: _LineStarts, cells: _CellCursor | None = None):
        self.content, self.text, self.lines, self.cells = block.content, text, lines, cells
        self.first_line = block.map[0] if block.map else 0
        self.starts = [0] + [match.end() for match in re.finditer("\n", self.content)]
        self.line_offsets: dict[int, int] = {}

    def offset(self, index: int) -> int:
        row = bisect.bisect_right(self.starts, index) - 1
        return self._line_offset(row) + index - self.starts[row]

    def _line_offset(self, row: int) -> int:
        if row not in self.line_offsets:
            start = self.starts[row]
            end = self.starts[row + 1] - 1 if row + 1 < len(self.starts) else len(self.content)
            written = self.content[start:end]
            line_start, line_end = self.lines.bounds(self.first_line + row)
            if self.cells is not None:
                at = self.cells.find(written, self.first_line + row)
            elif self.text.endswith(written, line_start, line_end):
                at = line_end - len(written)
            else:  # trailing spaces stripped, or a heading's closing #s
                at = self.text.rfind(written, line_start, line_end)
            self.line_offsets[row] = at if at >= 0 else line_start
        return self.line_offsets[row]


_DEFINITION = re.compile(r"\[(?:\\.|[^\\\]])*\]:[ \t]*(?:\n[ \t>]*)?<?")
"""A reference definition up to its href: `[label]:`, blanks, maybe a line break, maybe `<`."""


class _DefinitionOffsets:
    """Where the href of each reference definition is written, found when first asked."""

    def __init__(self, text: str, lines: _LineStarts, references: dict):
        self.text, self.lines, self.references = text, lines, references
        self.offsets: dict[str, int] = {}

    def offset(self, label: str) -> int:
        if label not in self.offsets:
            self.offsets[label] = self._href_offset(self.references[label])
        return self.offsets[label]

    def _href_offset(self, reference: dict) -> int:
        if "map" not in reference:  # markdown-it-py before 4 does not say where a definition is
            return max(self.text.find(reference["href"]), 0)
        first, last = reference["map"]
        start, _ = self.lines.bounds(first)
        _, end = self.lines.bounds(last - 1)
        written = _DEFINITION.search(self.text, start, end)
        return written.end() if written else start


_WORD = re.compile(r"[\w’'-]+", re.UNICODE)


def word_count(text: str | list[str] | None) -> int:
    """Words a reader sees: markdown punctuation and link targets are not words."""
    if not text:
        return 0
    if isinstance(text, list):
        return sum(word_count(item) for item in text)
    return len(_WORD.findall(_without_link_targets(text)))


def _without_link_targets(text: str) -> str:
    """``text`` with each ``](target)`` cut to ``]``.

    One pass: the regex ``\\]\\([^)]*\\)`` would scan to the end of the text from every
    ``](`` that is never closed, which is quadratic in a long brief full of them.
    """
    kept, position = [], 0
    while (start := text.find("](", position)) >= 0:
        end = text.find(")", start + 2)
        if end < 0:
            break  # no `)` after this `](`, so none after any later one either
        kept.append(text[position : start + 1])
        position = end + 1
    kept.append(text[position:])
    return "".join(kept)
