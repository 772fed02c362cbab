"""The series as a whole: rules that span issues, and who and what recurs across them.

``check`` over a content tree reads every issue; the rules here compare them
(:func:`series_problems`): two issues must not share a number or a folder name (the
issue's slug in every output file and web address), a brief belongs to one issue, numbers
follow dates, and an ORCID iD names one person, so it should come with one spelling of
their name (a warning: the people pages show the first spelling).

The same pass gives the web site its indexes: :func:`people` groups the authors of every
brief into people, :func:`themes` groups briefs by their keywords. Both give each group
a slug that stays the same when later issues are added (the first to appear in the
series keeps the plain slug), so their pages keep their addresses.

Identity: an author with an ORCID iD is that iD. An author without one is their name
(spaces and case ignored), and joins the first person in the series with an ORCID iD
and that name: the first, so that a namesake in a later issue does not move earlier
briefs to another page. Two ORCID iDs with the same name are two people: homonyms
happen, and nothing is reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from slugify import slugify

from .exceptions import Problem, display_path
from .load import Document
from .locate import Loc, field_path, position_of, raw_strings
from .models import Author
from .slugs import brief_slug
from .tree import ISSUE_FILE

if TYPE_CHECKING:  # the checker calls these rules, so it cannot be imported here at run time
    from .checker import Content

PERSON_FALLBACK = "person"
"""The slug of a name with no letter or digit that slugify keeps."""
THEME_FALLBACK = "theme"


# --- what the site reads ---------------------------------------------------------------


@dataclass(frozen=True)
class BriefRef:
    """A brief as the site's indexes link to it: in which issue, under which slug."""

    issue_slug: str  # the issue folder's name: the issue's address
    issue_number: int
    issue_date: dt.date
    slug: str  # the brief's slug in its issue (file name, #brief-<slug>, offprints/<slug>.pdf)
    title: str
    path: Path  # the brief's YAML file, resolved


@dataclass
class Person:
    """Someone who wrote briefs in the series, with their briefs in series order.

    ``name``, ``orcid`` come from their first appearance; ``affiliation``, ``role``,
    ``bio`` (markdown source) and ``photo`` (a resolved path in the content tree) from the
    latest brief that gives them: people move, and their latest bio is the one to show.
    """

    slug: str
    name: str
    orcid: str | None
    affiliation: str | None = None
    role: str | None = None
    bio: str | None = None
    photo: Path | None = None
    briefs: list[BriefRef] = field(default_factory=list)


@dataclass
class Theme:
    """A keyword and the briefs that give it, in series order; ``name`` is its first spelling."""

    slug: str
    name: str
    briefs: list[BriefRef] = field(default_factory=list)


def people(contents: Iterable[Content]) -> list[Person]:
    """Every author of every brief of ``contents`` (validated issues, in any order), grouped
    into people (identity: see the module docstring), sorted by slug. A brief appears once
    per person, even if it lists them twice."""
    ordered = in_series_order(contents)
    appearances = list(_authors(ordered))
    orcid_of_name = _first_orcid_by_name(author for _, author, _ in appearances)
    found: dict[str, Person] = {}
    for ref, author, _ in appearances:
        identity = _identity(author, orcid_of_name)
        person = found.get(identity)
        if person is None:
            person = found[identity] = Person(slug="", name=author.name, orcid=author.orcid or None)
        if author.orcid and not person.orcid:  # a name-only appearance came first
            person.orcid = author.orcid
        for attribute in ("affiliation", "role", "bio"):
            if value := getattr(author, attribute):
                setattr(person, attribute, value)
        if author.photo:
            person.photo = (ref.path.parent / author.photo).resolve()
        if ref not in person.briefs:
            person.briefs.append(ref)
    _give_slugs(found.values(), lambda person: person.name, PERSON_FALLBACK, _orcid_suffix)
    return sorted(found.values(), key=lambda person: person.slug)


