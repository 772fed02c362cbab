"""Translations: an issue and its briefs in the publication's other languages.

A translation lives beside the file it translates and is named after it:
``briefs/dpo.fr.yaml`` translates ``briefs/dpo.yaml``, ``issue.fr.yaml`` translates
``issue.yaml``. It holds only the text a reader reads (:data:`TRANSLATABLE`), with the same
keys and, in lists, the same items in the same order as the original; names, addresses,
ORCID iDs, images, dates and links always come from the original, so they cannot drift.

Each translation says which version of the original it translates: ``translated_from``
holds a fingerprint of the original's translatable text (:func:`fingerprint`, over its
canonical JSON, so reformatting the original or editing its comments changes nothing).
When the original's text changes, ``check`` warns at that line until the translation is
updated and the fingerprint refreshed (``research-news new translation … --refresh``).

A field still holding the original's text is warned about, unless it has nothing to translate
(one word, a number, an address) or the translation lists it in ``same_as_original``.

This module holds the translation models (derived from the content models), the rules a
translation must follow against its original (:func:`structure_problems`,
:func:`stale_problem`), and the merge that makes the content of one language
(:func:`in_language`), which the build assembles like any issue.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, Field, StringConstraints, create_model

from . import sections
from .exceptions import Problem
from .load import Document
from .locate import Loc, field_path, model_inside, position_of
from .models import LANGUAGE_TAG, Author, Brief, Figure, Issue, Quote, Section, Strict, holds_markdown

if TYPE_CHECKING:
    from .checker import Content

FINGERPRINT = "translated_from"
"""The key of a translation that holds :func:`fingerprint` of the original it translates."""

SAME_AS_ORIGINAL = "same_as_original"
"""The key of a translation listing the fields whose text is deliberately the original's (a name,
a term used in both languages): ``check`` does not call them untranslated."""

Fingerprint = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{16}$"),
    Field(description="The fingerprint of the original's text this translation follows (set by `new translation`)."),
]

TRANSLATABLE: dict[type[BaseModel], tuple[str, ...]] = {
    Brief: (
        "title",
        "subtitle",
        "authors",
        "why_it_matters",
        "methodology",
        "key_findings",
        "key_takeaways",
        "quotes",
        "figures",
        "keywords",
    ),
    Author: ("role", "affiliation", "bio"),
    Quote: ("text",),
    Figure: ("alt", "caption", "credit"),
    Issue: ("headline", "preheader", "editorial", "sections"),
    Section: ("title",),
}
"""The fields a translation may hold, by content model; the items of an issue's section types
(events, news…) translate their prose fields (:data:`sections.PROSE_FIELDS` and markdown)."""

KEPT_WHEN_LEFT_OUT = frozenset({"role", "affiliation", "credit", "place", "keywords"})
"""Fields a translation may leave out (the original's text is shown): often the same in every
language (an institution's name, a credit line). Every other translatable field the original
has must be translated."""

ANY_COUNT = frozenset({"keywords"})
"""Lists a translation may give with another number of items than the original."""


def translatable_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` a translation holds (see :data:`TRANSLATABLE`)."""
    for known, names in TRANSLATABLE.items():
        if issubclass(model, known):
            if known is Issue:
                return names + tuple(kind.key for kind in sections.registered().values())
            return names
    return tuple(
        name for name, info in model.model_fields.items() if name in sections.PROSE_FIELDS or holds_markdown(info)
    )


class Translation(Strict):
    """Base of the translation models: ``original`` is the content model they translate."""

    original: ClassVar[type[BaseModel]]


@functools.cache
def translation_model(model: type[BaseModel], top: bool = True) -> type[Strict]:
    """The model of a translation of ``model``: its translatable fields, each optional (whether the
    original has it is checked against the original), and at the top the ``translated_from`` key."""
    fields: dict[str, Any] = {}
    for name in translatable_fields(model):
        info = model.model_fields[name]
        inner = model_inside(info.annotation)
        if inner is not None:
            fields[name] = (list[translation_model(inner, top=False)], Field(None))  # type: ignore[misc]
        else:
            # Not made Optional: a field left empty is an error, as in the original; left out, it is None.
            fields[name] = (info.rebuild_annotation(), Field(None, description=info.description))
    if top:
        fields[FINGERPRINT] = (Fingerprint, ...)
        fields[SAME_AS_ORIGINAL] = (
            list[str],
            Field(
                default_factory=list,
                description="Fields that read the same in both languages, as `check` names them "
                "(`subtitle`, `figures[0].caption`): not warned about as untranslated.",
            ),
        )
    made = create_model(
        f"{model.__name__}Translation",
        __base__=Translation,
        __module__=__name__,
        __doc__=f"The text of a {model.__name__.lower()} in another language.",
        **fields,
    )
    made.original = model
    return made


# --- files -----------------------------------------------------------------------------


def translation_path(original: Path, language: str) -> Path:
    """Where the ``language`` translation of ``original`` lives: ``briefs/x.fr.yaml`` for ``briefs/x.yaml``."""
    return original.with_name(f"{original.stem}.{language}{original.suffix}")


def translation_of(path: Path) -> tuple[Path, str] | None:
    """(original, language) when ``path`` is named like the translation of a file beside it that
    exists (``x.fr.yaml`` and ``x.yaml``); None for any other file."""
    stem, dot, language = path.stem.rpartition(".")
    if not dot or not stem or not LANGUAGE_TAG.fullmatch(language):
        return None
    for suffix in (path.suffix, ".yaml", ".yml"):
        original = path.with_name(stem + suffix)
        if original.is_file():
            return original, language
    return None


def translations_beside(original: Path, names: Iterable[str] | None = None) -> dict[str, Path]:
    """The translations of ``original`` on disk, by language. ``names``: the names in its folder, when
    the caller has listed it already (checking 1,000 briefs of one folder, globbing it once per brief
    read a million names: 0.3 s of the 2.8 s)."""
    pattern = f"{glob_escape(original.stem)}.*.y*ml"
    candidates = (
        original.parent.glob(pattern)
        if names is None
        else (original.parent / name for name in names if fnmatch.fnmatchcase(name, pattern))
    )
    found: dict[str, Path] = {}
    for candidate in sorted(candidates):
        named = translation_of(candidate)
        if named and named[0].name == original.name:
            found.setdefault(named[1], candidate)
    return found


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


# --- fingerprints -------------------------------------------------------------------------


def translatable_text(original: BaseModel) -> dict[str, Any]:
    """The text of ``original`` a translation translates, as plain data (lists of items as lists)."""
    text: dict[str, Any] = {}
    for name in translatable_fields(type(original)):
        value = getattr(original, name, None)
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            text[name] = [translatable_text(item) for item in value]
        else:
            text[name] = value
    return text


def fingerprint(original: BaseModel) -> str:
    """A short hash of the original's translatable text (canonical JSON, not the file's bytes: a
    comment or a re-wrapped line is no change of text)."""
    canonical = json.dumps(translatable_text(original), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


# --- rules ------------------------------------------------------------------------------


def original_only_problems(doc: Document, model: type[Translation]) -> list[Problem]:
    """Fields of the original written in its translation (``name``, ``orcid``, ``photo``…): each
    is reported, then dropped from ``doc`` so the rest of the file is still validated."""
    problems: list[Problem] = []
    named = translation_of(doc.path)
    original_name = named[0].name if named else "the original"

    def visit(node: Any, current: type[BaseModel], loc: Loc) -> None:
        if not isinstance(node, dict):
            return
        allowed = set(translatable_fields(current)) | ({FINGERPRINT, SAME_AS_ORIGINAL} if not loc else set())
        for key in list(node):
            if key not in allowed and key in current.model_fields:
                line, column = position_of(doc.data, (*loc, key), key=True)
                problems.append(
                    Problem(
                        doc.path,
                        line,
                        column,
                        f"{field_path((*loc, key))}: comes from the original ({original_name}) and is the same "
                        "in every language, so a translation does not repeat it",
                        f"remove this line; change it in {original_name} if it is wrong",
                    )
                )
                del node[key]
            elif key in allowed and (inner := model_inside(current.model_fields.get(key, Field()).annotation)):
                for index, item in enumerate(node[key] if isinstance(node[key], list) else []):
                    visit(item, inner, (*loc, key, index))

    visit(doc.data, model.original, ())
    return problems


def structure_problems(
    doc: Document, translation: BaseModel, original: BaseModel, original_name: str, language: str
) -> list[Problem]:
    """What in ``translation`` does not match ``original``: a field or an item more or less, a list
    written as text, and (as warnings) text still the original's, untranslated, unless it has
    nothing to translate (:func:`_nothing_to_translate`) or is listed in ``same_as_original``."""
    problems: list[Problem] = []
    same = set(getattr(translation, SAME_AS_ORIGINAL, None) or ())
    texts: set[str] = set()  # every text field compared, by the name `check` gives it

    def add(loc: Loc, message: str, hint: str, severity: str = "error", *, key: bool = False, missing=False) -> None:
        if missing:  # at the mapping that should hold it
            line, column = position_of(doc.data, loc)
        else:
            line, column = position_of(doc.data, loc, key=key)
        problems.append(Problem(doc.path, line, column, message, hint, severity))

    def compare(loc: Loc, text: Any, source: Any, name: str) -> None:
        if isinstance(text, str) and isinstance(source, str):
            texts.add(field_path(loc))
            if name not in KEPT_WHEN_LEFT_OUT and field_path(loc) not in same and _same_text(text, source):
                add(
                    loc,
                    f"{field_path(loc)}: still the original's text, not yet translated into {language_name(language, 'en')}",
                    f"translate it; if it reads the same in both languages, list it in this file under "
                    f"`{SAME_AS_ORIGINAL}:` (a line `  - {field_path(loc)}`)",
                    "warning",
                )
        elif isinstance(text, list) != isinstance(source, list):
            shape = f"a list of {len(source)} items" if isinstance(source, list) else "one text"
            add(loc, f"{field_path(loc)}: the original ({original_name}) writes it as {shape}", "write it the same way")

    def walk(loc: Loc, text: BaseModel, source: BaseModel) -> None:
        for name in translatable_fields(type(source)):
            here = (*loc, name)
            translated, written = getattr(text, name, None), getattr(source, name, None)
            if translated is None:
                if written not in (None, []) and name not in KEPT_WHEN_LEFT_OUT:
                    add(
                        loc,
                        f"{field_path(here)} is missing: the original ({original_name}) has it",
                        f"add `{name}:` with its translation",
                        missing=True,
                    )
                continue
            if written in (None, []):
                add(
                    here,
                    f"{field_path(here)}: the original ({original_name}) has no {name}, so there is nothing to translate",
                    f"remove it here, or add it to {original_name} first",
                    key=True,
                )
                continue
            if isinstance(translated, list) and isinstance(written, list) and name not in ANY_COUNT:
                if len(translated) != len(written):
                    add(
                        here,
                        f"{field_path(here)}: {len(translated)} item{'s' * (len(translated) != 1)} here, "
                        f"{len(written)} in the original ({original_name})",
                        "translate each item of the original, in the same order, and nothing else",
                        key=True,
                    )
                    continue
                for index, (item, source_item) in enumerate(zip(translated, written, strict=True)):
                    if isinstance(item, BaseModel) and isinstance(source_item, BaseModel):
                        walk((*here, index), item, source_item)
                    else:
                        compare((*here, index), item, source_item, name)
            elif name not in ANY_COUNT:
                compare(here, translated, written, name)

    walk((), translation, original)
    for index, named in enumerate(getattr(translation, SAME_AS_ORIGINAL, None) or ()):
        if named not in texts:
            add(
                (SAME_AS_ORIGINAL, index),
                f'{SAME_AS_ORIGINAL}[{index}]: "{named}" is not a text of this translation',
                "name a field as `check` names it, e.g. subtitle, authors[0].bio or figures[1].caption",
            )
    return problems


def _same_text(text: str, source: str) -> bool:
    """The same words, spacing aside, in a text that has something to translate."""
    return " ".join(text.split()) == " ".join(source.split()) and not _nothing_to_translate(text)


NOT_WORDS = re.compile(r"`[^`]*`|<?(?:https?://|www\.|mailto:)[^\s>)]*>?|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
"""What is the same in every language inside a text: inline code, web and email addresses."""

WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _nothing_to_translate(text: str) -> bool:
    """Text that may well read the same in both languages: once code and addresses are set aside,
    at most one word (a number, a URL, "Data", "GDPR", a one-word name). A longer name is for the
    writer to list in ``same_as_original``: no rule tells "Ada Lovelace" from "Big data" apart."""
    return len(WORD.findall(NOT_WORDS.sub(" ", text))) <= 1


def stale_problem(doc: Document, translation: BaseModel, original: BaseModel, refresh_command: str) -> Problem | None:
    """A warning at ``translated_from`` when the original's text changed since the translation followed it."""
    now = fingerprint(original)
    if getattr(translation, FINGERPRINT) == now:
        return None
    line, column = position_of(doc.data, (FINGERPRINT,))
    return Problem(
        doc.path,
        line,
        column,
        f"{FINGERPRINT}: the original changed since this translation was made (its text's fingerprint is now {now})",
        f"compare the original with this file (e.g. `git log -p` on it), update the translation, then run "
        f"`{refresh_command}`, which sets {FINGERPRINT}: {now}",
        "warning",
    )


# --- languages --------------------------------------------------------------------------


def language_name(code: str, in_language: str | None = None) -> str:
    """``code``'s name in ``in_language`` (its own name by default), from the CLDR through Babel:
    ``anglais`` for en in French, ``français`` for fr in French; the code itself when unknown."""
    try:
        names = Locale.parse(in_language or code, sep="-").languages
    except (UnknownLocaleError, ValueError):
        return code
    return names.get(code.replace("-", "_")) or names.get(code.split("-")[0]) or code


# --- merging ----------------------------------------------------------------------------


@dataclass
class Translated:
    """The translations of an issue into one language: the issue's texts and its briefs' (by the
    original brief's resolved path). Read and checked by the checker; merged by :func:`in_language`.

    Into the issue's own language, ``issue`` is None: only briefs written in another language are
    translated into it (``x.en.yaml`` of a brief with ``language: fr`` in an English issue)."""

    language: str
    issue: BaseModel | None
    briefs: dict[Path, BaseModel] = field(default_factory=dict)


def merged(original: Any, translation: BaseModel) -> Any:
    """``original`` with the text of ``translation`` in place of its own (checked to match first)."""
    update: dict[str, Any] = {}
    for name in translatable_fields(type(original)):
        text = getattr(translation, name, None)
        if text is None:
            continue
        written = getattr(original, name)
        if isinstance(written, list) and written and isinstance(written[0], BaseModel):
            update[name] = [merged(item, item_text) for item, item_text in zip(written, text, strict=True)]
        else:
            update[name] = text
    return original.model_copy(update=update)


def in_language(content: Content, language: str) -> Content:
    """``content`` as the edition in ``language`` shows it: the issue's and briefs' text replaced by
    their translation; a brief without one keeps its own text and language (and, in a translated
    edition, is listed in ``untranslated``, for the label saying so)."""
    if language == content.issue.language:
        back = content.translations.get(language)
        return content if back is None else _briefs_translated_back(content, back)
    translated = content.translations[language]
    briefs = {}
    untranslated = set()
    for path, entry in content.briefs.items():
        own = entry.brief.language or content.issue.language
        text = translated.briefs.get(path)
        if text is not None:
            brief = merged(entry.brief, text).model_copy(update={"language": None})
        elif own == language:
            brief = entry.brief.model_copy(update={"language": None})
        else:
            brief = entry.brief.model_copy(update={"language": own})
            untranslated.add(path)
        briefs[path] = dataclasses.replace(entry, brief=brief)
    issue_text = merged(content.issue, translated.issue) if translated.issue is not None else content.issue
    issue = issue_text.model_copy(update={"language": language})
    return dataclasses.replace(content, issue=issue, briefs=briefs, untranslated=untranslated)


def _briefs_translated_back(content: Content, translated: Translated) -> Content:
    """The edition in the issue's own language with the briefs written in another language replaced
    by their translation into it, where there is one (the others keep their own language)."""
    briefs = {
        path: dataclasses.replace(entry, brief=merged(entry.brief, text).model_copy(update={"language": None}))
        if (text := translated.briefs.get(path)) is not None
        else entry
        for path, entry in content.briefs.items()
    }
    return dataclasses.replace(content, briefs=briefs)
