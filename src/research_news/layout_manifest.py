"""What a layout says about itself (``layout.yaml``) and what its labels files may hold.

A layout is a folder with a manifest. The manifest names the layout it ``extends`` (the
built-in ``default`` when it says nothing), the font faces every edition uses (declared
once: the PDF embeds them, the web edition serves them as WOFF), its colours (a publication's
own ``colors:`` still win), the parts of a brief the email summary shows, and any labels of
its own that its templates use.
Both files are read like content, so a mistake is told as ``layout.yaml:line:column``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from .exceptions import ContentError, Problem
from .load import Document, LoadFailed, load_document
from .locate import model_problems
from .models import PARTS, Colors, Language, Placement

MANIFEST = "layout.yaml"


def _matching(pattern: str, message: str) -> AfterValidator:
    """A text rule with the message a layout's author reads when it is broken."""

    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise PydanticCustomError("layout_name", '"{value}" ' + message, {"value": value})
        return value

    return AfterValidator(check)


FontFile = Annotated[
    str,
    _matching(
        r"[A-Za-z0-9][A-Za-z0-9._-]*",
        "is not a file name: name a file in the layout's fonts/ folder, without a folder (e.g. MySerif-Regular.ttf)",
    ),
    Field(description="A file in the layout's fonts/ folder (e.g. MySerif-Regular.ttf)."),
]
LayoutName = Annotated[
    str,
    _matching(
        r"[A-Za-z0-9][A-Za-z0-9._-]*", "is not a layout name: name a folder in layouts/ beside the issues, or `default`"
    ),
]
LabelName = Annotated[
    str,
    _matching(r"[a-z][a-z0-9_]*", "is not a label name: lower-case letters, digits and underscores, e.g. partner_news"),
]
FontFamily = Annotated[
    str,
    _matching(
        r"[A-Za-z0-9][A-Za-z0-9 _-]*",
        "is not a font family name: letters, digits, spaces and hyphens (it is written into CSS)",
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FontFace(Strict):
    """One face of a font family, as ``@font-face`` declares it."""

    family: FontFamily
    file: FontFile
    weight: Literal[100, 200, 300, 400, 500, 600, 700, 800, 900] = 400
    style: Literal["normal", "italic"] = "normal"
    web: bool = Field(True, description="Serve this face on the web edition too (false keeps pages light).")


class EmailOptions(Strict):
    """What the email edition carries of each brief when it is not sent in full."""

    summary: Annotated[list[Placement], Field(min_length=1)] | None = None


class Manifest(Strict):
    """``layout.yaml``: a layout's own description; every field is optional."""

    name: str | None = None
    extends: LayoutName | None = Field(None, description="The layout this one changes; `default` when absent.")
    fonts: list[FontFace] = []
    colors: Colors = Field(Colors(), description="The layout's colours, for publications that set none.")
    email: EmailOptions = EmailOptions()
    labels: list[LabelName] = Field([], description="Labels of this layout's own templates, beyond the built-in ones.")


DEFAULT_SUMMARY: tuple[str, ...] = ("why_it_matters", "key_takeaways")
"""The parts of a brief the email shows when no layout of the chain says otherwise."""
assert set(DEFAULT_SUMMARY) <= set(PARTS)


def read_manifest(folder: Path) -> tuple[Manifest, Document | None]:
    """The manifest of the layout in ``folder`` (an empty one when it has no ``layout.yaml``)."""
    path = folder / MANIFEST
    if not path.is_file():
        return Manifest(), None
    document = _load(path)
    try:
        return Manifest.model_validate(document.data), document
    except ValidationError as error:
        raise ContentError(model_problems(document, Manifest, error)) from None


# --- labels ------------------------------------------------------------------------


class Labels(Strict):
    """Every built-in label; a labels file may give any of them, and no other name."""

    why_it_matters: str | None = None
    methodology: str | None = None
    key_findings: str | None = None
    key_takeaways: str | None = None
    contents: str | None = None
    about: str | None = None
    editorial: str | None = None
    events: str | None = None
    news: str | None = None
    contacts: str | None = None
    notes_pages: str | None = Field(
        None, description="The heading of the pages `build --pad-to` adds for the reader's notes."
    )
    team: str | None = None
    issue: str | None = None
    page: str | None = None
    authors: str | None = None
    references: str | None = None
    notes: str | None = Field(None, description="The heading of a brief's footnotes, listed at its end.")
    back_to_text: str | None = None
    figure: str | None = None
    credit: str | None = None
    source: str | None = None
    read_full_brief: str | None = None
    view_in_browser: str | None = None
    download_pdf: str | None = None
    unsubscribe: str | None = None
    more: str | None = None
    skip_to_content: str | None = None
    in_this_issue: str | None = None
    orcid: str | None = None
    email: str | None = None
    # Dates follow the language through Babel; these three override it (see DATE_LABELS).
    months: Annotated[list[str], Field(min_length=12, max_length=12)] | None = Field(
        None, description="Month names, January first, if the layout spells them otherwise than the language does."
    )
    date_format: str | None = Field(
        None, description="How a date is written, e.g. `{day} {month} {year}`; by default the language's long form."
    )
    date_locale: Language | None = Field(
        None, description="Whose conventions dates follow, e.g. `en-GB` for 16 January 2023; by default the language's."
    )
    about_authors: str | None = None
    back_to_contents: str | None = None
    view_figure: str | None = None
    links: str | None = None
    colon: str | None = None
    offprint: str | None = None
    issue_in_text: str | None = Field(
        None,
        description="`issue` inside a sentence: `issue` in English, `Ausgabe` in German (nouns keep their capital).",
    )
    title: str | None = None
    title_without_headline: str | None = None
    subject: str | None = None
    subject_without_headline: str | None = None
    # research-news site
    home: str | None = None
    latest_issue: str | None = None
    all_issues: str | None = None
    read_issue: str | None = None
    previous_issue: str | None = None
    next_issue: str | None = None
    previous_brief: str | None = None
    next_brief: str | None = None
    briefs: str | None = None
    people: str | None = None
    themes: str | None = None
    keywords: str | None = None
    search: str | None = None
    search_intro: str | None = None
    search_needs_script: str | None = None
    cite_this_brief: str | None = None
    download_citation: str | None = None
    share: str | None = None
    share_by_email: str | None = None
    download_offprint: str | None = None
    page_not_found: str | None = None
    page_not_found_text: str | None = None
    feeds: str | None = None
    feed_briefs: str | None = None
    feed_briefs_json: str | None = None
    feed_issues: str | None = None
    untranslated: str | None = Field(
        None, description="Above a brief a translated edition shows in its own language: `{language}` is its name."
    )
    read_in: str | None = Field(
        None, description="The link to the edition in this language: `Read in {language}` (its own name)."
    )
    languages: str | None = Field(
        None, description="Names the language switch of the web edition (for screen readers)."
    )
    quotes: (
        Annotated[
            list[str], Field(min_length=4, max_length=4, description="Opening and closing quotes, then the inner pair.")
        ]
        | None
    ) = None


DATE_LABELS = ("months", "date_format", "date_locale")
"""Labels that change how dates are spelled. Without them a date is spelled as the language writes
it (Babel's long form); a layout sets them only to differ, and only for the language of the labels
file that sets them (English's never spill over onto a language that has none)."""

PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "date_format": ("day", "month", "year"),
    "title": ("series", "issue", "number", "headline"),
    "title_without_headline": ("series", "issue", "number"),
    "subject": ("series", "issue", "number", "headline"),
    "subject_without_headline": ("series", "issue", "number"),
    "untranslated": ("language",),
    "read_in": ("language",),
}
"""The labels that are patterns, and the ``{names}`` each may use."""
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def read_labels(path: Path, own: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The labels in ``path``: built-in names with the right kind of value, plus the layout's ``own``."""
    document = _load(path)
    data = dict(document.data)
    extra = {key: value for key, value in data.items() if key in own and key not in Labels.model_fields}
    problems = [
        Problem(
            path,
            *_key_position(document, key),
            f"{key}: a label must be text",
            'quote it if it looks like a number or yes/no: "…"',
        )
        for key, value in extra.items()
        if not isinstance(value, str)
    ]
    try:
        Labels.model_validate({key: value for key, value in data.items() if key not in extra})
    except ValidationError as error:
        problems += model_problems(document, Labels, error)
    problems += _pattern_problems(document)
    if problems:
        raise ContentError(problems)
    return data


def _pattern_problems(document: Document) -> list[Problem]:
    """A pattern label naming a ``{placeholder}`` it cannot have (``{numbr}``)."""
    problems = []
    for key, allowed in PLACEHOLDERS.items():
        value = document.data.get(key)
        if not isinstance(value, str):
            continue
        for name in _PLACEHOLDER.findall(value):
            if name not in allowed:
                line, column = document.data.lc.value(key)
                problems.append(
                    Problem(
                        document.path,
                        line + 1,
                        column + 1,
                        f"{key}: {{{name}}} is not one of " + ", ".join(f"{{{a}}}" for a in allowed),
                    )
                )
    return problems


def fill(pattern: str, values: dict[str, str]) -> str:
    """``pattern`` with each ``{name}`` of ``values`` replaced: plain substitution, not
    ``str.format``, whose ``{day.__class__}`` would reach Python's internals from a labels file."""
    return _PLACEHOLDER.sub(lambda found: values.get(found[1], found[0]), pattern)


def _key_position(document: Document, key: str) -> tuple[int, int]:
    line, column = document.data.lc.key(key)
    return line + 1, column + 1


def _load(path: Path) -> Document:
    try:
        return load_document(path)
    except LoadFailed as failure:
        raise ContentError([failure.problem]) from None
