"""What the preview server shows: each target (an issue, or one brief alone) checked as
``check`` checks it, then rendered in memory by the same stages as ``build``.

Nothing is written to disk: the web page, the email, its plain text and the assets they
link to are kept in a :class:`Site`, a mapping from the address below ``/p/<key>/`` to
bytes or to a file of the content tree or the layout. An issue translated into other
languages is previewed in each, at the addresses the build writes it to: the issue's own
language at ``web/``, ``email.html``, ``email.txt``; French at ``web/fr/``, ``fr/email.html``,
``fr/email.txt``. Links between the languages (the language switch, ``hreflang``, "Lire en
français") lead from one preview to the other. The mapping is the only way to a
file, so no request path can name anything else, and a file is checked again (inside the
content tree or a layout folder, after following links) when it is sent.

Validated files are remembered across rebuilds by their size and modification time
(:class:`ContentCache`): after a save only the changed file is read and validated again.
The render functions are called through the small adapters at the bottom, one per edition.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import mimetypes
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..assemble import Edition, assemble
from ..exceptions import ContentError, Problem, ResearchNewsError
from ..models import Brief, Issue, Section, Strict
from ..slugs import brief_slug
from ..translations import in_language, language_name
from ..tree import ISSUE_FILE, ISSUE_FOLDER_NAME, PUBLICATION_FILE, find_root
from ..validate import BriefEntry, Checker, Content

log = logging.getLogger(__name__)

PREVIEW_BASE_URL = "https://preview.invalid"
"""The web address the email is rendered against when the publication has none yet (it then
cannot be sent, but it can be looked at); replaced by the preview's own address."""


# --- what can be previewed -------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One thing the server previews: an issue folder, or a single brief shown alone."""

    key: str  # its name in the preview's addresses: /p/<key>/
    kind: str  # "issue" or "brief"
    path: Path
    label: str


class NotContent(ResearchNewsError):
    """The path given to ``serve`` is no content tree, issue or brief."""

    exit_code = 2


def targets_for(path: Path) -> list[Target]:
    """The targets ``path`` holds: every issue of a content tree, one issue, or one brief."""
    try:
        if path.is_dir() and (path / ISSUE_FILE).is_file():
            return [_issue_target(path, path.resolve().name)]
        if path.is_dir() and (path / PUBLICATION_FILE).is_file():
            issues = sorted(found.parent for found in path.rglob(ISSUE_FILE))
            if not issues:
                raise NotContent(
                    f"{path} holds no issue yet (no issue.yaml below it)",
                )
            return _unique([_issue_target(folder, folder.resolve().name) for folder in issues])
        if path.is_file() and path.name == ISSUE_FILE:
            return [_issue_target(path.parent, path.parent.resolve().name)]
        if path.is_file() and path.name == PUBLICATION_FILE:
            return targets_for(path.parent)
        if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
            return [Target(f"brief-{brief_slug(path)}", "brief", path, path.name)]
    except OSError as error:  # a name too long, a link loop
        raise NotContent(f"{path}: {error.strerror or error}") from None
    if not path.exists():
        raise NotContent(f"{path}: no such file or folder")
    raise NotContent(
        f"{path} is not a content tree, an issue folder or a brief "
        "(give the folder with publication.yaml, a folder with issue.yaml, or a brief's .yaml file)"
    )


def _issue_target(folder: Path, name: str) -> Target:
    key = name if ISSUE_FOLDER_NAME.fullmatch(name) else "issue"
    return Target(key, "issue", folder, name)


def _unique(targets: list[Target]) -> list[Target]:
    """Targets whose keys are unique (two issues may share a folder name in different places)."""
    seen: dict[str, int] = {}
    unique = []
    for target in targets:
        count = seen[target.key] = seen.get(target.key, 0) + 1
        unique.append(target if count == 1 else dataclasses.replace(target, key=f"{target.key}-{count}"))
    return unique


# --- validation, remembered between saves --------------------------------------------


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What says a file changed: its size, modification time and inode (None if it is gone)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


@dataclass
class ContentCache:
    """Files validated in earlier rebuilds, with the problems they had, by path and stamp."""

    files: dict[tuple[Path, type], tuple[Any, Any, Any, list[Problem]]] = field(default_factory=dict)
    images: dict[Path, tuple[Any, Any]] = field(default_factory=dict)


