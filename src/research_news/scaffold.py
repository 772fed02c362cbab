"""Templates for new content: a publication, an issue folder or a brief, with comments that
teach the format, and the brief listed in its issue when asked.

New content starts from what the tree already says: an issue takes the next number and the
language of the issue before it, and its date from its folder's name (``2024-06-…``); a brief
takes its issue's language. Nothing asks a question, so every command works in scripts.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .exceptions import ContentError, ResearchNewsError, UsageError
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


# --- translation -----------------------------------------------------------------------


@dataclass
class TranslationEntry:
    """One field of a new translation: a text, a list of texts, or a list of items with fields."""

    name: str
    kind: str  # "text", "texts" or "items"
    value: Any = None
    items: list[TranslationItem] = field(default_factory=list)


@dataclass
class TranslationItem:
    label: str  # the comment that says which item of the original this is (an author's name, a figure's file)
    entries: list[TranslationEntry]


def new_translation(original: Path, language: str, refresh: bool = False) -> Path:
    """Write the ``language`` translation template of ``original`` (a brief, or an issue folder or
    its issue.yaml) beside it; with ``refresh``, only set its ``translated_from`` to the original's
    current fingerprint. Returns the translation's path."""
    from .translations import fingerprint, translation_path

    original = original / ISSUE_FILE if original.is_dir() else original
    model, own, languages = _original_for_translation(original)
    if language == own:
        raise UsageError(f"{original} is written in {language}; give the language to translate it into with --to")
    if language not in languages:
        raise UsageError(
            f"{language} is not one of the publication's languages ({', '.join(languages) or 'none listed'}); "
            f"add it to `languages:` in {PUBLICATION_FILE} first"
        )
    target = translation_path(original, language)
    if refresh:
        if not target.is_file():
            raise UsageError(f"{target} does not exist: nothing to refresh (leave out --refresh to create it)")
        write_text(target, _refreshed(target, fingerprint(model)))
        return target
    if target.exists():
        raise UsageError(
            f"{target} already exists (nothing was overwritten); to record that it follows the original's "
            "current text, add --refresh"
        )
    write_text(target, _translation_text(original, model, own, language))
    return target


def _original_for_translation(original: Path) -> tuple[Any, str, list[str]]:
    """The validated original (a brief or an issue), its language and the publication's languages;
    the original's errors stop here."""
    from .checker import Checker
    from .translations import translation_of

    if not original.is_file():
        raise UsageError(f"{original} does not exist; name a brief file or an issue folder")
    checker = Checker()
    found: Any = None
    own = ""
    if original.name == ISSUE_FILE:
        content = checker.issue(original.parent)
        if content is not None:
            found, own = content.issue, content.issue.language
    else:
        entry = checker.brief(original)
        if entry is not None:
            issue_language = _issue_language(original.parent.parent / ISSUE_FILE) or DEFAULT_LANGUAGE
            found, own = entry.brief, entry.brief.language or issue_language
    root = find_root(original)
    publication = checker.publication(root) if root else None
    # The original's errors; its translations' (being written or refreshed) are for `check` to say.
    errors = [p for p in checker.problems if p.severity == "error" and translation_of(p.path) is None]
    if errors or found is None or publication is None:
        raise ContentError(errors)
    return found, own, list(publication.languages)


def _translation_text(original: Path, model: Any, own: str, language: str) -> str:
    from .translations import fingerprint, language_name

    env = _templates()
    env.filters["yaml_scalar"] = _yaml_scalar
    env.filters["commented"] = _commented
    return env.get_template("translation.yaml").render(
        original=original,
        check_path=original.parent if original.name == ISSUE_FILE else original,
        language=language,
        source=own,
        source_name=language_name(own, "en"),
        target_name=language_name(language, "en"),
        fingerprint=fingerprint(model),
        entries=_entries(model),
    )


def _entries(model: Any) -> list[TranslationEntry]:
    """The translatable fields ``model`` has, in the order its model declares them."""
    from pydantic import BaseModel

    from .translations import translatable_fields

    entries = []
    for name in translatable_fields(type(model)):
        value = getattr(model, name, None)
        if value in (None, []):
            continue
        if isinstance(value, list) and isinstance(value[0], BaseModel):
            items = [TranslationItem(_item_label(item, number), _entries(item)) for number, item in enumerate(value, 1)]
            entries.append(TranslationEntry(name, "items", items=items))
        else:
            entries.append(TranslationEntry(name, "texts" if isinstance(value, list) else "text", value))
    return entries


def _item_label(item: Any, number: int) -> str:
    """Which item of the original this is: an author's name, a figure's file, an event's date…"""
    for name in ("name", "src", "date", "source"):
        value = getattr(item, name, None)
        if value:
            return f"{number}. {value}"
    return f"{number}."


def _yaml_scalar(text: str, indent: int) -> str:
    """``text`` as a YAML value: a literal block (``|``, or ``|-`` without a final line break) for
    text on several lines, else a double-quoted string (JSON's quoting is valid YAML)."""
    body = text.removesuffix("\n")
    if "\n" not in body or text[:1].isspace() or body.endswith("\n"):
        return json.dumps(text, ensure_ascii=False)
    pad = " " * (indent + 2)
    return ("|" if text.endswith("\n") else "|-") + "".join(
        f"\n{pad}{line}" if line else "\n" for line in body.split("\n")
    )


def _commented(text: str, prefix: str) -> str:
    """``text`` as comment lines, the first after ``prefix`` (``  # en: ``), the others under it."""
    indentation = prefix[: len(prefix) - len(prefix.lstrip())]
    lines = text.rstrip("\n").split("\n")
    return "\n".join([prefix + lines[0], *(f"{indentation}#   {line}".rstrip() for line in lines[1:])])


def _refreshed(target: Path, now: str) -> str:
    """The translation's text with its ``translated_from`` value replaced by ``now``, nothing else
    changed (its comments, quoting and line breaks stay as written)."""
    from .translations import FINGERPRINT

    try:
        document = load_document(target)
    except LoadFailed as failure:
        raise ContentError([failure.problem]) from None
    lines = target.read_text(encoding="utf-8").removeprefix("\ufeff").split("\n")
    if FINGERPRINT not in document.data:
        first = next((i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), len(lines))
        lines.insert(first, f'{FINGERPRINT}: "{now}"')
        return "\n".join(lines)
    line, column = document.data.lc.value(FINGERPRINT)
    old = document.data[FINGERPRINT]
    written = re.match(r"""(["']?)[^\s#"']*\1""", lines[line][column:])
    # Quoted: sixteen hex digits may well read as a number (1234…, 12e4…) to YAML.
    if old is not None and written is not None and written.group():
        lines[line] = lines[line][:column] + f'"{now}"' + lines[line][column + written.end() :]
    else:  # `translated_from:` with no value
        lines[line] = lines[line][:column].rstrip() + f' "{now}"' + lines[line][column:]
    return "\n".join(lines)
