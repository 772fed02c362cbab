"""The print edition, read back from the PDF: pages, text, outline, tags, language, metadata.

The sample issue is built once per session through the CLI (with offprints, conftest.py) and
every test reads that output; the other trees are small and render in about a second. The
PDF is read as its object tree (tests/pdf_tree.py): WeasyPrint packs dictionaries into
compressed object streams, where a search of the file's bytes finds nothing.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from io import BytesIO
from itertools import pairwise
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from research_news.assemble import Edition, assemble
from research_news.layout import BUILTIN_LAYOUTS, DEFAULT
from research_news.render import pdf as pdf_module
from research_news.render.pdf import render_html, render_offprint, render_pdf
from research_news.validate import load_content

from .conftest import FIXTURES, SAMPLE_ISSUE, run_cli
from .pdf_tree import active_content, link_annotations, marked_texts, parent_tree, resolve, struct_elements, text_of

SLUG = SAMPLE_ISSUE.name


# --- helpers ---------------------------------------------------------------------------


def canon(text: str) -> str:
    """Letters and digits only, lower case: survives line breaks, hyphenation and typographic quotes."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # markdown links show their text only
    return re.sub(r"[\W_]+", "", text).casefold()


def pdf_text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def outline(reader: PdfReader, items=None, depth=0) -> list[tuple[int, str, int]]:
    """(depth, title, 1-based page) for every bookmark, in order."""
    found = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            found.extend(outline(reader, item, depth + 1))
        else:
            found.append((depth, item.title, reader.get_destination_page_number(item) + 1))
    return found


@pytest.fixture(scope="session")
def sample_pdf(sample_build) -> PdfReader:
    return PdfReader(sample_build[0] / f"{SLUG}.pdf")


@pytest.fixture(scope="session")
def sample_text(sample_pdf) -> str:
    return pdf_text(sample_pdf)


# --- the sample issue ------------------------------------------------------------------


def test_build_writes_the_pdf_and_a_summary(sample_build, sample_pdf):
    folder, stdout = sample_build
    assert (folder / f"{SLUG}.pdf").is_file()
    summary = stdout.strip().splitlines()[-1]
    assert f"{len(sample_pdf.pages)} PDF pages" in summary
    assert re.search(r"\d+(\.\d)? (KB|MB)", summary) and re.search(r"in \d+\.\d s", summary)


def test_the_sample_builds_without_warnings(sample_build):
    assert "warning" not in sample_build[1]


def test_page_count(sample_pdf, sample_edition: Edition):
    # cover, contents, about, at least one page per brief, events/news, back page
    assert len(sample_pdf.pages) >= 3 + len(sample_edition.briefs) + 2
    assert len(sample_pdf.pages) <= 3 + 4 * len(sample_edition.briefs) + 3


def test_every_title_and_takeaway_is_in_the_text(sample_text, sample_edition: Edition):
    text = canon(sample_text)
    for brief in sample_edition.briefs:
        assert canon(brief.title) in text, brief.title
        for takeaway in brief.parts_by_key["key_takeaways"].source:
            assert canon(takeaway) in text, takeaway
    assert canon(sample_edition.publication.name) in text
    for person in sample_edition.contacts:
        assert canon(person.name) in text


def test_outline_is_section_then_brief(sample_pdf, sample_edition: Edition):
    entries = outline(sample_pdf)
    titles = [(depth, title) for depth, title, _ in entries]
    for section in sample_edition.sections:
        at = titles.index((0, section.title))
        assert titles[at + 1 : at + 1 + len(section.briefs)] == [(1, b.title) for b in section.briefs]
    assert (0, sample_edition.labels["contents"]) in titles
    pages = [page for _, _, page in entries]
    assert pages == sorted(pages)  # bookmarks follow the reading order


def test_each_brief_starts_a_page_and_cover_has_no_number(sample_pdf, sample_edition: Edition):
    starts = {title: page for depth, title, page in outline(sample_pdf) if depth == 1}
    for brief in sample_edition.briefs:
        first_line = sample_pdf.pages[starts[brief.title] - 1].extract_text()
        assert canon(brief.title) in canon(first_line)
    cover = sample_pdf.pages[0].extract_text()
    assert not re.search(r"^\s*1\s*$", cover, re.M)
    assert canon(f"{sample_edition.labels['issue']} {sample_edition.number}") in canon(cover)
    # running footer: publication and issue number on inner pages
    assert canon(sample_edition.publication.name) in canon(sample_pdf.pages[3].extract_text())


