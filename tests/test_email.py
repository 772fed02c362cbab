"""The email edition: what Gmail, Outlook, Apple Mail and images-off readers get.

The HTML is parsed as a mail client would see it (conditional comments are comments),
checked against the caniemail support tables, and rendered in Chromium to prove that the
layout does not depend on the one ``<style>`` element mail clients may drop.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import pytest

from research_news.assemble import assemble
from research_news.exceptions import ResearchNewsError
from research_news.message import ADDRESS_MARKER
from research_news.render import email as email_module
from research_news.render.email import CONTENT_WIDTH, editorial_checks, render_email
from research_news.validate import load_content
from tests.browser import CANIEMAIL, describe, require_node_modules, run_axe, screenshot, serve


class EmailDocument(HTMLParser):
    """Elements, attributes, inline declarations, kept <style> text and comments of an email."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []  # contents of <style> elements the clients see
        self.comments: list[str] = []
        self.doctype: str | None = None
        self.text: list[str] = []
        self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)
        else:
            self.text.append(data)

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_decl(self, decl):
        self.doctype = decl

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]

    def declarations(self) -> list[tuple[str, str, str]]:
        """(element, property, value) for every declaration in every style attribute."""
        found = []
        for tag, attrs in self.elements:
            for declaration in (attrs.get("style") or "").split(";"):
                if ":" in declaration:
                    name, value = declaration.split(":", 1)
                    found.append((tag, name.strip().lower(), value.strip()))
        return found


@pytest.fixture(scope="module")
def sample_html(sample_edition) -> str:
    return render_email(sample_edition)


@pytest.fixture(scope="module")
def full_text_html(sample_edition) -> str:
    return render_email(dataclasses.replace(sample_edition, email_full_text=True))


@pytest.fixture(scope="module")
def doc(sample_html) -> EmailDocument:
    return EmailDocument(sample_html)


# --- structure and safety -------------------------------------------------------------


def test_document_basics(doc, sample_edition):
    assert doc.doctype and doc.doctype.lower() == "doctype html"
    html = doc.tags("html")[0]
    assert html["lang"] == sample_edition.lang
    metas = {attrs.get("name"): attrs.get("content") for attrs in doc.tags("meta")}
    assert metas["color-scheme"] == "light dark"
    assert metas["supported-color-schemes"] == "light dark"
    assert doc.tags("title")


def test_no_scripts_forms_or_external_resources(sample_html, full_text_html):
    for html in (sample_html, full_text_html):
        document = EmailDocument(html)
        tags = {tag for tag, _ in document.elements}
        assert not tags & {
            "script",
            "form",
            "input",
            "button",
            "select",
            "textarea",
            "iframe",
            "object",
            "embed",
            "link",
            "video",
            "audio",
            "svg",
        }
        for tag, attrs in document.elements:
            assert not [name for name in attrs if name.startswith("on")], f"event handler on <{tag}>"
            for name in ("href", "src"):
                assert not (attrs.get(name) or "").strip().lower().startswith(("javascript:", "data:", "vbscript:"))
        css = "\n".join(document.styles)
        assert "@import" not in css and "@font-face" not in css and "url(" not in css


def test_every_image_has_alt_size_and_absolute_url(sample_html, full_text_html, sample_edition):
    base = sample_edition.web_url
    for html in (sample_html, full_text_html):
        images = EmailDocument(html).tags("img")
        assert images
        for image in images:
            assert (image.get("alt") or "").strip(), image
            assert (image.get("width") or "").isdigit() and (image.get("height") or "").isdigit(), image
            assert image["src"].startswith(base + "assets/"), image


