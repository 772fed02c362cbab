"""Markdown → HTML, the only way text written by researchers becomes markup.

CommonMark via markdown-it-py with raw HTML off (typed ``<script>`` stays text), images
off (images belong under ``figures:``, where they get alt text and a credit), and links
limited to http, https and mailto. Headings are shifted below the heading of the part
they sit in, so ``###`` inside "Methodology" is a sub-heading of it.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from markdown_it import MarkdownIt, rules_inline
from markdown_it.common.utils import normalizeReference
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markupsafe import Markup

from .typography import DEFAULT_QUOTES, Quotes, typeset_markdown_tokens

ALLOWED_SCHEMES = ("http", "https", "mailto")


def link_allowed(href: str) -> bool:
    """True for the link schemes docs/format.md allows."""
    return urlsplit(href.strip()).scheme.lower() in ALLOWED_SCHEMES


class _SafeLinks(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        return link_allowed(url)


def _dialect(lang: str, quotes: Quotes) -> MarkdownIt:
    """A new parser of the one markdown dialect every edition reads: CommonMark, no raw HTML,
    no images, safe links only, and the typography of ``lang`` (its ``quotes``, from the labels,
    and its spacing: :mod:`research_news.typography`)."""
    md = _SafeLinks("commonmark", {"html": False, "typographer": True, "quotes": list(quotes)})
    md.enable(["replacements", "smartquotes"])
    md.disable("image")
    md.core.ruler.after("smartquotes", "typography", lambda state: typeset_markdown_tokens(state.tokens, lang, quotes))
    return md


@functools.cache
def parser(lang: str, quotes: Quotes = DEFAULT_QUOTES) -> MarkdownIt:
    """The markdown dialect for ``lang``, for renderers that walk its syntax tree (the plain-text email).

    Shared: add no render rules to it (the HTML renderer below builds its own).
    """
    return _dialect(lang, quotes)


@functools.cache
def _renderer(lang: str, heading_level: int, quotes: Quotes) -> MarkdownIt:
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
    return md


def render(text: str | None, lang: str = "en", heading_level: int = 4, quotes: Quotes = DEFAULT_QUOTES) -> Markup:
    """HTML for markdown ``text``; its ``###`` headings become ``<h{heading_level}>``."""
    if not text:
        return Markup("")
    return Markup(_renderer(lang, heading_level, tuple(quotes)).render(text))


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


@functools.cache
def _scanner() -> MarkdownIt:
    md = _AllLinks("commonmark", {"html": False})
    md.inline.ruler.at("link", _noting_source(rules_inline.link))
    md.inline.ruler.at("image", _noting_source(rules_inline.image))
    md.inline.ruler.at("autolink", _noting_source(rules_inline.autolink))
    return md


def links_in(text: str) -> list[Link]:
    """Every link and image in markdown ``text``, in order, including ones rendering would drop.

    Linear in the length of ``text``: each block's lines are matched to the text once.
    """
    env: dict = {}
    tokens = _scanner().parse(text, env)
    source = _NEWLINES.sub("\n", text)  # what markdown-it parsed; offsets are into it
    lines = _LineStarts(source)
    definitions = _DefinitionOffsets(source, lines, env.get("references", {}))
    found: list[Link] = []
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        inline = _InlineSource(block, source, lines)
        for token in block.children:
            if "at" not in token.meta:
                continue
            is_image = token.type == "image"
            href = str(token.attrGet("src" if is_image else "href") or "")
            at = token.meta["at"]
            offset = definitions.offset(token.meta["reference"]) if at < 0 else inline.offset(at)
            found.append(Link(href, is_image, offset))
    return found


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


class _InlineSource:
    """Maps indexes in a block's inline source to offsets in the whole text.

    The inline source is the block's lines with their indentation and block markers
    (``> ``, ``- ``, ``#``) removed, so each of its lines is found in the text line it
    came from (``block.map``), searched once however many links the line holds.
    """

    def __init__(self, block: Token, text: str, lines: _LineStarts):
        self.content, self.text, self.lines = block.content, text, lines
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
            if self.text.endswith(written, line_start, line_end):
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