def test_tagged_pdf_with_language(sample_pdf):
    root = resolve(sample_pdf.trailer["/Root"])
    assert resolve(root["/MarkInfo"])["/Marked"].value is True  # a pypdf BooleanObject, truthy even when false
    assert root["/Lang"] == "en"
    roles = [str(element["/S"]) for element in struct_elements(sample_pdf)]
    assert roles[0] == "/Document"
    assert {"/H1", "/H2", "/H3", "/P", "/Figure", "/L", "/LI", "/Link", "/BlockQuote"} <= set(roles)


def test_the_tags_follow_the_headings_of_the_html(sample_pdf, sample_edition: Edition):
    """Every brief's title is tagged /H2, in reading order, with its text."""
    texts = marked_texts(sample_pdf)
    headings = [
        (str(element["/S"]), canon(text_of(sample_pdf, element, texts)))
        for element in struct_elements(sample_pdf)
        if str(element["/S"]) in ("/H1", "/H2")
    ]
    titles = [canon(brief.title) for brief in sample_edition.briefs]
    assert [text for role, text in headings if text in titles] == titles
    assert all(role == "/H2" for role, text in headings if text in titles)


def test_every_figure_tag_has_the_alt_text_of_its_image(sample_pdf, sample_edition: Edition):
    alts = [str(element.get("/Alt", "")) for element in struct_elements(sample_pdf) if element["/S"] == "/Figure"]
    assert alts and all(alt.strip() for alt in alts), alts
    figure = sample_edition.briefs[0].parts_by_key["methodology"].figures[0]
    assert figure.image.alt in alts
    for brief in sample_edition.briefs:
        for author in brief.authors:
            if author.photo:
                assert author.photo.alt in alts


def test_every_link_is_tagged_as_a_link(sample_pdf):
    """Each link annotation hangs in the structure tree under a /Link element that points back to it."""
    tree = parent_tree(sample_pdf)
    annotations = link_annotations(sample_pdf)
    assert len(annotations) > 20
    for page, annotation in annotations:
        element = tree[int(annotation["/StructParent"])]
        kids = element["/K"] if isinstance(element["/K"], list) else [element["/K"]]
        references = [
            resolve(kid) for kid in kids if hasattr(resolve(kid), "get") and resolve(kid).get("/Type") == "/OBJR"
        ]
        assert annotation.indirect_reference.idnum in [ref.raw_get("/Obj").idnum for ref in references]
        roles = []
        while element is not None and "/S" in element:
            roles.append(str(element["/S"]))
            element = resolve(element.get("/P"))
        assert "/Link" in roles[:2], (page + 1, annotation.get("/Contents"), roles)


def test_metadata(sample_pdf, sample_edition: Edition):
    info = sample_pdf.metadata
    assert info["/Title"] == sample_edition.title
    for name in sample_edition.authors:
        assert name in info["/Author"]
    assert info["/Subject"] == sample_edition.headline
    for keyword in sample_edition.keywords:
        assert keyword in info["/Keywords"]
    assert info["/CreationDate"].startswith(f"D:{sample_edition.date:%Y%m%d}")


def test_contents_links_to_every_brief(sample_pdf, sample_edition: Edition):
    contents_page = (
        next(page for depth, title, page in outline(sample_pdf) if title == sample_edition.labels["contents"]) - 1
    )
    targets = {
        str(annotation["/Dest"])
        for page, annotation in link_annotations(sample_pdf)
        if page == contents_page and "/Dest" in annotation
    }
    assert {brief.id for brief in sample_edition.briefs} <= targets
    named = resolve(resolve(sample_pdf.trailer["/Root"]["/Names"])["/Dests"])["/Names"]
    assert targets <= set(named[0::2])  # each one lands on a named destination
    # target-counter: the page numbers printed in the contents are where the briefs start
    starts = {title: page for depth, title, page in outline(sample_pdf) if depth == 1}
    contents = sample_pdf.pages[contents_page].extract_text()
    for brief in sample_edition.briefs:
        assert re.search(rf"\.\s*{starts[brief.title]}\s*$", contents, re.M), (brief.title, starts[brief.title])


