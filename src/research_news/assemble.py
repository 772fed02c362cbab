"""Stage 3: turn validated content into the edition every renderer draws from.

This is where data is shaped for presentation, so templates only loop and filter:
markdown is rendered once (safely), quotes and figures are grouped under the part
they follow, a brief's footnotes are numbered across its fields (to be listed at its
end), labels and dates are resolved for each brief's language, and image sizes are read.
Renderers differ only in how they turn an :class:`Image` into a URL.
The items of each section type (events, news, see sections.py) become :class:`Entry`
views, grouped in an :class:`Extra` per type that the templates render by its name.
An issue built in several languages is assembled once per language, from the content
:func:`translations.in_language` makes; each edition knows its folder and the others
(:class:`Alternate`), for ``hreflang`` links and the language switch.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup
from pydantic import BaseModel

from . import markdown, sections
from .images import image_size
from .layout import Layout, LayoutError, format_date
from .layout_manifest import fill
from .load import Document
from .models import PARTS, Author, Brief, Figure, Issue, Person, holds_markdown, localized
from .slugs import brief_slug
from .translations import language_name
from .typography import Quotes, typeset
from .validate import Content

PART_HEADING_LEVEL = 4
"""Brief title is h2, a part ("Methodology") h3: markdown sub-headings start at h4."""


@dataclass(frozen=True)
class Image:
    """A local image: where it is, how renderers should name it, and its intrinsic size."""

    source: Path  # the file on disk, inside the content tree
    rel: str  # its path relative to the content tree, with forward slashes
    alt: str
    width: int | None = None
    height: int | None = None

    @property
    def is_svg(self) -> bool:
        return self.source.suffix.lower() == ".svg"

    def height_for(self, width: int) -> int | None:
        """Height at display ``width`` keeping the aspect ratio (for email's width/height attributes)."""
        if self.width and self.height:
            return round(self.height * width / self.width)
        return None


@dataclass
class AuthorView:
    name: str
    role: str | None
    affiliation: str | None
    email: str | None
    orcid: str | None
    orcid_url: str | None
    photo: Image | None
    bio_html: Markup
    bio_source: str | None


@dataclass
class QuoteView:
    text: str
    source: str | None
    id: str = ""
    number: int = 0  # 1-based, in the order of the brief's `quotes:`


@dataclass
class FigureView:
    id: str
    number: int
    image: Image
    caption_html: Markup
    caption_source: str | None
    credit: str | None


@dataclass
class PartView:
    """One of the four parts of a brief, with the quotes and figures placed after it."""

    key: str
    id: str
    label: str
    html: Markup | None  # when written as markdown text
    items: list[Markup] | None  # when written as a list (always, for key_takeaways)
    source: str | list[str]
    quotes: list[QuoteView] = field(default_factory=list)
    figures: list[FigureView] = field(default_factory=list)


@dataclass
class ReferenceView:
    html: Markup
    source: str
    doi: str | None
    url: str | None  # the DOI link when there is a DOI, else the given URL


@dataclass
class BriefView:
    id: str
    slug: str
    title: str
    subtitle: str | None
    lang: str
    labels: dict[str, Any]
    authors: list[AuthorView]
    parts: list[PartView]
    references: list[ReferenceView]
    keywords: list[str]
    word_count: int
    path: Path | None = None  # the brief's YAML file, to locate editorial warnings
    footnotes: list[markdown.Footnote] = field(default_factory=list)  # shown at the end of the brief
    untranslated_note: str | None = None  # in a translated edition, a brief shown in its own language says so

    def footnotes_cited_in(self, keys) -> list[markdown.Footnote]:
        """The footnotes cited in the parts ``keys`` (or in their figures' captions): what an
        edition showing only those parts lists, with the numbers the full brief gives them."""
        shown = set(keys)  # once: templates may pass a generator (`parts | map(attribute="key")`)
        return [note for note in self.footnotes if shown.intersection(note.cited_in)]

    @property
    def parts_by_key(self) -> dict[str, PartView]:
        return {part.key: part for part in self.parts}

    @property
    def author_names(self) -> str:
        return ", ".join(author.name for author in self.authors)


@dataclass
class SectionView:
    id: str
    title: str
    briefs: list[BriefView]


class Entry:
    """One item of a section type as templates see it: each field of its model as written, and
    for a markdown field ``<field>_html`` (rendered safely) and ``<field>_source``, for a date
    ``<field>_label`` (spelled out in the issue's language). Built by :func:`entry_view`."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"Entry({self.__dict__!r})"


@dataclass
class Extra:
    """The items of one section type in an issue (events, news, …), shown after the briefs.

    Templates render it through ``extras/<type>.html.j2`` (``.txt.j2`` for the plain text);
    ``id`` is its anchor in the page and ``title`` its heading, from the type's label.
    """

    type: str
    id: str
    title: str
    entries: list[Entry]


@dataclass
class PublicationView:
    name: str
    series: str
    tagline: str | None
    about_html: Markup
    about_source: str | None
    website: str | None
    web_base_url: str | None
    logo: Image | None
    primary: str | None
    accent: str | None
    email_from: str | None
    reply_to: str | None
    unsubscribe: str | None


@dataclass
class Alternate:
    """The edition of the issue in one of the languages it is built in, as seen from another:
    for ``hreflang`` links and the language switch (``name`` in its own language)."""

    lang: str
    name: str
    href: str  # relative to this edition's folder
    url: str | None  # absolute, under web_base_url, when the publication has one
    current: bool
    read_in: str  # "Lire en français": the invitation, in the other edition's language
    colon: str  # the colon in that language, after ``read_in`` on a line of its own (plain text)


@dataclass
class Edition:
    """One issue, ready to render: everything templates need, nothing they must compute."""

    slug: str
    lang: str
    labels: dict[str, Any]
    number: int
    date: dt.date
    date_label: str
    headline: str | None
    preheader: str
    editorial_html: Markup
    editorial_source: str | None
    publication: PublicationView
    sections: list[SectionView]
    extras: list[Extra]  # the section types the issue has items of, in the order they are registered
    contacts: list[Person]
    email_full_text: bool
    root: Path  # the content tree (folder of publication.yaml)
    issue_dir: Path
    layout: Layout
    documents: dict[Path, Document] = field(default_factory=dict)  # the validated YAML, to locate warnings
    folder: str = ""  # where this edition goes inside build/<slug>/: "" for the issue's own language, else "fr/"
    alternates: list[Alternate] = field(default_factory=list)  # every language's edition, when there are several

    def document(self, path: Path | None) -> Document | None:
        """The validated document read from ``path`` (publication, issue or brief), if any."""
        return self.documents.get(path.resolve()) if path is not None else None

    @property
    def briefs(self) -> list[BriefView]:
        return [brief for section in self.sections for brief in section.briefs]

    @property
    def title(self) -> str:
        """Document title: series, number and headline (PDF metadata, <title>), as the labels spell it."""
        return self._labelled("title")

    @property
    def subject(self) -> str:
        """Email subject: series, number and headline, as the labels spell it."""
        return self._labelled("subject")

    def _labelled(self, pattern: str) -> str:
        values = {
            "series": self.publication.series,
            "issue": self.labels["issue_in_text"],
            "number": str(self.number),
            "headline": self.headline or "",
        }
        return fill(self.labels[pattern if self.headline else f"{pattern}_without_headline"], values)

    @property
    def keywords(self) -> list[str]:
        return list(dict.fromkeys(k for brief in self.briefs for k in brief.keywords))

    @property
    def authors(self) -> list[str]:
        return list(dict.fromkeys(a.name for brief in self.briefs for a in brief.authors))

    @property
    def pdf_name(self) -> str:
        return f"{self.slug}.pdf"

    @property
    def web_url(self) -> str | None:
        """Where the web edition of this issue is published, if the publication says."""
        base = self.publication.web_base_url
        return f"{base.rstrip('/')}/{self.slug}/{self.folder}" if base else None

    @property
    def images(self) -> list[Image]:
        """Every image the edition shows (logo, photos, figures), once each."""
        found: dict[Path, Image] = {}
        if self.publication.logo:
            found[self.publication.logo.source] = self.publication.logo
        for brief in self.briefs:
            for author in brief.authors:
                if author.photo:
                    found.setdefault(author.photo.source, author.photo)
            for part in brief.parts:
                for figure in part.figures:
                    found.setdefault(figure.image.source, figure.image)
        return list(found.values())


# --- assembly ----------------------------------------------------------------------


def assemble(content: Content) -> Edition:
    """The edition of ``content``'s issue, in the layout its publication names."""
    publication, issue = content.publication, content.issue
    layout = Layout(content.root, publication.layout)
    labels = layout.labels(issue.language)
    quotes = tuple(labels["quotes"])
    sections = [
        SectionView(
            id=f"section-{index + 1}",
            title=typeset(section.title, issue.language, quotes),
            briefs=[
                _brief(
                    content.briefs[(content.issue_dir / path).resolve()],
                    issue.language,
                    layout,
                    content.root,
                    _untranslated_note(content, (content.issue_dir / path).resolve(), labels),
                )
                for path in section.briefs
            ],
        )
        for index, section in enumerate(issue.sections)
    ]
    edition = Edition(
        slug=content.issue_dir.resolve().name,
        lang=issue.language,
        labels=labels,
        number=issue.number,
        date=issue.date,
        date_label=format_date(issue.date, labels),
        headline=typeset(issue.headline, issue.language, quotes),
        preheader="",
        editorial_html=markdown.render(issue.editorial, issue.language, 3, quotes),
        editorial_source=issue.editorial,
        publication=_publication(content, labels),
        sections=sections,
        extras=_extras(issue, labels),
        contacts=[
            _person(person, issue.language, publication.languages)
            for person in (issue.contacts if issue.contacts is not None else publication.team)
        ],
        email_full_text=issue.email_full_text,
        root=content.root,
        issue_dir=content.issue_dir.resolve(),
        layout=layout,
        documents=content.documents,
        folder=_folder(content, issue.language),
        alternates=_alternates(content, layout),
    )
    edition.preheader = typeset(issue.preheader, issue.language, quotes) or _first_takeaway(edition)
    return edition


def _folder(content: Content, lang: str) -> str:
    """Where the edition in ``lang`` goes inside build/<slug>/: the issue's own language at the
    top, each translation in a folder named after its language."""
    own = content.languages[0] if content.languages else content.issue.language
    return "" if lang == own else f"{lang}/"


def _alternates(content: Content, layout: Layout) -> list[Alternate]:
    """The editions in every language the issue is built in, linked from the one being assembled
    (none when there is only one)."""
    if len(content.languages) < 2:
        return []
    current = content.issue.language
    up = "../" if _folder(content, current) else ""
    base = content.publication.web_base_url
    slug = content.issue_dir.resolve().name
    alternates = []
    for lang in content.languages:
        folder = _folder(content, lang)
        name = language_name(lang)
        alternates.append(
            Alternate(
                lang=lang,
                name=name[:1].upper() + name[1:],
                href="./" if lang == current else (up + folder) or "./",
                url=f"{base.rstrip('/')}/{slug}/{folder}" if base else None,
                current=lang == current,
                read_in=fill(layout.labels(lang)["read_in"], {"language": name}),
                # The line "Lire en français :" is French from end to end, for the French reader: its
                # colon is French too, whichever edition it is in ("Read in English:" in the French one).
                colon=layout.labels(lang)["colon"],
            )
        )
    return alternates


def _untranslated_note(content: Content, path: Path, labels: dict[str, Any]) -> str | None:
    """ "Article disponible en anglais": the label of a brief a translated edition shows untranslated."""
    if path not in content.untranslated:
        return None
    brief = content.briefs[path].brief
    language = language_name(brief.language or content.issue.language, content.issue.language)
    return fill(labels["untranslated"], {"language": language})


def _person(person: Person, lang: str, languages: list[str]) -> Person:
    """``person`` with their role in ``lang`` (a role may be given per language)."""
    return person.model_copy(update={"role": localized(person.role, lang, languages)})


def _publication(content: Content, labels: dict[str, Any]) -> PublicationView:
    p = content.publication
    lang, quotes = content.issue.language, tuple(labels["quotes"])
    about = localized(p.about, lang, p.languages)
    logo = _image(content.root / p.logo, content.root, p.name) if p.logo else None
    return PublicationView(
        name=p.name,
        series=localized(p.series, lang, p.languages) or "",
        tagline=typeset(localized(p.tagline, lang, p.languages), lang, quotes),
        about_html=markdown.render(about, lang, 3, quotes),
        about_source=about,
        website=p.website,
        web_base_url=p.web_base_url,
        logo=logo,
        primary=p.colors.primary,
        accent=p.colors.accent,
        email_from=p.email.from_,
        reply_to=p.email.reply_to,
        unsubscribe=p.email.unsubscribe,
    )


def _brief(entry, issue_lang: str, layout: Layout, root: Path, untranslated_note: str | None = None) -> BriefView:
    brief: Brief = entry.brief
    folder = entry.path.parent
    lang = brief.language or issue_lang
    labels = layout.labels(lang)
    quotes = tuple(labels["quotes"])
    slug = brief_slug(entry.path)
    # Rendered in reading order (each part, then its figures; the biographies last), so
    # footnotes are numbered as a reader meets them.
    notes = markdown.Footnotes(slug, _markdown_texts(brief))
    parts = []
    for key in PARTS:
        parts.append(_part(brief, key, slug, lang, labels, notes))
        for number, figure in enumerate(brief.figures, start=1):
            if figure.after == key:
                parts[-1].figures.append(_figure(figure, number, slug, folder, root, lang, quotes, notes))
    by_key = {part.key: part for part in parts}
    for number, quote in enumerate(brief.quotes, start=1):
        view = QuoteView(typeset(quote.text, lang, quotes), quote.source, f"{slug}-quote-{number}", number)
        by_key[quote.after].quotes.append(view)
    authors = [_author(author, folder, root, lang, quotes, notes) for author in brief.authors]
    return BriefView(
        id=f"brief-{slug}",
        slug=slug,
        title=typeset(brief.title, lang, quotes),
        subtitle=typeset(brief.subtitle, lang, quotes),
        lang=lang,
        labels=labels,
        authors=authors,
        parts=parts,
        references=[_reference(ref, lang, quotes) for ref in brief.references],
        keywords=list(brief.keywords),
        word_count=sum(markdown.word_count(getattr(brief, key)) for key in PARTS),
        path=entry.path,
        footnotes=notes.shown(lang, quotes),
        untranslated_note=untranslated_note,
    )


BIOS = "authors"
"""What :class:`markdown.Footnotes` calls the authors' biographies, where a footnote may be cited too."""


def _markdown_texts(brief: Brief) -> list[str]:
    """Every markdown field of ``brief``, where its footnotes may be defined."""
    texts = []
    for key in PARTS:
        value = getattr(brief, key)
        texts += value if isinstance(value, list) else [value] if value else []
    texts += [figure.caption for figure in brief.figures if figure.caption]
    texts += [author.bio for author in brief.authors if author.bio]
    return texts


def _part(brief: Brief, key: str, slug: str, lang: str, labels: dict[str, Any], notes: markdown.Footnotes) -> PartView:
    source = getattr(brief, key)
    is_list = isinstance(source, list)
    quotes = tuple(labels["quotes"])

    def render(text: str) -> Markup:
        return markdown.render(text, lang, PART_HEADING_LEVEL, quotes, notes, key)

    return PartView(
        key=key,
        id=f"{slug}-{key.replace('_', '-')}",
        label=labels[key],
        html=None if is_list else render(source),
        items=[render(item) for item in source] if is_list else None,
        source=source,
    )


def _author(
    author: Author, folder: Path, root: Path, lang: str, quotes: Quotes, notes: markdown.Footnotes
) -> AuthorView:
    return AuthorView(
        name=author.name,
        role=author.role,
        affiliation=author.affiliation,
        email=author.email,
        orcid=author.orcid,
        orcid_url=f"https://orcid.org/{author.orcid}" if author.orcid else None,
        photo=_image(folder / author.photo, root, author.name) if author.photo else None,
        bio_html=markdown.render(author.bio, lang, PART_HEADING_LEVEL, quotes, notes, BIOS),
        bio_source=author.bio,
    )


def _figure(
    figure: Figure,
    number: int,
    slug: str,
    folder: Path,
    root: Path,
    lang: str,
    quotes: Quotes,
    notes: markdown.Footnotes,
) -> FigureView:
    return FigureView(
        id=f"{slug}-figure-{number}",
        number=number,
        image=_image(folder / figure.src, root, figure.alt),
        # cited where the figure is shown: with the part it follows
        caption_html=markdown.render(figure.caption, lang, PART_HEADING_LEVEL, quotes, notes, figure.after),
        caption_source=figure.caption,
        credit=typeset(figure.credit, lang, quotes),
    )


def _reference(reference, lang: str, quotes: Quotes) -> ReferenceView:
    url = f"https://doi.org/{reference.doi}" if reference.doi else reference.url
    return ReferenceView(markdown.render_inline(reference.text, lang, quotes), reference.text, reference.doi, url)


def _extras(issue: Issue, labels: dict[str, Any]) -> list[Extra]:
    """The issue's items of every registered section type that it has any of."""
    extras = []
    for kind in sections.registered().values():
        items = sections.items_of(issue, kind)
        if items:
            entries = [entry_view(item, issue.language, labels) for item in items]
            extras.append(Extra(kind.name, kind.name, _heading(kind, labels), entries))
    return extras


def _heading(kind: sections.SectionType, labels: dict[str, Any]) -> str:
    """The label that heads a section type's items; a layout must provide one for each type it shows."""
    if kind.label not in labels:
        raise LayoutError(
            f"the layout has no label `{kind.label}` to head the section type {kind.name!r}: add `{kind.label}` "
            f"to the `labels:` list of its layout.yaml and `{kind.label}: …` to its labels/<language>.yaml files"
        )
    return labels[kind.label]


TYPESET_FIELDS = sections.PROSE_FIELDS


def entry_view(item: BaseModel, lang: str, labels: dict[str, Any]) -> Entry:
    """``item`` of a section type as templates see it (see :class:`Entry`)."""
    values: dict[str, Any] = {}
    quotes = tuple(labels["quotes"])
    for name, info in type(item).model_fields.items():
        value = getattr(item, name)
        values[name] = typeset(value, lang, quotes) if name in TYPESET_FIELDS and isinstance(value, str) else value
        if holds_markdown(info):
            values[f"{name}_html"] = (
                [markdown.render(text, lang, quotes=quotes) for text in value]
                if isinstance(value, list)
                else markdown.render(value, lang, quotes=quotes)
            )
            values[f"{name}_source"] = value
        if isinstance(value, dt.date):
            values[f"{name}_label"] = format_date(value, labels)
    return Entry(values)


def _image(path: Path, root: Path, alt: str) -> Image:
    source = path.resolve()
    width, height = image_size(source)
    return Image(source, source.relative_to(root.resolve()).as_posix(), alt, width, height)


def _first_takeaway(edition: Edition) -> str:
    for brief in edition.briefs:
        takeaways = brief.parts_by_key["key_takeaways"].source
        if takeaways:
            first = takeaways[0] if isinstance(takeaways, list) else takeaways
            return _plain(first)[:150]
    return edition.headline or ""


def _plain(markdown_text: str) -> str:
    """Markdown source reduced to its words, for preview lines."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown_text)
    return re.sub(r"[*_`#>]+", "", text).strip()
