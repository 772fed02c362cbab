"""The names a brief is published under: its offprint file, its anchors in every edition.

A brief's slug comes from its file name, transliterated to lower-case ASCII letters, digits
and hyphens (python-slugify with text-unidecode: ``étude`` → ``etude``, ``Straße`` →
``strasse``, ``研究`` → ``yan-jiu``), so that it is safe in a file name, a URL and an HTML id
on every system. Two briefs of one issue must not share one: ``check`` says so.
"""

from __future__ import annotations

from pathlib import Path

from slugify import slugify

FALLBACK = "brief"
"""The slug of a file name with no letter or digit at all (``---.yaml``)."""


def brief_slug(path: Path) -> str:
    """The slug of the brief in ``path``: ``briefs/Étude de cas.yaml`` → ``etude-de-cas``."""
    return slugify(path.stem) or FALLBACK