def test_no_script_or_external_actions(sample_pdf):
    assert active_content(sample_pdf) == []
    links = [resolve(annotation["/A"])["/URI"] for _, annotation in link_annotations(sample_pdf) if "/A" in annotation]
    assert "https://www.example.org" in links and all(link.startswith(("https:", "mailto:")) for link in links)


def test_the_active_content_check_sees_inside_object_streams():
    """A script in a compressed object stream is invisible to a byte search, not to the tree walk."""
    import pydyf
    from weasyprint import HTML

    def add_script(document, pdf):
        pdf.catalog["OpenAction"] = pydyf.Dictionary({"S": "/JavaScript", "JS": pydyf.String("app.alert(1)")})

    data = HTML(string='<p><a href="javascript:alert(1)">x</a></p>').write_pdf(finisher=add_script)
    assert b"/JavaScript" not in data  # the check this file used to make
    found = active_content(PdfReader(BytesIO(data)))
    assert "trailer/Root/OpenAction" in found
    assert any("opens javascript:alert(1)" in where for where in found)


# --- HTML the templates make -----------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict] = []
        self.headings: list[int] = []
        self.langs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if "lang" in attributes:
            self.langs.append(attributes["lang"])


def test_html_is_accessible(sample_edition: Edition):
    collector = _Collector()
    collector.feed(render_html(sample_edition))
    assert collector.images and all(image.get("alt", "").strip() for image in collector.images)
    assert collector.headings[0] == 1
    for before, after in pairwise(collector.headings):
        assert after <= before + 1, collector.headings  # never skip a level going down
    assert collector.langs[0] == "en" and len(collector.langs) == 1 + len(sample_edition.briefs)


def test_markdown_subheadings_sit_below_the_part(minimal_edition: Edition):
    html = render_html(minimal_edition)
    methodology = html[html.index('class="part part--methodology"') :]
    assert re.search(r"<h3[^>]*>Methodology</h3>.*?<h4>Sample</h4>", methodology, re.S)


# --- other trees -----------------------------------------------------------------------


def test_french_issue_gets_french_labels(tmp_path: Path):
    edition = assemble(load_content(FIXTURES / "print-french" / "2024-09-numero-francais"))
    rendered = render_pdf(edition)
    reader = PdfReader(BytesIO(rendered.data))
    text = pdf_text(reader)
    for label in (
        "Sommaire",
        "Pourquoi ce sujet est-il important ?",
        "Méthodologie",
        "Principaux résultats",
        "À retenir",
        "Événements à venir",
        "3 septembre 2024",
    ):
        assert canon(label) in canon(text), label
    assert "«" in text and "»" in text  # French quotation marks around the pull quote
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert "Key findings" not in text


def test_hostile_markdown_is_shown_as_typed(tmp_path: Path):
    edition = assemble(load_content(FIXTURES / "print-hostile" / "2024-06-hostile"))
    html = render_html(edition)
    assert "<script>" not in html and "<img src=x" not in html  # escaped, never markup
    rendered = render_pdf(edition)
    squashed = re.sub(r"\s+", "", pdf_text(PdfReader(BytesIO(rendered.data))))
    assert "<script>alert(1)</script>" in squashed
    assert "<imgsrc=xonerror=alert(1)>" in squashed
    assert active_content(PdfReader(BytesIO(rendered.data))) == []


def test_a_layout_can_override_the_cover_alone(minimal_tree: Path):
    cover = minimal_tree / "layouts" / "mylayout" / "print" / "cover.html.j2"
    cover.parent.mkdir(parents=True)
    cover.write_text('<header class="cover"><h1>{{ publication.name }}: a restyled cover</h1></header>\n')
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text() + "layout: mylayout\n")
    edition = assemble(load_content(minimal_tree / "2024-05-minimal"))
    text = pdf_text(PdfReader(BytesIO(render_pdf(edition).data)))
    assert "Minimal Chair: a restyled cover" in text
    assert canon("Contents") in canon(text) and canon("Key takeaways") in canon(text)  # the rest is default