def test_every_link_is_absolute(doc, sample_edition):
    """Absolute, or a footnote citation pointing to its note in the message itself."""
    ids = {attrs["id"] for _, attrs in doc.elements if attrs.get("id")}
    for attrs in doc.tags("a"):
        if attrs["href"].startswith("#"):
            assert attrs["href"].startswith("#fn-") and attrs["href"][1:] in ids, attrs["href"]
            continue
        assert attrs["href"].startswith(("https://", "http://", "mailto:")), attrs["href"]
    hrefs = [attrs["href"] for attrs in doc.tags("a")]
    assert sample_edition.web_url in hrefs  # view in your browser
    assert sample_edition.web_url + sample_edition.pdf_name in hrefs
    # The send command replaces the marker per recipient (message.py explains why not {email}).
    assert f"https://news.example.org/unsubscribe?email={ADDRESS_MARKER}" in hrefs


def test_size_is_well_under_gmail_clipping(sample_html, full_text_html):
    assert len(sample_html.encode("utf-8")) < 80_000
    assert len(full_text_html.encode("utf-8")) < email_module.GMAIL_CLIP_BYTES


def test_preheader_is_hidden_and_padded(doc, sample_edition):
    hidden = [attrs for attrs in doc.tags("div") if "preheader" in (attrs.get("class") or "")]
    assert len(hidden) == 1
    style = hidden[0]["style"].replace(" ", "")
    for rule in ("display:none", "max-height:0", "overflow:hidden", "mso-hide:all"):
        assert rule in style
    body_text = "".join(doc.text)
    start = body_text.index(sample_edition.preheader)
    # The padding after it keeps clients from appending "View this issue…" to the preview.
    assert "\u034f\u200c\xa0" * 20 in body_text[start : start + 400]


def test_container_is_600_px_with_outlook_table(sample_html, doc):
    assert any('<table role="presentation" width="600"' in comment for comment in doc.comments)
    containers = [attrs for attrs in doc.tags("table") if "container" in (attrs.get("class") or "")]
    assert "max-width: 600px" in containers[0]["style"]
    for table in doc.tags("table"):
        assert table.get("role") == "presentation"


def test_each_brief_shows_title_authors_why_and_takeaways(doc, sample_edition):
    text = " ".join(" ".join(doc.text).split())
    hrefs = [attrs["href"] for attrs in doc.tags("a")]
    for brief in sample_edition.briefs:
        assert brief.title in text
        for author in brief.authors:
            assert author.name in text
        assert brief.labels["why_it_matters"] in text
        assert brief.labels["key_takeaways"] in text
        assert brief.parts_by_key["methodology"].label not in text  # summary only
        for item in brief.parts_by_key["key_takeaways"].source:
            assert " ".join(item.split())[:40] in text
        assert f"{sample_edition.web_url}#{brief.id}" in hrefs
    assert text.count(sample_edition.labels["read_full_brief"]) == len(sample_edition.briefs)


def test_full_text_shows_every_part_quote_and_figure(full_text_html, sample_edition):
    document = EmailDocument(full_text_html)
    text = " ".join(" ".join(document.text).split())
    brief = sample_edition.briefs[0]
    for part in brief.parts:
        assert part.label in text
    figure = brief.parts_by_key["methodology"].figures[0]
    image = next(attrs for attrs in document.tags("img") if figure.image.rel in attrs["src"])
    assert int(image["width"]) == min(CONTENT_WIDTH, figure.image.width)
    assert int(image["height"]) == figure.image.height_for(int(image["width"]))
    assert image["alt"] == figure.image.alt
    quote = brief.parts_by_key["key_findings"].quotes[0]
    assert " ".join(quote.text.split()) in text


