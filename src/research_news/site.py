"""``research-news site``: every issue of a content tree, and a static site around them.

The pipeline, like a build's: collect → check → shape → render → build issues → write → index.

- **collect and check**: every issue folder of the tree is checked on its own (each with its
  problems, so a broken issue can be left out with ``skip_broken``), and the series as a whole
  (:mod:`research_news.series`); any error stops the site before anything is written.
- **shape**: the issues in series order, each brief with its page, its citation, its people and
  themes, prev/next links (:class:`Site`); templates only loop over it.
- **render**: the pages (layout's ``site/`` templates, falling back to ``web/`` for the brief and
  the issue), feeds, sitemap and citation files, in memory: a layout mistake stops here too. When
  a single issue is to be built, this happens in the worker process that renders its HTML
  editions, while this process lays its PDF out (see :func:`build_issues`).
- **build issues**: :func:`research_news.build.build` per issue (print PDF, web edition,
  offprints, cut from the PDF's layout) into ``<out>/<slug>/``, in a process pool (``jobs``; each
  worker builds its issue in its own process); each worker also makes its issue's cover thumbnail and its briefs' share
  cards, each kept in the issue's cache (cache.py) under a key of what it is drawn from. An
  issue whose build is up to date, with its images in the cache, is not sent to a worker:
  a site with nothing changed starts no process.
- **write**: the site's files, atomically, with a manifest (a removed page is pruned); a file
  that already holds its bytes is left alone. The build folders of issues the site published
  before and no longer does are removed with their caches (a build it never published, say of
  another tree into the same folder, is left alone).
- **index**: Pagefind indexes the brief pages (``data-pagefind-body``) for the search page,
  unless the pages it reads are those it indexed last time.

The site's issue page replaces the web edition's ``index.html`` (it adds links to the other
issues): the site checks an issue's build without comparing that file, and writes its own
page after every build of the issue.

Every address is under the publication's ``web_base_url``; pages link relatively, so the
folder works from any host path and from the file system; feeds, the sitemap, canonical
links, OpenGraph and citation metadata are absolute. Output is deterministic: dates come from
the content, never from the clock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from itertools import pairwise
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from jinja2 import Environment, pass_context
from markupsafe import Markup

from . import cache as caching
from . import citations, feeds, parallel, series, uptodate
from .assemble import BriefView, Edition, assemble
from .build import build as build_issue
from .build import write_ahead, write_outputs
from .checker import Checker, Content
from .editions import Output, Rendered
from .exceptions import ContentError, Problem, ResearchNewsError, counted, display_path
from .layout import Layout
from .manifest import MANIFEST_NAME, Manifest, build_lock, remove_stale
from .render.theme import palette
from .render.web import STYLESHEET, LayoutFonts, image_path, image_url
from .translations import translation_of
from .tree import ISSUE_FILE, PUBLICATION_FILE, find_root
from .validate import errors_only, load_content
from .write import WriteFailed, write_bytes

log = logging.getLogger(__name__)

RESERVED = ("assets", "people", "themes", "search", "pagefind")
"""Folders the site's own pages live in: no issue folder may take one of these names."""

COVER = "cover.png"
"""The first page of an issue's PDF, beside its web edition: the home page's thumbnail."""
SHARE_IMAGE = "share.png"
"""A brief's 1200×630 share card, beside its page."""

BRIEF_FEED, BRIEF_JSON_FEED, ISSUE_FEED = "feed.xml", "feed.json", "issues.xml"

Step = Callable[[str], AbstractContextManager[object]]


def _no_progress(label: str) -> AbstractContextManager[object]:
    return nullcontext()


# --- what a site build did ---------------------------------------------------------------


@dataclass
class LeftOut:
    """An issue ``skip_broken`` left out, and its errors."""

    issue_dir: Path
    problems: list[Problem]


@dataclass
class SiteResult:
    out_dir: Path
    issues: list[str] = field(default_factory=list)  # slugs, newest first
    left_out: list[LeftOut] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: int = 0  # the site's own files (the issues' builds count theirs)
    issue_files: int = 0
    seconds: float = 0.0
    searchable: bool = False
    built: list[str] = field(default_factory=list)  # issues whose build rendered something
    reused: list[str] = field(default_factory=list)  # issues whose build had nothing to do
    images_rendered: list[str] = field(default_factory=list)  # covers and share cards drawn (site paths)
    images_reused: int = 0
    written: int = 0  # the site's own files written or removed (those already as rendered are left alone)
    removed: list[str] = field(default_factory=list)  # build folders of issues no longer in the site
    indexed: bool = False  # Pagefind ran (it does not when the pages it indexes are unchanged)

    @property
    def up_to_date(self) -> bool:
        """Nothing had changed since the last build: nothing was rendered, written, removed or indexed."""
        return not (self.built or self.images_rendered or self.written or self.removed or self.indexed)


# --- the shaped site: what templates see ---------------------------------------------------


@dataclass
class Topic:
    """A theme (a keyword shared by briefs) with its page."""

    slug: str
    name: str
    path: str  # themes/<slug>/
    briefs: list[BriefPage] = field(default_factory=list)


@dataclass
class PersonPage:
    slug: str
    name: str
    orcid: str | None
    orcid_url: str | None
    affiliation: str | None
    path: str  # people/<slug>/
    briefs: list[BriefPage] = field(default_factory=list)


@dataclass
class Download:
    """A citation file of a brief, beside its page."""

    label: str
    path: str
    type: str

    @property
    def name(self) -> str:
        """The file's name: its link from the brief's page."""
        return self.path.rsplit("/", 1)[-1]


@dataclass
class BriefPage:
    brief: BriefView
    issue: IssuePage
    theme: str  # the issue section the brief is under
    path: str  # <issue>/<brief>/
    url: str
    pdf: str
    pdf_url: str
    share_image: str
    share_image_url: str
    summary: str
    citation: citations.Citation
    downloads: list[Download] = field(default_factory=list)
    people: list[PersonPage] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    previous: BriefPage | None = None
    next: BriefPage | None = None

    @property
    def citation_date(self) -> str:
        """The date as Highwire's ``citation_publication_date`` wants it: 2023/01/16."""
        return self.issue.edition.date.strftime("%Y/%m/%d")

    @property
    def share_links(self) -> dict[str, str]:
        """Plain links that open each service's own share form: no script, no tracker on this page."""
        from urllib.parse import quote, urlencode

        title = self.brief.title
        return {
            "email": f"mailto:?subject={quote(title)}&body={quote(self.url)}",
            "Mastodon": "https://mastodonshare.com/?" + urlencode({"text": title, "url": self.url}),
            "Bluesky": "https://bsky.app/intent/compose?" + urlencode({"text": f"{title} {self.url}"}),
            "LinkedIn": "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": self.url}),
        }


@dataclass
class IssuePage:
    edition: Edition
    path: str  # <slug>/
    url: str
    pdf: str
    cover: str
    briefs: list[BriefPage] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    previous: IssuePage | None = None  # older
    next: IssuePage | None = None  # newer

    @property
    def slug(self) -> str:
        return self.edition.slug


@dataclass
class Site:
    """Everything the site's templates show, shaped here so they only loop."""

    base_url: str  # web_base_url with one trailing slash
    lang: str
    labels: dict[str, Any]
    name: str
    series: str
    tagline: str | None
    about_html: Markup
    website: str | None
    logo: str | None  # the logo's path in the site
    issues: list[IssuePage]  # newest first
    people: list[PersonPage]
    topics: list[Topic]
    layout: Layout
    latest: Edition

    @property
    def by_year(self) -> list[tuple[int, list[IssuePage]]]:
        years: dict[int, list[IssuePage]] = {}
        for issue in self.issues:
            years.setdefault(issue.edition.date.year, []).append(issue)
        return list(years.items())

    @property
    def briefs(self) -> list[BriefPage]:
        """Every brief, newest issue first, each issue's in reading order."""
        return [brief for issue in self.issues for brief in issue.briefs]

    def absolute(self, path: str) -> str:
        return self.base_url + path


