"""INTERIM, removed when branch `series` is merged: the series groupings and share images site.py uses.

The real ones are research_news.series (people, themes, in_series_order, series_problems) and
research_news.render.share (page_thumbnail_png, share_card_png), written on another branch.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from slugify import slugify

from .slugs import brief_slug


@dataclass(frozen=True)
class BriefRef:
    issue_slug: str
    slug: str


@dataclass
class Person:
    slug: str
    name: str
    orcid: str | None
    affiliation: str | None = None
    briefs: list[BriefRef] = field(default_factory=list)


@dataclass
class Theme:
    slug: str
    name: str
    briefs: list[BriefRef] = field(default_factory=list)


def in_series_order(contents):
    return sorted(contents, key=lambda c: (c.issue.number, c.issue.date, str(c.issue_dir.resolve())))


def series_problems(contents) -> list:
    return []


def _refs(contents):
    for content in in_series_order(contents):
        for section in content.issue.sections:
            for path in section.briefs:
                entry = content.briefs[(content.issue_dir / path).resolve()]
                yield BriefRef(content.issue_dir.resolve().name, brief_slug(entry.path)), entry.brief


def people(contents: Iterable) -> list[Person]:
    found: dict[str, Person] = {}
    for ref, brief in _refs(contents):
        for author in brief.authors:
            key = author.orcid or " ".join(author.name.casefold().split())
            person = found.setdefault(key, Person("", author.name, author.orcid))
            person.affiliation = author.affiliation or person.affiliation
            if ref not in person.briefs:
                person.briefs.append(ref)
    _slugs(found.values())
    return sorted(found.values(), key=lambda p: p.slug)


def themes(contents: Iterable) -> list[Theme]:
    found: dict[str, Theme] = {}
    for ref, brief in _refs(contents):
        for keyword in brief.keywords:
            theme = found.setdefault(slugify(keyword) or "theme", Theme("", keyword))
            if ref not in theme.briefs:
                theme.briefs.append(ref)
    _slugs(found.values())
    return sorted(found.values(), key=lambda t: t.slug)


def _slugs(groups) -> None:
    taken: set[str] = set()
    for group in groups:
        slug = base = slugify(group.name) or "x"
        number = 2
        while slug in taken:
            slug, number = f"{base}-{number}", number + 1
        group.slug = slug
        taken.add(slug)


def page_thumbnail_png(pdf: bytes, width: int = 480) -> bytes:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    image = page.render(scale=width / page.get_width()).to_pil()
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def share_card_png(edition, brief) -> bytes:
    from PIL import Image

    card = Image.new("RGB", (1200, 630), edition.publication.primary or "#1f4e79")
    buffer = io.BytesIO()
    card.save(buffer, "PNG")
    return buffer.getvalue()


_ = Path
