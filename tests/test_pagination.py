"""Pages without holes (render/pagination.py): the blank area measured on WeasyPrint's page boxes,
figures moved where they leave none, and `build --pad-to`'s notes pages.

The full renders are few: one issue with a hole (the sample's first brief alone, its method
cut short so that its figure leaves a quarter of page 4 blank) is arranged once, and built
twice through the CLI.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from markupsafe import Markup
from pypdf import PdfReader

from research_news.assemble import assemble
from research_news.render import pagination
from research_news.render.pdf import ISSUE_TEMPLATE, _lay_out
from research_news.validate import load_content

from .conftest import SAMPLE_ROOT, run_cli
from .pdf_tree import struct_elements

BRIEF = "customer-value-big-data"


@pytest.fixture(scope="module")
def holed_issue(tmp_path_factory) -> Path:
    """The sample's first brief alone in an issue, its method a paragraph shorter: the text then
    ends two thirds down page 4, and the figure after it does not fit below."""
    root = tmp_path_factory.mktemp("holed") / "issues"
    shutil.copytree(SAMPLE_ROOT, root)
    issue = root / "2023-01-data-and-society"
    for translation in issue.rglob("*.fr.yaml"):  # cut down below, the issue no longer matches its French texts
        translation.unlink()
    text = (issue / "issue.yaml").read_text(encoding="utf-8")
    sections = f"sections:\n  - title: Data\n    briefs:\n      - briefs/{BRIEF}.yaml\n\n"
    (issue / "issue.yaml").write_text(re.sub(r"(?s)sections:.*?(?=\nevents:)", sections, text), encoding="utf-8")
    brief = issue / "briefs" / f"{BRIEF}.yaml"
    text = brief.read_text(encoding="utf-8")
    cut = re.sub(r"(?s)\n  These interviews are read against.*?(?=\nfigures:)", "\n", text)
    assert cut != text
    brief.write_text(cut, encoding="utf-8")
    return issue


@pytest.fixture(scope="module")
def arranged(holed_issue):
    """(edition, the first layout, the arranged layout, the moves)."""
    edition = assemble(load_content(holed_issue))
    layouts = []

    def lay_out(arrangement):
        layouts.append(_lay_out(edition, ISSUE_TEMPLATE, arrangement, None))
        return layouts[-1]

    final, moves = pagination.arrange(edition, lay_out)
    return edition, layouts[0], final, moves, len(layouts)


def test_a_figure_that_left_a_hole_moves_after_the_following_text(arranged):
    edition, first, final, moves, layouts = arranged
    [hole] = pagination.find_holes(edition, first.document)
    assert hole.item.id == f"{BRIEF}-figure-1" and hole.blank > 0.2  # a quarter of page 4 blank
    before = [pagination.blank_area(page) for page in first.document.pages]
    after = [pagination.blank_area(page) for page in final.document.pages]
    assert len(after) <= len(before)
    assert after[hole.page] < 0.08 and after[hole.page + 1] < 0.08  # page 4 and the next are full now
    [move] = moves
    assert move.hole == hole and move.after == after[hole.page]
    assert move.placement.part == "key_findings" and move.placement.blocks
    assert pagination.find_holes(edition, final.document) == []
    assert layouts <= 1 + len(pagination.CANDIDATES) + 1  # bounded, whatever the issue
    assert layouts == 2  # the first, then the first candidate: it closed the hole, so no other was tried


def test_build_notes_the_move_at_the_figure_and_pads_with_notes_pages(holed_issue, tmp_path):
    result = run_cli("build", holed_issue, "--out", tmp_path, "--only", "pdf", "--pad-to", "3")
    assert result.exit_code == 0, result.stderr
    brief = holed_issue / "briefs" / f"{BRIEF}.yaml"
    src_line = next(n for n, line in enumerate(brief.read_text().splitlines(), 1) if "- src:" in line)
    [note] = [line for line in result.stderr.splitlines() if ": note: " in line]
    assert re.search(rf"{BRIEF}\.yaml:{src_line}:\d+: note: figure 1 did not fit at the foot of page 4: ", note)
    assert re.search(r"page 4 blank area \d+% → \d%$", note)
    assert "1 note" in result.stdout and "9 PDF pages" in result.stdout  # 8 pages, one of notes
    reader = PdfReader(tmp_path / holed_issue.name / f"{holed_issue.name}.pdf")
    assert len(reader.pages) == 9
    assert "Notes" in reader.pages[7].extract_text() and "Contacts" in reader.pages[8].extract_text()
    assert [item.title for item in reader.outline if not isinstance(item, list)][-1] == "Contacts"
    tags = [element["/S"] for element in struct_elements(reader)]
    assert tags.count("/Figure") >= 1 and "/H1" in tags  # still tagged, the moved figure too

    again = run_cli("build", holed_issue, "--out", tmp_path / "again", "--only", "pdf", "--pad-to", "3")
    second = tmp_path / "again" / holed_issue.name / f"{holed_issue.name}.pdf"
    assert second.read_bytes() == (tmp_path / holed_issue.name / f"{holed_issue.name}.pdf").read_bytes()
    assert again.stderr == result.stderr


@pytest.mark.parametrize("value", ["1", "0", "-4"])
def test_pad_to_takes_two_pages_or_more(minimal_issue, tmp_path, value):
    result = run_cli("build", minimal_issue, "--out", tmp_path, "--only", "pdf", "--pad-to", value)
    assert result.exit_code == 2 and "--pad-to takes a page count of 2 or more" in result.stderr
    assert not (tmp_path / minimal_issue.name).exists()


# --- the pieces, without layout -----------------------------------------------------------


def test_html_blocks_cut_between_top_level_elements_only():
    html = Markup("<p>a <em>b</em></p>\n<ul>\n<li>x<br>y</li>\n</ul>\n<hr>\n<h4>t</h4>\n<p>é &amp; ü</p>")
    assert pagination.html_blocks(html) == [
        "<p>a <em>b</em></p>",
        "<ul>\n<li>x<br>y</li>\n</ul>",
        "<hr>",
        "<h4>t</h4>",
        "<p>é &amp; ü</p>",
    ]
    assert pagination.html_blocks(Markup("text <p>x</p>")) == ["text <p>x</p>"]  # not cut: kept whole
    assert pagination.html_blocks(Markup("")) == []


def test_a_moved_figure_cuts_the_part_it_lands_in(sample_edition):
    brief = sample_edition.briefs[0]
    figure = brief.parts_by_key["methodology"].figures[0]
    findings = brief.parts_by_key["key_findings"]
    default = pagination.Arrangement().segments(brief)
    assert [(s.part.key, s.first, [f.figure.id for f in s.figures]) for s in default] == [
        ("why_it_matters", True, []),
        ("methodology", True, [figure.id]),
        ("key_findings", True, []),
    ]
    moved = pagination.Arrangement(((figure.id, pagination.Placement("key_findings", 2, page_top=True)),))
    segments = moved.segments(brief)
    assert [(s.part.key, s.first, [f.figure.id for f in s.figures]) for s in segments] == [
        ("why_it_matters", True, []),
        ("methodology", True, []),
        ("key_findings", True, [figure.id]),
        ("key_findings", False, []),
    ]
    blocks = [block for segment in segments[2:] for run in segment.runs for block in run.blocks]
    assert blocks == findings.items  # every item once, in order
    assert len(segments[2].runs[0].blocks) == 2
    quotes = [run.quote for segment in segments for run in segment.runs if run.quote]
    assert quotes == findings.quotes  # the quote stays at the end of its part


@pytest.mark.parametrize(
    "body, blank",
    [
        ('<div style="height: 50mm; background: #ccc"></div>', 0.5),  # half the page's height
        ('<div style="columns: 2; column-gap: 10mm">' + "<p>line</p>" * 6 + "</div>", 0.92),  # 3 lines a column
        ('<div style="height: 100mm; border-bottom: 1px solid"></div>', 0.0),  # a rule at the foot
        ("", 1.0),
    ],
)
def test_blank_area_is_what_lies_below_the_content(body, blank):
    from weasyprint import HTML

    style = "@page { size: 120mm 120mm; margin: 10mm } body { margin: 0; font: 10px/10px sans-serif } p { margin: 0 }"
    [page] = HTML(string=f"<style>{style}</style>{body}").render().pages
    assert pagination.blank_area(page) == pytest.approx(blank, abs=0.01)


def test_trials_lay_out_only_the_briefs_with_a_hole(holed_issue, arranged, layouts):
    """A trial is the holed brief alone (no cover, contents or back page); its pages then take the
    place of the brief's in the first layout (render/splice.py), which gives the same move as trials
    of the whole issue, without laying the issue out again."""
    from research_news.render import pdf

    _, first, final, moves, _ = arranged
    edition = assemble(load_content(holed_issue))
    laid_out, notes = pdf._issue_layout(edition, None, None)
    pages = layouts
    whole = len(first.document.pages)
    assert pages[0] == whole and len(pages) == 2  # the first, one trial
    assert pages[1] < whole - 2  # the trial: the brief's pages, without the front and back matter
    assert len(laid_out.document.pages) == len(final.document.pages)
    [note] = [note for note in notes if note.severity == "note"]
    assert f"after the next {moves[0].placement.blocks} paragraph" in note.message


def test_a_move_the_whole_issue_does_not_bear_out_is_dropped(holed_issue, arranged, monkeypatch):
    """Trials laid out apart can mislead (a layout whose pages depend on what precedes them): the
    chosen arrangement, laid out whole, is kept only if it is better there too."""
    _, _, final, _, _ = arranged
    edition = assemble(load_content(holed_issue))
    monkeypatch.setattr(pagination, "CANDIDATES", (lambda hole, document: pagination.Placement(hole.part),))
    wholes = []

    def lay_out(arrangement):
        wholes.append(_lay_out(edition, ISSUE_TEMPLATE, arrangement, None))
        return wholes[-1]

    def misleading(arrangement, briefs):
        return final  # says the hole is closed, whatever was tried

    laid_out, moves = pagination.arrange(edition, lay_out, misleading)
    assert moves == [] and laid_out is wholes[0]  # the first layout stands
    assert len(wholes) == 2  # the first, and the whole issue with the move, which was no better
    assert pagination.find_holes(edition, laid_out.document)  # the hole is still there, as it was


def test_an_unchanged_briefs_hole_is_not_tried_again(sample_tree: Path, tmp_path: Path, layouts: list[int]):
    """Pagination's decision for a hole is kept with the build: after another brief changed, the next
    build lays the issue out once, the unchanged brief with the kept move from the start, without
    trying its hole, and its PDF is the bytes a build from nothing makes of the same content, with the
    same notes."""
    from research_news.build import build

    issue = sample_tree / "2023-01-data-and-society"
    for translation in issue.rglob("*.fr.yaml"):  # one language: the layouts counted are the English ones
        translation.unlink()
    pdf_name = f"{issue.name}.pdf"
    build(issue, tmp_path / "out", only=("pdf",), jobs=1)
    whole = layouts[0]
    assert len(layouts) > 2 and min(layouts) < whole  # the first layout, trials of the holed brief, the final
    brief = issue / "briefs" / "data-protection-officer.yaml"
    brief.write_text(brief.read_text().replace("portrait of a new profession", "portrait of a newer profession"))
    layouts.clear()
    again = build(issue, tmp_path / "out", only=("pdf",), jobs=1)
    assert layouts == [whole]  # no trial, and the issue laid out once
    cold = build(issue, tmp_path / "cold", only=("pdf",), jobs=1, force=True)
    assert (again.out_dir / pdf_name).read_bytes() == (cold.out_dir / pdf_name).read_bytes()
    notes = [w.message for w in again.warnings if w.severity == "note"]
    assert notes == [w.message for w in cold.warnings if w.severity == "note"] and notes


def test_a_damaged_pagination_memo_is_no_decision(sample_tree: Path, tmp_path: Path, layouts: list[int]):
    from research_news import cache as caching
    from research_news.build import build

    issue = sample_tree / "2023-01-data-and-society"
    for translation in issue.rglob("*.fr.yaml"):
        translation.unlink()
    built = build(issue, tmp_path / "out", only=("pdf",), jobs=1)
    kept = sorted((tmp_path / "out" / caching.CACHE_FOLDER / issue.name / "pagination" / "en").glob("*.json"))
    assert kept
    for number, path in enumerate(kept):
        path.write_text(
            ['{"placement": {"part": 3}}', "{not json", '{"placement": {"part": "x", "blocks": "2"}}'][number % 3]
        )
    (issue / "briefs" / "data-protection-officer.yaml").write_text(
        (issue / "briefs" / "data-protection-officer.yaml").read_text() + "# edited\n"
    )
    trials = len(layouts)
    layouts.clear()
    again = build(issue, tmp_path / "out", only=("pdf",), jobs=1)
    assert len(layouts) == trials  # every hole tried again, as the first time
    pdf_name = f"{issue.name}.pdf"
    assert (again.out_dir / pdf_name).read_bytes() == (built.out_dir / pdf_name).read_bytes()
    layouts.clear()
    build(issue, tmp_path / "forced", only=("pdf",), jobs=1, force=True)  # --force decides again too
    assert len(layouts) == trials


def test_a_trial_sets_a_brief_as_the_issue_does(sample_edition):
    """A brief that does not open its section is tried after the section's first brief (which follows
    the section's title on its page), never right after the title."""
    from research_news.render.pdf import _only

    section = next(section for section in sample_edition.sections if len(section.briefs) > 1)
    first, second = section.briefs[:2]
    [tried] = _only(sample_edition, [second]).sections
    assert (tried.title, tried.briefs) == (section.title, [first, second])
    [alone] = _only(sample_edition, [first]).sections
    assert alone.briefs == [first]