# --- the pipeline ----------------------------------------------------------------------


def build_site(
    source: Path,
    out: Path,
    *,
    jobs: int | None = None,
    skip_broken: bool = False,
    pdf_variant: str | None = "pdf/ua-1",
    search: bool = True,
    force: bool = False,
    step: Step = _no_progress,
) -> SiteResult:
    """Build every issue of the content tree holding ``source``, and the site around them, into ``out``.

    ``jobs`` issues are built at once (default: one per core). An issue with errors stops
    everything (nothing is written) unless ``skip_broken``, which leaves it out and says so in
    the result. ``search=False`` skips Pagefind (the search page then finds nothing).

    What the last build made from the same inputs is reused: an issue whose build is up to date is
    not built again (no process is started for it), images come from the cache, files already
    holding their bytes are not rewritten and Pagefind does not run again over unchanged pages
    (``result.up_to_date`` when nothing changed at all). ``force`` ignores every cache.
    """
    started = time.perf_counter()
    with step("Checking every issue"):
        root = _tree_root(source)
        state = None if force else site_state(root, out, pdf_variant, search)
        if state is not None and state.unchanged is not None:
            state.unchanged.seconds = time.perf_counter() - started
            return state.unchanged
        result = SiteResult(out)
        alone = _built_alone(state, jobs)
        contents = [] if alone else collect(root, out, skip_broken, result)
    ahead: _SearchAhead | None = None
    try:
        with step(f"Building {counted(1 if alone else len(contents), 'issue')} and the site's pages"):
            if alone:
                site_pages = SitePages(root, out, skip_broken, [], around=alone, pdf_variant=pdf_variant)
                ahead = _SearchAhead(out, site_pages) if search else None
                images = build_around(alone, out, jobs, pdf_variant, result, site_pages, ahead)
            else:
                site_pages = SitePages(root, out, skip_broken, contents)
                images = build_issues(contents, out, jobs, pdf_variant, result, force=force, meanwhile=site_pages)
        with step("Writing the site"):
            published = published_issues(out)  # before the write: the manifest then names this build's only
            outputs = site_pages.pages + [Output(out / path, data, edition="site") for path, data in images.items()]
            result.written = write_outputs(outputs, inside=out, editions=["site"], skip_identical=not force)
            result.written += ahead.written if ahead else 0
            result.files = len(outputs)
            result.issues = site_pages.slugs
            result.removed = remove_old_issues(out, result.issues, published)
        if search:
            with step("Indexing the briefs for search"):
                result.indexed = index_search(out, force=force, started=ahead.indexing if ahead else None)
            result.searchable = True
    except BaseException:
        if ahead and ahead.indexing:
            ahead.indexing.stop()
        raise
    result.warnings = list(dict.fromkeys(result.warnings))
    _save_site_record(root, out, pdf_variant, search, site_pages.collected, site_pages.made_from, outputs, result)
    result.seconds = time.perf_counter() - started
    return result


def _tree_root(source: Path) -> Path:
    try:
        root = find_root(source.resolve()) if source.exists() else None
    except OSError:
        root = None
    if root is None:
        raise ContentError(
            [
                Problem(
                    source,
                    1,
                    1,
                    f"no {PUBLICATION_FILE} in this folder or any folder above it",
                    "name the folder that holds publication.yaml and the issue folders",
                )
            ]
        )
    return root


# --- nothing changed? -------------------------------------------------------------------------

SITE_RECORD = "site.json"
"""In the site's cache folder: what the last site build was made from and what it wrote."""


@dataclass
class SiteState:
    """What the site's record says of the tree, when the code, the options, the working folder and the
    tree's issue folders are those it recorded: the issues whose builds are no longer those the pages
    were made after (``stale``), and, when there are none and every file the site wrote is as written,
    the last build's result replayed (``unchanged``)."""

    stale: list[Path]
    unchanged: SiteResult | None = None


def site_state(root: Path, out: Path, pdf_variant: str | None, search: bool) -> SiteState | None:
    """The state of the site in ``out`` against its record; ``None`` when a full build must decide
    (no record, anything unreadable, of another format or different options or issue folders).

    The site's pages are made from its issues' content and layout, which each issue's build record
    covers whole (uptodate.py: every file the build read, the layout's files, what the content check
    probed, the code, the installed packages). So nothing changed when the code, the options, the
    working folder and the tree's issue folders are those recorded; every issue's build is up to
    date, with the record the site recorded (the one its pages were made after) and the same
    cover and share cards; every file the site wrote still holds its bytes; and Pagefind's index
    is that of the pages. Then not one issue is read, checked or assembled.
    """
    record = _read_record(out / caching.CACHE_FOLDER / SITE_RECORD)
    try:
        if record is None:  # first: a site never built gets no cache folder from this check
            return None
        code = uptodate.remembered_code(out / caching.CACHE_FOLDER)
        if record["arguments"] != _site_arguments(root, out, pdf_variant, search, code):
            return None
        if record["folders"] != sorted(str(folder) for folder in issue_folders(root, out)):
            return None
        digests = caching.Digests()  # one for every issue: the layout's files are read once
        stale = []
        for folder, build, images in record["issues"]:
            issue_dir = Path(folder)
            if uptodate.unchanged(
                issue_dir,
                out,
                only=ISSUE_EDITIONS,
                offprints=True,
                pdf_variant=pdf_variant,
                replaced={SITE_PAGE},
                digests=digests,
                code=code,
            ) is None or _records_of(uptodate.cache_folder(out / issue_dir.resolve().name), digests) != [build, images]:
                stale.append(issue_dir)
        return SiteState(stale, None if stale else _replayed(record, out, search, digests))
    except (KeyError, TypeError, ValueError, AttributeError, OSError):
        return None


def _replayed(record: dict, out: Path, search: bool, digests: caching.Digests) -> SiteResult | None:
    """The result ``record`` recorded, when every file the site wrote holds its bytes, the site's
    manifest is as written and Pagefind's index is that of the pages; else ``None``."""
    if not digests.unchanged({str(out / relative): digest for relative, digest in record["outputs"].items()}):
        return None
    manifest = Manifest.read(out)  # the site's own: what a full build would write there, and prune
    if manifest.stale or manifest.rebuilt({"site": set(record["outputs"])}).editions != manifest.editions:
        return None
    if search and not _index_current(out):
        return None
    return SiteResult(
        out,
        issues=list(record["slugs"]),
        warnings=[uptodate.problem_from_json(problem) for problem in record["warnings"]],
        files=int(record["files"]),
        issue_files=int(record["issue_files"]),
        searchable=search,
        reused=list(record["series"]),
        images_reused=int(record["images"]),
    )


def _built_alone(state: SiteState | None, jobs: int | None) -> Path | None:
    """The one issue to build when the record says only it changed and there is a worker for the
    rest (:func:`build_around`); ``None``: the tree is checked here first (:func:`collect`)."""
    if state is None or len(state.stale) != 1 or parallel.worker_count(jobs) < 1:
        return None
    return state.stale[0]


def _site_arguments(root: Path, out: Path, pdf_variant: str | None, search: bool, code: str) -> str:
    """The key of what a site build depends on besides its issues: the code, the options, where it runs."""
    return caching.key_of(code, pdf_variant, search, str(root.resolve()), str(out.resolve()), os.getcwd())


def _records_of(cache_folder: Path, digests: caching.Digests) -> list[str | None]:
    """The SHA-256 of an issue's build record and of its images record: what the site's pages were made after."""
    return [digests.of(cache_folder / uptodate.RECORD), digests.of(cache_folder / IMAGES_RECORD)]


