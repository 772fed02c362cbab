"""Colours for every edition, derived from the publication's `colors:` (or its layout's).

A publisher picks a brand colour, not an accessible one. This module turns
``primary`` and ``accent`` into a palette whose text colours meet WCAG AA contrast
on the backgrounds they are used on (light and dark), so the templates can use the
brand freely without checking contrast themselves.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable
from dataclasses import dataclass

from ..assemble import Edition

DEFAULT_PRIMARY = "#1f4e79"  # a deep blue: 8.6:1 on white
DEFAULT_ACCENT = "#c9792b"  # warm amber, used for rules and bullets only

PAPER = "#ffffff"  # page background in light mode
INK = "#1f2328"  # body text: softer than black, 15.8:1 on white
MUTED = "#57606a"  # secondary text (dates, roles): 6.4:1 on white
DARK_PAPER = "#16191d"  # page background in dark mode (not pure black: less glare, survives inversion)
DARK_CARD = "#1e2227"
DARK_INK = "#e6e6e3"

AA_TEXT = 4.5  # WCAG 2.1 AA for body-size text
AA_LARGE = 3.0  # WCAG 2.1 AA for large text and graphics
AAA_TEXT = 7.0  # WCAG 2.1 AAA


@dataclass(frozen=True)
class Palette:
    """Every colour a screen template uses; all text colours pass AA where they are used."""

    primary: str  # headings, links, header band: ≥ 4.5:1 on white
    on_primary: str  # text on a primary background
    accent: str  # rules, bullets, borders: decoration only
    tint: str  # a pale wash of primary for boxes (takeaways), ink stays readable on it
    paper: str = PAPER
    page: str = "#f2f1ed"  # around the email's card: a warm grey that makes the card read as paper
    ink: str = INK
    muted: str = MUTED
    primary_on_dark: str = "#9fd0dc"  # headings and links in dark mode: ≥ 4.5:1 on DARK_CARD
    tint_on_dark: str = "#23343a"
    dark_paper: str = DARK_PAPER
    dark_card: str = DARK_CARD
    dark_ink: str = DARK_INK


def palette(edition: Edition) -> Palette:
    """The palette for ``edition``'s publication colours, else its layout's, else the defaults."""
    layout = edition.layout.colors
    brand = edition.publication.primary or layout["primary"] or DEFAULT_PRIMARY
    accent = edition.publication.accent or layout["accent"] or DEFAULT_ACCENT
    tint = mix(brand, PAPER, 0.92)
    # Headings sit on white and on the tint (the takeaways box): readable on the darker of the two.
    primary = darken_until(brand, tint, AA_TEXT)
    on_primary = PAPER if contrast(PAPER, primary) >= contrast(INK, primary) else INK
    tint_on_dark = mix(brand, DARK_CARD, 0.78)
    # In dark mode, AA alone gives a murky colour on dark grey: aim for AAA on the card, AA on the tint.
    primary_on_dark = max(
        lighten_until(brand, DARK_CARD, AAA_TEXT), lighten_until(brand, tint_on_dark, AA_TEXT), key=luminance
    )
    return Palette(
        primary=primary,
        on_primary=on_primary,
        accent=accent,
        tint=tint,
        primary_on_dark=primary_on_dark,
        tint_on_dark=tint_on_dark,
    )


# --- colour arithmetic (sRGB, WCAG 2.1 definitions) -----------------------------------


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb: Iterable[float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def luminance(colour: str) -> float:
    """WCAG relative luminance of a ``#rrggbb`` colour."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(colour: str, other: str, amount: float) -> str:
    """``colour`` moved ``amount`` (0–1) of the way towards ``other``."""
    a, b = _rgb(colour), _rgb(other)
    return _hex(tuple(x + (y - x) * amount for x, y in zip(a, b, strict=True)))


def darken_until(colour: str, background: str, ratio: float) -> str:
    """``colour``, darkened just enough to reach ``ratio`` against ``background``."""
    return _shift_until(colour, "#000000", background, ratio)


def lighten_until(colour: str, background: str, ratio: float) -> str:
    """``colour``, lightened just enough to reach ``ratio`` against ``background``.

    Lightness is raised in HLS with the hue kept (saturation capped), so a deep teal becomes a clear light
    teal rather than the grey that mixing with white would give.
    """
    hue, lightness, saturation = colorsys.rgb_to_hls(*(c / 255 for c in _rgb(colour)))
    saturation = min(saturation, 0.5)  # a fully saturated light colour glares on a dark page
    for step in range(0, 101):
        level = lightness + (1 - lightness) * step / 100
        candidate = _hex(tuple(c * 255 for c in colorsys.hls_to_rgb(hue, level, saturation)))
        if contrast(candidate, background) >= ratio:
            return candidate
    return "#ffffff"


def _shift_until(colour: str, towards: str, background: str, ratio: float) -> str:
    # Small steps keep the hue recognisable: the brand colour moves only as far as needed.
    for step in range(0, 101):
        candidate = mix(colour, towards, step / 100)
        if contrast(candidate, background) >= ratio:
            return candidate
    return towards