class _RememberingChecker(Checker):
    """A :class:`Checker` that reuses what the cache knows of files unchanged since."""

    def __init__(self, cache: ContentCache):
        super().__init__()
        self._cache = cache
        self._image_problems = {
            path: problem
            for path, (stamp, problem) in cache.images.items()
            if stamp is not None and _stamp(path) == stamp
        }

    def _validate(self, path: Path, model: type[Strict]):
        key = (self._files.resolved(path), model)
        before = _stamp(path)
        remembered = self._cache.files.get(key)
        if remembered and before is not None and remembered[0] == before:
            self.problems.extend(remembered[3])
            return remembered[1], remembered[2]
        start = len(self.problems)
        doc, value = super()._validate(path, model)
        if before is not None and _stamp(path) == before:  # not rewritten while it was read
            self._cache.files[key] = (before, doc, value, self.problems[start:])
        return doc, value

    def remember_images(self) -> None:
        for path, problem in self._image_problems.items():
            if path not in self._cache.images or self._cache.images[path][1] != problem:
                self._cache.images[path] = (_stamp(path), problem)


def check(target: Target, cache: ContentCache) -> tuple[list[Problem], Content | None]:
    """What ``research-news check`` reports for the target, and its content when there is no error."""
    checker = _RememberingChecker(cache)
    checker.check_path(target.path)
    problems = sorted(set(checker.problems))
    content = None
    if not any(problem.severity == "error" for problem in problems):
        content = checker.issue(target.path) if target.kind == "issue" else _brief_alone(checker, target.path)
    checker.remember_images()
    return problems, content


def _brief_alone(checker: Checker, path: Path) -> Content | None:
    """Content holding the one brief at ``path``: in its issue's settings, or a stand-in issue."""
    entry = checker.brief(path)
    root = find_root(path)
    publication = checker.publication(root) if root else None
    if entry is None or publication is None or root is None:
        return None
    folder = path.resolve().parent
    issue_dir = folder.parent if (folder.parent / ISSUE_FILE).is_file() else folder
    listed = checker.issue(issue_dir) if (issue_dir / ISSUE_FILE).is_file() else None
    issue = listed.issue if listed else _stand_in_issue(entry.brief, publication.languages)
    section = next(
        (s.title for s in issue.sections if any((issue_dir / brief).resolve() == path.resolve() for brief in s.briefs)),
        entry.brief.title,
    )
    alone = issue.model_copy(
        update={
            "sections": [Section.model_construct(title=section, briefs=[os.path.relpath(path.resolve(), issue_dir)])],
            "editorial": None,
            "events": [],
            "news": [],
            "headline": entry.brief.title,
            "preheader": None,
        }
    )
    return Content(
        root, publication, issue_dir, alone, {path.resolve(): BriefEntry(path.resolve(), entry.brief, entry.doc)}
    )


def _stand_in_issue(brief: Brief, languages: list[str]) -> Issue:
    """The issue a brief that no issue lists yet is shown in: number 1, dated today."""
    language = brief.language or (languages[0] if languages else "en")
    return Issue.model_construct(
        number=1,
        date=dt.date.today(),
        language=language,
        headline=None,
        preheader=None,
        editorial=None,
        sections=[],  # and no items of any section type (sections.items_of finds none)
        contacts=None,
        email_full_text=False,
    )


def edition_for(target: Target, cache: ContentCache) -> Edition:
    """The assembled edition of ``target``; raises :class:`ContentError` when it has errors."""
    problems, content = check(target, cache)
    if content is None:
        raise ContentError([p for p in problems if p.severity == "error"] or problems)
    return assemble(content)


# --- the rendered previews -----------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """One file of the preview: its bytes, or a file of the content tree or layout to send."""

    media_type: str
    data: bytes | None = None
    source: Path | None = None


@dataclass(frozen=True)
class Language:
    """One language a target is previewed in: its code, its name (in English, as the page is) and
    the folder its previews are in (``""`` for the issue's own language, else ``"fr/"``)."""

    code: str
    name: str
    folder: str


@dataclass
class Site:
    """A target's previews at one moment: what check said, and the files rendered (none on errors)."""

    target: Target
    generation: int
    problems: list[Problem] = field(default_factory=list)
    failure: str | None = None  # a render that failed as a whole: the page shows it instead of the previews
    files: dict[str, Served] = field(default_factory=dict)
    roots: tuple[Path, ...] = ()  # where ``source`` files may lie: the content tree and the layout folders
    briefs: list[tuple[str, str, Path | None]] = field(default_factory=list)  # (slug, title, file)
    pdf_name: str = ""
    languages: list[Language] = field(default_factory=list)  # the issue's own first, then its translations

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def ok(self) -> bool:
        return not self.errors and self.failure is None

    def contained(self, source: Path) -> Path | None:
        """``source`` followed to the real file, if that lies inside the content tree or a layout folder."""
        try:
            real = source.resolve(strict=True)
        except (OSError, RuntimeError):  # gone since the render, a link loop
            return None
        if real.is_file() and any(real.is_relative_to(root) for root in self.roots):
            return real
        return None


