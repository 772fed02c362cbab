"""Typography by language, applied when text is rendered, never to the source.

Writers type straight quotes, plain spaces before French punctuation and ``10 000`` with an
ordinary space; a publisher prints curly quotes, typographic apostrophes and the spaces each
language's typography asks for. :func:`typeset` does that for one piece of plain text (a
title, a name, a subject line); :func:`typeset_markdown_tokens` does it for the text of
rendered markdown, leaving code, link addresses and raw characters in URLs alone.

The quote characters come from the labels (``quotes:``), so a layout can change them; the
spacing rules are the language's own (French: a narrow no-break space, U+202F, before
``; : ! ?``, inside « », between thousands and before ``%``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import overload

NNBSP = "\u202f"
"""Narrow no-break space: French high punctuation, guillemets, thousands."""

Quotes = tuple[str, ...]
"""Opening and closing quotes, then the pair for a quotation inside a quotation (labels' ``quotes``)."""

DEFAULT_QUOTES: Quotes = ("“", "”", "‘", "’")
APOSTROPHE = "’"

# Something that must never be typeset: an address, an e-mail, a time, a ratio, a path.
_PROTECTED = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+|mailto:\S+|www\.\S+|\S+@\S+\.\S+|\b\d+:\d+\b")

# Straight quotes: "opening" after the start, a space or an opening bracket, else closing.
_DOUBLE = re.compile(r'"')
_SINGLE = re.compile(r"'")
_OPENERS = " \t\n([{\u00a0\u202f—–-/«‹„“‘"

# French: the space (or none) before ; : ! ? becomes a narrow no-break space. Not inside a
# run of the same marks (?!), not before a colon between digits (kept out by _PROTECTED).
_FR_HIGH = re.compile(r"(?<=[^\s\u00a0\u202f;:!?(\[])[ \u00a0]?(?=[;:!?]+(?:\s|$|[»)\]\"”’.,]))")
_FR_OPEN_GUILLEMET = re.compile(r"([«‹])[ \u00a0]?(?=\S)")
_FR_CLOSE_GUILLEMET = re.compile(r"(?<=\S)[ \u00a0]?([»›])")
_THOUSANDS = re.compile(r"(?<=\d)[ \u00a0](?=\d{3}(?!\d))")
_PERCENT = re.compile(r"(?<=\d)[ \u00a0]?(?=%)")


THOUSANDS_LANGUAGES = ("fr", "de", "es", "it", "pt", "ru", "pl", "cs", "sv", "nb", "nn", "da", "fi")
"""Languages that group thousands with a (narrow no-break) space: 10 000."""


@overload
def typeset(text: str, lang: str, quotes: Sequence[str] = ...) -> str: ...
@overload
def typeset(text: None, lang: str, quotes: Sequence[str] = ...) -> None: ...
def typeset(text: str | None, lang: str, quotes: Sequence[str] = DEFAULT_QUOTES) -> str | None:
    """``text`` with the quotes, apostrophes and spaces of ``lang``'s typography."""
    if not text:
        return text
    return _protected(text, lambda piece, before: _typeset_piece(piece, before, lang, quotes))


def typeset_markdown_tokens(tokens: list, lang: str, quotes: Sequence[str]) -> None:
    """Typeset the ``text`` tokens of markdown-it's inline children in place (not code, not
    URLs of links: those live in attributes, not text tokens). Quotes are markdown-it's own
    smartquotes' job; this adds the spacing and apostrophes, and turns the straight double
    quotes smartquotes left unpaired (``„Zitat"``, typed with a German opening mark) as
    :func:`typeset` does plain text."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        previous = " "
        for child in block.children:
            if child.type == "text":
                child.content = _protected(
                    child.content,
                    lambda piece, before: _spacing(_curly_double(_apostrophes(piece), before, quotes), before, lang),
                    previous,
                )
                previous = child.content[-1:] or previous
            elif child.type in ("softbreak", "hardbreak"):
                previous = " "
            elif child.type == "code_inline":
                previous = "x"


def _protected(text: str, change: Callable[[str, str], str], before: str = " ") -> str:
    """``change`` applied to the parts of ``text`` that are not addresses, e-mails or times."""
    out: list[str] = []
    last = 0
    for found in _PROTECTED.finditer(text):
        if found.start() > last:
            out.append(change(text[last : found.start()], (out[-1][-1:] if out else before) or before))
        out.append(found.group())
        last = found.end()
    if last < len(text):
        out.append(change(text[last:], (out[-1][-1:] if out else before) or before))
    return "".join(out)


def _typeset_piece(text: str, before: str, lang: str, quotes: Sequence[str]) -> str:
    text = _apostrophes(text)
    text = _curly(text, before, quotes)
    return _spacing(text, before, lang)


def _apostrophes(text: str) -> str:
    """``l'étude``, ``don't``, ``'90s`` → typographic apostrophes (a quote between letters or digits)."""
    return re.sub(r"(?<=\w)'(?=\w)", APOSTROPHE, text)


def _curly(text: str, before: str, quotes: Sequence[str]) -> str:
    """Straight double and single quotes as the language's opening and closing quotes."""
    text = _curly_double(text, before, quotes)
    return _by_context(_SINGLE, text, before, quotes[2], quotes[3])


def _curly_double(text: str, before: str, quotes: Sequence[str]) -> str:
    """Straight double quotes as the language's opening and closing quotes."""
    return _by_context(_DOUBLE, text, before, quotes[0], quotes[1])


def _by_context(mark: re.Pattern, text: str, before: str, opening: str, closing: str) -> str:
    """Each ``mark`` in ``text`` as ``opening`` after a space or an opening bracket, else ``closing``."""

    def pick(found: re.Match) -> str:
        previous = text[found.start() - 1] if found.start() else before
        return opening if previous in _OPENERS else closing

    return mark.sub(pick, text)


def _spacing(text: str, before: str, lang: str) -> str:
    """The spaces of ``lang``: French high punctuation, guillemets and numbers."""
    base = lang.split("-")[0]
    # The rules look one character back: the piece is judged with the character before it
    # (the end of the previous piece, e.g. a link's text before " : "), which is then dropped.
    lead = before[-1:] or " "
    text = lead + text
    if base == "fr":
        text = _FR_HIGH.sub(NNBSP, text)
        text = _FR_OPEN_GUILLEMET.sub(lambda found: found[1] + NNBSP, text)
        text = _FR_CLOSE_GUILLEMET.sub(lambda found: NNBSP + found[1], text)
        text = _PERCENT.sub(NNBSP, text)
    if base in THOUSANDS_LANGUAGES:
        text = _THOUSANDS.sub(NNBSP, text)
    return text[len(lead) :]