def test_headings_in_order(doc):
    levels = [int(tag[1]) for tag, _ in doc.elements if re.fullmatch(r"h[1-6]", tag)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(after - before <= 1 for before, after in pairwise(levels))


def test_svg_figure_becomes_description_and_link(minimal_issue):
    """Gmail and Outlook do not show SVG: the email describes the figure and links to it."""
    images = minimal_issue / "images"
    (images / "chart.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200">'
        '<rect width="400" height="200" fill="#ccc"/></svg>',
        encoding="utf-8",
    )
    brief = minimal_issue / "briefs" / "one.yaml"
    brief.write_text(brief.read_text(encoding="utf-8").replace("chart.png", "chart.svg"), encoding="utf-8")
    edition = dataclasses.replace(assemble(load_content(minimal_issue)), email_full_text=True)
    document = EmailDocument(render_email(edition))
    assert not [attrs for attrs in document.tags("img") if attrs["src"].endswith(".svg")]
    text = " ".join(" ".join(document.text).split())
    assert "A bar chart of small things by box" in text
    figure = edition.briefs[0].parts_by_key["methodology"].figures[0]
    assert f"{edition.web_url}#{figure.id}" in [attrs["href"] for attrs in document.tags("a")]


def test_without_web_base_url_the_email_is_refused(minimal_tree):
    publication = minimal_tree / "publication.yaml"
    publication.write_text(
        re.sub(r"(?m)^web_base_url:.*\n", "", publication.read_text(encoding="utf-8")), encoding="utf-8"
    )
    content = load_content(minimal_tree / "2024-05-minimal")
    edition = assemble(content)
    with pytest.raises(ResearchNewsError, match="web_base_url"):
        render_email(edition)
    [warning] = content.warnings  # said once, by the content check, at the setting's file
    assert warning.path.name == "publication.yaml" and warning.severity == "warning"
    assert "web_base_url" in warning.message
    assert editorial_checks(edition, "") == []


def test_editorial_checks_are_quiet_for_the_sample(sample_edition, sample_html):
    assert editorial_checks(sample_edition, sample_html) == []


def test_editorial_checks_report_clipping_and_broken_images(sample_edition, sample_html, monkeypatch):
    monkeypatch.setattr(email_module, "GMAIL_CLIP_BYTES", 1000)
    broken = sample_html.replace("<body", '<body><img src="logo.png"', 1)
    messages = [p.message for p in editorial_checks(sample_edition, broken)]
    assert any("Gmail clips" in m for m in messages)
    assert any("logo.png has no alt text" in m for m in messages)
    assert any("logo.png has a relative URL" in m for m in messages)
    assert all(p.path.name == "issue.yaml" for p in editorial_checks(sample_edition, broken))


def test_image_without_alt_is_reported_at_its_brief(sample_edition):
    brief = sample_edition.briefs[0]
    photo = brief.authors[0].photo
    blank = dataclasses.replace(photo, alt=" ")
    author = dataclasses.replace(brief.authors[0], photo=blank)
    edition = dataclasses.replace(
        sample_edition,
        sections=[
            dataclasses.replace(sample_edition.sections[0], briefs=[dataclasses.replace(brief, authors=[author])])
        ],
    )
    problems = editorial_checks(edition, "")
    assert len(problems) == 1 and problems[0].path == brief.path
    assert "without alt text" in problems[0].message


# --- caniemail: nothing Gmail or Outlook for Windows lacks is relied on --------------

CLIENTS = [("gmail", "desktop-webmail"), ("gmail", "ios"), ("gmail", "android"), ("outlook", "windows")]
"""Where the issue says the email must look right; Apple Mail and iOS Mail support more than these."""

ALLOWED = {
    # feature: why relying on it is fine although one of CLIENTS lacks it
    "css-border-radius": "rounded corners on the card, buttons and photos; Outlook for Windows draws square "
    "corners, which look intentional",
    "css-max-height": "preheader only: display:none hides it and mso-hide:all hides it in Outlook",
    "css-overflow": "preheader only, as max-height",
    "html-doctype": "Word ignores the doctype; the layout is explicit-width tables, the same in any mode",
    "html-meta-color-scheme": "dark-mode hint for the clients that honour it (Apple Mail); others ignore it",
}

NO_ENTRY = {
    # properties and elements caniemail has no entry for: universally supported, or vendor-specific
    "color": "CSS1, supported everywhere",
    "font-family": "supported everywhere; Outlook gets Arial/Georgia from the mso-only <style>",
    "font-style": "supported everywhere",
    "a": "links",
    "br": "line breaks",
    "em": "emphasis",
    "body": "document",
    "head": "document",
    "html": "document",
    "meta": "document metadata",
    "title": "document title",
    "tbody": "part of <table>",
    "tr": "part of <table>",
    "td": "part of <table>",
    "sup": "superscript (footnote citations), HTML 3.2: supported everywhere",
}

SHORTHAND_FAMILIES = ("padding", "margin", "border", "background", "font", "list-style", "text-decoration")
ELEMENT_FEATURES = {
    **{f"h{n}": "html-h1-h6" for n in range(1, 7)},
    "ul": "html-lists",
    "ol": "html-lists",
    "li": "html-lists",
    "table": "html-table",
    "thead": "html-table",  # a markdown table's header row
    "th": "html-table",
}
ATTRIBUTE_FEATURES = {
    "role": "html-role",
    "lang": "html-lang",
    "dir": "html-dir",
    "width": "html-width",
    "height": "html-height",
    "align": "html-align",
    "valign": "html-valign",
    "cellpadding": "html-cellpadding",
    "cellspacing": "html-cellspacing",
    "aria-hidden": "html-aria-hidden",
    "aria-label": "html-aria-label",
    "aria-labelledby": "html-aria-labelledby",
    "aria-describedby": "html-aria-describedby",
    "target": "html-target",
    "hidden": "html-hidden",
    "loading": "html-loading-attribute",
    "srcset": "html-srcset",
    "background": "html-background",
}


@pytest.fixture(scope="module")
def caniemail() -> dict[str, dict]:
    data = json.loads(require_node_modules(CANIEMAIL).read_text(encoding="utf-8"))
    return {feature["slug"]: feature for feature in data["data"]}


def unsupported_in(feature: dict) -> list[str]:
    """The CLIENTS whose most recent test of ``feature`` says "n" (not supported)."""
    lacking = []
    for family, platform in CLIENTS:
        results = feature["stats"].get(family, {}).get(platform)
        if results and results[max(results)].startswith("n"):
            lacking.append(f"{family} {platform}")
    return lacking


def property_feature(name: str, features: dict) -> str | None:
    """The caniemail slug for a CSS property, or None for vendor properties (mso-, -webkit-, -ms-)."""
    if name.startswith(("mso-", "-webkit-", "-ms-")):
        return None  # read only by the vendor's engine, ignored by every other client
    if f"css-{name}" in features:
        return f"css-{name}"
    family = next((f for f in SHORTHAND_FAMILIES if name.startswith(f + "-")), None)
    if family and f"css-{family}" in features and name not in NO_ENTRY:
        return f"css-{family}"
    return None if name in NO_ENTRY else f"unknown property {name}"


def used_features(document: EmailDocument, features: dict) -> dict[str, str]:
    """caniemail slug → an example of where the email uses it."""
    used: dict[str, str] = {}
    for tag, name, value in document.declarations():
        slug = property_feature(name, features)
        if slug:
            used.setdefault(slug, f"<{tag} style='{name}: {value}'>")
        if name == "display" and value == "none":
            used.setdefault("css-display-none", f"<{tag} style='display: none'>")
        if "!important" in value:
            used.setdefault("css-important", f"<{tag} style='{name}: {value}'>")
    for tag, attrs in document.elements:
        slug = ELEMENT_FEATURES.get(tag) or (f"html-{tag}" if f"html-{tag}" in features else None)
        if slug is None and tag not in NO_ENTRY:
            slug = f"unknown element {tag}"
        if slug:
            used.setdefault(slug, f"<{tag}>")
        for name in attrs:
            if name in ATTRIBUTE_FEATURES:
                used.setdefault(ATTRIBUTE_FEATURES[name], f"<{tag} {name}>")
        if tag == "meta" and attrs.get("name") == "color-scheme":
            used.setdefault("html-meta-color-scheme", "<meta name=color-scheme>")
    if document.doctype:
        used["html-doctype"] = f"<!{document.doctype}>"
    return used


def test_caniemail_support(sample_html, full_text_html, caniemail):
    """No CSS property or element Gmail or Outlook for Windows lacks, except the allowlist."""
    used: dict[str, str] = {}
    for html in (sample_html, full_text_html):
        used.update(used_features(EmailDocument(html), caniemail))
    unknown = sorted(where for slug, where in used.items() if slug.startswith("unknown"))
    assert not unknown, f"map these to caniemail features, or to NO_ENTRY with a reason: {unknown}"
    broken = {
        slug: (where, unsupported_in(caniemail[slug]))
        for slug, where in used.items()
        if unsupported_in(caniemail[slug]) and slug not in ALLOWED
    }
    assert not broken, f"features some target clients lack (see caniemail.com): {broken}"
    unused = set(ALLOWED) - set(used)
    assert not unused, f"allowlisted but no longer used, remove from ALLOWED: {unused}"


def test_kept_style_is_only_enhancement(doc):
    """What stays in <style> is media queries, dark mode and client quirks: never layout."""
    css = re.sub(r"/\*.*?\*/", "", "\n".join(doc.styles), flags=re.S)
    top_level = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*\s*\}", "", css)
    selectors = [s.strip() for s in re.findall(r"([^{}]+)\{[^{}]*\}", top_level)]
    for selector in selectors:
        assert re.match(r"(:root|a\[x-apple-data-detectors\]|u \+ #body|\[data-og)", selector), selector


