"""The email edition: ``email.html`` for every mail client, and the editorial checks on it.

Mail clients are not browsers. Gmail drops ``<style>`` rules it dislikes and clips
messages over 102 KB; Outlook on Windows lays out with Word, which knows tables, widths
and little else. So the layout's ``email/`` templates build a 600-px, table-based page,
``email/email.css`` is inlined into ``style`` attributes with css-inline, and only
progressive enhancements (phone widths, dark mode) stay in a ``<style>`` element.

Every URL is absolute. Images are linked where the web edition copies them
(``{web_base_url}/{slug}/assets/{image.rel}``), so publishing ``build/<slug>/`` at
``{web_base_url}/{slug}/`` makes the email's images work; without ``web_base_url``
there is nothing to link to and the email cannot be rendered.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import css_inline

from ..assemble import BriefView, Edition, FigureView, Image
from ..exceptions import Problem, ResearchNewsError
from ..message import ADDRESS_MARKER, unsubscribe_url
from ..sections import require_templates
from ..tree import ISSUE_FILE, PUBLICATION_FILE
from .theme import palette
from .web import ASSETS

EMAIL_WIDTH = 600  # the de-facto standard: fits every preview pane, and Outlook's fixed-width table
CONTENT_WIDTH = 536  # EMAIL_WIDTH minus 32 px padding each side; figures are never wider
PHOTO_SIZE = 64
LOGO_WIDTH = 200
GMAIL_CLIP_BYTES = 102_000  # Gmail hides everything after ~102 KB behind "[Message clipped]"


@dataclass(frozen=True)
class EmailLinks:
    """Absolute URLs the email points to, all under the published web edition."""

    web: str  # the web edition: "view in your browser"
    pdf: str
    unsubscribe: str | None  # holds message.ADDRESS_MARKER where the reader's address goes: send fills it
    assets: str  # where the web edition's assets are published

    def image(self, image: Image) -> str:
        # the same place render_web copies it to: assets/<path in the content tree>
        return self.assets + quote(image.rel)

    def brief(self, brief: BriefView) -> str:
        return f"{self.web}#{brief.id}"

    def figure(self, figure: FigureView) -> str:
        return f"{self.web}#{figure.id}"


@dataclass(frozen=True)
class Picture:
    """An image as the email shows it: absolute URL and the exact pixel size to reserve."""

    url: str
    width: int
    height: int
    alt: str


def email_links(edition: Edition, marker: str = ADDRESS_MARKER) -> EmailLinks:
    """The email's absolute URLs, ``marker`` where the reader's address goes (see message.py); raises
    when the publication does not say where the web edition lives."""
    web = edition.web_url
    if web is None:
        raise ResearchNewsError(
            f"the email edition needs absolute links, but {edition.root / PUBLICATION_FILE} has no "
            "web_base_url: set it to where web editions are published (e.g. https://news.example.org/research-news), "
            "or build without the email (--only pdf,web)"
        )
    return EmailLinks(
        web=web,
        pdf=web + quote(edition.pdf_name),
        unsubscribe=unsubscribe_url(edition.publication.unsubscribe, marker),
        assets=f"{web}{ASSETS}/",
    )


def picture(links: EmailLinks, image: Image | None, max_width: int) -> Picture | None:
    """``image`` scaled to at most ``max_width``, or None when mail clients cannot show it.

    Gmail and Outlook do not display SVG, and an image of unknown size would break the
    layout before it loads; templates show alt text, caption and a link to the web instead.
    """
    if image is None or image.is_svg or not image.width or not image.height:
        return None
    width = min(max_width, image.width)
    return Picture(links.image(image), width, image.height_for(width) or width, image.alt)


def render_email(edition: Edition, marker: str = ADDRESS_MARKER) -> str:
    """The email HTML of ``edition``, with email.css inlined into style attributes (``marker`` where
    the reader's address goes: see message.py)."""
    links = email_links(edition, marker)
    require_templates(edition.layout, [extra.type for extra in edition.extras], "email")
    env = edition.layout.environment("email")
    env.globals.update(
        picture=functools.partial(picture, links),
        content_width=CONTENT_WIDTH,
        email_width=EMAIL_WIDTH,
        photo_size=PHOTO_SIZE,
        logo_width=LOGO_WIDTH,
    )
    context = {
        "edition": edition,
        "labels": edition.labels,
        "publication": edition.publication,
        "links": links,
        "theme": palette(edition),
        "full_text": edition.email_full_text,
    }
    html = env.get_template("email.html.j2").render(context)
    # A template too (colours come from the palette), but CSS, not HTML: no escaping of quotes.
    css_env = edition.layout.environment("email", autoescape=False)
    css_env.globals.update(env.globals)
    css = css_env.get_template("email.css.j2").render(context)
    return inline_css(html, css).rstrip("\n") + "\n"  # a text file ends with a newline, as the .eml part will


def inline_css(html: str, css: str) -> str:
    """``css`` moved into style attributes; the template's own ``<style>`` (media queries) kept as is."""
    inliner = css_inline.CSSInliner(
        inline_style_tags=False, keep_style_tags=True, load_remote_stylesheets=False, extra_css=css
    )
    return inliner.inline(html)


# --- editorial checks ----------------------------------------------------------------


def editorial_checks(edition: Edition, html: str) -> list[Problem]:
    """Warnings about the email a reader would get: clipping, missing alt text, relative links.

    Word counts over ``limits`` are reported by the content checks (``check`` and ``build``
    both run them), so they are not repeated here. ``html`` may be empty when no email was
    rendered; only the checks on content then apply.
    """
    problems = _images_without_alt(edition)  # a missing web_base_url: the content check warns
    if html:
        problems += _clipped(edition, html) + _html_problems(edition, html)
    return problems


def _warning(path: Path, message: str, hint: str | None = None) -> Problem:
    return Problem(path, 1, 1, message, hint, "warning")


def _images_without_alt(edition: Edition) -> list[Problem]:
    """Every image the email may show needs words for readers whose client blocks images."""
    found = []
    logo = edition.publication.logo
    if logo and not logo.alt.strip():
        found.append(_warning(edition.root / PUBLICATION_FILE, "the logo has no alt text"))
    for brief in edition.briefs:
        where = brief.path or edition.issue_dir / ISSUE_FILE
        images = [author.photo for author in brief.authors if author.photo]
        images += [figure.image for part in brief.parts for figure in part.figures]
        for image in images:
            if not image.alt.strip():
                found.append(
                    _warning(
                        where,
                        f"{image.rel}: image without alt text",
                        "describe what it shows, for readers whose mail client blocks images",
                    )
                )
    return found


def _clipped(edition: Edition, html: str) -> list[Problem]:
    size = len(html.encode("utf-8"))
    if size <= GMAIL_CLIP_BYTES:
        return []
    hint = (
        "set email_full_text: false to send summaries"
        if edition.email_full_text
        else "shorten the editorial or move events and news to the web edition"
    )
    return [
        _warning(
            edition.issue_dir / ISSUE_FILE, f"the email is {size / 1000:.0f} KB; Gmail clips messages over 102 KB", hint
        )
    ]


def _html_problems(edition: Edition, html: str) -> list[Problem]:
    """What a customised layout can get wrong: images without alt, size or absolute URL; relative links."""
    audit = _Audit()
    audit.feed(html)
    where = edition.issue_dir / ISSUE_FILE
    hint = "check the layout's email templates"
    issues = audit.issues + [f"link {f'#{target}'!r} points to nothing in the message" for target in audit.unmatched]
    return [_warning(where, f"email.html: {issue}", hint) for issue in dict.fromkeys(issues)]


class _Audit(HTMLParser):
    """Collects problems in email HTML that mail clients would show as broken.

    A link inside the message (``#fn-…``, a footnote) is fine when its target is in the
    message: clients that do not follow it leave the reader where the note is listed anyway.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.issues: list[str] = []
        self.ids: set[str] = set()
        self.fragments: list[str] = []

    @property
    def unmatched(self) -> list[str]:
        """The in-message link targets no element has as its id."""
        return [target for target in self.fragments if target not in self.ids]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "a" and (values.get("href") or "").startswith("#") and len(values["href"] or "") > 1:
            self.fragments.append(str(values["href"])[1:])
        elif tag == "img":
            source = values.get("src") or ""
            if values.get("alt") is None:
                self.issues.append(f"image {source} has no alt text")
            if not (values.get("width") and values.get("height")):
                self.issues.append(f"image {source} has no width and height")
            if not source.startswith(("https://", "http://")):
                self.issues.append(f"image {source} has a relative URL")
        elif tag == "a":
            href = values.get("href") or ""
            if not href.startswith(("https://", "http://", "mailto:")):
                self.issues.append(f"link {href!r} is not absolute")