def _has_unlisted_briefs(content: Content) -> bool:
    """Whether the issue's ``briefs/`` holds a brief (or a translation of one) its issue does not list."""
    listed = {path.resolve() for path in content.documents}
    for file in (content.issue_dir / "briefs").glob("*.y*ml"):
        named = translation_of(file)
        if (named[0] if named else file).resolve() not in listed:
            return True
    return False


def _output_digest(output: Output, digests: caching.Digests) -> str | None:
    """The SHA-256 of what ``output`` wrote: its bytes, or the file it is a copy of (a layout's font)."""
    if output.data is not None:
        return hashlib.sha256(output.data).hexdigest()
    return digests.of(output.copy_of) if output.copy_of else None


def _save_site_record(
    root: Path,
    out: Path,
    pdf_variant: str | None,
    search: bool,
    collected: list[Collected],
    made_from: dict[str, str | None],
    outputs: list[Output],
    result: SiteResult,
) -> None:
    """Record what this site build was made from and wrote, for :func:`site_state`. Not when:

    - it left an issue out (what the check found wrong is in no record);
    - an issue's folder holds briefs its issue does not list (the site checks them, its builds do not
      read them or the images they name);
    - an issue's build did not read its YAML and layout files as the pages were made from them
      (``made_from``): a file changed while the site was built, and the pages may be of the older
      content, which the issues' records would then vouch for.
    """
    if result.left_out:
        return
    digests = caching.Digests()
    issues = []
    for issue in collected:
        cache_folder = uptodate.cache_folder(out / issue.issue_dir.resolve().name)
        build = uptodate.read_record(cache_folder)
        read = build.get("read") if build else None
        if (
            not isinstance(read, dict)
            or issue.unlisted
            or any(str(path) not in read for path in issue.documents)
            or any(read[path] != digest for path, digest in made_from.items() if path in read)
        ):
            return
        issues.append([str(issue.issue_dir), *_records_of(cache_folder, digests)])
    _save_record(
        out / caching.CACHE_FOLDER / SITE_RECORD,
        {
            "arguments": _site_arguments(
                root, out, pdf_variant, search, uptodate.remembered_code(out / caching.CACHE_FOLDER)
            ),
            "folders": sorted(str(issue.issue_dir) for issue in collected),
            "issues": issues,
            "outputs": {output.path.relative_to(out).as_posix(): _output_digest(output, digests) for output in outputs},
            "warnings": [uptodate.problem_to_json(problem) for problem in result.warnings],
            "slugs": result.issues,
            "series": [issue.issue_dir.resolve().name for issue in collected],
            "files": result.files,
            "issue_files": result.issue_files,
            "images": len(result.images_rendered) + result.images_reused,
        },
    )


# --- collect and check --------------------------------------------------------------------


@dataclass
class Collected:
    """What the site's record keeps of an issue as :func:`collect` checked it (content itself does not
    travel between processes): its folder, the YAML files it read, and whether its ``briefs/`` holds
    briefs it does not list."""

    issue_dir: Path
    documents: list[Path]
    unlisted: bool

    @classmethod
    def of(cls, content: Content) -> Collected:
        return cls(content.issue_dir, list(content.documents), _has_unlisted_briefs(content))


def issue_folders(root: Path, out: Path) -> list[Path]:
    """Every issue folder of the tree (holding issue.yaml), except inside the output folder."""
    skipped = out.resolve()
    return [
        file.parent
        for file in sorted(root.rglob(ISSUE_FILE))
        if not file.resolve().is_relative_to(skipped) and file.is_file()
    ]


def collect(root: Path, out: Path, skip_broken: bool, result: SiteResult) -> list[Content]:
    """The validated content of every issue to publish, in series order; refuses (ContentError,
    every error of every issue) when any issue has an error, unless ``skip_broken``."""
    folders = issue_folders(root, out)
    if not folders:
        raise ContentError([Problem(root, 1, 1, "no issue folder (holding issue.yaml) in this tree", None)])
    problems: dict[Path, list[Problem]] = {}
    contents: list[Content] = []
    for folder in folders:
        content, problems[folder] = _checked(folder)
        if content is not None:
            contents.append(content)
    for problem in series.series_problems(contents):
        if problem.severity == "error":
            owner = next((f for f in folders if problem.path.resolve().is_relative_to(f.resolve())), folders[0])
            problems[owner].append(problem)
    errors = sorted({problem for found in problems.values() for problem in found})
    publication = _publication_problems(root, contents)
    if publication:
        raise ContentError(errors + publication)
    if errors and not skip_broken:
        raise ContentError(errors)
    broken = {folder for folder, found in problems.items() if found}
    result.left_out = [LeftOut(folder, problems[folder]) for folder in folders if folder in broken]
    kept = [content for content in contents if content.issue_dir not in broken]
    if not kept:
        raise ContentError(errors)  # every issue is broken: there is nothing to publish
    return series.in_series_order(kept)


def _checked(folder: Path) -> tuple[Content | None, list[Problem]]:
    """The issue in ``folder`` as a build reads it (``load_content``), checked once as ``check`` checks
    it (with the briefs its folder holds and does not list), and its errors; no content when it has any."""
    checker = Checker()
    try:
        content = checker.issue(folder)
        warnings = list(checker.problems)  # what load_content gives the build: the issue's own
        checker.unlisted(folder)
    except OSError as error:  # a name too long, a symbolic link loop, a folder we may not list
        return None, [Problem(folder, 1, 1, f"cannot be read: {error.strerror or error}")]
    errors = errors_only(checker.problems) + _reserved_name(folder)
    if errors:
        return None, errors
    if content is None:  # no error said why: as load_content, the check's whole word
        raise ContentError(checker.problems)
    content.warnings = warnings
    return content, []


def _reserved_name(folder: Path) -> list[Problem]:
    if folder.name not in RESERVED:
        return []
    return [
        Problem(
            folder / ISSUE_FILE,
            1,
            1,
            f"the site keeps its own pages in {folder.name}/, so an issue cannot be published under that name",
            f"rename the issue folder (its name is its address); the site reserves {', '.join(RESERVED)}",
        )
    ]


def _publication_problems(root: Path, contents: list[Content]) -> list[Problem]:
    """What the site needs of publication.yaml that a single issue's build does not: ``web_base_url``."""
    if contents and contents[0].publication.web_base_url:
        return []
    if not contents:
        return []
    return [
        Problem(
            root / PUBLICATION_FILE,
            1,
            1,
            "the site needs `web_base_url`: feeds, the sitemap, citation and share metadata give absolute addresses",
            "add `web_base_url: https://…`, the address the site will be published under",
        )
    ]


# --- shape ------------------------------------------------------------------------------------


def shape(contents: list[Content]) -> Site:
    """The site of ``contents`` (validated issues in series order), newest issue first."""
    editions = [assemble(content) for content in contents]
    latest = editions[-1]
    publication = contents[-1].publication
    lang = publication.languages[0] if publication.languages else latest.lang
    labels = latest.layout.labels(lang)
    base = (publication.web_base_url or "").rstrip("/") + "/"
    issues = [_issue_page(edition, base) for edition in reversed(editions)]
    for newer, older in pairwise(issues):
        newer.previous, older.next = older, newer
    briefs = {(issue.slug, brief.brief.slug): brief for issue in issues for brief in issue.briefs}
    ordered = list(briefs.values())
    for earlier, later in pairwise(ordered):
        earlier.next, later.previous = later, earlier
    people = [_person_page(person, briefs) for person in series.people(contents)]
    for person in people:
        for page in person.briefs:
            page.people.append(person)
    topics = [_topic(theme, briefs) for theme in series.themes(contents)]
    for topic in topics:
        for page in topic.briefs:
            page.topics.append(topic)
            if topic not in page.issue.topics:
                page.issue.topics.append(topic)
    for page in ordered:  # authors in the brief's order, as written
        page.people.sort(key=lambda person: _author_position(page.brief, person))
    logo = latest.publication.logo
    return Site(
        base_url=base,
        lang=lang,
        labels=labels,
        name=latest.publication.name,
        series=latest.publication.series,
        tagline=latest.publication.tagline,
        about_html=latest.publication.about_html,
        website=latest.publication.website,
        logo=image_url(logo) if logo else None,
        issues=issues,
        people=people,
        topics=topics,
        layout=latest.layout,
        latest=latest,
    )


