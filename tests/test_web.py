"""The web edition: semantic, accessible, self-contained, and checked by axe-core in Chromium."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from io import BytesIO
from itertools import pairwise
from pathlib import Path

import pytest

from research_news.assemble import assemble
from research_news.build import build
from research_news.render.theme import AA_TEXT, DARK_CARD, PAPER, contrast, palette
from research_news.render.web import render_web
from research_news.validate import load_content
from tests.browser import describe, run_axe, serve


class Page(HTMLParser):
    """Elements and their attributes, in document order, with the text of each heading."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[tuple[int, str]] = []
        self._heading: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [tag]

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)

    def handle_endtag(self, tag):
        if self._heading and tag == self._heading[0]:
            self.headings.append((int(tag[1]), " ".join("".join(self._heading[1:]).split())))
            self._heading = None

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]

    def ids(self) -> list[str]:
        return [attrs["id"] for _, attrs in self.elements if attrs.get("id")]


@pytest.fixture(scope="module")
def web(sample_edition):
    return render_web(sample_edition)


@pytest.fixture(scope="module")
def page(web) -> Page:
    return Page(web.html)


def test_landmarks_and_skip_link(page):
    tags = [tag for tag, _ in page.elements]
    for landmark in ("header", "nav", "main", "footer"):
        assert landmark in tags
    assert len(page.tags("main")) == 1 and page.tags("main")[0]["id"] == "main"
    assert page.tags("a")[0]["href"] == "#main"  # the first link skips to the content
    assert page.tags("html")[0]["lang"] == "en"
    assert page.tags("meta")[1] == {"name": "viewport", "content": "width=device-width, initial-scale=1"}


def test_every_brief_and_part_is_anchored(page, sample_edition):
    ids = page.ids()
    assert len(ids) == len(set(ids)), "duplicate ids"
    articles = {attrs["id"]: attrs for attrs in page.tags("article")}
    for brief in sample_edition.briefs:
        assert brief.id in articles
        assert articles[brief.id]["aria-labelledby"] in ids
        for part in brief.parts:
            assert part.id in ids
            for figure in part.figures:
                assert figure.id in ids
    hrefs = [attrs["href"] for attrs in page.tags("a")]
    for brief in sample_edition.briefs:
        assert f"#{brief.id}" in hrefs  # the contents link to each brief
    for target in [href[1:] for href in hrefs if href.startswith("#")]:
        assert target in ids, f"link to a missing anchor #{target}"


def test_heading_order(page, sample_edition):
    levels = [level for level, _ in page.headings]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(after - before <= 1 for before, after in pairwise(levels)), page.headings
    texts = [text for _, text in page.headings]
    for brief in sample_edition.briefs:
        assert (2, brief.title) in page.headings
    assert "Why is this topic important?" in texts


def test_pdf_link_and_assets_are_relative(web, page, sample_edition):
    hrefs = [attrs["href"] for attrs in page.tags("a")]
    assert sample_edition.pdf_name in hrefs
    local = [attrs["src"] for attrs in page.tags("img")] + [
        attrs["href"] for attrs in page.tags("link") if attrs.get("rel") == "stylesheet"
    ]
    for url in local:
        assert not url.startswith(("/", "http:", "https:", "file:")), url
        assert url in web.files, f"{url} is linked but not copied"
    for source in web.files.values():
        assert source.is_file()


def test_images_have_alt_and_size(page):
    for image in page.tags("img"):
        assert "alt" in image, image
        assert image.get("width") and image.get("height"), image
    figures = [image for image in page.tags("img") if "martech" in image["src"]]
    assert figures[0]["alt"].startswith("Diagram of a marketing-technology value chain")


def test_no_scripts(web):
    assert "<script" not in web.html.lower()


def test_builds_into_a_folder_with_its_assets(minimal_issue, tmp_path: Path):
    result = build(minimal_issue, tmp_path / "build", only=("web",))
    folder = result.out_dir
    assert (folder / "index.html").is_file()
    assert (folder / "assets" / "web.css").is_file()
    assert (folder / "assets" / "2024-05-minimal" / "images" / "ada.png").is_file()