def themes(contents: Iterable[Content]) -> list[Theme]:
    """The keywords of every brief of ``contents``, each with its briefs in series order,
    sorted by slug. Keywords are matched ignoring case and spaces (``GDPR`` = ``gdpr``);
    keywords with the same slug are one theme (``e-mail`` and ``e mail``). A keyword of one
    brief is a theme too: the site decides how many briefs make a page worth having."""
    found: dict[str, Theme] = {}
    for ref, brief in _briefs(in_series_order(contents)):
        for keyword in brief.keywords:
            key = slugify(keyword) or _normal(keyword)
            theme = found.setdefault(key, Theme(slug="", name=keyword))
            if ref not in theme.briefs:
                theme.briefs.append(ref)
    _give_slugs(found.values(), lambda theme: theme.name, THEME_FALLBACK, lambda theme: None)
    return sorted(found.values(), key=lambda theme: theme.slug)


def in_series_order(contents: Iterable[Content]) -> list[Content]:
    """Issues by number, then date, then folder: the order in which "first" is meant here."""
    return sorted(contents, key=lambda c: (c.issue.number, c.issue.date, str(c.issue_dir.resolve())))


# --- the rules ---------------------------------------------------------------------------


def series_problems(contents: Iterable[Content]) -> list[Problem]:
    """What is wrong between the issues of ``contents`` (each validated on its own already)."""
    ordered = in_series_order(contents)
    return [
        *_shared_numbers(ordered),
        *_shared_slugs(ordered),
        *_briefs_in_two_issues(ordered),
        *_dates_out_of_order(ordered),
        *_orcid_spellings(ordered),
    ]


def _shared_numbers(ordered: list[Content]) -> Iterable[Problem]:
    first: dict[int, Content] = {}
    for content in ordered:
        number = content.issue.number
        if number in first:
            yield _problem(
                content,
                ("number",),
                f"number: issue {number} is also the number of {_where(first[number], ('number',))}",
                "give each issue its own number: the next one after the last issue",
            )
        else:
            first[number] = content


def _shared_slugs(ordered: list[Content]) -> Iterable[Problem]:
    """Folder names are compared ignoring case: on the web server of many a publisher, and on
    macOS and Windows disks, ``2023-01-Data`` and ``2023-01-data`` are one folder."""
    first: dict[str, Content] = {}
    for content in ordered:
        slug = _issue_slug(content)
        if slug.casefold() in first:
            other = first[slug.casefold()]
            yield _problem(
                content,
                (),
                f'the issue folder "{slug}" has the name of {display_path(other.issue_dir)}, and the folder '
                "names every output file and web address of its issue",
                "rename one of the two folders, e.g. with the issue's date and theme: 2024-06-open-science",
            )
        else:
            first[slug.casefold()] = content


def _briefs_in_two_issues(ordered: list[Content]) -> Iterable[Problem]:
    listed: dict[Path, tuple[Content, Loc]] = {}
    for content in ordered:
        for loc, path in _listings(content):
            if path in listed and listed[path][0] is not content:  # twice in one issue: the issue's own rule
                other, other_loc = listed[path]
                yield _problem(
                    content,
                    loc,
                    f"{field_path(loc)}: this brief is already in issue {other.issue.number} "
                    f"({_where(other, other_loc)})",
                    "a brief belongs to one issue; to publish a new version, copy it into this issue's briefs/",
                )
            listed.setdefault(path, (content, loc))


def _dates_out_of_order(ordered: list[Content]) -> Iterable[Problem]:
    """Each issue is compared with the one numbered just before it: one wrong date is one error."""
    for previous, content in pairwise(ordered):
        if content.issue.number > previous.issue.number and content.issue.date < previous.issue.date:
            yield _problem(
                content,
                ("date",),
                f"date: issue {content.issue.number} is dated {content.issue.date.isoformat()}, before issue "
                f"{previous.issue.number} ({previous.issue.date.isoformat()}, {_where(previous, ('date',))})",
                "issues are numbered in the order they come out: correct the date or the number",
            )


def _orcid_spellings(ordered: list[Content]) -> Iterable[Problem]:
    first: dict[str, tuple[str, Document, Loc]] = {}
    for content in ordered:
        for path, entry in _listed_entries(content):
            for index, author in enumerate(entry.brief.authors):
                if not author.orcid:
                    continue
                loc: Loc = ("authors", index, "name")
                if author.orcid not in first:
                    first[author.orcid] = (author.name, entry.doc, loc)
                    continue
                name, doc, where = first[author.orcid]
                if _spaced(name) != _spaced(author.name):
                    line, column = position_of(entry.doc.data, loc)
                    other_line, other_column = position_of(doc.data, where)
                    yield Problem(
                        path,
                        line,
                        column,
                        f'{field_path(loc)}: "{author.name}" has the ORCID iD {author.orcid}, which is '
                        f'"{name}" in {display_path(doc.path)}:{other_line}:{other_column}',
                        f'write the name as "{name}" in both briefs (the people pages show one spelling), '
                        "or correct the ORCID iD",
                        "warning",
                    )


