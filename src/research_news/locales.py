"""Languages as Babel knows them: the conventions (date order, month names) of any language tag.

Content and subscriber lists write language tags as BCP 47 does (``en``, ``fr``, ``pt-BR``,
``zh-Hant``); Babel (CLDR data) knows several hundred of them. A tag Babel does not know
(``xx``, or a region it has no data for) falls back to its base language, then to English:
a date is always spelled, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import functools

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import get_date_format, get_month_names

FALLBACK = "en"


@functools.cache
def babel_locale(tag: str) -> Locale:
    """The Babel locale for ``tag`` (``pt-BR`` → pt_BR), else its base language's, else English's."""
    for candidate in (tag, tag.split("-")[0], FALLBACK):
        try:
            return Locale.parse(candidate.replace("_", "-"), sep="-")
        except (UnknownLocaleError, ValueError, TypeError):  # unknown, or not a tag at all
            continue
    return Locale.parse(FALLBACK)  # pragma: no cover  (Babel always has English)


def month_names(tag: str) -> list[str]:
    """The twelve month names of ``tag`` as a date spells them (``janvier``; Russian ``января``)."""
    names = get_month_names("wide", context="format", locale=babel_locale(tag))
    return [names[month] for month in range(1, 13)]


def long_date(date: dt.date, tag: str, months: list[str] | None = None) -> str:
    """``date`` in ``tag``'s long form: ``January 16, 2023``, ``16 janvier 2023``, ``16. Januar 2023``.

    ``months`` (a layout's own month names) replace the month Babel would spell; the order and
    the words around it stay the language's.
    """
    locale = babel_locale(tag)
    pattern = get_date_format("long", locale=locale).pattern
    if months:
        quoted = "'" + months[date.month - 1].replace("'", "''") + "'"  # a literal in a CLDR pattern
        pattern = pattern.replace("MMMM", quoted)
    return babel_format_date(date, pattern, locale=locale)


def language_name(tag: str) -> str:
    """``tag`` named in English for the editor (``French``, ``Portuguese (Brazil)``); the tag itself
    when Babel does not know it."""
    try:
        locale = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return tag
    return locale.get_display_name(FALLBACK) or tag