def test_print_fonts_are_served_as_woff_with_their_licence(web, sample_edition):
    """The web edition uses the print edition's faces, wrapped as WOFF: same font data, half the bytes."""
    from fontTools.ttLib import TTFont

    source = sample_edition.layout.file("fonts/SourceSerif4-Regular.ttf")
    if not source:
        pytest.skip("the default layout ships no fonts")  # system font stacks then; nothing to copy
    woff = web.data["assets/fonts/SourceSerif4-Regular.woff"]
    assert woff[:4] == b"wOFF" and len(woff) < source.stat().st_size / 2
    wrapped, original = TTFont(BytesIO(woff)), TTFont(source)
    assert sorted(wrapped.reader.keys()) == sorted(original.reader.keys())
    for tag in original.reader.keys():  # noqa: SIM118 SFNTReader has keys() but no __iter__ (iterating would index it 0, 1, …)
        if tag == "head":  # bytes 8-11 hold the whole-file checksum, which any writer recomputes
            assert (
                wrapped.reader[tag][:8] + wrapped.reader[tag][12:]
                == original.reader[tag][:8] + original.reader[tag][12:]
            )
        else:
            assert wrapped.reader[tag] == original.reader[tag], tag
    assert any("LICENSE" in name for name in web.files)  # the SIL OFL travels with the fonts
    assert not [name for name in web.files if name.endswith(".ttf")]
    assert '@font-face { font-family: "RN Serif"; src: url("assets/fonts/SourceSerif4-Regular.woff")' in web.html


def test_a_layout_without_some_fonts_falls_back_to_system_fonts(minimal_tree):
    """A custom layout's fonts/ replaces the default's face by face; missing faces are not declared."""
    fonts = minimal_tree / "layouts" / "house" / "fonts"
    fonts.mkdir(parents=True)
    (fonts / "SourceSerif4-Regular.ttf").write_bytes(b"house font")
    (fonts / "OFL.txt").write_text("licence", encoding="utf-8")
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text(encoding="utf-8") + "layout: house\n", encoding="utf-8")
    web = render_web(assemble(load_content(minimal_tree / "2024-05-minimal")))
    assert web.files["assets/fonts/SourceSerif4-Regular.ttf"] == fonts / "SourceSerif4-Regular.ttf"
    assert web.files["assets/fonts/OFL.txt"] == fonts / "OFL.txt"
    house_faces = [name for name, source in web.files.items() if source.parent == fonts]
    assert sorted(house_faces) == ["assets/fonts/OFL.txt", "assets/fonts/SourceSerif4-Regular.ttf"]


@pytest.mark.parametrize("colour", ["#ffd400", "#0b4a5a", "#d9822b", "#777777", "#000000", "#ffffff"])
def test_palette_keeps_text_readable_whatever_the_brand(sample_edition, colour):
    publication = sample_edition.publication.__class__(**{**sample_edition.publication.__dict__, "primary": colour})
    theme = palette(sample_edition.__class__(**{**sample_edition.__dict__, "publication": publication}))
    assert contrast(theme.primary, PAPER) >= AA_TEXT
    assert contrast(theme.primary, theme.tint) >= AA_TEXT  # headings inside the takeaways box
    assert contrast(theme.on_primary, theme.primary) >= AA_TEXT  # button and footer text
    assert contrast(theme.primary_on_dark, DARK_CARD) >= AA_TEXT
    assert contrast(theme.primary_on_dark, theme.tint_on_dark) >= AA_TEXT
    assert contrast(theme.dark_ink, theme.tint_on_dark) >= AA_TEXT
    assert contrast(theme.muted, theme.tint) >= AA_TEXT


# --- in Chromium ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(sample_build) -> Path:
    return sample_build[0]


@pytest.mark.parametrize("width, dark", [(1024, False), (375, False), (1024, True)])
def test_axe_finds_no_violations(built, new_page, width, dark):
    with serve(built) as base:
        page = new_page(base + "index.html", width, dark=dark)
        violations = run_axe(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        assert page.evaluate("Array.from(document.images).every(img => img.naturalWidth > 0)")
        faces = page.evaluate("document.fonts.ready.then(fonts => Array.from(fonts).map(f => [f.family, f.status]))")
        assert ["RN Serif", "loaded"] in [[family.strip('"'), status] for family, status in faces], faces
        assert "error" not in [status for _, status in faces], faces  # every WOFF the browser tried, it read
    assert not violations, "axe-core:\n" + describe(violations)


def test_a_changed_image_is_copied_again_whatever_its_size_and_date(minimal_issue, tmp_path: Path):
    """Assets are always copied: a same-size replacement with an old date must not leave the old picture."""
    import os

    from PIL import Image as PILImage

    photo = minimal_issue / "images" / "ada.png"
    PILImage.new("RGB", (40, 40), "red").save(photo, compress_level=0)
    build(minimal_issue, tmp_path / "build", only=("web",))
    PILImage.new("RGB", (40, 40), "blue").save(photo, compress_level=0)  # uncompressed: the same size
    os.utime(photo, (978307200, 978307200))  # 2001-01-01, older than the copy
    result = build(minimal_issue, tmp_path / "build", only=("web",))
    assert (result.out_dir / "assets" / "2024-05-minimal" / "images" / "ada.png").read_bytes() == photo.read_bytes()
