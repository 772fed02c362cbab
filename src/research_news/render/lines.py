"""Lines broken once: WeasyPrint's line breaking remembered for the layouts of one print job.

WeasyPrint fits a line by asking Pango to shape the text that is left (``split_first_line``),
and it asks again and again for the same lines: multi-column text is laid out several times
while its columns are balanced, a page is laid out again for its page-based counters, and
pagination's trials (render/pagination.py) lay a brief out once more with a figure moved. On the
sample issue 2023-03, 5,080 calls asked 820 different questions. Each answer depends only on its
arguments (the text, the width, the text's style properties and the fonts), so inside
:func:`remembered` an answer is kept and given again, as a copy, to the same question.

What a question is made of, :data:`TEXT_PROPERTIES`, is every style property WeasyPrint's line
breaking reads; tests/test_lines.py reads WeasyPrint's text code and fails when it reads one this
list lacks, and compares the PDFs built with and without the memo, byte for byte. The fonts are
the style's font configuration itself (one per layout of a print job, render/pdf.py), kept alive
by the memo so that its identity cannot be reused.

Measured on 2023-03, built cold with every edition and its offprints: 2.7 s → 1.9 s, the same
bytes in every file. The memo lives while a print job lays out (nested blocks share one) and is
dropped when the last one ends; outside one, WeasyPrint is called as it is.
"""

from __future__ import annotations

import copy
import functools
import operator
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

TEXT_PROPERTIES = (
    "direction",
    "font_family",
    "font_feature_settings",
    "font_kerning",
    "font_language_override",
    "font_size",
    "font_stretch",
    "font_style",
    "font_variant_alternates",
    "font_variant_caps",
    "font_variant_east_asian",
    "font_variant_ligatures",
    "font_variant_numeric",
    "font_variant_position",
    "font_variation_settings",
    "font_weight",
    "hyphenate_character",
    "hyphenate_limit_chars",
    "hyphenate_limit_zone",
    "hyphens",
    "lang",
    "letter_spacing",
    "line_height",
    "overflow_wrap",
    "tab_size",
    "text_decoration_line",
    "white_space",
    "word_break",
    "word_spacing",
)
"""The style properties WeasyPrint 70 reads when it breaks a line (text/line_break.py, text/fonts.py)."""

MAX_REMEMBERED_CHARACTERS = 50_000_000
"""The text the memo may hold, in characters (a question's text is what is left of a paragraph): past
it, new answers are not kept, so a pathological paragraph cannot take the memory."""

_TEXT_VALUES = operator.itemgetter(*TEXT_PROPERTIES)  # one call for all of them: asked on every line

PARAMETERS = ["text", "style", "context", "max_width", "justification_spacing", "is_line_start", "minimum"]
"""``split_first_line``'s parameters, as this module was written for them."""

_LOCK = threading.Lock()
_depth = 0
_memo: dict[tuple[Any, ...], tuple[Any, tuple[Any, ...]]] | None = None
_characters = 0


@contextmanager
def remembered() -> Iterator[None]:
    """Lines broken inside this block (in any thread) are remembered until the last such block ends."""
    global _depth, _memo, _characters
    install()
    with _LOCK:
        if _depth == 0:
            _memo, _characters = {}, 0
        _depth += 1
    try:
        yield
    finally:
        with _LOCK:
            _depth -= 1
            if _depth == 0:
                _memo, _characters = None, 0


def install() -> None:
    """Put the remembering wrapper around WeasyPrint's ``split_first_line`` where its layout calls it
    (idempotent; after render/weasyprint_fixes.py's workaround, which it then wraps). Nothing when the
    function is not the one this was written for."""
    from weasyprint.layout import inline, preferred

    from . import weasyprint_fixes

    weasyprint_fixes.apply()  # its workaround first, always under the memo
    for module in (inline, preferred):
        weasyprint_fixes.wrap_once(module, "split_first_line", PARAMETERS, _remembering, "remembers_lines")


def _remembering(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def split_first_line(text, style, context, max_width, justification_spacing, is_line_start=True, minimum=False):
        memo = _memo
        if memo is None:
            return original(text, style, context, max_width, justification_spacing, is_line_start, minimum)
        fonts, properties = style.font_config, _style_key(style)
        if properties is None:
            return original(text, style, context, max_width, justification_spacing, is_line_start, minimum)
        key = (original, text, max_width, justification_spacing, is_line_start, minimum, id(fonts), properties)
        kept = memo.get(key)
        if kept is not None and kept[0] is fonts:
            return _copied(kept[1])
        answer = original(text, style, context, max_width, justification_spacing, is_line_start, minimum)
        if not hasattr(answer[0], "layout"):  # only a layout done with (no Pango object) is safe to copy
            _keep(key, fonts, answer, len(text))
        return _copied(answer)

    return split_first_line


def _style_key(style: Any) -> tuple[Any, ...] | None:
    """The values of the properties that decide how ``style``'s text breaks, hashable; None when one
    cannot be made so (the question is then asked of WeasyPrint, and its answer not kept). Sets (the
    text's decoration lines) and lists are compared by their members; anything else by its own
    equality, which for tinycss2's nodes (a ``calc()``) is identity: never a wrong answer, at worst
    one asked again."""
    values = _TEXT_VALUES(style)
    try:
        hash(values)
    except TypeError:
        try:
            frozen = tuple(_frozen(value) for value in values)
            hash(frozen)
        except TypeError:
            return None
        return frozen
    return values


def _frozen(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return (frozenset, frozenset(_frozen(member) for member in value))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_frozen(member) for member in value))
    return value


def _keep(key: tuple[Any, ...], fonts: Any, answer: tuple[Any, ...], characters: int) -> None:
    global _characters
    with _LOCK:
        if _memo is None or _characters + characters > MAX_REMEMBERED_CHARACTERS:
            return
        _memo[key] = (fonts, answer)
        _characters += characters


def _copied(answer: tuple[Any, ...]) -> tuple[Any, ...]:
    """``answer`` with a layout of its own: drawing sets a layout up again, and may change its text."""
    return (copy.copy(answer[0]), *answer[1:])