# --- in a browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory, sample_edition, sample_html) -> Path:
    """The email and the assets it links to, laid out as under web_base_url/<slug>/."""
    from research_news.render.web import render_web

    folder = tmp_path_factory.mktemp("email") / sample_edition.slug
    folder.mkdir()
    (folder / "email.html").write_text(sample_html, encoding="utf-8")
    (folder / "no-style.html").write_text(re.sub(r"<style>.*?</style>", "", sample_html, flags=re.S), encoding="utf-8")
    for relative, source in render_web(sample_edition).files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / relative)
    return folder


def test_layout_does_not_depend_on_style_element(published, sample_edition, new_page, tmp_path):
    """At desktop width in light mode, removing every <style> changes not one pixel."""
    with serve(published) as base:
        shots = []
        for name in ("email.html", "no-style.html"):
            page = new_page(base + name, 1024, published_at=sample_edition.web_url, folder=published)
            shots.append(screenshot(page, tmp_path / f"{name}.png").read_bytes())
    assert shots[0] == shots[1]


@pytest.mark.parametrize("logo", [True, False])
def test_dark_mode_keeps_every_text_readable(sample_tree, new_page, tmp_path, logo):
    """In dark mode (Apple Mail, iOS), axe finds no contrast problem: the publisher's name on its white
    chip when there is no logo image, and the link to the other language's email, included."""
    from research_news.build import build

    publication = sample_tree / "publication.yaml"
    if not logo:
        publication.write_text(re.sub(r"(?m)^logo:.*$", "", publication.read_text(encoding="utf-8")), encoding="utf-8")
    issue = sample_tree / "2023-01-data-and-society"
    result = build(issue, tmp_path / "out", only=("web", "email"), jobs=1)
    edition = assemble(load_content(issue))
    html = (result.out_dir / "email.html").read_text(encoding="utf-8")
    assert ('class="logo-text' in html) is not logo and 'class="read-in"' in html
    with serve(result.out_dir) as base:
        page = new_page(base + "email.html", 600, published_at=edition.web_url, folder=result.out_dir, dark=True)
        violations = run_axe(page, ("wcag2aa",))
    assert not violations, "axe-core:\n" + describe(violations)


@pytest.mark.parametrize("width", [375, 1024])
def test_renders_at_phone_and_desktop_width(published, sample_edition, new_page, tmp_path, width):
    with serve(published) as base:
        for block_images in (False, True):
            page = new_page(
                base + "email.html",
                width,
                published_at=sample_edition.web_url,
                folder=published,
                block_images=block_images,
            )
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
            card = page.evaluate("document.querySelector('.card').getBoundingClientRect().width")
            assert card <= 600
            if not block_images:
                loaded = page.evaluate("Array.from(document.images).every(img => img.naturalWidth > 0)")
                assert loaded, "an image URL does not point where the web edition copies it"
            screenshot(page, tmp_path / f"email-{width}-{'noimg' if block_images else 'img'}.png")
