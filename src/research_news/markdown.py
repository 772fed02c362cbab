"""Markdown → HTML, the only way text written by researchers becomes markup.

CommonMark via markdown-it-py with raw HTML off (typed ``<script>`` stays text), images
off (images belong under ``figures:``, where they get alt text and a credit), and links
limited to http, https and mailto. Headings are shifted below the heading of the part
they sit in, so ``###`` inside "Methodology" is a sub-heading of it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_SCHEMES = ("http", "https", "mailto")



def link_allowed(href: str) -> bool:
    """True for the link schemes docs/format.md allows."""
    return urlsplit(href.strip()).scheme.lower() in ALLOWED_SCHEMES


def _quotes_for(lang: str) -> str | list[str]:
    base = lang.split("-")[0]
    if base == "fr":
        return ["«\u00a0", "\u00a0»", "‹\u00a0", "\u00a0›"]
    if base == "de":
        return "„“‚‘"
    return "“”‘’"


@functools.cache
def _renderer(lang: str, heading_level: int) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": True, "quotes": _quotes_for(lang)})
    md.enable(["replacements", "smartquotes"])
    md.disable("image")
    md.validateLink = link_allowed

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


def render(text: str | None, lang: str = "en", heading_level: int = 4) -> Markup:
    """HTML for markdown ``text``; its ``###`` headings become ``<h{heading_level}>``."""
    if not text:
        return Markup("")
    return Markup(_renderer(lang, heading_level).render(text))


def render_inline(text: str | None, lang: str = "en") -> Markup:
    """HTML for one line of markdown, without a wrapping paragraph."""
    if not text:
        return Markup("")
    return Markup(_renderer(lang, 4).renderInline(text))


@dataclass(frozen=True)
class Link:
    """A link or image written in markdown source, for validation."""

    href: str
    is_image: bool
    offset: int  # where the href starts in the source text (best effort)


@functools.cache
def _scanner() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})
    md.validateLink = lambda href: True  # see every link, so bad ones can be reported
    return md


def links_in(text: str) -> list[Link]:
    """Every link and image in markdown ``text``, including ones rendering would drop."""
    found: list[Link] = []
    line_starts = [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]
    cursor = 0  # links come in source order: the same href twice is found at each place
    for block in _scanner().parse(text):
        if not block.children:
            continue
        # The block's own lines bound the search, so a fallback never lands in a later paragraph.
        first, last = block.map or (0, len(line_starts))
        start = max(cursor, line_starts[min(first, len(line_starts) - 1)])
        end = line_starts[last] if last < len(line_starts) else len(text)
        for token in block.children:
            if token.type == "link_open":
                href = str(token.attrGet("href") or "")
                at = _offset_of(text, href, start, end)
                found.append(Link(href, False, at))
            elif token.type == "image":
                href = str(token.attrGet("src") or "")
                at = _offset_of(text, href, start, end)
                found.append(Link(href, True, max(text.rfind("![", 0, at), 0)))
            else:
                continue
            start = cursor = at + 1
    return found


def _offset_of(text: str, href: str, start: int, end: int) -> int:
    """Where ``href`` is written, searching its block from ``start``.

    markdown-it hands back the href decoded (entities, percent-encoding), so it may not
    appear as written: then the link's ``](``, or failing that the block's start.
    """
    written = text.find(href, start, end)
    if written >= 0:
        return written
    bracket = text.find("](", start, end)
    if bracket >= 0:
        return bracket + 2
    elsewhere = text.find(href)  # a reference definition, outside the block that uses it
    return elsewhere if elsewhere >= 0 else start


_WORD = re.compile(r"[\w’'-]+", re.UNICODE)


def word_count(text: str | list[str] | None) -> int:
    """Words a reader sees: markdown punctuation and link targets are not words."""
    if not text:
        return 0
    if isinstance(text, list):
        return sum(word_count(item) for item in text)
    without_targets = re.sub(r"\]\([^)]*\)", "]", text)
    return len(_WORD.findall(without_targets))