def _issue_page(edition: Edition, base: str) -> IssuePage:
    slug = edition.slug
    issue = IssuePage(edition, f"{slug}/", f"{base}{slug}/", f"{slug}/{edition.pdf_name}", f"{slug}/{COVER}")
    for section in edition.sections:
        for brief in section.briefs:
            issue.briefs.append(_brief_page(brief, section.title, issue, base))
    return issue


def _brief_page(brief: BriefView, theme: str, issue: IssuePage, base: str) -> BriefPage:
    edition = issue.edition
    path = f"{issue.path}{brief.slug}/"
    pdf = f"{issue.path}offprints/{brief.slug}.pdf"
    summary = _summary(brief)
    citation = citations.Citation(
        key=f"{edition.slug}-{brief.slug}",
        title=brief.title if not brief.subtitle else f"{brief.title}: {brief.subtitle}",
        authors=tuple(author.name for author in brief.authors),
        journal=edition.publication.series,
        issue=edition.number,
        date=edition.date,
        url=base + path,
        pdf_url=base + pdf,
        language=brief.lang,
        publisher=edition.publication.name,
        abstract=summary,
        keywords=tuple(brief.keywords),
    )
    page = BriefPage(
        brief=brief,
        issue=issue,
        theme=theme,
        path=path,
        url=base + path,
        pdf=pdf,
        pdf_url=base + pdf,
        share_image=path + SHARE_IMAGE,
        share_image_url=base + path + SHARE_IMAGE,
        summary=summary,
        citation=citation,
    )
    for extension, (label, kind, _) in citations.FORMATS.items():
        page.downloads.append(Download(label, f"{path}{brief.slug}.{extension}", kind))
    return page


def _summary(brief: BriefView) -> str:
    """A brief's summary in plain text: why it matters (its opening), for feeds and descriptions."""
    part = brief.parts_by_key["why_it_matters"]
    html = part.html if part.html is not None else Markup(" ").join(part.items or [])
    return " ".join(Markup(html).striptags().split())


def _person_page(person: series.Person, briefs: dict[tuple[str, str], BriefPage]) -> PersonPage:
    return PersonPage(
        slug=person.slug,
        name=person.name,
        orcid=person.orcid,
        orcid_url=f"https://orcid.org/{person.orcid}" if person.orcid else None,
        affiliation=person.affiliation,
        path=f"people/{person.slug}/",
        briefs=_newest_first([briefs[(ref.issue_slug, ref.slug)] for ref in person.briefs]),
    )


def _topic(theme: series.Theme, briefs: dict[tuple[str, str], BriefPage]) -> Topic:
    pages = _newest_first([briefs[(ref.issue_slug, ref.slug)] for ref in theme.briefs])
    return Topic(theme.slug, theme.name, f"themes/{theme.slug}/", pages)


def _newest_first(pages: list[BriefPage]) -> list[BriefPage]:
    """Series order reversed, keeping reading order inside an issue."""
    issues = list(dict.fromkeys(page.issue.slug for page in pages))
    return [page for slug in reversed(issues) for page in pages if page.issue.slug == slug]


def _author_position(brief: BriefView, person: PersonPage) -> int:
    for index, author in enumerate(brief.authors):
        if (person.orcid and author.orcid == person.orcid) or author.name.casefold() == person.name.casefold():
            return index
    return len(brief.authors)


# --- render -----------------------------------------------------------------------------------


def _json_ld(data: Any) -> Markup:
    """``data`` as the text of a ``<script type="application/ld+json">``: ``<``, ``>`` and ``&``
    escaped as JSON allows, so no value can close the script element."""
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def scholarly_article(page: BriefPage, site: Site) -> dict:
    """schema.org JSON-LD of a brief: a ScholarlyArticle, part of an issue of the periodical."""
    edition = page.issue.edition
    authors = []
    for author, person in zip(page.brief.authors, _people_for(page), strict=False):
        entry: dict[str, Any] = {"@type": "Person", "name": author.name}
        if author.orcid_url:
            entry["sameAs"] = author.orcid_url
        if author.affiliation:
            entry["affiliation"] = {"@type": "Organization", "name": author.affiliation}
        if person is not None:
            entry["url"] = site.absolute(person.path)
        authors.append(entry)
    article: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "@id": page.url,
        "url": page.url,
        "headline": page.brief.title,
        "name": page.brief.title,
        "author": authors,
        "datePublished": edition.date.isoformat(),
        "inLanguage": page.brief.lang,
        "abstract": page.summary,
        "image": page.share_image_url,
        "encoding": {"@type": "MediaObject", "contentUrl": page.pdf_url, "encodingFormat": "application/pdf"},
        "publisher": {"@type": "Organization", "name": site.name},
        "isPartOf": {
            "@type": "PublicationIssue",
            "@id": page.issue.url,
            "issueNumber": str(edition.number),
            "datePublished": edition.date.isoformat(),
            "isPartOf": {"@type": "Periodical", "name": edition.publication.series, "url": site.base_url},
        },
    }
    if page.brief.subtitle:
        article["alternativeHeadline"] = page.brief.subtitle
    if page.brief.keywords:
        article["keywords"] = list(page.brief.keywords)
    return article


def _people_for(page: BriefPage) -> list[PersonPage | None]:
    """The person page of each author of ``page``, in the brief's order."""
    found: list[PersonPage | None] = []
    for author in page.brief.authors:
        found.append(
            next(
                (
                    p
                    for p in page.people
                    if (p.orcid and author.orcid == p.orcid) or p.name.casefold() == author.name.casefold()
                ),
                None,
            )
        )
    return found


class _Renderer:
    """The site's templates in the publication's layout, with the filters pages share."""

    def __init__(self, site: Site):
        self.site = site
        self.fonts = LayoutFonts(site.latest)
        self.theme = palette(site.latest)
        self._environments: dict[str, Environment] = {}

    def env(self, image_base: str = "") -> Environment:
        """The environment for pages ``image_base`` away from their issue's folder (where its images are).

        One per distance, not a filter reading the page's context: jinja compiles a filter's call
        differently when it takes the context, and the compiled templates are shared with the
        web edition's environment (layout.py), whose ``asset_url`` does not.
        """
        if image_base not in self._environments:
            env = self.site.layout.environment("site", fallback="web")
            env.filters["asset_url"] = lambda image: image_base + image_url(image)
            env.filters["json_ld"] = _json_ld
            env.globals["font_url"] = self._font_url
            self._environments[image_base] = env
        return self._environments[image_base]

    @pass_context
    def _font_url(self, context: Any, name: str) -> str | None:
        """A layout font for the page being rendered: its fonts are under the site's assets/."""
        url = self.fonts.url(name)
        return None if url is None else context.get("root", "") + url

    def page(self, template: str, root: str, image_base: str = "", **values: Any) -> bytes:
        """The page ``template`` at ``root`` (the relative way back to the site's top folder)."""
        context = {
            "site": self.site,
            "lang": self.site.lang,
            "labels": self.site.labels,
            "publication": self.site.latest.publication,
            "theme": self.theme,
            "root": root,
        }
        return self.env(image_base).get_template(template).render({**context, **values}).encode("utf-8")