def test_archival_variant(minimal_edition: Edition):
    rendered = render_pdf(minimal_edition, variant="pdf/a-3b")
    reader = PdfReader(BytesIO(rendered.data))
    root = reader.trailer["/Root"]
    assert resolve(resolve(root["/OutputIntents"])[0])["/S"] == "/GTS_PDFA1"
    xmp = ElementTree.fromstring(resolve(root["/Metadata"]).get_data())
    pdfaid = "{http://www.aiim.org/pdfa/ns/id/}"
    claimed = {
        name.removeprefix(pdfaid): value
        for element in xmp.iter()
        for name, value in [*element.attrib.items(), (element.tag, (element.text or "").strip())]
        if name.startswith(pdfaid)
    }
    assert (claimed["part"], claimed["conformance"]) == ("3", "B")


def test_offprints_are_the_briefs_pages_cut_from_the_issue(sample_build, sample_edition: Edition):
    """An offprint reprints its brief's pages as the issue prints them (page numbers and running foot
    included), with the brief's own title, authors, language, subject and outline, still tagged."""
    folder = sample_build[0] / "offprints"
    issue = PdfReader(sample_build[0] / f"{sample_edition.slug}.pdf")
    issue_pages = [canon(page.extract_text()) for page in issue.pages]
    assert sorted(p.stem for p in folder.glob("*.pdf")) == sorted(b.slug for b in sample_edition.briefs)
    for brief in sample_edition.briefs:
        reader = PdfReader(folder / f"{brief.slug}.pdf")
        pages = [canon(page.extract_text()) for page in reader.pages]
        start = issue_pages.index(pages[0])
        assert issue_pages[start : start + len(pages)] == pages  # the same pages, in order, none left out
        assert canon(brief.title) in pages[0] and canon(sample_edition.publication.name) in pages[-1]
        assert str(start + 1) in pages[0]  # the issue's page number, as a journal offprint keeps it
        assert not any(canon(other.title) in "".join(pages) for other in sample_edition.briefs if other is not brief)
        assert [(depth, title) for depth, title, _ in outline(reader)][:1] == [(0, brief.title)]
        assert reader.metadata["/Title"] == brief.title
        assert reader.metadata["/Author"] == ", ".join(author.name for author in brief.authors)
        subject = reader.metadata["/Subject"]
        assert sample_edition.labels["offprint"] in subject and sample_edition.publication.name in subject
        assert reader.trailer["/Root"]["/Lang"] == brief.lang
        tags = [element["/S"] for element in struct_elements(reader)]
        texts = marked_texts(reader)
        headings = [text_of(reader, e, texts) for e in struct_elements(reader) if e["/S"] == "/H2"]
        assert canon(brief.title) in [canon(heading) for heading in headings]
        figures = sum(len(part.figures) for part in brief.parts)
        assert tags.count("/Figure") >= figures  # photos and figures, each still a tagged figure


def test_offprint_renders_in_process_too(minimal_edition: Edition):
    brief = minimal_edition.briefs[0]
    rendered = render_offprint(minimal_edition, brief.slug)
    assert rendered.pages >= 1 and rendered.warnings == []


def test_the_issue_and_its_offprints_come_from_one_layout(minimal_edition: Edition, layouts: list[int]):
    """The costliest step, WeasyPrint's layout, is done once for the issue and every offprint."""
    slugs = [brief.slug for brief in minimal_edition.briefs]
    printed = pdf_module.render_print(minimal_edition, offprints=slugs)
    assert printed.issue is not None and sorted(printed.offprints) == sorted(slugs)
    assert len(layouts) == 1


