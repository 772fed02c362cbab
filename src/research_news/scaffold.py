"""Templates for new content: a publication, an issue folder or a brief, with comments that
teach the format, and the brief listed in its issue when asked.

New content starts from what the tree already says: an issue takes the next number and the
language of the issue before it, and its date from its folder's name (``2024-06-…``); a brief
takes its issue's language. Nothing asks a question, so every command works in scripts.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .exceptions import ResearchNewsError, UsageError
from .load import LoadFailed, load_document
from .models import LANGUAGE_TAG
from .tree import ISSUE_FILE, PUBLICATION_FILE, find_root
from .write import WriteFailed, bytes_filler, replace_all, write_text

DEFAULT_LANGUAGE = "en"


def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("research_news", "templates/new"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def checked_language(code: str) -> str:
    """``code`` if it is a language tag (``en``, ``fr``, ``pt-BR``): it goes into YAML as written."""
    if not re.fullmatch(LANGUAGE_TAG, code):
        raise UsageError(f"--language {code!r} is not a language code; write it like en, fr or pt-BR")
    return code


# --- publication -----------------------------------------------------------------------


def new_publication(folder: Path, language: str = DEFAULT_LANGUAGE) -> None:
    """Create ``folder`` with a commented publication.yaml and assets/: the top of a content tree."""
    enclosing = find_root(folder.parent) if folder.parent.exists() else None
    if enclosing is not None:
        raise UsageError(
            f"{folder} would be inside the publication at {enclosing}; a content tree holds "
            "one publication.yaml at its top (create the new one elsewhere)"
        )
    try:
        (folder / "assets").mkdir(parents=True)
    except OSError as error:
        raise WriteFailed.from_os_error(error, folder) from None
    example = f"{dt.date.today():%Y-%m}-first-issue"
    write_text(
        folder / PUBLICATION_FILE,
        _templates().get_template("publication.yaml").render(folder=folder, language=language, example_issue=example),
    )


# --- issue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueDate:
    """The date a new issue.yaml gets, and a note saying where it came from when not given."""

    text: str
    note: str = ""


def issue_date(folder: Path, given: str | None, today: dt.date | None = None) -> IssueDate:
    """``--date`` when given; else the date the folder's name starts with (``2024-06-12-…``,
    or ``2024-06-…`` for the first of the month); else today."""
    if given is not None:
        return IssueDate(given)
    found = re.match(r"(\d{4})-(\d{2})(?:-(\d{2}))?(?=$|[-_.])", folder.name)
    if found:
        try:
            date = dt.date(int(found[1]), int(found[2]), int(found[3] or 1))
        except ValueError:
            pass
        else:
            note = "" if found[3] else "  (from the folder's name: set the day)"
            return IssueDate(date.isoformat(), note)
    return IssueDate((today or dt.date.today()).isoformat())


def new_issue(folder: Path, date: IssueDate, language: str | None = None) -> None:
    """Create ``folder`` with issue.yaml (next number, language of the issue before it), briefs/
    and images/, inside a publication's tree."""
    root = find_root(folder.parent) if folder.parent.exists() else None
    if root is None:
        raise UsageError(
            f"{folder.parent} is not inside a publication (no {PUBLICATION_FILE} there or above); "
            "start one with `research-news new publication DIR`, then create issues inside it"
        )
    brief_name = "first-brief.yaml"
    language = language or _latest_language(root)
    try:
        (folder / "images").mkdir(parents=True)
    except OSError as error:
        raise WriteFailed.from_os_error(error, folder) from None
    text = (
        _templates()
        .get_template("issue.yaml")
        .render(
            folder=folder,
            number=_next_number(root),
            date=date.text,
            date_note=date.note,
            brief=brief_name,
            series=_series(root),
            language=language,
        )
    )
    write_text(folder / ISSUE_FILE, text)
    write_text(folder / "briefs" / brief_name, _brief_text(folder / "briefs" / brief_name, None))


def _issues(root: Path) -> list[dict]:
    """The readable issue files of the tree, as plain data."""
    found: list[dict] = []
    for issue_file in sorted(root.rglob(ISSUE_FILE)):
        try:
            found.append(load_document(issue_file).data)
        except LoadFailed:
            continue
    return found


def _next_number(root: Path) -> int:
    """One more than the highest issue number already in the content tree."""
    numbers = [data.get("number") for data in _issues(root)]
    return max([0, *(n for n in numbers if isinstance(n, int) and not isinstance(n, bool))]) + 1