def render_site(site: Site, out: Path) -> list[Output]:
    """Every page and file of the site (not the issues' own builds), in memory."""
    renderer = _Renderer(site)
    files: dict[str, bytes] = {}
    page = renderer.page
    files["index.html"] = page("home.html.j2", "")
    files["404.html"] = page("404.html.j2", site.base_url)  # served at any depth: absolute links
    files["search/index.html"] = page("search.html.j2", "../")
    files["people/index.html"] = page("people.html.j2", "../")
    files["themes/index.html"] = page("themes.html.j2", "../")
    for person in site.people:
        files[f"{person.path}index.html"] = page("person.html.j2", "../../", person=person)
    for topic in site.topics:
        files[f"{topic.path}index.html"] = page("theme.html.j2", "../../", topic=topic)
    for issue in site.issues:
        edition = issue.edition
        files[f"{issue.path}index.html"] = page(
            "issue.html.j2",
            "../",
            issue=issue,
            edition=edition,
            labels=edition.labels,
            publication=edition.publication,
            stylesheet="../" + STYLESHEET,
            image_base="",
        )
        for brief in issue.briefs:
            files[f"{brief.path}index.html"] = page(
                "brief-page.html.j2",
                "../../",
                page=brief,
                brief=brief.brief,
                edition=edition,
                issue=issue,
                json_ld=scholarly_article(brief, site),
                lang=brief.brief.lang,
                labels=brief.brief.labels,
                image_base="../",
            )
            for download, (_, _, writer) in zip(brief.downloads, citations.FORMATS.values(), strict=True):
                files[download.path] = writer(brief.citation).encode("utf-8")
    files.update(_feeds(site, renderer))
    files["sitemap.xml"] = feeds.sitemap(_sitemap_pages(site))
    files["robots.txt"] = _robots(site)
    outputs = [Output(out / path, data, edition="site") for path, data in files.items()]
    outputs += _assets(site, renderer, out)
    return outputs


def _robots(site: Site) -> bytes:
    """Every page may be crawled; the sitemap says where they are. (Crawlers read robots.txt only at a
    host's root: a site published below it should have the host's own robots.txt name the sitemap.)"""
    return f"User-agent: *\nAllow: /\n\nSitemap: {site.absolute('sitemap.xml')}\n".encode()


def _assets(site: Site, renderer: _Renderer, out: Path) -> list[Output]:
    """The stylesheets, web fonts and logo the site's own pages use, under assets/."""
    copies: dict[str, Path] = {}
    for name in ("web/web.css", "site/site.css"):
        found = site.layout.file(name)
        if found is None:
            raise ResearchNewsError(f"the layout has no {name}")  # the default layout has both
        copies[f"assets/{Path(name).name}"] = found
    if site.latest.publication.logo:
        copies[image_path(site.latest.publication.logo)] = site.latest.publication.logo.source
    copies.update(renderer.fonts.files)
    outputs = [Output(out / path, copy_of=source, edition="site") for path, source in copies.items()]
    outputs += [Output(out / path, data, edition="site") for path, data in renderer.fonts.data.items()]
    return outputs


def _feeds(site: Site, renderer: _Renderer) -> dict[str, bytes]:
    """The briefs' Atom and JSON feeds, and the issues' Atom feed."""
    entries = []
    for page in site.briefs:
        content = renderer.env(site.absolute(page.issue.path)).get_template("feed-entry.html.j2")
        html = content.render(page=page, brief=page.brief, labels=site.labels)
        entries.append(
            feeds.FeedEntry(
                id=page.url,
                url=page.url,
                title=page.brief.title,
                date=page.issue.edition.date,
                summary=page.summary,
                authors=tuple(feeds.FeedAuthor(a.name, a.orcid_url) for a in page.brief.authors),
                content_html=html,
                tags=tuple(page.brief.keywords),
                language=page.brief.lang,
                pdf_url=page.pdf_url,
            )
        )
    issue_entries = [
        feeds.FeedEntry(
            id=issue.url,
            url=issue.url,
            title=issue.edition.title,
            date=issue.edition.date,
            summary=issue.edition.preheader,
            authors=tuple(feeds.FeedAuthor(name) for name in issue.edition.authors),
            tags=tuple(topic.name for topic in issue.topics),
            language=issue.edition.lang,
            pdf_url=site.absolute(issue.pdf),
        )
        for issue in site.issues
    ]

    def feed(path: str, entries: list[feeds.FeedEntry], title: str) -> feeds.Feed:
        icon = site.absolute(site.logo) if site.logo else None
        return feeds.Feed(title, site.tagline, site.base_url, site.absolute(path), site.lang, site.name, entries, icon)

    title = f"{site.series} · {site.name}"
    return {
        BRIEF_FEED: feeds.atom(feed(BRIEF_FEED, entries, title)),
        BRIEF_JSON_FEED: feeds.json_feed(feed(BRIEF_JSON_FEED, entries, title)),
        ISSUE_FEED: feeds.atom(feed(ISSUE_FEED, issue_entries, f"{title} ({site.labels['all_issues']})")),
    }


def _sitemap_pages(site: Site) -> list[tuple[str, dt.date]]:
    latest = site.issues[0].edition.date
    pages = [(site.base_url, latest)]
    pages += [(site.absolute(path), latest) for path in ("people/", "themes/", "search/")]
    for issue in site.issues:
        pages.append((issue.url, issue.edition.date))
        pages += [(brief.url, issue.edition.date) for brief in issue.briefs]
    listings: list[PersonPage | Topic] = [*site.people, *site.topics]
    for listing in listings:
        pages.append((site.absolute(listing.path), max(b.issue.edition.date for b in listing.briefs)))
    return pages


# --- build the issues -------------------------------------------------------------------------

ISSUE_EDITIONS = ("pdf", "web")
"""What the site builds of each issue, with its offprints."""

SITE_PAGE = "index.html"
"""The site's issue page takes the web edition's place (adding links to the other issues)."""

IMAGES_RECORD = "site-images.json"
"""In an issue's cache folder (cache.py): the cache entries of its cover and share cards, and the
build record they were made after."""


@dataclass
class IssueBuilt:
    """What a worker sends back: the issue's warnings and files, its images, or what stopped it."""

    issue_dir: Path
    slug: str = ""
    files: int = 0
    warnings: list[Problem] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)  # site path → PNG
    problems: list[Problem] = field(default_factory=list)  # a ContentError's
    error: str | None = None  # any other ResearchNewsError's message
    built: bool = False  # its build rendered something (else it was up to date)
    images_rendered: list[str] = field(default_factory=list)  # site paths
    images_reused: int = 0