def test_a_failed_render_leaves_the_previous_pdf(minimal_tree: Path, tmp_path: Path, monkeypatch):
    issue = minimal_tree / "2024-05-minimal"
    assert run_cli("build", issue, "--out", tmp_path, "--only", "pdf").exit_code == 0
    target = tmp_path / "2024-05-minimal" / "2024-05-minimal.pdf"
    good = target.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(pdf_module, "render_print", broken)
    with pytest.raises(RuntimeError):  # --force: nothing changed, and the PDF must be rendered again
        run_cli("build", issue, "--out", tmp_path, "--only", "pdf", "--force")
    assert target.read_bytes() == good
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("blocks, warned", [(50, False), (67, True), (100, False)])
def test_a_brief_ending_on_a_nearly_empty_page_is_reported(minimal_edition: Edition, blocks, warned):
    """A4 with 20 mm margins holds 64 blocks of 4 mm: 67 leave 3 blocks (5%) for page 2."""
    from weasyprint import HTML

    brief = minimal_edition.briefs[0]
    html = f"""<style>@page {{ size: A4; margin: 20mm }} body {{ margin: 0 }}</style>
      <article id="{brief.id}">{'<div style="height: 4mm"></div>' * blocks}</article>"""
    problems = pdf_module.short_last_pages(minimal_edition, HTML(string=html).render().pages)
    assert [p.severity for p in problems] == (["warning"] if warned else [])
    if warned:
        assert problems[0].path == brief.path and (problems[0].line, problems[0].column) == (1, 1)
        assert "page 2" in problems[0].message and "5% of the page" in problems[0].message


def test_package_layout_ships_fonts_with_licences():
    fonts = BUILTIN_LAYOUTS / DEFAULT / "fonts"
    files = list(fonts.glob("*.ttf"))
    assert len(files) >= 4 and sum(f.stat().st_size for f in files) < 3_000_000
    licences = list(fonts.glob("LICENSE-*"))
    assert licences and all("SIL Open Font License" in f.read_text() for f in licences)


def test_an_offprint_sharing_a_page_with_another_brief_is_warned_about(minimal_tree: Path, tmp_path: Path):
    """A layout that does not start each brief on a new page shares pages between briefs; an offprint,
    being its brief's pages, then shows part of the other one: the editor hears so, at the layout's CSS."""
    default_css = BUILTIN_LAYOUTS / DEFAULT / "print" / "print.css"
    css = minimal_tree / "layouts" / "flowing" / "print" / "print.css"
    css.parent.mkdir(parents=True)
    css.write_text(default_css.read_text() + "\n.brief { break-before: auto; }\n")
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text() + "layout: flowing\n")
    issue = minimal_tree / "2024-05-minimal"
    second = (issue / "briefs" / "one.yaml").read_text().replace("A short study of small things", "A second study")
    (issue / "briefs" / "two.yaml").write_text(second)
    (issue / "issue.yaml").write_text((issue / "issue.yaml").read_text() + "      - briefs/two.yaml\n")
    edition = assemble(load_content(issue))
    assert len(edition.briefs) == 2
    offprints = pdf_module.render_offprints(edition)
    warned = [w for one in offprints.values() for w in one.warnings if "does not start each brief" in w.message]
    assert warned and all(w.path == css and w.severity == "warning" for w in warned)
    assert f'also shows part of "{edition.briefs[0].title}"' in " ".join(w.message for w in warned)
    css.unlink()  # the default layout's own CSS: each brief on a new page
    apart = pdf_module.render_offprints(assemble(load_content(issue)))
    assert not [w for one in apart.values() for w in one.warnings if "does not start each brief" in w.message]


def test_decisions_kept_in_memory_are_checked_like_files_and_pruned(sample_edition):
    """A memo without a folder (the preview's worker) keeps decisions in its dict: read back as written,
    an entry that is not as written is no decision, and a layout forgets the entries it did not use."""
    from research_news.cache import Memo
    from research_news.render.pagination import Decision, Placement

    memo = Memo(None, "base")
    brief = sample_edition.briefs[0]
    decision = Decision("figure-1", "methodology", 1, 0.25, Placement("key_findings", 2), "drawn")
    pdf_module._Decisions(sample_edition, memo).remember(brief, decision)
    (name,) = memo.kept
    assert pdf_module._Decisions(sample_edition, memo).known(brief) == decision
    assert pdf_module._Decisions(sample_edition, Memo(None, "another base", kept=memo.kept)).known(brief) is None
    assert pdf_module._Decisions(sample_edition, Memo(None, "base", read=False, kept=memo.kept)).known(brief) is None
    for damaged in ("{not json", '{"placement": {"part": 3}}', "[" * 100_000):
        memo.kept[name] = damaged
        assert pdf_module._Decisions(sample_edition, memo).known(brief) is None
    memo.kept["an-earlier-version.json"] = "{}"
    used = pdf_module._Decisions(sample_edition, memo)
    used.known(brief)
    used.forget_the_rest()
    assert list(memo.kept) == [name]