# --- helpers ---------------------------------------------------------------------------


def _issue_slug(content: Content) -> str:
    return content.issue_dir.resolve().name


def _issue_document(content: Content) -> Document:
    return content.documents[(content.issue_dir / ISSUE_FILE).resolve()]


def _where(content: Content, loc: Loc) -> str:
    """``issues/…/issue.yaml:2:7``: the place of ``loc`` in the issue file, as problems print it."""
    doc = _issue_document(content)
    line, column = position_of(doc.data, loc)
    return f"{display_path(doc.path)}:{line}:{column}"


def _problem(content: Content, loc: Loc, message: str, hint: str, severity: str = "error") -> Problem:
    doc = _issue_document(content)
    line, column = position_of(doc.data, loc)
    return Problem(doc.path, line, column, message, hint, severity)


def _listings(content: Content) -> Iterable[tuple[Loc, Path]]:
    """Each brief the issue lists: where it is listed, and its file (resolved, as the checker keys it)."""
    doc = _issue_document(content)
    for loc, relative in raw_strings(doc.data, [("sections", "*", "briefs", "*")]):
        path = (content.issue_dir / relative).resolve()
        if path in content.briefs:
            yield loc, path


def _listed_entries(content: Content):
    """The issue's valid briefs in the order it lists them, each once."""
    seen: set[Path] = set()
    for _, path in _listings(content):
        if path not in seen:
            seen.add(path)
            yield path, content.briefs[path]


def _briefs(ordered: list[Content]):
    """(reference, brief model) for every brief, in series order."""
    for content in ordered:
        for path, entry in _listed_entries(content):
            ref = BriefRef(
                issue_slug=_issue_slug(content),
                issue_number=content.issue.number,
                issue_date=content.issue.date,
                slug=brief_slug(path),
                title=entry.brief.title,
                path=path,
            )
            yield ref, entry.brief


def _authors(ordered: list[Content]) -> Iterable[tuple[BriefRef, Author, int]]:
    for ref, brief in _briefs(ordered):
        for index, author in enumerate(brief.authors):
            yield ref, author, index


def _spaced(name: str) -> str:
    """A name with its spaces normalised: a spelling, as readers see it."""
    return " ".join(name.split())


def _normal(name: str) -> str:
    """A name with spaces and case normalised: who it names, when no ORCID iD says."""
    return _spaced(name).casefold()


def _first_orcid_by_name(authors: Iterable[Author]) -> dict[str, str]:
    """Normalised name → the first ORCID iD given with it (``authors`` in series order)."""
    orcids: dict[str, str] = {}
    for author in authors:
        if author.orcid:
            orcids.setdefault(_normal(author.name), author.orcid)
    return orcids


def _identity(author: Author, orcid_of_name: dict[str, str]) -> str:
    orcid = author.orcid or orcid_of_name.get(_normal(author.name))
    return f"orcid:{orcid}" if orcid else f"name:{_normal(author.name)}"


def _orcid_suffix(person: Person) -> str | None:
    """Homonyms with ORCID iDs tell themselves apart by the iD's last digits, which do not
    depend on who else is in the series."""
    return person.orcid.replace("-", "")[-4:].lower() if person.orcid else None


def _give_slugs(groups, name_of, fallback: str, suffix_of) -> None:
    """A slug for each group, in the order given (series order of first appearance): the
    first keeps the plain slug of its name; a later one with the same slug takes its own
    suffix, else a number."""
    taken: set[str] = set()
    for group in groups:
        base = slugify(name_of(group)) or fallback
        candidates = [base]
        if suffix := suffix_of(group):
            candidates.append(f"{base}-{suffix}")
        candidates += (f"{base}-{number}" for number in range(2, 2 + len(taken) + 1))
        group.slug = next(candidate for candidate in candidates if candidate not in taken)
        taken.add(group.slug)
