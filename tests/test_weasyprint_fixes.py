"""The WeasyPrint workarounds (render/weasyprint_fixes.py): each fixes its bug, and the bug is still there.

Each workaround has two tests. One renders the failing case as the print edition does and
checks the bug does not show. The other renders it with WeasyPrint's own code and checks
the bug *does* show: when it fails, WeasyPrint has fixed the bug and the workaround (and
both tests) should be removed.
"""

from __future__ import annotations

import inspect
import zlib
from io import BytesIO

from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.layout import inline
from weasyprint.text import line_break

from research_news.assemble import Edition
from research_news.render import weasyprint_fixes
from research_news.render.pdf import html_to_pdf, layout_url

# --- a trailing space counted as overflow ------------------------------------------------


def trailing_space_case(edition: Edition) -> str:
    """A paragraph in which WeasyPrint 70 leaves "people," alone on a line: the rest of the text
    before <strong> fits the second line, its trailing space does not.

    The page width decides it: the bug shows from 85.0 to 85.7 mm with these fonts (at the
    81.5 mm this test used before, the text never met the case, so the test could not fail).
    """
    paragraph = (
        "Because most of these records describe identifiable people, one question runs through "
        "the whole study: <strong>how far does privacy, and the law that protects it, actually "
        "limit what marketers do with personal data?</strong> Answering it helps regulators."
    )
    return f"""<html lang="en"><style>
      @font-face {{ font-family: T; src: url("{layout_url(edition, "fonts/SourceSerif4-Regular.ttf")}"); }}
      @font-face {{ font-family: T; font-weight: 600;
                    src: url("{layout_url(edition, "fonts/SourceSerif4-Semibold.ttf")}"); }}
      @page {{ size: 85.3mm 60mm; margin: 0 }} html {{ font: 10pt/1.45 T; hyphens: manual }}
      strong {{ font-weight: 600 }}</style><p>{paragraph}</p></html>"""


def lines_of(pdf: bytes) -> list[str]:
    return PdfReader(BytesIO(pdf)).pages[0].extract_text().splitlines()


def lone_words(lines: list[str]) -> list[str]:
    """Lines other than the last holding a single word: a line broken too early."""
    return [line for line in lines[:-1] if len(line.split()) == 1]


def test_trailing_space_does_not_break_a_line_early(minimal_edition: Edition):
    """WeasyPrint 70 broke "people," onto a line of its own when only a trailing space overflowed."""
    lines = lines_of(html_to_pdf(minimal_edition, trailing_space_case(minimal_edition), None).data)
    assert not lone_words(lines), lines


def test_the_fix_is_installed_on_this_weasyprint():
    """The fix checks WeasyPrint's function before wrapping it; a changed signature would skip it silently."""
    weasyprint_fixes.apply()
    assert getattr(inline.split_first_line, "hangs_trailing_space", False)


def test_weasyprint_still_breaks_a_line_early_without_the_fix(minimal_edition: Edition, monkeypatch):
    """Fails once WeasyPrint hangs trailing spaces itself: then remove ``hang_trailing_spaces``."""
    monkeypatch.setattr(inline, "split_first_line", line_break.split_first_line)  # WeasyPrint's own
    pdf = HTML(string=trailing_space_case(minimal_edition)).write_pdf()
    assert lone_words(lines_of(pdf)) == ["people,"], "WeasyPrint fixed the trailing-space bug: remove the workaround"


# --- a part in another language is not tagged with it --------------------------------------

LANGUAGE_CASE = """<html lang="en"><body><p>An English issue.</p>
<article lang="fr"><h2>Une note en français</h2><p>Le texte de la note.</p></article></body></html>"""


def languages_tagged(pdf: bytes) -> list[tuple[str, str]]:
    from tests.pdf_tree import struct_elements

    return [(str(e["/S"]), str(e["/Lang"])) for e in struct_elements(PdfReader(BytesIO(pdf))) if "/Lang" in e]


def test_an_element_in_another_language_is_tagged_with_it(minimal_edition: Edition):
    """A French brief in an English issue: screen readers switch voice at its structure element."""
    assert languages_tagged(html_to_pdf(minimal_edition, LANGUAGE_CASE, "pdf/ua-1").data) == [("/Art", "fr")]


def test_the_sample_issues_briefs_carry_no_needless_language(sample_build):
    """Every brief of the sample is in the issue's language: no element repeats it."""
    out, _ = sample_build
    pdf = next(out.glob("*.pdf")).read_bytes()
    assert all(lang != "en" for _, lang in languages_tagged(pdf))