def build_issues(
    contents: list[Content],
    out: Path,
    jobs: int | None,
    pdf_variant: str | None,
    result: SiteResult,
    *,
    force: bool = False,
    meanwhile: SitePages,
) -> dict[str, bytes]:
    """Build every issue into ``out/<slug>/`` (``jobs`` at a time), and the site's pages ``meanwhile``;
    the images the issues made, by site path.

    An issue whose build is up to date and whose images are in the cache is not built at all: it is
    checked here, so a site with nothing changed starts no process. Several issues to build are built
    in processes, each building its issue alone (the processes already keep every core busy), after
    this process has made the site's pages. A single one is built here, its translations and HTML
    editions in parallel (build.py), and the site's pages meanwhile in the build's worker, which
    is otherwise mostly idle; the build waits for them before it writes. With one process
    (``jobs=1``) everything is made here, the pages first. Either way a mistake in the site's
    templates stops the site before any issue's files are written.
    """
    done: list[IssueBuilt] = []
    pending: list[Path] = []
    digests = caching.Digests()  # one for every issue: the layout's files are read once
    for content in contents:
        reused = None if force else reused_issue(content, out, pdf_variant, digests)
        if reused is None:
            pending.append(content.issue_dir)
        else:
            done.append(reused)
    cores = jobs or os.cpu_count() or 1
    workers = max(1, min(cores, len(pending)))
    if workers == 1:
        # The build's worker (its HTML editions) makes the pages too: one process started, not two.
        with parallel.Workers(parallel.worker_count(jobs) if pending else 0) as pool:
            meanwhile.start(pool if pool.count else None)
            with contextlib.suppress(_PagesFailed):  # the build stopped before writing: finish() says why
                done += [build_one(folder, out, pdf_variant, force, jobs, pool, meanwhile.ready) for folder in pending]
            meanwhile.finish()
    else:
        meanwhile.start(None)  # first: a layout mistake in the site's templates stops it before any issue is written
        try:
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=get_context("spawn"), initializer=parallel.exit_without_teardown
            ) as pool:
                count = len(pending)
                done += pool.map(build_one, pending, [out] * count, [pdf_variant] * count, [force] * count, [1] * count)
        except BrokenProcessPool:
            raise ResearchNewsError(
                "a process building an issue stopped without a word (out of memory?); "
                "run again with --jobs 1 to see which issue, with less memory in use"
            ) from None
    order = {content.issue_dir: index for index, content in enumerate(contents)}
    return _gathered(sorted(done, key=lambda built: order[built.issue_dir]), result)  # series order


class SitePages:
    """The site's own pages (shape, then render), made while the issues build: here, or in a process of
    its own (``start(pool)``), which collects the tree again as :func:`collect` did here (content does
    not travel between processes: its models are made per layout) and sends the files back.

    ``around``: the one issue this process builds (:func:`build_around`) without having collected the
    tree; the process making the pages then collects it, and also says which other issues' builds
    are up to date, with what they made (:class:`Around`)."""

    def __init__(
        self,
        root: Path,
        out: Path,
        skip_broken: bool,
        contents: list[Content],
        *,
        around: Path | None = None,
        pdf_variant: str | None = None,
    ) -> None:
        self.root, self.out, self.skip_broken, self.contents = root, out, skip_broken, contents
        self.around, self.pdf_variant = around, pdf_variant
        self.slugs: list[str] = []  # the issues, newest first
        self.pages: list[Output] = []
        self.made_from: dict[str, str | None] = {}  # SHA-256 of the YAML and layout files, as the pages saw them
        self.collected = [Collected.of(content) for content in contents]  # in series order
        self.found: Around | None = None  # with ``around``, once finished
        self._future: Future | None = None
        self._error: ResearchNewsError | None = None

    def start(self, pool: parallel.Workers | None) -> None:
        """Make the pages here (``pool`` is ``None``), or start making them in ``pool``."""
        if self.around is not None:
            assert pool is not None, "the tree is collected in the pool's process"
            arguments = (self.root, self.out, self.skip_broken, self.pdf_variant, self.around)
            self._future = pool.call(site_around, *arguments)
        elif pool is None:
            self.slugs, self.pages, self.made_from = pages_of(self.contents, self.out)
        else:
            self._future = pool.call(pages_of_tree, self.root, self.out, self.skip_broken)

    def finish(self) -> None:
        """Wait for the pages started in a pool; raise the error that stopped them."""
        if self._future is not None:
            future, self._future = self._future, None
            try:
                if self.around is not None:
                    self.found = parallel.result_of(future)
                    self.slugs, self.pages, self.made_from = self.found.pages
                    self.collected = self.found.collected
                else:
                    self.slugs, self.pages, self.made_from = parallel.result_of(future)
            except ResearchNewsError as error:
                self._error = error
        if self._error is not None:
            raise self._error

    def ready(self) -> None:
        """An issue's build is about to write its files: wait for the pages, and stop the build (with
        :class:`_PagesFailed`, which no build words as its own) if they failed: a layout mistake in the
        site's templates leaves every file as it was."""
        try:
            self.finish()
        except ResearchNewsError:
            raise _PagesFailed() from None

    def ready_to_publish(self, issue_dir: Path) -> Callable[[], None]:
        """:meth:`ready`, for the build of ``issue_dir``; which also stops when the tree, as collected, does
        not publish that issue (``skip_broken`` left it out: its files are not written)."""

        def ready() -> None:
            self.ready()
            if self.found is not None and not self.found.publishes(issue_dir):
                raise _PagesFailed()

        return ready


@dataclass
class Around:
    """What the process making the pages found of the tree around the one issue being built: the pages
    (:data:`Pages`), each published issue as checked (series order), the issues ``skip_broken`` left
    out, and what the other issues' builds made when they are up to date (``reused``) or the folders of
    those that are not (``pending``: changed since the site's record was read)."""

    pages: Pages
    collected: list[Collected]
    left_out: list[LeftOut]
    reused: list[IssueBuilt]
    pending: list[Path]

    def publishes(self, folder: Path) -> bool:
        """Whether the issue in ``folder`` is published (not left out by ``skip_broken``)."""
        return any(issue.issue_dir.resolve() == folder.resolve() for issue in self.collected)


def site_around(root: Path, out: Path, skip_broken: bool, pdf_variant: str | None, building: Path) -> Around:
    """(In a worker process) the tree collected as :func:`build_site` does, its pages, and the builds
    of its issues other than ``building`` (see :class:`Around`)."""
    result = SiteResult(out)
    contents = collect(root, out, skip_broken, result)
    pages = pages_of(contents, out)
    digests = caching.Digests()
    reused: list[IssueBuilt] = []
    pending: list[Path] = []
    for content in contents:
        if content.issue_dir.resolve() == building.resolve():
            continue
        built = reused_issue(content, out, pdf_variant, digests)
        if built is None:
            pending.append(content.issue_dir)
        else:
            reused.append(built)
    return Around(pages, [Collected.of(content) for content in contents], result.left_out, reused, pending)


class _SearchAhead:
    """With one issue built (:func:`build_around`): the site's pages written as soon as that issue's files
    are, and Pagefind started on them, to run while the issue's images are drawn. The site's write that
    follows finds the pages as they are and lists them; :func:`index_search` takes the run when the
    pages it read are still the site's (another issue built after changes them), else runs it again."""

    def __init__(self, out: Path, pages: SitePages) -> None:
        self.out, self.pages = out, pages
        self.written = 0
        self.indexing: Indexing | None = None

    def __call__(self) -> None:
        self.pages.ready()  # an issue found up to date wrote nothing, and did not wait for the pages
        self.written = write_ahead(self.pages.pages, self.out)
        self.indexing = start_indexing(self.out)


def build_around(
    building: Path,
    out: Path,
    jobs: int | None,
    pdf_variant: str | None,
    result: SiteResult,
    pages: SitePages,
    after_writing: Callable[[], None] | None = None,
) -> dict[str, bytes]:
    """Build the one issue the site's record says changed, here, without checking the tree first: the
    build's worker collects the tree (its errors stop the build before it writes anything, as
    :func:`collect` here would have), makes the site's pages and checks the other issues' builds, all
    while this process lays the issue out. An issue found changed meanwhile is built after it. The
    images the issues made, by site path (as :func:`build_issues`). ``after_writing``: called once that
    issue's files are written (see :func:`build_one`)."""
    done: list[IssueBuilt] = []
    with parallel.Workers(parallel.worker_count(jobs)) as pool:
        pages.start(pool)
        with contextlib.suppress(_PagesFailed):  # the build stopped before writing: finish() says why
            ready = pages.ready_to_publish(building)
            done.append(build_one(building, out, pdf_variant, False, jobs, pool, ready, after_writing))
        pages.finish()
        found = pages.found
        assert found is not None
        done = [built for built in done if found.publishes(built.issue_dir)]
        done += [build_one(folder, out, pdf_variant, False, jobs, pool, pages.ready) for folder in found.pending]
    result.left_out = found.left_out
    order = {issue.issue_dir.resolve(): index for index, issue in enumerate(found.collected)}
    done += found.reused
    return _gathered(sorted(done, key=lambda built: order[built.issue_dir.resolve()]), result)  # series order


