"""Section types: the listings an issue carries after its briefs (events, partner news, …).

A section type is a pydantic model for one item, the ``issue.yaml`` key that lists such
items, the label that heads them, and how they are ordered. Every edition renders a type
through a template named after it in the layout: ``print/extras/<type>.html.j2``,
``web/extras/<type>.html.j2``, ``email/extras/<type>.html.j2`` and, for the plain-text
email, ``email/extras/<type>.txt.j2``. So a new type ("job offers", "publications") is a
model and templates, not edits across the code.

``events`` and ``news`` are the two built-in types. Other packages add theirs through the
entry-point group ``research_news.sections``, each entry naming a :class:`SectionType`::

    [project.entry-points."research_news.sections"]
    jobs = "my_package.jobs:JOBS"

The issue model accepts the key of every registered type (see :func:`issue_model`), so a
misspelt key is still an error at its line, with "did you mean" among the registered keys.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Any

from pydantic import BaseModel, Field, create_model

from . import plugins
from .exceptions import ResearchNewsError
from .layout import BUILTIN_LAYOUTS, Layout, LayoutError
from .models import MODELS, Event, Issue, NewsItem

GROUP = "research_news.sections"
"""The entry-point group other packages register section types in."""

NAME = re.compile(r"[a-z][a-z0-9_]*")
"""A type's name, key and label: they name a template, a YAML key and a label."""

PROSE_FIELDS = ("title", "place")
"""Plain-text fields of section items shown as prose (typeset, and translated); others (sources,
names) stay as written."""

TEMPLATE_SUFFIXES = {"print": ".html.j2", "web": ".html.j2", "email": ".html.j2", "text": ".txt.j2"}
"""The suffix of ``extras/<type>`` templates in each edition's layout subfolder (the plain text lives in email/)."""


@dataclass(frozen=True)
class SectionType:
    """One kind of listing: ``model`` validates an item, ``key`` lists the items in issue.yaml
    (the type's name when not given), ``label`` heads them (likewise), and ``sort_by`` names the
    item field they are shown in order of (as written when None)."""

    name: str
    model: type[BaseModel]
    key: str = ""
    label: str = ""
    sort_by: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.key or self.name)
        object.__setattr__(self, "label", self.label or self.name)

    def template(self, subfolder: str) -> str:
        """The layout file that renders this type in ``subfolder`` (print, web, email or text)."""
        folder = "email" if subfolder == "text" else subfolder
        return f"{folder}/extras/{self.name}{TEMPLATE_SUFFIXES[subfolder]}"


BUILT_IN = (
    SectionType("events", Event, sort_by="date", description="Upcoming seminars, webinars and conferences."),
    SectionType("news", NewsItem, description="Short items from partner centres."),
)


@functools.cache
def registered() -> dict[str, SectionType]:
    """Every section type by name: the built-in ones, then those installed packages register."""
    types = {kind.name: kind for kind in BUILT_IN}
    for entry in plugins.installed(GROUP):
        kind = _load(entry)
        _check(kind, entry, types)
        types[kind.name] = kind
    return types


def _load(entry: EntryPoint) -> SectionType:
    """The section type an entry point names, or an error saying which package to fix."""
    where = f"the section type {entry.name!r} ({entry.value}, entry point group {GROUP})"
    kind = plugins.load(entry, where)
    if not isinstance(kind, SectionType):
        raise ResearchNewsError(f"{where} is a {type(kind).__name__}, not a research_news.sections.SectionType")
    return kind


def _check(kind: SectionType, entry: EntryPoint, known: dict[str, SectionType]) -> None:
    """A registered type must be named like its entry point, and take no key already used."""
    where = f"the section type {entry.name!r} ({entry.value})"
    if kind.name != entry.name:
        raise ResearchNewsError(f"{where} is named {kind.name!r}; name the entry point and the type alike")
    for what, value in (("name", kind.name), ("key", kind.key), ("label", kind.label)):
        if not NAME.fullmatch(value):
            raise ResearchNewsError(
                f"{where}: its {what} {value!r} must be lower-case letters, digits and "
                "underscores, starting with a letter"
            )
    if kind.name in known:
        raise ResearchNewsError(f"{where}: a section type {kind.name!r} is already registered")
    taken = set(Issue.model_fields) | {other.key for other in known.values()}
    if kind.key in taken:
        raise ResearchNewsError(f"{where}: issue.yaml already has a field `{kind.key}`; choose another key")
    if kind.sort_by is not None and kind.sort_by not in kind.model.model_fields:
        raise ResearchNewsError(f"{where}: sort_by names {kind.sort_by!r}, which {kind.model.__name__} does not have")


@functools.cache
def issue_model() -> type[Issue]:
    """The issue model with a list field for every registered section type, after ``sections``'s own fields."""
    fields: dict[str, Any] = {
        kind.key: (list[kind.model], Field([], description=kind.description or None))  # type: ignore[name-defined]
        for kind in registered().values()
    }
    return create_model("Issue", __base__=Issue, __module__=Issue.__module__, __doc__=Issue.__doc__, **fields)


def content_model(kind: str) -> type[BaseModel]:
    """The model of a content file by kind (brief, issue, publication), the issue with its section types."""
    return issue_model() if kind == "issue" else MODELS[kind]


def items_of(issue: Issue, kind: SectionType) -> list[BaseModel]:
    """The items of section type ``kind`` in ``issue``, in the order the type shows them."""
    items = list(getattr(issue, kind.key, None) or [])
    if sort_by := kind.sort_by:
        # Stable, so equal keys keep their written order; items without the (optional) field go last.
        items.sort(key=lambda item: (getattr(item, sort_by) is None, getattr(item, sort_by)))
    return items


def require_templates(layout: Layout, types: Iterable[str], subfolder: str) -> None:
    """Stop with the file to add when ``layout`` has no template to render one of ``types`` in
    ``subfolder`` (print, web, email or text): checked before rendering, so the message names
    the section type rather than an include deep in a template."""
    for name in types:
        relative = registered()[name].template(subfolder)
        if layout.file(relative) is None:
            own = layout.folders[0]
            where = (
                f"add {own / relative}"
                if not own.is_relative_to(BUILTIN_LAYOUTS.resolve())
                else f"add it to a layout of your own (layouts/<name>/{relative}, with `layout: <name>` "
                "in publication.yaml)"
            )
            raise LayoutError(f"the layout has no template {relative} for the section type {name!r}: {where}")


def reset() -> None:
    """Forget the registry, so that packages installed since (or a test's entry points) are read again."""
    registered.cache_clear()
    issue_model.cache_clear()