def render_site(target: Target, cache: ContentCache, generation: int) -> Site:
    """Check ``target`` and render its HTML previews; any failure is told in the site, never raised."""
    site = Site(target, generation)
    try:
        site.problems, content = check(target, cache)
        if content is None:
            return site
        for language in content.languages or [content.issue.language]:
            edition = assemble(in_language(content, language))
            if not site.languages:  # the issue's own language: the PDFs and the list of briefs
                site.roots = (edition.root.resolve(), *(folder.resolve() for folder in edition.layout.folders))
                site.briefs = [(brief.slug, brief.title, brief.path) for brief in edition.briefs]
                site.pdf_name = edition.pdf_name
            site.languages.append(Language(language, language_name(language, "en"), edition.folder))
            web_address = f"/p/{target.key}/web/"
            site.files.update(web_files(edition, web_address))
            files, warnings = email_files(edition, web_address)
            site.files.update(files)
            site.problems = sorted(set(site.problems) | set(warnings))
            text = text_of(edition)  # with the addresses the reader gets: plain text has no links to follow
            site.files[f"{edition.folder}email.txt"] = Served("text/plain; charset=utf-8", text.encode("utf-8"))
    except ContentError as error:  # a layout template's mistake, located in the template
        site.problems = sorted(set(site.problems) | set(error.problems))
    except ResearchNewsError as error:
        site.failure = str(error)
    except OSError as error:  # a file deleted or replaced while it was read: the next save rebuilds
        site.failure = f"could not read {error.filename or 'a file'}: {error.strerror or error}"
    except Exception as error:  # a bug in research-news: shown in the page, told in full in the terminal
        log.exception("the preview of %s failed", target.path)
        site.failure = (
            f"research-news could not render the preview ({type(error).__name__}: {error}); "
            "this is a bug, the terminal shows where"
        )
    return site


# --- adapters: one per edition, so the render functions are called in one place --------


def web_files(edition: Edition, web_address: str) -> dict[str, Served]:
    """The web edition under ``web/`` (``web/fr/`` in French…): the page, also at its folder's own
    address (where the language switch leads), the files it links to, the web fonts. Its absolute
    links to the issue's published editions (``hreflang``, canonical) lead to ``web_address``."""
    from ..render.web import render_web

    web = render_web(edition)
    folder = f"web/{edition.folder}"
    page = Served("text/html; charset=utf-8", web.html.replace(_issue_address(edition), web_address).encode("utf-8"))
    files = {f"{folder}index.html": page, folder: page}
    for relative, source in web.files.items():
        files[f"{folder}{relative}"] = Served(_media_type(relative), source=source)
    for relative, data in web.data.items():
        files[f"{folder}{relative}"] = Served(_media_type(relative), data)
    return files


def _issue_address(edition: Edition) -> str:
    """Where the issue's editions are published: its own language's web edition, the others' below it
    (a stand-in when the publication has no ``web_base_url``: no real address then to replace)."""
    base = edition.publication.web_base_url or PREVIEW_BASE_URL
    return f"{base.rstrip('/')}/{edition.slug}/"


def email_files(edition: Edition, web_address: str) -> tuple[dict[str, Served], list[Problem]]:
    """The email as a reader gets it (``fr/email.html`` in French…), with its links and images
    pointing at the preview's web editions, every language's.

    Rendered for the publication's own address (what the editorial checks judge), whose issue
    address is then replaced by ``web_address``; a publication without one is rendered against a
    stand-in.
    """
    from ..render.email import editorial_checks, render_email

    published = edition
    if edition.web_url is None:
        published = dataclasses.replace(
            edition, publication=dataclasses.replace(edition.publication, web_base_url=PREVIEW_BASE_URL)
        )
    html = render_email(published)
    warnings = editorial_checks(edition, html)
    local = html.replace(_issue_address(published), web_address)
    return {f"{edition.folder}email.html": Served("text/html; charset=utf-8", local.encode("utf-8"))}, warnings


def text_of(edition: Edition) -> str:
    """The plain-text twin of the email."""
    from ..render.text import render_text

    if edition.web_url is None:
        edition = dataclasses.replace(
            edition, publication=dataclasses.replace(edition.publication, web_base_url=PREVIEW_BASE_URL)
        )
    return render_text(edition)


def _media_type(name: str) -> str:
    if name.endswith(".woff"):
        return "font/woff"
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed
