"""The content model: publication, issue and brief, exactly as docs/format.md names them.

Plain pydantic classes. Each rule carries the message a researcher reads when the
rule is broken, so the wording lives next to the rule it explains. Markdown fields are
kept as source text here; rendering happens later, in :mod:`research_news.markdown`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, get_args
from urllib.parse import unquote, urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

Placement = Literal["why_it_matters", "methodology", "key_findings", "key_takeaways"]
"""The four parts of a brief, in reading order; quotes and figures go after one of them."""

PARTS: tuple[str, ...] = get_args(Placement)
"""The same four names, for code that loops over the parts."""

# Controls, and the bidirectional overrides that make text display other than it reads.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
"""Bidirectional embeddings, overrides and isolates (a character class range)."""
_CONTROL = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f{BIDI_CONTROLS}]")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x85]")
# An RFC 2047 encoded word: mail programs decode it in a header, so text that looks like
# one could show readers (or the To: line) something other than what was written.
ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def _single_line(value: str) -> str:
    """Plain text fields end up in headers, titles and metadata: one line, no control characters."""
    value = value.strip()
    if _LINE_BREAK.search(value):
        raise PydanticCustomError("single_line", "must be a single line; remove the line break")
    if _CONTROL.search(value):
        raise PydanticCustomError("control_character", "contains an invisible control character; retype the text")
    if word := ENCODED_WORD.search(value):
        raise PydanticCustomError(
            "encoded_word",
            "contains {word}, which mail programs would decode as a hidden header; write the text itself",
            {"word": word.group()},
        )
    if not value:
        raise PydanticCustomError("empty_text", "is empty; write some text or remove the field")
    return value


def _markdown_text(value: str) -> str:
    if _CONTROL.sub("", value.replace("\t", "")) != value.replace("\t", ""):
        raise PydanticCustomError("control_character", "contains an invisible control character; retype the text")
    if not value.strip():
        raise PydanticCustomError("empty_text", "is empty; write some text or remove the field")
    return value


Text = Annotated[str, AfterValidator(_single_line)]
"""One line of plain text (titles, names, roles)."""

_MARKDOWN_CHECK = AfterValidator(_markdown_text)
Markdown = Annotated[str, _MARKDOWN_CHECK, Field(json_schema_extra={"format": "markdown"})]
"""CommonMark source; raw HTML is never passed through when rendered."""


def holds_markdown(field: FieldInfo | Any) -> bool:
    """True when a field (or a type) reads text as markdown: alone, in a list or in a union.

    Only those values are markdown: link rules apply to them, while plain :data:`Text`
    (titles, names, keywords) may hold ``<`` or ``](`` and is escaped wherever it is shown.
    """
    if isinstance(field, FieldInfo):  # pydantic keeps a field's own Annotated metadata apart
        return _MARKDOWN_CHECK in field.metadata or holds_markdown(field.annotation)
    return field == Markdown or any(holds_markdown(arg) for arg in get_args(field))


def _email_address(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise PydanticCustomError("email", '"{value}" is not an email address', {"value": value}) from None


EmailAddress = Annotated[str, AfterValidator(_email_address), Field(json_schema_extra={"format": "email"})]


def orcid_checksum_ok(orcid: str) -> bool:
    """ISO 7064 mod 11-2 over the 15 digits, as ORCID specifies."""
    digits = orcid.replace("-", "")
    total = 0
    for char in digits[:-1]:
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11
    return digits[-1] == ("X" if check == 10 else str(check))


def _orcid(value: str) -> str:
    value = value.strip().removeprefix("https://orcid.org/")
    if not re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", value):
        raise PydanticCustomError(
            "orcid_format", '"{value}" is not an ORCID iD; write it as 0000-0002-1825-0097', {"value": value}
        )
    if not orcid_checksum_ok(value):
        raise PydanticCustomError(
            "orcid_checksum",
            '"{value}" is not a valid ORCID iD (its check digit is wrong); copy it from orcid.org',
            {"value": value},
        )
    return value


Orcid = Annotated[str, AfterValidator(_orcid), Field(pattern=r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")]


def _link(schemes: tuple[str, ...]):
    def check(value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme.lower() not in schemes:
            raise PydanticCustomError(
                "url_scheme",
                '"{value}" is not allowed: links must start with {schemes}',
                {"value": value, "schemes": " or ".join(f"{s}:" for s in schemes)},
            )
        if parts.scheme.lower() in ("http", "https") and not parts.netloc:
            raise PydanticCustomError("url_host", '"{value}" has no host name', {"value": value})
        if re.search(r"[\s\x00-\x1f\x7f]", value):
            raise PydanticCustomError("url_space", '"{value}" contains spaces or line breaks', {"value": value})
        if parts.scheme.lower() == "mailto" and "@" not in parts.path:
            raise PydanticCustomError(
                "url_mailto", '"{value}" names no address; write mailto:someone@example.org', {"value": value}
            )
        return value

    return AfterValidator(check)


WebUrl = Annotated[str, _link(("http", "https")), Field(json_schema_extra={"format": "uri"})]
ADDRESS_SLOT = re.compile(r"\{email\}|%7[Bb]email%7[Dd]")
"""Where the unsubscribe setting names the reader's address (a URL may have its braces percent-encoded)."""
LONGEST_ADDRESS_IN_URL = 3 * 64 + (254 - 64)
"""An address as ``send`` puts it into a URL: at most 254 characters (RFC 5321), of which the 64
before the @ may each become %XX; the domain (IDNA) never needs quoting."""
_UNSUBSCRIBE_HEADER = len("List-Unsubscribe: <>")


def _fits_a_header_line(value: str) -> str:
    """The List-Unsubscribe header carries this URL literally (never encoded), on one line of at
    most 998 characters, whatever reader's address fills it: refuse what could not."""
    if not value.isascii():
        raise PydanticCustomError(
            "url_ascii",
            '"{value}" has characters beyond ASCII, which the List-Unsubscribe header cannot '
            "carry; percent-encode them (é → %C3%A9) and write the domain in its xn-- form",
            {"value": value},
        )
    slots = len(ADDRESS_SLOT.findall(value))
    longest = len(ADDRESS_SLOT.sub("", value)) + slots * LONGEST_ADDRESS_IN_URL
    if _UNSUBSCRIBE_HEADER + longest > 998:
        filled = " once the longest possible address fills its {email}" if slots else ""
        raise PydanticCustomError(
            "url_length",
            "is {length} characters long{filled}; the List-Unsubscribe header must hold it on one "
            "line of at most 998 characters: shorten it to {most} characters or fewer",
            {"length": longest, "filled": filled, "most": 998 - _UNSUBSCRIBE_HEADER - longest + len(value)},
        )
    return value


UnsubscribeUrl = Annotated[str, _link(("mailto", "https")), AfterValidator(_fits_a_header_line)]

ImagePath = Annotated[
    str,
    AfterValidator(_single_line),
    Field(description="Path to a png, jpg or svg file, relative to this YAML file's folder."),
]
"""Checked against the file system (exists, inside the content tree) by :mod:`research_news.validate`."""

BriefPath = Annotated[str, AfterValidator(_single_line), Field(description="Path to a brief, relative to issue.yaml.")]


def _iso_date(value: object) -> object:
    """Dates arrive as the text the author typed; say clearly what is wrong with them."""
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise PydanticCustomError(
                "date_format", '"{value}" is not a date; write it as YYYY-MM-DD', {"value": value}
            )
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as error:
            raise PydanticCustomError(
                "date_value", '"{value}" is not a real date ({reason})', {"value": value, "reason": str(error)}
            ) from None
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]

LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
"""A language tag as content and subscriber lists write it: en, fr, pt-BR, zh-Hant."""

Language = Annotated[
    str,
    StringConstraints(pattern=f"^{LANGUAGE_TAG.pattern}$"),
    Field(description="A language code such as en, fr or pt-BR.", examples=["en", "fr"]),
]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$"), Field(examples=["#0b4f6c"])]


class Strict(BaseModel):
    """Base for every model: unknown fields are errors (they are usually typos)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


# --- brief -------------------------------------------------------------------------


class Author(Strict):
    """A person who wrote the study, shown with photo and bio at the top of the brief."""

    name: Text
    role: Text | None = None
    affiliation: Text | None = None
    email: EmailAddress | None = None
    orcid: Orcid | None = None
    photo: ImagePath | None = None
    bio: Markdown | None = None


class Quote(Strict):
    """A pull quote, set large after the part of the brief named by ``after``."""

    text: Text
    source: Text | None = None
    after: Placement = "key_findings"


class Figure(Strict):
    """An image with its caption and credit, placed after the part named by ``after``."""

    src: ImagePath
    alt: Text = Field(description="What the image shows, for screen readers and blocked images.")
    caption: Markdown | None = None
    credit: Text | None = None
    after: Placement = "methodology"


def _doi(value: object) -> object:
    """A DOI as people write it (``10.1234/x``, ``doi:10.1234/x``, ``https://doi.org/10.1234/x``),
    kept as the bare ``10.1234/x`` that every edition links to https://doi.org/."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    bare = re.sub(r"^(?:doi:\s*|(?:https?://)?(?:dx\.)?doi\.org/)", "", text, flags=re.IGNORECASE)
    if bare != text:
        bare = unquote(bare)  # a copied doi.org address may have %2F for its slash
    if not re.fullmatch(r"10\.\d{4,9}/\S+", bare) or _CONTROL.search(bare):
        raise PydanticCustomError(
            "doi",
            '"{value}" is not a DOI; write it like 10.1234/abcd, doi:10.1234/abcd or https://doi.org/10.1234/abcd',
            {"value": value},
        )
    return bare


Doi = Annotated[
    str, BeforeValidator(_doi), Field(description="10.1234/abcd, doi:10.1234/abcd or https://doi.org/10.1234/abcd.")
]


class Reference(Strict):
    """A publication the brief is based on."""

    text: Markdown
    doi: Doi | None = None
    url: WebUrl | None = None


def _findings_shape(value: object) -> object:
    if not isinstance(value, (str, list)):
        raise PydanticCustomError("findings_type", "must be markdown text or a list of markdown items")
    return value


class Brief(Strict):
    """One study, written by its researchers: the unit of content."""

    title: Annotated[Text, StringConstraints(max_length=150)]
    subtitle: Text | None = None
    authors: Annotated[list[Author], Field(min_length=1, max_length=10)]
    why_it_matters: Markdown
    methodology: Markdown
    key_findings: Annotated[Markdown | Annotated[list[Markdown], Field(min_length=1)], BeforeValidator(_findings_shape)]
    key_takeaways: Annotated[list[Markdown], Field(min_length=1, max_length=6)]
    quotes: list[Quote] = []
    figures: list[Figure] = []
    references: list[Reference] = []
    keywords: list[Text] = []
    language: Language | None = None


# --- issue -------------------------------------------------------------------------


def _one_text_per_language(value: object) -> object:
    """A mapping given for a localizable text must name languages: ``{en: …, fr: …}``."""
    if isinstance(value, dict) and not value:
        raise PydanticCustomError("empty_translations", "names no language; write the text, or `en: …` lines")
    return value


LocalText = Annotated[Text | dict[Language, Text], BeforeValidator(_one_text_per_language)]
"""One line of text, or one per language (``{en: Editor, fr: Rédactrice}``): each issue shows its language's."""

LocalMarkdown = Annotated[Markdown | dict[Language, Markdown], BeforeValidator(_one_text_per_language)]
"""Markdown, or markdown per language, like :data:`LocalText`."""


def localized(value: str | dict[str, str] | None, lang: str, fallbacks: list[str] | tuple[str, ...] = ()) -> str | None:
    """The text of ``value`` for ``lang``: its base language's (``pt`` for ``pt-BR``), else the first of
    ``fallbacks`` given (the publication's languages), else the first written."""
    if not isinstance(value, dict):
        return value
    for code in (lang, lang.split("-")[0], *fallbacks):
        if code in value:
            return value[code]
    return next(iter(value.values()), None)


class Person(Strict):
    """Someone readers can contact: the editorial team or an issue's contacts."""

    name: Text
    role: LocalText | None = None
    email: EmailAddress | None = None


class Section(Strict):
    """A theme of the issue and the briefs under it, in order."""

    title: Text
    briefs: Annotated[list[BriefPath], Field(min_length=1)]


# The items of the built-in section types (see sections.py), listed after the briefs.


class Event(Strict):
    """An upcoming seminar, webinar or conference."""

    date: IsoDate
    title: Text
    place: Text | None = None
    url: WebUrl | None = None
    summary: Markdown | None = None


class NewsItem(Strict):
    """A short item from a partner centre."""

    title: Text
    source: Text
    url: WebUrl | None = None
    summary: Markdown | None = None


# Validate issues with sections.issue_model(): this model plus a list field for each registered
# section type (events, news and any a package registers). The docstring is the schema's description.
class Issue(Strict):
    """One number of the series: which briefs, in which order, under which themes."""

    number: Annotated[int, Field(gt=0, strict=True)]
    date: IsoDate
    language: Language = "en"
    headline: Text | None = None
    preheader: Annotated[Text, StringConstraints(max_length=150)] | None = None
    editorial: Markdown | None = None
    sections: Annotated[list[Section], Field(min_length=1)]
    contacts: list[Person] | None = None
    email_full_text: bool = Field(
        False, description="Put each brief's full text in the email instead of a summary and a link."
    )


# --- publication -------------------------------------------------------------------


class Colors(Strict):
    """Theme colours; the layout derives tints from them."""

    primary: Colour | None = None
    accent: Colour | None = None


def _mailbox(value: str) -> str:
    """`Name <address>` or a bare address: exactly one mailbox, as a header will carry it.

    Parsed as a ``From`` header is, so that what is checked is what mail programs will
    read: one address, nothing left over, nothing repaired. An international domain is
    written in its ASCII (IDNA) form, which every relay accepts.
    """
    from email import policy
    from email.headerregistry import Address

    value = _single_line(value)
    header = policy.default.header_factory("From", value)
    mailboxes = [mailbox for group in header.groups for mailbox in group.addresses]
    if len(mailboxes) != 1 or header.defects or not mailboxes[0].domain:
        raise PydanticCustomError(
            "mailbox", '"{value}" is not one sender; write it as `Name <address@example.org>`', {"value": value}
        )
    mailbox = mailboxes[0]
    try:
        checked = validate_email(mailbox.addr_spec, check_deliverability=False)
    except EmailNotValidError:
        raise PydanticCustomError("email", '"{value}" is not an email address', {"value": mailbox.addr_spec}) from None
    if checked.ascii_email is None:
        raise PydanticCustomError(
            "mailbox_ascii",
            '"{value}" has letters beyond ASCII before the @, which most relays refuse',
            {"value": mailbox.addr_spec},
        )
    return str(Address(display_name=mailbox.display_name, addr_spec=checked.ascii_email))


Mailbox = Annotated[str, AfterValidator(_mailbox)]


class EmailSettings(Strict):
    """Who the email edition comes from and how readers leave the list."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Mailbox | None = Field(None, alias="from")
    reply_to: Mailbox | None = None
    unsubscribe: UnsubscribeUrl | None = Field(
        None, description="A mailto: or https: address; `{email}` is replaced by each reader's address."
    )


LIMITED_FIELDS = (*PARTS, "bio", "editorial", "about")
"""The fields ``limits`` may cap in words: the parts of a brief, an author's bio, the editorial, ``about``."""


class Publication(Strict):
    """What every issue of the series shares: name, look, team, sender."""

    name: Text
    series: LocalText = "Research News"
    tagline: LocalText | None = None
    about: LocalMarkdown | None = None
    website: WebUrl | None = None
    web_base_url: WebUrl | None = None
    logo: ImagePath | None = None
    colors: Colors = Colors()
    layout: Text = "default"
    languages: list[Language] = []
    translations: Literal["optional", "required"] = Field(
        "optional",
        description="Whether every brief of a translated issue must have a translation (briefs/x.fr.yaml); "
        "when optional, a brief without one is shown in its own language, labelled as such.",
    )
    team: list[Person] = []
    email: EmailSettings = EmailSettings()
    limits: dict[Literal[LIMITED_FIELDS], Annotated[int, Field(gt=0, strict=True)]] = {}  # type: ignore[valid-type]

    def email_edition_lacks(self) -> list[str]:
        """The settings the email edition needs that this publication leaves out: absolute links
        to the web edition (``web_base_url``) and a sender (``email.from``)."""
        return [
            name for name, value in (("web_base_url", self.web_base_url), ("email.from", self.email.from_)) if not value
        ]


MODELS: dict[str, type[Strict]] = {"brief": Brief, "issue": Issue, "publication": Publication}
"""The content files' models; the issue's section types are added by ``sections.content_model``."""