def test_weasyprint_still_leaves_element_languages_out_without_the_fix(monkeypatch):
    """Fails once WeasyPrint tags languages itself: then remove ``tag_element_languages``."""
    from weasyprint.pdf import tags

    monkeypatch.setattr(tags, "_build_box_tree", inspect.unwrap(tags._build_box_tree))
    pdf = HTML(string=LANGUAGE_CASE).write_pdf(pdf_tags=True)
    assert languages_tagged(pdf) == [], "WeasyPrint tags element languages: remove the workaround"


# --- an image encoded again for each PDF written from one layout ----------------------------


def figure_document(tmp_path):
    """A layout showing a PNG with an alpha channel (WeasyPrint writes its mask apart) and an opaque one."""
    from PIL import Image

    Image.new("RGBA", (40, 30), (200, 40, 40, 128)).save(tmp_path / "alpha.png")
    Image.new("RGB", (40, 30), (20, 90, 160)).save(tmp_path / "opaque.png")
    html = '<img src="alpha.png"><img src="opaque.png"><p style="break-before: page"><img src="alpha.png"></p>'
    return HTML(string=html, base_url=str(tmp_path)).render()


def encodings(monkeypatch) -> list[int]:
    """A counter of WeasyPrint's PNG encodings of an image's pixels or mask (one per call)."""
    from weasyprint.images import RasterImage

    calls: list[int] = []
    encode = RasterImage._get_png_data

    def counted(pillow_image):
        calls.append(1)
        return encode(pillow_image)

    monkeypatch.setattr(RasterImage, "_get_png_data", staticmethod(counted))
    return calls


def test_an_image_is_encoded_once_for_every_pdf_written_from_one_layout(tmp_path, monkeypatch):
    """The issue and its offprints are written from one layout: the figures are encoded for the first only,
    and every PDF has the same bytes as WeasyPrint's own code writes."""
    from weasyprint.images import RasterImage

    weasyprint_fixes.apply()
    calls = encodings(monkeypatch)
    document = figure_document(tmp_path)
    first = document.write_pdf()
    assert len(calls) == 3  # the alpha image's pixels and mask, the opaque one's pixels
    again, offprint = document.write_pdf(), document.copy(document.pages[1:]).write_pdf()
    assert len(calls) == 3, "an image was encoded again"
    assert again == first
    monkeypatch.setattr(RasterImage, "get_x_object", inspect.unwrap(RasterImage.get_x_object))
    own = figure_document(tmp_path)
    assert (own.write_pdf(), own.copy(own.pages[1:]).write_pdf()) == (first, offprint)


def test_weasyprint_still_encodes_an_image_for_each_pdf_without_the_fix(tmp_path, monkeypatch):
    """Fails once WeasyPrint keeps an image's encoding between PDFs: then remove ``encode_images_once``."""
    from weasyprint.images import RasterImage

    monkeypatch.setattr(RasterImage, "get_x_object", inspect.unwrap(RasterImage.get_x_object))
    calls = encodings(monkeypatch)
    document = figure_document(tmp_path)
    document.write_pdf()
    document.write_pdf()
    assert len(calls) == 6, "WeasyPrint encodes an image once: remove the workaround"


def test_a_pdf_is_the_same_bytes_wherever_its_images_are_read_from(tmp_path):
    """The same document with its images in another folder (another checkout) is the same PDF."""
    weasyprint_fixes.apply()
    here, there = tmp_path / "here", tmp_path / "there" / "a" / "longer" / "path"
    here.mkdir(parents=True)
    there.mkdir(parents=True)
    assert figure_document(here).write_pdf() == figure_document(there).write_pdf()


def test_an_image_drawn_turned_is_another_image(tmp_path):
    """Named by their bytes, an image and the same bytes turned are two images; the same bytes drawn the
    same way are one, wherever they were read."""
    from PIL import Image
    from weasyprint import DEFAULT_OPTIONS
    from weasyprint.images import RasterImage

    weasyprint_fixes.apply()
    Image.new("RGB", (40, 30), (20, 90, 160)).save(tmp_path / "one.png")
    data = (tmp_path / "one.png").read_bytes()

    def named(address: str, orientation: object) -> str:
        return RasterImage(Image.open(tmp_path / "one.png"), address, data, None, None, orientation, DEFAULT_OPTIONS).id

    assert named("a", "none") == named("b", "none") != named("a", (90, False)) != named("a", (90, True))


def test_weasyprint_still_names_an_image_by_its_address(tmp_path, monkeypatch):
    """Fails once WeasyPrint names images by their content: then remove ``name_images_by_content``."""
    from weasyprint.images import RasterImage

    monkeypatch.setattr(RasterImage, "__init__", inspect.unwrap(RasterImage.__init__))
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    assert figure_document(here).write_pdf() != figure_document(there).write_pdf()


