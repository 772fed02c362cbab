"""Share images (1200 × 630 PNG per brief) and PDF thumbnails: real WeasyPrint, real pdfium."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageStat
from weasyprint import HTML

from research_news.assemble import Edition, assemble
from research_news.render.share import page_thumbnail_png, share_card, share_card_png
from research_news.validate import load_content


def pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page of ``pdf``."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def with_layout(tree: Path, template: str) -> Edition:
    """The minimal issue in a layout ``house`` whose site/share.html.j2 is ``template``."""
    write(tree / "layouts/house/layout.yaml", "extends: default\n")
    write(tree / "layouts/house/site/share.html.j2", template)
    publication = tree / "publication.yaml"
    publication.write_text(publication.read_text() + "layout: house\n")
    return assemble(load_content(tree / "2024-05-minimal"))


def test_a_share_card_is_1200_by_630_and_not_blank(sample_edition: Edition) -> None:
    image = pixels(share_card_png(sample_edition, sample_edition.briefs[0]))
    assert image.size == (1200, 630)
    assert max(ImageStat.Stat(image).stddev) > 30  # text, colour band, logo: far from one flat colour
    # The brand band at the bottom is the publication's primary colour (#0b4a5a, or darker for contrast).
    red, green, blue = image.getpixel((600, 600))
    assert blue > red and green > red and max(red, green, blue) < 120


def test_the_card_shows_the_brief_its_authors_and_its_issue(sample_edition: Edition) -> None:
    brief = sample_edition.briefs[1]
    card = share_card(sample_edition, brief)
    (text,) = pdf_pages(card.pdf)  # one page
    flat = " ".join(text.split())
    assert brief.title in flat
    assert brief.authors[0].name in flat
    assert f"Issue {sample_edition.number}" in flat and sample_edition.date_label in flat
    assert "news.example.org" in flat
    assert card.warnings == []


def test_the_same_brief_gives_the_same_bytes(sample_edition: Edition) -> None:
    brief = sample_edition.briefs[2]
    assert share_card_png(sample_edition, brief) == share_card_png(sample_edition, brief)


def test_a_very_long_title_and_many_authors_stay_on_one_page_cut_with_an_ellipsis(sample_edition: Edition) -> None:
    brief = sample_edition.briefs[0]
    long = dataclasses.replace(
        brief, title=" ".join(["Extraordinarily"] * 40) + " LAST-WORD", authors=brief.authors * 10
    )
    card = share_card(sample_edition, long)
    pages = pdf_pages(card.pdf)
    assert len(pages) == 1
    assert "LAST-WORD" not in pages[0]
    # Cut after four lines of three words, and said to be cut: not merely hidden by the card's edge.
    assert pages[0].count("Extraordinarily") <= 12 and "Extraordinarily…" in pages[0]
    assert "news.example.org" in pages[0]  # the rest of the card is still there
    assert pixels(card.png).size == (1200, 630)


def test_a_layout_extends_the_card_template(minimal_tree: Path) -> None:
    edition = with_layout(
        minimal_tree,
        '{% extends "!parent/site/share.html.j2" %}\n'
        "{% block styles %}<style>.card { background: #ff0000; }</style>{% endblock %}\n",
    )
    image = pixels(share_card_png(edition, edition.briefs[0]))
    assert image.getpixel((600, 130)) == (255, 0, 0)  # the house colour, between masthead and title
    assert image.getpixel((600, 600)) != (255, 0, 0)  # the rest of the default card kept


def test_the_card_reads_files_only_through_the_safe_fetcher(minimal_tree: Path) -> None:
    """A layout's card naming a file outside the tree or a web address: refused, said, not read."""
    secret = minimal_tree.parent / "secret.png"
    secret.write_bytes((minimal_tree / "2024-05-minimal/images/ada.png").read_bytes())
    edition = with_layout(
        minimal_tree,
        '{% extends "!parent/site/share.html.j2" %}\n'
        f'{{% block card %}}<img src="file://{secret}"><img src="http://127.0.0.1:9/x.png">{{{{ super() }}}}'
        "{% endblock %}\n",
    )
    card = share_card(edition, edition.briefs[0])
    refused = " ".join(problem.message for problem in card.warnings)
    assert "secret.png" in refused and "127.0.0.1" in refused
    assert pixels(card.png).size == (1200, 630)


def test_a_pdf_thumbnail_has_the_width_asked_and_the_page_proportions() -> None:
    pdf = HTML(
        string="<style>@page { size: A4; margin: 0 } body { background: #0b4a5a }</style><h1>Cover</h1>"
    ).write_pdf()
    thumbnail = page_thumbnail_png(pdf)
    image = pixels(thumbnail)
    assert image.size == (480, round(480 * 297 / 210))
    assert image.getpixel((240, 600)) == (11, 74, 90)
    assert pixels(page_thumbnail_png(pdf, width=200)).size == (200, round(200 * 297 / 210))
    assert page_thumbnail_png(pdf) == thumbnail  # the same bytes every time