class _PagesFailed(Exception):
    """The site's pages failed while an issue was building (:meth:`SitePages.finish` says why)."""


Pages = tuple[list[str], list[Output], dict[str, str | None]]
"""The issues' slugs (newest first), the site's pages and files, and what they were made from (the
SHA-256 of each YAML file as checked, of each layout file as it was just before rendering, by path)."""


def pages_of(contents: list[Content], out: Path) -> Pages:
    """The issues' slugs, newest first, every page and file of the site of ``contents``, and what they
    were made from."""
    site = shape(contents)
    made_from = {str(path): document.sha256 for content in contents for path, document in content.documents.items()}
    made_from |= caching.Digests().of_all(caching.files_under(site.layout.folders))
    return [issue.slug for issue in site.issues], render_site(site, out), made_from


def pages_of_tree(root: Path, out: Path, skip_broken: bool) -> Pages:
    """(In a worker process) :func:`pages_of` the tree's issues, collected as :func:`build_site` does."""
    return pages_of(collect(root, out, skip_broken, SiteResult(out)), out)


def _gathered(done: list[IssueBuilt], result: SiteResult) -> dict[str, bytes]:
    """The images of every issue, with their warnings and counts added to ``result``; raises what stopped any."""
    images: dict[str, bytes] = {}
    problems: list[Problem] = []
    failures = []
    for built in done:
        result.warnings += built.warnings
        result.issue_files += built.files
        images.update(built.images)
        problems += built.problems
        (result.built if built.built else result.reused).append(built.slug)
        result.images_rendered += built.images_rendered
        result.images_reused += built.images_reused
        if built.error:
            failures.append(f"{display_path(built.issue_dir)}: {built.error}")
    if problems:
        raise ContentError(problems)
    if failures:
        raise ResearchNewsError("; ".join(failures))
    return images


def _issue_arguments(pdf_variant: str | None) -> str:
    return caching.build_arguments(ISSUE_EDITIONS, True, pdf_variant, False, None)


def reused_issue(content: Content, out: Path, pdf_variant: str | None, digests: caching.Digests) -> IssueBuilt | None:
    """What building ``content`` would give, when its build is up to date and its images are in the
    cache, made after that very build; ``None`` when there is anything to do."""
    record = caching.unchanged_build(content, out, _issue_arguments(pdf_variant), digests, replaced={SITE_PAGE})
    if record is None:
        return None
    slug = content.issue_dir.resolve().name
    cache = caching.Cache(out / slug, digests)
    images = _recorded_images(cache)
    if images is None:
        return None
    built = IssueBuilt(content.issue_dir, slug, len(record["outputs"]), [*content.warnings, *record["warnings"]])
    for path, rendered in images.items():
        built.images[path] = rendered.outputs[0].data  # type: ignore[assignment]
        built.warnings += rendered.warnings
    built.images_reused = len(images)
    return built


def _recorded_images(cache: caching.Cache) -> dict[str, Rendered] | None:
    """The images the last site build made of the issue, if made after its current build, each from the cache."""
    record = _read_record(cache.folder / IMAGES_RECORD)
    if (
        record is None
        or record.get("build") != _build_record_digest(cache)
        or not isinstance(record.get("images"), dict)
    ):
        return None
    images = {}
    for path, entry in record["images"].items():
        found = cache.load(*entry) if isinstance(entry, list) and len(entry) == 2 else None
        if found is None or len(found.outputs) != 1 or found.outputs[0].data is None:
            return None
        images[path] = found
    return images


def _build_record_digest(cache: caching.Cache) -> str | None:
    """The SHA-256 of the issue's build record: images are reused only after the build they were made after."""
    return caching.Digests().of(cache.folder / "build.json")


def build_one(
    issue_dir: Path,
    out: Path,
    pdf_variant: str | None,
    force: bool = False,
    jobs: int | None = None,
    workers: parallel.Workers | None = None,
    before_writing: Callable[[], None] | None = None,
    after_writing: Callable[[], None] | None = None,
) -> IssueBuilt:
    """Build one issue for the site (in a worker process, or here with the ``workers`` given): its print
    PDF, web edition and offprints, its cover thumbnail and its briefs' share cards, each image from the
    cache when its inputs are unchanged. A user-visible error comes back as data (an exception would
    have to survive pickling between processes). ``before_writing``: see build.build; ``after_writing``
    is called once the issue's files are written, before its images are made."""
    built = IssueBuilt(issue_dir)
    issue = functools.partial(
        build_issue,
        issue_dir,
        out,
        only=ISSUE_EDITIONS,
        offprints=True,
        pdf_variant=pdf_variant,
        force=force,
        jobs=jobs,
        workers=workers,
        before_writing=before_writing,
    )
    result = _carried(built, issue)
    if result is None:
        return built
    built.slug = result.out_dir.name
    built.files = len(result.outputs)
    built.warnings = list(result.warnings)
    built.built = not result.up_to_date
    if after_writing is not None:  # not carried: what it raises is the site's, not the issue's
        after_writing()
    _carried(built, lambda: _make_images(result, assemble(load_content(issue_dir)), force, built))
    return built


def _carried(built: IssueBuilt, step: Callable[[], Any]) -> Any:
    """What ``step`` returns; ``None`` when it raised a user-visible error, which ``built`` then carries."""
    try:
        return step()
    except ContentError as error:
        built.problems = list(error.problems)
    except ResearchNewsError as error:
        built.error = str(error)
    return None


def _make_images(result: Any, edition: Edition, force: bool, built: IssueBuilt) -> None:
    """The cover of the issue's PDF and its briefs' share cards, into ``built``: each from the cache
    when its key (the PDF's bytes; the card's HTML, the layout's files, the code) matches, else drawn."""
    from .render import share  # WeasyPrint and pdfium: loaded when an issue is built only

    cache = caching.Cache(result.out_dir, caching.Digests(), enabled=not force)
    slots: dict[str, list[str]] = {}

    def image(site_path: str, slot: str, key: str, draw: Callable[[], Rendered]) -> None:
        found = cache.load(slot, key)
        if found is None:
            found = draw()
            cache.store(slot, key, found, found.read)
            built.images_rendered.append(site_path)
        else:
            built.images_reused += 1
        built.images[site_path] = found.outputs[0].data  # type: ignore[assignment]
        built.warnings += found.warnings
        slots[site_path] = [slot, key]

    pdf = next(o for o in result.outputs if o.edition == "pdf" and o.path.name.endswith(".pdf"))
    data = pdf.data if pdf.data is not None else pdf.copy_of.read_bytes()
    cover = result.out_dir / COVER
    key = caching.key_of(caching.code_fingerprint(), "cover", hashlib.sha256(data).hexdigest())
    image(f"{built.slug}/{COVER}", "site/cover", key, lambda: Rendered([Output(cover, share.page_thumbnail_png(data))]))
    layout = cache.digests.of_all(caching.layout_files(edition))
    for brief in edition.briefs:
        path = result.out_dir / brief.slug / SHARE_IMAGE
        key = caching.key_of(caching.code_fingerprint(), "share", share.share_card_html(edition, brief), layout)

        def card(brief: BriefView = brief, path: Path = path) -> Rendered:
            drawn = share.share_card(edition, brief)
            return Rendered([Output(path, drawn.png)], drawn.warnings, read=drawn.read)

        image(f"{built.slug}/{brief.slug}/{SHARE_IMAGE}", f"site/share/{brief.slug}", key, card)
    cache.save()
    _save_record(cache.folder / IMAGES_RECORD, {"build": _build_record_digest(cache), "images": slots})