# --- every stream compressed at zlib's slowest level ------------------------------------------


def _deflated_streams(data: bytes) -> list[tuple[bytes, bytes]]:
    """(the bytes as stored, the same inflated) of every Flate-compressed stream of a PDF (a stream is
    never inside an object stream: each is in the cross-reference table)."""
    from pypdf.generic import IndirectObject, StreamObject

    reader = PdfReader(BytesIO(data))
    streams = []
    for generation, numbers in reader.xref.items():
        for number in numbers:
            found = reader.get_object(IndirectObject(number, generation, reader))
            if isinstance(found, StreamObject) and found.get("/Filter") == "/FlateDecode":
                streams.append((found._data, found.get_data()))
    return streams


def test_the_pdfs_streams_are_compressed_at_the_default_level(minimal_edition: Edition):
    pdf = html_to_pdf(minimal_edition, "<html lang='en'><p>Deflated, but not at the slowest level.</p>", None)
    streams = _deflated_streams(pdf.data)
    assert streams
    assert all(stored == zlib.compress(inflated, weasyprint_fixes.DEFLATE_LEVEL) for stored, inflated in streams)


def test_pydyf_still_asks_for_the_slowest_level():
    import pydyf

    weasyprint_fixes.apply()
    assert isinstance(pydyf.zlib, weasyprint_fixes._DefaultLevelZlib)
    assert "compressobj(level=9)" in inspect.getsource(pydyf.Stream.data.fget)  # fails: remove the fix
    stream = pydyf.Stream([b"0 0 m 10 10 l S"] * 200, compress=True)
    stored = stream.data.split(b"stream\n", 1)[1].rsplit(b"\nendstream", 1)[0]
    assert stored == zlib.compress(b"\n".join([b"0 0 m 10 10 l S"] * 200), weasyprint_fixes.DEFLATE_LEVEL)


# --- every page's reference listed again for each tagged element --------------------------


def _pdf_of_pages(count: int):
    import pydyf

    pdf = pydyf.PDF()
    for _ in range(count):
        pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
    return pdf


def test_the_pages_references_are_listed_once_per_page_added():
    weasyprint_fixes.apply()
    pdf = _pdf_of_pages(3)
    listed = pdf.page_references
    assert listed == (b"3 0 R", b"4 0 R", b"5 0 R")
    assert pdf.page_references is listed  # read again: not listed again
    pdf.add_page(__import__("pydyf").Dictionary({"Type": "/Page"}))
    assert pdf.page_references == (*listed, b"6 0 R")


def test_a_tagged_pdf_is_the_same_bytes_with_the_pages_listed_once(minimal_edition: Edition, monkeypatch):
    import pydyf

    weasyprint_fixes.apply()
    html = "<html lang='en'>" + "".join(f"<h2>Part {n}</h2><p style='break-after: page'>Text {n}</p>" for n in range(5))
    fixed = html_to_pdf(minimal_edition, html, "pdf/ua-1")
    monkeypatch.setattr(pydyf.PDF, "page_references", property(pydyf.PDF.page_references.fget.__wrapped__))
    assert html_to_pdf(minimal_edition, html, "pdf/ua-1").data == fixed.data
    assert fixed.pages == 5


def test_pydyf_still_lists_every_page_on_each_read():
    import pydyf

    weasyprint_fixes.apply()
    original = pydyf.PDF.page_references.fget.__wrapped__
    pdf = _pdf_of_pages(3)
    assert original(pdf) is not original(pdf)  # fails: pydyf keeps the list now, remove the fix


def test_a_workaround_wraps_once_and_only_the_function_it_was_written_for():
    """wrap_once, which installs every workaround: marked, wrapped once however often applied, and a
    function whose parameters changed (an upgraded WeasyPrint) left as it is."""
    from types import SimpleNamespace

    def draw(text, width):
        return text

    def other(text, width, height):
        return text

    owner = SimpleNamespace(draw=draw, other=other)
    calls: list[str] = []

    def wrap(original):
        def wrapped(text, width):
            calls.append(text)
            return original(text, width)

        return wrapped

    for _ in range(2):
        weasyprint_fixes.wrap_once(owner, "draw", ["text", "width"], wrap, "wrapped_here")
        weasyprint_fixes.wrap_once(owner, "other", ["text", "width"], wrap, "wrapped_here")
        weasyprint_fixes.wrap_once(owner, "missing", ["text", "width"], wrap, "wrapped_here")
    assert owner.draw("a", 1) == "a" and calls == ["a"]  # one wrapper, not two
    assert owner.draw.wrapped_here and owner.other is other and not hasattr(owner, "missing")
