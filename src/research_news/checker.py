"""The content rules: each file against its model, and the rules that span files.

A :class:`Checker` reads each file once and collects every problem of every file, so
one run reports them all. Cross-file rules live here: the briefs an issue lists, image
paths, the content tree boundary (the folder holding ``publication.yaml``), a
publication's languages and word limits, and its layout. An issue's and its briefs'
translations (``issue.fr.yaml``, ``briefs/x.fr.yaml``) are read with the issue and checked
against their originals by the rules of :mod:`research_news.translations`. Over a whole
tree, the rules between issues (numbers, dates, briefs, ORCID iDs) are :mod:`research_news.series`'s.

Link rules apply to the fields the model reads as markdown; plain text fields keep
their own rules (one line, no control characters) and are shown escaped. What markdown
would not show as the writer meant (raw HTML, a footnote cited but not defined, a table
row with more cells than its header) is a located warning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import markdown
from .exceptions import ContentError, Problem, counted, display_path
from .images import SIGNATURES, image_problem
from .layout import Layout, find_layout, layout_candidates, layout_problems
from .load import Document, LoadFailed, load_document
from .locate import (
    Loc,
    field_path,
    markdown_strings,
    model_problems,
    position_in_text,
    position_of,
    raw_strings,
    shorten,
    strings,
    suggestion,
    text_locator,
)
from .models import PARTS, Brief, Issue, Publication, Strict
from .sections import issue_model
from .series import series_problems
from .slugs import brief_slug
from .translations import (
    Translated,
    Translation,
    original_only_problems,
    stale_problem,
    structure_problems,
    translation_model,
    translation_of,
    translations_beside,
)
from .tree import ISSUE_FILE, ISSUE_FOLDER_NAME, PUBLICATION_FILE, Files, find_root

EMAIL_SETTINGS = {
    "web_base_url": "`web_base_url: https://…`, the address the web editions are published under,",
    "email.from": "`from: Name <address>` under `email:`",
}
"""How to write each setting the email edition needs (see ``Publication.email_edition_lacks``)."""


@dataclass
class BriefEntry:
    """A validated brief with where it came from."""

    path: Path
    brief: Brief
    doc: Document


@dataclass
class Content:
    """Everything one issue needs, validated: what the assembly stage works from."""

    root: Path
    publication: Publication
    issue_dir: Path
    issue: Issue
    briefs: dict[Path, BriefEntry]
    warnings: list[Problem] = field(default_factory=list)
    documents: dict[Path, Document] = field(default_factory=dict)
    """The validated files (publication, issue, briefs) by resolved path: what locates a later warning."""
    translations: dict[str, Translated] = field(default_factory=dict)
    """The languages the issue is translated into (issue.<lang>.yaml), with its briefs' translations; and
    under the issue's own language, the translations into it of briefs written in another."""
    languages: list[str] = field(default_factory=list)
    """The languages the issue is built in: its own, then each it is translated into."""
    untranslated: set[Path] = field(default_factory=set)
    """In the content of a translated edition (translations.in_language), the briefs shown in their own language."""