def _read_record(path: Path) -> dict | None:
    """A record the site keeps in its cache folder, if readable and of this format (else, never trusted)."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):  # RecursionError: nested too deep
        return None
    return data if isinstance(data, dict) and data.get("format") == caching.FORMAT else None


def _save_record(path: Path, record: dict) -> None:
    """Write a record atomically; one that cannot be written only makes the next build do more."""
    with contextlib.suppress(OSError, WriteFailed):
        write_bytes(path, json.dumps({"format": caching.FORMAT, **record}).encode())


# --- issues no longer in the site ---------------------------------------------------------------


def published_issues(out: Path) -> set[str]:
    """The issues the last site build in ``out`` published: the first folder of each page the site's
    manifest lists (or left to remove), such as ``<slug>/index.html``."""
    manifest = Manifest.read(out)
    return {path.split("/", 1)[0] for path in manifest.editions.get("site", set()) | manifest.stale if "/" in path}


def remove_old_issues(out: Path, slugs: list[str], published: set[str]) -> list[str]:
    """Remove what the builds of issues no longer in the site wrote: each folder of ``out`` holding a
    build manifest whose name is not an issue's now but was one the site ``published`` before (its
    files the manifest lists; the folder if that leaves it empty: a file of the editor's stays), and
    their cache folders. A build the site never published is left alone: ``site --out build`` beside
    ``research-news build`` of another tree keeps that build's files. The site's own pages of those
    issues are stale files of the site's manifest: :func:`write_outputs` has removed them."""
    current = set(slugs)
    removed = []
    for manifest in sorted(out.glob(f"*/{MANIFEST_NAME}")):
        folder = manifest.parent
        if folder.name in current or folder.name not in published or folder.name.startswith("."):
            continue
        if folder.is_symlink():
            continue
        with build_lock(folder):
            owned = set().union(*Manifest.read(folder).editions.values(), Manifest.read(folder).stale)
            remove_stale(folder, owned)
            manifest.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: a file of the editor's is in it
            folder.rmdir()
        removed.append(folder.name)
    cache = out / caching.CACHE_FOLDER
    if cache.is_dir():
        for folder in cache.iterdir():
            if folder.is_dir() and not folder.is_symlink() and folder.name in published - current:
                shutil.rmtree(folder, ignore_errors=True)
    return removed


# --- search ------------------------------------------------------------------------------------

PAGEFIND = "pagefind"


def index_search(out: Path, force: bool = False, started: Indexing | None = None) -> bool:
    """Index the brief pages with Pagefind into ``out/pagefind/`` (replaced whole, so no old
    fragment stays behind), unless the pages are those it indexed last time (and ``force`` is not
    set); return whether it ran. ``started``: the run :func:`start_indexing` began, used when the
    pages are still those it read, else stopped."""
    pages = _indexed_pages_key(out)
    current = not force and _index_current(out, pages)
    if started is not None and (current or started.pages != pages):
        started.stop()
        started = None
    if current:
        return False
    (started or _start_pagefind(out, pages)).finish(out)
    _save_record(out / caching.CACHE_FOLDER / SEARCH_RECORD, {"pages": pages})
    return True


def start_indexing(out: Path) -> Indexing | None:
    """Pagefind started on the pages ``out`` holds now, to run while the rest of the site is made; ``None``
    when its index is already theirs, or when it cannot start (:func:`index_search` then says why)."""
    pages = _indexed_pages_key(out)
    if _index_current(out, pages):
        return None
    try:
        return _start_pagefind(out, pages)
    except ResearchNewsError:
        return None


def _index_current(out: Path, pages: str | None = None) -> bool:
    """Whether Pagefind's index is there and made of the pages the site now has (``pages``: their key)."""
    return _search_record(out) == (pages or _indexed_pages_key(out)) and (out / PAGEFIND / "pagefind.js").is_file()


SEARCH_RECORD = "search.json"
"""In the site's cache folder: the key of the pages Pagefind last indexed."""


def _indexed_pages_key(out: Path) -> str:
    """A key of every page Pagefind reads (each HTML file of the site, by path and bytes) and of its version."""
    from importlib import metadata

    try:
        version = metadata.version("pagefind")
    except metadata.PackageNotFoundError:
        version = None
    pages = []
    for path in sorted(out.rglob("*.html")):
        relative = path.relative_to(out)
        if relative.parts[0] in (PAGEFIND, caching.CACHE_FOLDER) or not path.is_file():
            continue
        pages.append([relative.as_posix(), hashlib.sha256(path.read_bytes()).hexdigest()])
    return caching.key_of("pagefind", version, pages)


def _search_record(out: Path) -> str | None:
    record = _read_record(out / caching.CACHE_FOLDER / SEARCH_RECORD)
    return record.get("pages") if record else None


def _pagefind() -> list[str]:
    """The command that runs Pagefind: its binary, found as Pagefind finds it (``PAGEFIND_BINARY_PATH``,
    then the extended build, then ``pagefind[bin]``'s, then one on ``PATH``), run directly (``python -m
    pagefind`` would start Python first, to run the same binary); else the module, which says what is missing."""
    try:
        from pagefind.service import get_executable

        found = get_executable()
    except (ImportError, OSError):  # no pagefind, or a binary package without its binary (FileNotFoundError)
        found = None
    return [str(found)] if found is not None else [sys.executable, "-m", "pagefind"]


def _start_pagefind(out: Path, pages: str) -> Indexing:
    if importlib.util.find_spec("pagefind") is None:
        raise ResearchNewsError(
            "the site was written, but its search needs Pagefind, which is not installed: "
            "install it with `pip install 'pagefind[bin]'` and build again (or build with --no-search)"
        )
    fresh = out / ".pagefind-new"
    for leftover in (fresh, out / ".pagefind-old"):
        shutil.rmtree(leftover, ignore_errors=True)
    command = [*_pagefind(), "--site", str(out), "--output-path", str(fresh), "--silent"]
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as error:
        raise ResearchNewsError(f"the site was written, but Pagefind could not index it: {error}") from None
    return Indexing(pages, process, fresh)


@dataclass
class Indexing:
    """A Pagefind run over the pages whose key is ``pages`` (:func:`_indexed_pages_key`), writing its
    index into ``fresh``, which :meth:`finish` puts in the place of the site's."""

    pages: str
    process: subprocess.Popen
    fresh: Path

    def finish(self, out: Path) -> None:
        """Wait for Pagefind, then replace the site's index with the one it wrote."""
        try:
            said_out, said_err = self.process.communicate(timeout=600)
        except subprocess.TimeoutExpired as error:
            self.stop()
            raise ResearchNewsError(f"the site was written, but Pagefind could not index it: {error}") from None
        except BaseException:  # interrupted while waiting: Pagefind stops too, and leaves nothing behind
            self.stop()
            raise
        if self.process.returncode != 0 or not (self.fresh / "pagefind.js").is_file():
            said = (said_err or said_out).strip().splitlines()[-3:]
            raise ResearchNewsError(
                "the site was written, but Pagefind could not index it"
                + (f": {' '.join(said)}" if said else "")
                + "; reinstall it with `pip install --force-reinstall 'pagefind[bin]'` (its binary must run on this machine)"
            )
        target, old = out / PAGEFIND, out / ".pagefind-old"
        if target.exists():
            target.rename(old)
        self.fresh.rename(target)
        shutil.rmtree(old, ignore_errors=True)

    def stop(self) -> None:
        """Stop Pagefind (its pages changed, or the site failed), and remove what it wrote."""
        self.process.kill()
        self.process.communicate()
        shutil.rmtree(self.fresh, ignore_errors=True)