def _latest_language(root: Path) -> str:
    """The language of the highest-numbered issue; else the publication's first; else English."""
    issues = [data for data in _issues(root) if isinstance(data.get("number"), int)]
    if issues:
        latest = max(issues, key=lambda data: data["number"])
        language = latest.get("language", DEFAULT_LANGUAGE)
        if isinstance(language, str) and re.fullmatch(LANGUAGE_TAG, language):
            return language
    languages = _publication(root).get("languages")
    if isinstance(languages, list) and languages and isinstance(languages[0], str):
        return languages[0]
    return DEFAULT_LANGUAGE


def _publication(root: Path) -> dict:
    try:
        return load_document(root / PUBLICATION_FILE).data
    except LoadFailed:
        return {}


def _series(root: Path) -> str:
    return str(_publication(root).get("series", "Research News"))


# --- brief -----------------------------------------------------------------------------


def new_brief(path: Path, language: str | None = None, add_to: str | None = None) -> str | None:
    """Write the commented brief template to ``path``; with ``add_to``, list it under that section
    of its issue.yaml (comments and layout kept). Returns the section's title when it was added."""
    issue_file = path.parent.parent / ISSUE_FILE
    issue_language = _issue_language(issue_file)
    own = language if language and language != issue_language else None
    if add_to is None:
        write_text(path, _brief_text(path, own))
        return None
    updated, title = _listed(issue_file, path.relative_to(issue_file.parent).as_posix(), add_to)
    # Both or neither: a brief listed but missing (or the reverse) would fail the next check.
    replace_all({path: bytes_filler(_brief_text(path, own).encode()), issue_file: bytes_filler(updated.encode())})
    return title


def _brief_text(path: Path, language: str | None) -> str:
    return _templates().get_template("brief.yaml").render(path=path, language=language)


def _issue_language(issue_file: Path) -> str | None:
    try:
        language = load_document(issue_file).data.get("language", DEFAULT_LANGUAGE)
    except LoadFailed:
        return None
    return language if isinstance(language, str) else None


def _listed(issue_file: Path, entry: str, section: str) -> tuple[str, str]:
    """issue.yaml's text with ``entry`` appended to the section named (or numbered) ``section``,
    read and written by ruamel.yaml's round-trip mode so the editor's comments stay."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the editor's long lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    try:
        data = yaml.load(issue_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"--add-to needs the brief's issue: {issue_file} does not exist (put the brief in an "
            "issue's briefs/ folder)"
        ) from None
    except (OSError, YAMLError, UnicodeDecodeError) as error:
        raise ResearchNewsError(
            f"{issue_file} cannot be read to add the brief ({error}); run `research-news check {issue_file.parent}`"
        ) from None
    sections = data.get("sections") if isinstance(data, dict) else None
    if not isinstance(sections, list) or not all(isinstance(s, dict) for s in sections):
        raise ResearchNewsError(
            f"{issue_file} has no sections to add the brief to; run `research-news check {issue_file.parent}`"
        )
    target = _section(sections, section, issue_file)
    briefs = target.setdefault("briefs", [])
    if entry in briefs:
        raise UsageError(f"{entry} is already listed under “{target.get('title')}” in {issue_file}")
    briefs.append(entry)
    _move_trailing_comment(briefs)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue(), str(target.get("title"))


def _move_trailing_comment(items: list) -> None:
    """What followed the old last item (a blank line, a comment) follows the new one instead."""
    comments = getattr(items, "ca", None)
    before = len(items) - 2
    if comments is not None and before >= 0 and before in comments.items:
        comments.items[before + 1] = comments.items.pop(before)


def _section(sections: list[dict], wanted: str, issue_file: Path) -> dict:
    """The section whose title is ``wanted`` (case and spacing aside), or whose number it is."""
    if wanted.isdigit() and 1 <= int(wanted) <= len(sections):
        return sections[int(wanted) - 1]

    def key(text: object) -> str:
        return " ".join(str(text).split()).casefold()

    for section in sections:
        if key(section.get("title")) == key(wanted):
            return section
    titles = "; ".join(f"{n}. {s.get('title')}" for n, s in enumerate(sections, start=1))
    raise UsageError(f"no section “{wanted}” in {issue_file}; give a title or a number: {titles}")
