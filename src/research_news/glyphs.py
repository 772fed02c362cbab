"""Characters the PDF cannot draw, found as WeasyPrint draws them and told where they were written.

A character that no font has (Chinese in a title when no CJK font is installed, a rare
symbol) is printed as an empty box, "tofu", and nothing says so. Which fonts could
have drawn it is decided by Pango and fontconfig at the moment of drawing: first the
layout's ``@font-face`` fonts named by the element's ``font-family``, then every font
installed on the computer that has the character. Guessing that beforehand (reading
the fonts' character maps) would have to repeat fontconfig's rules; instead this
module listens to WeasyPrint, which logs each glyph it draws as ``.notdef`` (the
empty box) with its character. So a character a system font draws (DejaVu, installed
with fonts-dejavu-core) is never reported, and one that is reported really is a box.

Listening costs nothing when every character has a glyph. When some do not, the
validated content files (the edition keeps them) are searched for the fields that hold
them, so that the warning is located (``brief.yaml:3:8: title: …``) and names the
characters, the fonts tried and how to add one (README, "Fonts").
"""

from __future__ import annotations

import functools
import logging
import re
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from .assemble import Edition
from .exceptions import Problem
from .load import Document
from .locate import field_path, position_in_text, strings
from .tree import ISSUE_FILE
from .urls import file_url_path

WEASYPRINT_LOGGER = "weasyprint"
NOTDEF_MESSAGE = ".notdef glyph rendered"
"""How WeasyPrint's draw/text.py starts the warning it logs for each glyph it draws as
an empty box, with the character and its code point as arguments. A test renders such
a character, so an upgrade that changes the message shows."""

MAX_NAMED_FONTS = 8


class _NotdefCollector(logging.Handler):
    """Collects the characters WeasyPrint reports drawing as ``.notdef``."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.characters: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith(NOTDEF_MESSAGE):
            self.characters.update(chr(arg) for arg in record.args or () if isinstance(arg, int))


@contextmanager
def drawn_as_boxes() -> Iterator[set[str]]:
    """The characters WeasyPrint draws as empty boxes inside the ``with`` block (filled as it goes).

    Renders run one at a time per process (a build's parallel work is in processes, never
    threads), so listening on WeasyPrint's logger cannot pick up another render's characters.
    """
    collector = _NotdefCollector()
    logger = logging.getLogger(WEASYPRINT_LOGGER)
    level = logger.level
    if not logger.isEnabledFor(logging.WARNING):
        logger.setLevel(logging.WARNING)
    logger.addHandler(collector)
    try:
        yield collector.characters
    finally:
        logger.removeHandler(collector)
        logger.setLevel(level)


def box_problems(edition: Edition, characters: set[str], html: str) -> list[Problem]:
    """A warning at each field that holds characters drawn as empty boxes.

    Characters found in no content file came from the layout (its templates or labels)
    or from typography (quotation marks for the language): one warning at the issue
    file says so.
    """
    if not characters:
        return []
    hint = _hint(html, edition)
    problems, found = [], set()
    for document in _content_documents(edition):
        for loc, text in strings(document.data, ()):
            here = sorted({ch for ch in text if ch in characters}, key=text.index)
            if not here:
                continue
            found.update(here)
            line, column = position_in_text(document, loc, text.index(here[0]))
            problems.append(
                Problem(
                    document.path,
                    line,
                    column,
                    f"{field_path(loc)}: {_describe(here)}, so the PDF shows "
                    f"{'it as an empty box' if len(here) == 1 else 'them as empty boxes'}",
                    hint,
                    "warning",
                )
            )
    rest = sorted(characters - found)
    if rest:
        problems.append(
            Problem(
                edition.issue_dir / ISSUE_FILE,
                1,
                1,
                f"the print layout's own text (templates, labels or quotation marks): "
                f"{_describe(rest)}, so the PDF shows "
                f"{'it as an empty box' if len(rest) == 1 else 'them as empty boxes'}",
                hint,
                "warning",
            )
        )
    return problems


def _describe(characters: list[str]) -> str:
    """``"中" (U+4E2D) and "文" (U+6587) are in none of the fonts``."""
    named = [f'"{ch}" (U+{ord(ch):04X})' for ch in characters[:10]]
    more = f" and {len(characters) - 10} more" if len(characters) > 10 else ""
    listed = ", ".join(named[:-1]) + f" and {named[-1]}" if len(named) > 1 else named[0]
    return f"{listed}{more} {'is' if len(characters) == 1 else 'are'} in none of the fonts"


def _hint(html: str, edition: Edition) -> str:
    layout = ", ".join(layout_families(html, edition)) or "none"
    installed = installed_families()
    if installed is None:
        system = "then the fonts installed on this computer (fc-list, which would name them, is not installed)"
    elif not installed:
        system = "and no font is installed on this computer"
    else:
        shown = ", ".join(installed[:MAX_NAMED_FONTS])
        more = f" and {len(installed) - MAX_NAMED_FONTS} more" if len(installed) > MAX_NAMED_FONTS else ""
        system = f"then every font installed on this computer ({shown}{more})"
    return (
        f"fonts tried: the layout's ({layout}), {system}; add a font that has these characters to the "
        "layout's fonts/ folder and its @font-face rules, or install one (e.g. a Noto font for that script)"
    )


# --- the fonts that were tried ----------------------------------------------------------

_STYLE_ELEMENT = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
_STYLESHEET_LINK = re.compile(r"<link\b[^>]*\bhref=\"(file:[^\"]+\.css)\"", re.I)


def layout_families(html: str, edition: Edition) -> list[str]:
    """The families the print document declares with ``@font-face``, in its <style> and the layout's stylesheets."""
    sheets = [match.group(1) for match in _STYLE_ELEMENT.finditer(html)]
    folders = [folder.resolve() for folder in edition.layout.folders]
    for match in _STYLESHEET_LINK.finditer(html):
        path = file_url_path(match.group(1).replace("&amp;", "&"))
        if path.is_file() and any(path.resolve().is_relative_to(folder) for folder in folders):
            sheets.append(path.read_text(encoding="utf-8", errors="replace"))
    return list(dict.fromkeys(family for sheet in sheets for family in _font_face_families(sheet)))


def _font_face_families(css: str) -> Iterable[str]:
    import tinycss2
    from tinycss2.ast import IdentToken, StringToken

    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "at-rule" or rule.lower_at_keyword != "font-face" or rule.content is None:
            continue
        for declaration in tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True):
            if declaration.type == "declaration" and declaration.lower_name == "font-family":
                words = [token.value for token in declaration.value if isinstance(token, (StringToken, IdentToken))]
                if words:
                    yield " ".join(words)


@functools.cache
def installed_families() -> list[str] | None:
    """The font families fontconfig knows on this computer (what Pango falls back to), or None without fc-list."""
    try:
        listed = subprocess.run(
            ["fc-list", "--format", "%{family[0]}\n"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted({line.strip() for line in listed.splitlines() if line.strip()})


# --- where the characters were written -------------------------------------------------


def _content_documents(edition: Edition) -> Iterable[Document]:
    """The content files the PDF's text comes from, as they were validated: publication, issue, each brief."""
    return edition.documents.values()