def test_a_figure_replaced_under_the_same_name_is_tried_again(sample_tree: Path, tmp_path: Path, layouts):
    """The HTML names a figure, not its size: a taller image under the same file name is a new case for
    the trials (the kept decision is for the old image), and decisions no longer used are removed."""
    from PIL import Image as Picture

    from research_news import cache as caching
    from research_news.build import build

    issue = sample_tree / "2023-01-data-and-society"
    for translation in issue.rglob("*.fr.yaml"):
        translation.unlink()
    build(issue, tmp_path / "out", only=("pdf",), jobs=1)
    memo = tmp_path / "out" / caching.CACHE_FOLDER / issue.name / "pagination" / "en"
    (memo / "left-over.json").write_text('{"placement": null}')
    build(issue, tmp_path / "out", only=("pdf",), jobs=1, force=True)  # decides again, keeps what it used
    assert not (memo / "left-over.json").exists() and list(memo.glob("*.json"))
    figure = issue / "images" / "martech-value-chain.png"
    with Picture.open(figure) as image:
        image.resize((image.width, image.height + image.height // 3)).save(figure)
    layouts.clear()
    build(issue, tmp_path / "out", only=("pdf",), jobs=1)
    assert min(layouts) < layouts[0]  # a trial, of the brief with the figure: not the decision kept


GOOD = {
    "format": 3,
    "item": "b-figure-1",
    "part": "methodology",
    "page": 1,
    "blank": 0.19,
    "placement": None,
    "signature": "9f2c",
}


@pytest.mark.parametrize(
    "data",
    [
        {"format": 1, "placement": None},  # the shape an older research-news kept, per hole
        {**GOOD, "format": 2},  # this shape without the signature, as the last version kept it
        {key: value for key, value in GOOD.items() if key != "signature"},
        {**GOOD, "signature": None},
        {**GOOD, "page": -1},
        {**GOOD, "page": True},
        {**GOOD, "blank": float("nan")},
        {**GOOD, "blank": 1.5},
        {**GOOD, "item": 7},
        {**GOOD, "placement": {"part": 3}},
        {**GOOD, "placement": [1, 2]},
        {**GOOD, "extra": 1},
        [GOOD],
    ],
)
def test_a_kept_decision_of_another_shape_is_no_decision(data):
    from research_news.render.pdf import _decision

    with pytest.raises((ValueError, TypeError)):
        _decision(data)


def test_a_kept_decision_reads_back_as_written():
    from research_news.render.pdf import _decision

    placement = {"part": "key_findings", "blocks": 2, "page_top": True, "width_mm": None}
    decision = _decision({**GOOD, "placement": placement})
    assert decision == pagination.Decision(
        "b-figure-1", "methodology", 1, 0.19, pagination.Placement("key_findings", 2, True), "9f2c"
    )
    assert _decision(GOOD).placement is None


def test_the_text_after_a_hole_is_measured_on_its_briefs_pages_only(sample_edition, monkeypatch):
    """A part's blocks are on its brief's pages alone: looking at every page of the issue for each hole
    took a 121-page issue with 32 holes a second, for the same heights."""
    first = _lay_out(sample_edition, ISSUE_TEMPLATE, pagination.Arrangement(), None)
    hole = pagination.find_holes(sample_edition, first.document)[0]
    own = pagination._pages_of(hole.brief, first.document)
    assert len(first.document.pages) > len(own)  # other briefs' pages exist to be left alone
    looked_at: list[int] = []
    boxes_with_id = pagination._boxes_with_id

    def recorded(page, element_id):
        looked_at.append(first.document.pages.index(page))
        return boxes_with_id(page, element_id)

    monkeypatch.setattr(pagination, "_boxes_with_id", recorded)
    heights, column = pagination._following_heights(hole, first.document)
    assert heights and all(height > 0 for height in heights) and column > 0
    assert looked_at and set(looked_at) <= set(own)