class Checker:
    """Collects problems across many files; each file is read and checked once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._models: dict[tuple[Path, type], tuple[Document | None, Any]] = {}
        self._files = Files()
        self._image_problems: dict[Path, tuple[str, str] | None] = {}
        self._layouts: dict[tuple[Path, str], Layout | None] = {}
        self._translations: dict[Path, Any] = {}

    # files

    def _model(self, path: Path, model: type[Strict]) -> tuple[Document | None, Any]:
        """(document or None if unreadable, validated model or None) for ``path``, read once."""
        key = (self._files.resolved(path), model)
        if key not in self._models:
            self._models[key] = self._validate(path, model)
        return self._models[key]

    def _validate(self, path: Path, model: type[Strict]) -> tuple[Document | None, Any]:
        try:
            doc = load_document(path)
        except LoadFailed as failure:
            self.problems.append(failure.problem)
            return None, None
        self.problems.extend(doc.warnings)
        if issubclass(model, Translation):  # before the model: they would read as unknown fields
            self.problems.extend(original_only_problems(doc, model))
        self._check_strings(doc, model)
        try:
            return doc, model.model_validate(doc.data)
        except ValidationError as error:
            self.problems.extend(model_problems(doc, model, error))
            return doc, None

    def _seen(self, path: Path, model: type[Strict]) -> bool:
        return (self._files.resolved(path), model) in self._models

    def publication(self, root: Path) -> Publication | None:
        """The publication of the content tree at ``root``, with its logo checked."""
        first = not self._seen(root / PUBLICATION_FILE, Publication)
        doc, publication = self._model(root / PUBLICATION_FILE, Publication)
        if doc and first:
            for loc, written in raw_strings(doc.data, [("logo",)]):
                self._check_image(doc, loc, written, root)
            if publication and "about" in publication.limits and publication.about:
                for loc, about in _per_language(("about",), publication.about):
                    self._limit(doc, loc, about, publication.limits["about"])
            if publication:
                self._check_translated_languages(doc, publication)
            if publication and (missing := publication.email_edition_lacks()):
                self._add(
                    doc,
                    (),
                    f"the email edition cannot be built: {PUBLICATION_FILE} has no {' and no '.join(missing)}",
                    "add " + " and ".join(EMAIL_SETTINGS[name] for name in missing).rstrip(","),
                    severity="warning",
                )
            if publication and find_layout(root, publication.layout) is not None:
                self.problems.extend(layout_problems(root, publication.layout))
            elif publication:
                candidates = layout_candidates(root, publication.layout)
                if any(folder.is_dir() for folder in candidates):
                    self._add(
                        doc,
                        ("layout",),
                        f'layout: "{publication.layout}" is outside the content tree and its layouts/ folder',
                        "put the layout in layouts/ next to the issues and write its name, e.g. `layout: house`",
                    )
                else:
                    tried = ", ".join(str(p) for p in candidates)
                    self._add(doc, ("layout",), f'layout: no layout "{publication.layout}"', f"looked in {tried}")
        return publication

    def brief(self, path: Path, root: Path | None = None) -> BriefEntry | None:
        """A validated brief; its images are checked against the content tree."""
        root = root or self._root_for(path)
        if root is None or not self._brief_file(path, root):
            return None
        if (named := translation_of(path)) is not None:
            self._translation_file(path, *named)
            return None
        first = not self._seen(path, Brief)
        doc, brief = self._model(path, Brief)
        if doc and first:
            # Image paths are checked even when other fields are wrong: all errors at once.
            for loc, written in raw_strings(doc.data, [("authors", "*", "photo"), ("figures", "*", "src")]):
                self._check_image(doc, loc, written, root)
            publication = self.publication(root)
            if brief and publication:
                self._check_limits(doc, brief, publication.limits)
                if brief.language:
                    self._check_language(doc, brief.language, publication)
        return BriefEntry(path, brief, doc) if brief and doc else None  # no document, no brief

    def issue(self, issue_dir: Path) -> Content | None:
        """The issue in ``issue_dir`` with its publication and every brief it lists."""
        path = issue_dir / ISSUE_FILE
        root = self._root_for(path)
        if root is None:
            return None
        publication = self.publication(root)
        doc, issue = self._model(path, issue_model())  # with the registered section types
        if doc is None:
            return None
        if not ISSUE_FOLDER_NAME.fullmatch(issue_dir.resolve().name):
            self._add(
                doc,
                (),
                f'the issue folder "{shorten(issue_dir.resolve().name)}" names the output files '
                "and web addresses, so it may only hold letters, digits, dots, hyphens and underscores",
                "rename the folder, e.g. 2024-06-open-science",
            )
        briefs: dict[Path, BriefEntry] = {}
        seen: dict[Path, int] = {}
        listed: dict[Path, Loc] = {}
        slugs: dict[str, tuple[str, int]] = {}  # slug → the listing that took it first
        for loc, relative in raw_strings(doc.data, [("sections", "*", "briefs", "*")]):
            brief_path = self._contained_path(doc, loc, relative, root, kinds=(".yaml", ".yml"), what="brief")
            if brief_path is None:
                continue
            if brief_path.name in (ISSUE_FILE, PUBLICATION_FILE):
                self._add(
                    doc,
                    loc,
                    f'{field_path(loc)}: "{relative}" is the {brief_path.stem} file, not a brief',
                    "list the briefs' own files, e.g. briefs/my-study.yaml",
                )
                continue
            if (named := translation_of(brief_path)) is not None:
                self._add(
                    doc,
                    loc,
                    f'{field_path(loc)}: "{relative}" is the {named[1]} translation of {named[0].name}, not a brief',
                    f"list the original, {named[0].name}: its translation is found beside it",
                )
                continue
            line, _ = position_of(doc.data, loc)
            if brief_path in seen:
                self._add(
                    doc,
                    loc,
                    f"{field_path(loc)}: this brief is already listed",
                    f"a brief appears once per issue; see line {seen[brief_path]}",
                )
                continue
            seen[brief_path] = line
            listed[brief_path] = loc
            slug = brief_slug(brief_path)
            if slug in slugs:
                other, other_line = slugs[slug]
                self._add(
                    doc,
                    loc,
                    f'{field_path(loc)}: "{relative}" would be published as `{slug}`, like '
                    f'"{other}" on line {other_line} (offprints/{slug}.pdf, #brief-{slug})',
                    "rename one of the two files: a brief's file name names its offprint and its "
                    "place in the web edition",
                )
            else:
                slugs[slug] = (relative, line)
            entry = self.brief(brief_path, root)
            if entry:
                briefs[brief_path] = entry
        if publication and issue:
            self._check_language(doc, issue.language, publication)
        if publication and issue and issue.editorial and "editorial" in publication.limits:
            self._limit(doc, ("editorial",), issue.editorial, publication.limits["editorial"])
        if not (publication and issue):
            return None
        publication_doc, _ = self._model(root / PUBLICATION_FILE, Publication)
        documents = [publication_doc, doc, *(entry.doc for entry in briefs.values())]
        translated = self._issue_translations(doc, issue_dir, issue, publication, briefs, listed)
        return Content(
            root,
            publication,
            issue_dir,
            issue,
            briefs,
            documents={self._files.resolved(d.path): d for d in documents if d is not None},
            translations=translated,
            languages=[issue.language, *(language for language in translated if language != issue.language)],
        )

    # translations

    def _issue_translations(
        self,
        doc: Document,
        issue_dir: Path,
        issue: Issue,
        publication: Publication,
        briefs: dict[Path, BriefEntry],
        listed: dict[Path, Loc],
    ) -> dict[str, Translated]:
        """The languages the issue is translated into (an issue.<lang>.yaml each), with the
        translations of its briefs; a brief translated into a language the issue is not, or (when
        the publication requires translations) not translated into one the issue is, is reported."""
        found: dict[str, Translated] = {}
        folder_names: dict[Path, list[str] | None] = {}  # each folder listed once (see translations_beside)

        def names_in(folder: Path) -> list[str] | None:
            if folder not in folder_names:
                try:
                    folder_names[folder] = os.listdir(folder)
                except OSError:  # globbed instead, as before
                    folder_names[folder] = None
            return folder_names[folder]

        for language, path in translations_beside(issue_dir / ISSUE_FILE).items():
            text = self._translation(path, issue, language, issue.language, publication)
            if text is not None:
                found[language] = Translated(language, text)
        for brief_path, entry in briefs.items():
            for language, path in translations_beside(brief_path, names_in(brief_path.parent)).items():
                text = self._translation(
                    path, entry.brief, language, entry.brief.language or issue.language, publication
                )
                if text is not None and language == issue.language:  # a brief in another language, translated back
                    found.setdefault(language, Translated(language, None)).briefs[brief_path] = text
                elif text is not None and language in found:
                    found[language].briefs[brief_path] = text
                elif text is not None:
                    self.problems.append(
                        Problem(
                            path,
                            1,
                            1,
                            f"the issue has no {ISSUE_FILE.replace('.yaml', f'.{language}.yaml')}, so no edition "
                            f"in this language is built and this translation is not published",
                            f"translate the issue's texts too: research-news new translation {issue_dir} --to {language}",
                            "warning",
                        )
                    )
        required = [lang for lang in found if lang != issue.language] if publication.translations == "required" else []
        for language in required:
            for brief_path, entry in briefs.items():
                if brief_path not in found[language].briefs and (entry.brief.language or issue.language) != language:
                    self._add(
                        doc,
                        listed[brief_path],
                        f"{field_path(listed[brief_path])}: {brief_path.name} has no {language} translation, which "
                        f"the publication requires (translations: required) for the {language} edition",
                        f"write it: research-news new translation {brief_path.relative_to(issue_dir.resolve())} "
                        f"--to {language}; or set `translations: optional` in {PUBLICATION_FILE}",
                    )
        return found

    def _translation(
        self, path: Path, original: Any, language: str, own_language: str, publication: Publication
    ) -> Any:
        """The validated translation in ``path`` of ``original`` (a brief or an issue), once per file:
        in one of the publication's languages, not the original's own, and matching it."""
        key = self._files.resolved(path)
        if key in self._translations:
            return self._translations[key]
        self._translations[key] = None
        root = find_root(path)
        if root is not None and not key.is_relative_to(self._files.resolved(root)):
            self.problems.append(  # as for a brief: a file outside the tree is never read, nor echoed
                Problem(
                    path,
                    1,
                    1,
                    f"this translation is outside the content tree ({self._files.resolved(root)}), so it was not read",
                    "a symbolic link may point out of the tree; copy the translation into the issue's folder",
                )
            )
            return None
        original_path = path.with_name(path.name.replace(f".{language}.", ".", 1))
        name = original_path.name
        if language == own_language:
            self.problems.append(
                Problem(
                    path,
                    1,
                    1,
                    f"{path.name} would translate {name} into {language}, the language it is written in",
                    "rename it after the language it is in, or delete it",
                )
            )
            return None
        if language not in publication.languages:
            self.problems.append(
                Problem(
                    path,
                    1,
                    1,
                    f'"{language}" (in the file name) is not one of the publication\'s languages '
                    f"({', '.join(publication.languages) or 'none listed'})",
                    suggestion(language, publication.languages)
                    or f"add {language} to `languages:` in {PUBLICATION_FILE}, or rename the file",
                )
            )
            return None
        doc, text = self._model(path, translation_model(type(original)))  # type: ignore[arg-type]
        if doc is None or text is None:
            return None
        self.problems.extend(structure_problems(doc, text, original, name, language))
        refresh = f"research-news new translation {display_path(original_path)} --to {language} --refresh"
        if (stale := stale_problem(doc, text, original, refresh)) is not None:
            self.problems.append(stale)
        self._translations[key] = text
        return text

    def _translation_file(self, path: Path, original: Path, language: str) -> None:
        """A translation checked on its own (``check briefs/x.fr.yaml``, or beside an unlisted brief)."""
        root = self._root_for(path)
        publication = self.publication(root) if root else None
        if publication is None:
            return
        if original.name == ISSUE_FILE:
            self.issue(original.parent)  # checks its translations
            return
        entry = self.brief(original, root)
        if entry is None:
            return
        _, issue = self._model(original.parent.parent / ISSUE_FILE, issue_model())
        own = entry.brief.language or (issue.language if issue else None) or ""
        self._translation(path, entry.brief, language, own, publication)

    # rules

    def _brief_file(self, path: Path, root: Path) -> bool:
        """A brief is read only if it lies inside the content tree and is not one of its other files."""
        resolved = self._files.resolved(path)
        if not resolved.is_relative_to(self._files.resolved(root)):
            self.problems.append(
                Problem(
                    path,
                    1,
                    1,
                    f"this brief is outside the content tree ({self._files.resolved(root)}), so it was not read",
                    "a symbolic link may point out of the tree; copy the brief into the issue's briefs/ folder",
                )
            )
            return False
        if resolved.name in (ISSUE_FILE, PUBLICATION_FILE):
            self.problems.append(
                Problem(
                    path,
                    1,
                    1,
                    f"{resolved.name} is not a brief",
                    "list the briefs' own files, e.g. briefs/my-study.yaml",
                )
            )
            return False
        return True

    def _root_for(self, path: Path) -> Path | None:
        root = find_root(path)
        if root is None:
            self.problems.append(
                Problem(
                    path,
                    1,
                    1,
                    f"no {PUBLICATION_FILE} in this folder or any folder above it",
                    "content lives in a tree whose top folder holds publication.yaml",
                )
            )
        return root

    def _add(
        self, doc: Document, loc: Loc, message: str, hint: str | None = None, *, severity="error", key: bool = False
    ) -> None:
        line, column = position_of(doc.data, loc, key=key)
        self.problems.append(Problem(doc.path, line, column, message, hint, severity))

    def _contained_path(
        self, doc: Document, loc: Loc, written: str, root: Path, *, kinds: tuple[str, ...], what: str
    ) -> Path | None:
        """The file ``written`` names, if it is a local file inside the content tree."""
        name = field_path(loc)
        if not written.isprintable():
            self._add(doc, loc, f'{name}: "{written}" contains an invisible character', "retype the path")
            return None
        if len(written) > 1000 or any(len(part.encode()) > 255 for part in written.split("/")):
            self._add(
                doc,
                loc,
                f'{name}: "{shorten(written)}" is too long for a file name',
                "use short file names: at most 255 bytes per folder or file name",
            )
            return None
        if "://" in written or written.split(":", 1)[0].lower() in ("http", "https", "data", "file", "ftp"):
            self._add(
                doc,
                loc,
                f'{name}: "{written}" is a URL; nothing is downloaded',
                f"save the file under images/ and write its path relative to {doc.path.name}",
            )
            return None
        if Path(written).is_absolute() or written.startswith("~"):
            self._add(
                doc,
                loc,
                f'{name}: "{written}" is an absolute path',
                f"write the path relative to the folder of {doc.path.name}, e.g. ../images/photo.png",
            )
            return None
        target = doc.path.parent / written
        resolved = self._files.resolved(target)
        if not resolved.is_relative_to(self._files.resolved(root)):
            self._add(
                doc,
                loc,
                f'{name}: "{written}" points outside the content tree ({self._files.resolved(root)})',
                "keep every file inside the folder that holds publication.yaml",
            )
            return None
        if resolved.suffix.lower() not in kinds:
            self._add(doc, loc, f'{name}: "{written}" is not a {what} file ({", ".join(kinds)})')
            return None
        if not self._files.is_file(resolved) and resolved.is_dir():
            self._add(doc, loc, f'{name}: "{written}" is a folder, not a {what} file')
            return None
        if not self._files.is_file(resolved):
            hint = (
                suggestion(target.name, [p.name for p in target.parent.glob("*")]) if target.parent.is_dir() else None
            )
            self._add(doc, loc, f'{name}: "{written}" does not exist', hint or "check the spelling and the folder")
            return None
        return resolved

    def _check_image(self, doc: Document, loc: Loc, written: str, root: Path) -> None:
        path = self._contained_path(doc, loc, written, root, kinds=tuple(SIGNATURES), what="png, jpg or svg image")
        if path is None:
            return
        if path not in self._image_problems:
            self._image_problems[path] = image_problem(path)
        problem = self._image_problems[path]
        if problem:
            what, hint = problem
            self._add(doc, loc, f'{field_path(loc)}: "{written}" {what}', hint)

    def _check_strings(self, doc: Document, model: type[Strict]) -> None:
        """Placeholders in every text value; links in the values the model reads as markdown.

        Checked on the raw data, so they are reported even when other fields are wrong.
        """
        for loc, text in strings(doc.data, ()):
            if text.lstrip()[:4].upper() == "TODO":
                self._placeholder(doc, loc, text)
        cited: list[tuple[Loc, markdown.Mark]] = []
        defined: list[tuple[Loc, markdown.Mark]] = []
        for loc, text in markdown_strings(doc.data, model, ()):
            if "](" in text or "<" in text or "]:" in text:  # inline links, autolinks, reference definitions
                self._check_links(doc, loc, text)
            if "<" in text:
                self._check_raw_html(doc, loc, text)
            if "|" in text:
                self._check_table_rows(doc, loc, text)
            if "[^" in text:
                citations, definitions = markdown.footnotes_in(text)
                cited += [(loc, mark) for mark in citations]
                defined += [(loc, mark) for mark in definitions]
        if model is Brief or model is translation_model(Brief):
            self._check_footnotes(doc, cited, defined)
        else:
            for loc, mark in cited + defined:
                self._markdown_warning(
                    doc,
                    loc,
                    mark.offset,
                    f"footnote [^{mark.written}]: footnotes belong to briefs, so here it is printed as typed",
                    "write the source in the sentence, e.g. (CNIL, 2022), or move the text into a brief",
                )

    def _markdown_warning(self, doc: Document, loc: Loc, offset: int, message: str, hint: str) -> None:
        line, column = position_in_text(doc, loc, offset)
        self.problems.append(Problem(doc.path, line, column, f"{field_path(loc)}: {message}", hint, "warning"))

    def _check_raw_html(self, doc: Document, loc: Loc, text: str) -> None:
        """Raw HTML is never passed through: the editions print it as typed, which is rarely meant."""
        for mark in markdown.raw_html_in(text):
            self._markdown_warning(
                doc,
                loc,
                mark.offset,
                f"{shorten(mark.written)} is HTML, which is printed as typed, not applied",
                "use markdown instead: **bold**, *italic*, [text](https://…), a | table |; "
                "or write &lt; for a < that is not a tag",
            )

    def _check_table_rows(self, doc: Document, loc: Loc, text: str) -> None:
        for mark in markdown.cut_table_rows(text):
            self._markdown_warning(
                doc,
                loc,
                mark.offset,
                f"this table row has {mark.written} cells but the table's header has fewer; "
                "the extra cells are not shown",
                "add a column to the header row (and its | --- | line), or join the cells; write \\| for a | "
                "inside a cell",
            )

    def _check_footnotes(self, doc: Document, cited: list, defined: list) -> None:
        """A brief's footnotes are numbered across its fields (markdown.Footnotes): a citation
        needs a definition somewhere in the brief, and a definition a citation."""
        labels = {mark.written for _, mark in defined}
        for loc, mark in cited:
            if mark.written not in labels:
                self._markdown_warning(
                    doc,
                    loc,
                    mark.offset,
                    f"footnote [^{mark.written}] is cited but never defined, so it is printed as typed",
                    f"add a line `[^{mark.written}]: the note's text` to this field or another part of the brief",
                )
        used = {mark.written for _, mark in cited}
        seen: set[str] = set()
        for loc, mark in defined:
            if mark.written in seen:
                message = f"footnote [^{mark.written}] is defined twice; the second text is not shown"
                hint = "give each note its own label, e.g. [^2]"
            elif mark.written not in used:
                message = f"footnote [^{mark.written}] is never cited, so it is not shown"
                hint = f"cite it where it applies: …text[^{mark.written}]"
            else:
                seen.add(mark.written)
                continue
            seen.add(mark.written)
            self._markdown_warning(doc, loc, mark.offset, message, hint)

    def _check_links(self, doc: Document, loc: Loc, text: str) -> None:
        """Links in markdown: only http, https and mailto; no images."""
        locate = None  # matched to the file only when a link must be reported
        for link in markdown.links_in(text):
            if link.is_image:
                message, hint = (
                    "images are not allowed inside text",
                    "add it under `figures:` with alt text and a credit",
                )
            elif not markdown.link_allowed(link.href):
                message, hint = (
                    f'the link "{link.href}" is not allowed',
                    "links must start with http:, https: or mailto:",
                )
            else:
                continue
            locate = locate or text_locator(doc, loc)
            line, column = locate(link.offset)
            self.problems.append(Problem(doc.path, line, column, f"{field_path(loc)}: {message}", hint))

    def _placeholder(self, doc: Document, loc: Loc, text: str) -> None:
        """A value still holding a `research-news new` placeholder."""
        line, column = position_in_text(doc, loc, text.upper().find("TODO"))
        self.problems.append(
            Problem(
                doc.path,
                line,
                column,
                f"{field_path(loc)}: still holds the template's TODO placeholder",
                "replace it with your text, or delete the line if the field is optional",
            )
        )

    def _check_language(self, doc: Document, language: str, publication: Publication) -> None:
        """A publication that lists its languages accepts only those (catches `language: eng`); a
        language the layout has no labels for is worth a warning (its headings would be English)."""
        where = ("language",) if "language" in doc.data else ()
        if publication.languages and language not in publication.languages:
            self._add(
                doc,
                where,
                f'language: "{language}" is not one of the publication\'s languages '
                f"({', '.join(publication.languages)})",
                suggestion(language, publication.languages) or "add it to `languages:` in publication.yaml",
            )
        elif not self._layout_speaks(doc.path, publication, language):
            self._add(
                doc,
                where,
                f'language: the layout has no labels for "{language}", so headings such as '
                "“Key findings” and dates will be in English",
                f"add labels/{language.split('-')[0]}.yaml to your layout (copy labels/en.yaml from the "
                "default layout and translate it)",
                severity="warning",
            )

    def _layout_speaks(self, path: Path, publication: Publication, language: str) -> bool:
        root = self._root_for(path)
        if root is None or find_layout(root, publication.layout) is None:
            return True  # the layout's own problem is reported at publication.yaml
        key = (root, publication.layout)
        if key not in self._layouts:
            try:
                self._layouts[key] = Layout(root, publication.layout)
            except ContentError:
                self._layouts[key] = None  # reported at the layout's files
        layout = self._layouts[key]
        return layout is None or layout.has_labels(language)

    def _check_limits(self, doc: Document, brief: Brief, limits: dict[str, int]) -> None:
        for name, limit in limits.items():
            if name in PARTS:
                self._limit(doc, (name,), getattr(brief, name), limit)
            elif name == "bio":
                for index, author in enumerate(brief.authors):
                    self._limit(doc, ("authors", index, "bio"), author.bio, limit)

    def _limit(self, doc: Document, loc: Loc, text: Any, limit: int) -> None:
        words = markdown.word_count(text)
        if words > limit:
            self._add(
                doc,
                loc,
                f"{field_path(loc)}: {words} words; the publication's limit is {limit}",
                f"cut {words - limit} words",
                severity="warning",
            )

    # entry points

    def check_path(self, path: Path) -> None:
        """Check whatever ``path`` is: a brief, an issue, a publication, or a folder of them."""
        try:
            self._check_path(path)
        except OSError as error:  # a name too long, a symbolic link loop, a folder we may not list
            self.problems.append(Problem(path, 1, 1, f"cannot be read: {error.strerror or error}"))

    def _check_path(self, path: Path) -> None:
        if path.is_dir():
            if (path / ISSUE_FILE).is_file():
                self._issue_and_unlisted(path)
            elif (path / PUBLICATION_FILE).is_file():
                self.publication(path)
                self._series([self._issue_and_unlisted(f.parent) for f in sorted(path.rglob(ISSUE_FILE))])
            elif issue_files := sorted(path.rglob(ISSUE_FILE)):
                if find_root(path) is None:  # the root cause, said once: not once per issue and brief
                    self.problems.append(
                        Problem(
                            path,
                            1,
                            1,
                            f"no {PUBLICATION_FILE} in this folder or any folder above it, so "
                            f"{counted(len(issue_files), 'issue')} below it cannot be checked",
                            f"check the folder that holds {PUBLICATION_FILE}, or start one here with "
                            "`research-news new publication`",
                        )
                    )
                if find_root(path):
                    self._series([self._issue_and_unlisted(issue_file.parent) for issue_file in issue_files])
            else:
                files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
                if not files:
                    self.problems.append(Problem(path, 1, 1, "no YAML files in this folder"))
                for file in files:
                    self.brief(file)
        elif path.name == PUBLICATION_FILE:
            self.publication(path.parent)
        elif path.name == ISSUE_FILE:
            self.issue(path.parent)
        elif not path.exists():
            self.problems.append(Problem(path, 1, 1, "no such file or folder"))
        else:
            self.brief(path)

    def _check_translated_languages(self, doc: Document, publication: Publication) -> None:
        """Texts given per language name the publication's languages (catches `fr:` for `fre:`)."""
        if not publication.languages:
            return
        texts: list[tuple[Loc, str | dict[str, str] | None]] = [
            (("series",), publication.series),
            (("tagline",), publication.tagline),
            (("about",), publication.about),
        ]
        texts += [(("team", index, "role"), person.role) for index, person in enumerate(publication.team)]
        for loc, value in texts:
            for language in value if isinstance(value, dict) else ():
                if language not in publication.languages:
                    self._add(
                        doc,
                        (*loc, language),
                        f'{field_path((*loc, language))}: "{language}" is not one of the publication\'s languages '
                        f"({', '.join(publication.languages)})",
                        suggestion(language, publication.languages) or "add it to `languages:`",
                        key=True,
                    )

    def _series(self, contents: list[Content | None]) -> None:
        """The rules between issues (series.py), over the issues that are valid on their own."""
        self.problems.extend(series_problems([content for content in contents if content is not None]))

    def _issue_and_unlisted(self, issue_dir: Path) -> Content | None:
        """An issue, then the briefs its folder holds that it does not list."""
        content = self.issue(issue_dir)
        self.unlisted(issue_dir)
        return content

    def unlisted(self, issue_dir: Path) -> None:
        """The briefs the issue's folder holds that it does not list, after :meth:`issue`; unless the
        issue could not be read at all (no publication, broken YAML), when every brief would seem unlisted."""
        if find_root(issue_dir) is None:
            return
        doc, _ = self._model(issue_dir / ISSUE_FILE, issue_model())
        if doc is not None:
            self._check_unlisted(issue_dir)

    def _check_unlisted(self, issue_dir: Path) -> None:
        """Briefs in briefs/ that no section lists are checked too, and pointed out."""
        files = sorted((issue_dir / "briefs").glob("*.y*ml"))
        listed = {file for file in files if self._seen(file, Brief)}
        for file in files:
            named = translation_of(file)
            if named is not None and named[0] not in listed:
                self.brief(file)
                self.problems.append(
                    Problem(
                        file,
                        1,
                        1,
                        f"this translates {named[0].name}, which issue.yaml does not list, so it is not published",
                        f"list {named[0].name} in a section's `briefs:`, or move both files out of briefs/",
                        "warning",
                    )
                )
            elif named is None and file not in listed:
                self.brief(file)
                self.problems.append(
                    Problem(
                        file,
                        1,
                        1,
                        "this brief is not listed in issue.yaml",
                        "add it to a section's `briefs:` or move it out of briefs/",
                        "warning",
                    )
                )


def _per_language(loc: Loc, value: str | dict[str, str]) -> list[tuple[Loc, str]]:
    """``[(loc, text)]`` for a text, ``[(loc + (language,), text), …]`` for a text per language."""
    return [((*loc, lang), text) for lang, text in value.items()] if isinstance(value, dict) else [(loc, value)]
