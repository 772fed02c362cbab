"""Plain text fields (titles, names, keywords, alt text) are text, not markdown.

They may hold anything that looks like markup: `check` applies link rules only to
markdown fields, and every edition shows plain text escaped, as the characters typed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from research_news.assemble import assemble
from research_news.render.email import render_email
from research_news.render.pdf import render_html, render_pdf
from research_news.render.web import render_web
from research_news.validate import Checker, load_content

KEYWORD = "<rdf:li>x</rdf:li>"
TITLE = "Counting <https://x.io> and [things](javascript:alert(1))"
QUOTE = "Small is <b>plenty</b> [b](data:x)"
ROLE = "<mailto:a@b.io>"


def write_plain_markup(issue: Path) -> None:
    brief = issue / "briefs" / "one.yaml"
    text = brief.read_text(encoding="utf-8")
    for old, new in [
        ("title: A short study of small things", f'title: "{TITLE}"'),
        ("keywords: [small, things]", f'keywords: ["{KEYWORD}", "<https://x.io>"]'),
        ("  - text: Small is plenty.", f'  - text: "{QUOTE}"'),
        ("    role: Researcher", f'    role: "{ROLE}"'),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    brief.write_text(text, encoding="utf-8")


def test_plain_text_that_looks_like_links_is_accepted(minimal_issue: Path) -> None:
    write_plain_markup(minimal_issue)
    checker = Checker()
    checker.check_path(minimal_issue)
    assert [str(p) for p in checker.problems] == []


@pytest.mark.parametrize(
    "field, name, written",
    [
        ("caption", "figures[0].caption", "See [x](javascript:alert(1))."),
        ("bio", "authors[0].bio", "See <javascript:alert(1)>."),
    ],
)
def test_markdown_fields_still_refuse_bad_links(minimal_issue: Path, field: str, name: str, written: str) -> None:
    brief = minimal_issue / "briefs" / "one.yaml"
    text = re.sub(
        rf"^    {field}: .*$", f"    {field}: {written}", brief.read_text(encoding="utf-8"), count=1, flags=re.M
    )
    brief.write_text(text, encoding="utf-8")
    checker = Checker()
    checker.check_path(minimal_issue)
    assert [p.message for p in checker.problems] == [f'{name}: the link "javascript:alert(1)" is not allowed']


class Reading(HTMLParser):
    """Tags, and the text and attribute values a reader (or a mail program) gets."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.texts.extend(value for _, value in attrs if value)

    def handle_data(self, data):
        self.texts.append(data)


def test_plain_text_is_shown_as_typed_in_every_edition(minimal_issue: Path) -> None:
    write_plain_markup(minimal_issue)
    edition = assemble(load_content(minimal_issue))
    # The email edition is a summary: no keywords, no quotes.
    for name, html, texts in [
        ("web", render_web(edition).html, (TITLE, ROLE, KEYWORD, QUOTE)),
        ("email", render_email(edition), (TITLE, ROLE)),
        ("print", render_html(edition), (TITLE, ROLE, KEYWORD, QUOTE)),
    ]:
        page = Reading(html)
        shown = " ".join(" ".join(page.texts).split())
        assert all(text in shown for text in texts), name
        assert not [tag for tag, _ in page.tags if tag in ("rdf:li", "b")], name
        hrefs = [attrs.get("href") or "" for tag, attrs in page.tags if tag == "a"]
        assert not [href for href in hrefs if href.startswith(("javascript", "data", "https://x.io"))], name
    pdf = PdfReader(BytesIO(render_pdf(edition).data))
    assert KEYWORD in pdf.metadata["/Keywords"]
    assert KEYWORD in pdf.xmp_metadata.pdf_keywords  # the XMP packet is XML: written escaped, read back whole
