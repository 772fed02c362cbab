"""Pictures of the editions for the web site: a share image per brief, a thumbnail per PDF.

A share image is what a social network or a chat app shows beside a link (Open Graph
``og:image``): 1200 × 630 pixels. It is drawn like everything else here, by a layout
template (``site/share.html.j2`` and ``site/share.css``, which a layout may override or
extend), laid out by WeasyPrint as one PDF page of 1200 × 630 CSS pixels, and rasterised
by pdfium at one pixel per CSS pixel. Every file WeasyPrint reads goes through
:class:`~research_news.urls.SafeFetcher`, as for the print edition.

The same input gives the same bytes (pdfium's rendering and Pillow's PNG encoder carry
no date or randomness), so a cached site build does not rewrite unchanged images.
pdfium is not thread-safe: call these functions from one thread per process.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pypdfium2 as pdfium
from PIL import Image as PillowImage
from weasyprint import HTML

from ..assemble import BriefView, Edition
from ..exceptions import Problem
from ..urls import SafeFetcher
from . import weasyprint_fixes
from .pdf import asset_url, base_url, font_configuration, layout_url, refusal_problems
from .theme import palette

SHARE_TEMPLATE = "share.html.j2"
"""In the layouts' ``site/`` folder."""
CARD_WIDTH = 1200
CARD_HEIGHT = 630
"""The size social networks ask for (Open Graph, 1.91:1); the template's @page has it too."""
POINTS_PER_CSS_PIXEL = 0.75
"""PDF units are points (1/72 in), CSS pixels 1/96 in."""


@dataclass
class ShareCard:
    """A brief's share image (``png``), the one-page PDF it was drawn from, and what the
    editor should hear about it (files the fetcher refused)."""

    png: bytes
    pdf: bytes
    warnings: list[Problem] = field(default_factory=list)
    read: set[Path] = field(default_factory=set)  # every local file WeasyPrint asked for: what a cache must watch


def share_card_png(edition: Edition, brief: BriefView) -> bytes:
    """The share image of ``brief`` (one of ``edition.briefs``): a 1200 × 630 PNG."""
    return share_card(edition, brief).png


def share_card(edition: Edition, brief: BriefView) -> ShareCard:
    """The share image of ``brief`` with its PDF and warnings (see :class:`ShareCard`)."""
    weasyprint_fixes.apply()
    fetcher = SafeFetcher.for_edition(edition)
    html = share_card_html(edition, brief)
    document = HTML(string=html, base_url=base_url(edition), url_fetcher=fetcher)
    pdf = document.write_pdf(font_config=font_configuration())
    return ShareCard(_card_png(pdf), pdf, refusal_problems(edition, fetcher.refused), set(fetcher.read))


def share_card_html(edition: Edition, brief: BriefView) -> str:
    """The HTML the layout's ``site/share.html.j2`` makes of ``brief``."""
    env = edition.layout.environment("site")
    env.filters["asset_url"] = asset_url
    env.globals["layout_url"] = lambda relative: layout_url(edition, relative)
    section = next((s for s in edition.sections if any(b.slug == brief.slug for b in s.briefs)), None)
    return env.get_template(SHARE_TEMPLATE).render(
        edition=edition,
        publication=edition.publication,
        labels=brief.labels,
        brief=brief,
        section=section,
        theme=palette(edition),
        web_host=_host(edition.publication.web_base_url),
    )


def page_thumbnail_png(pdf: bytes, width: int = 480) -> bytes:
    """The first page of ``pdf`` as a PNG ``width`` pixels wide (its height keeps the page's
    proportions): a cover thumbnail for an issue's PDF."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        scale = width / page.get_width()
        image = page.render(scale=scale).to_pil()
        height = max(1, round(page.get_height() * scale))
    finally:
        document.close()
    return _png(_exactly(image, width, height))


def _card_png(pdf: bytes) -> bytes:
    """The first page of the card's PDF at one pixel per CSS pixel: 1200 × 630."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=1 / POINTS_PER_CSS_PIXEL).to_pil()
    finally:
        document.close()
    return _png(_exactly(image, CARD_WIDTH, CARD_HEIGHT))


def _exactly(image: PillowImage.Image, width: int, height: int) -> PillowImage.Image:
    """``image`` at exactly ``width`` × ``height``: pdfium rounds the page size up, so a
    fractional point can add a row or a column of pixels, which is cut off (or added)."""
    if image.size == (width, height):
        return image
    canvas = PillowImage.new(image.mode, (width, height), "white")
    canvas.paste(image, (0, 0))
    return canvas


def _png(image: PillowImage.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _host(url: str | None) -> str | None:
    """``news.example.org`` for ``https://news.example.org/research-news``: what the card names."""
    return urlsplit(url).hostname if url else None
