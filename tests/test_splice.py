"""A moved brief's trial pages in place of its pages (render/splice.py): the PDF is the bytes the
issue laid out again whole gives, and where a trial cannot stand for the issue's pages (a layout
whose pages depend on what precedes them), the issue is laid out again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from research_news.assemble import assemble
from research_news.cache import Memo
from research_news.render import pagination
from research_news.render.pdf import render_pdf, render_print
from research_news.validate import load_content

from .test_pagination import holed_issue  # noqa: F401  (a fixture: the sample's first brief, with a hole)


def both_ways(issue: Path, layouts: list[int], monkeypatch) -> tuple[bytes, bytes, list[int]]:
    """(the PDF as built, the PDF with the moves laid out whole, the page counts of the layouts the
    first made)."""
    edition = assemble(load_content(issue))
    layouts.clear()
    spliced = render_pdf(edition, variant=None)
    made = list(layouts)
    with monkeypatch.context() as patch:
        patch.setattr(pagination, "_spliced", lambda *args: None)
        whole = render_pdf(edition, variant=None)
    assert any(note.severity == "note" for note in whole.warnings)  # something moved
    return spliced.data, whole.data, made


def test_a_moved_brief_is_spliced_in_and_the_pdf_is_the_bytes_of_the_issue_laid_out_again(
    holed_issue: Path,  # noqa: F811
    layouts: list[int],
    monkeypatch,
):
    spliced, whole, made = both_ways(holed_issue, layouts, monkeypatch)
    assert spliced == whole
    assert len(made) == 2 and made[1] < made[0]  # the issue once, the brief's trial: not the issue again


def test_a_whole_sample_issue_spliced_is_the_same_bytes(sample_tree: Path, layouts: list[int], monkeypatch):
    """The sample issue: several briefs, sections, a brief that does not open its section, pages left and right."""
    issue = sample_tree / "2023-01-data-and-society"
    for translation in issue.rglob("*.fr.yaml"):
        translation.unlink()
    spliced, whole, made = both_ways(issue, layouts, monkeypatch)
    assert spliced == whole
    assert made.count(max(made)) == 1  # the whole issue laid out once


HEAD = '{{% extends "!parent/print/head.html.j2" %}}\n{{% block styles %}}<style>{css}</style>{{% endblock %}}\n'

LAYOUTS_A_TRIAL_CANNOT_STAND_FOR = {
    # the figures numbered by the headings before them, the issue's front matter included
    "numbers-across-the-issue": "body { counter-reset: heading } h1 { counter-increment: heading } .figure__number::after { content: ' ' counter(heading) }",
    # a left page's text area sits elsewhere than a right page's (the trial starts the brief on a right page)
    "mirrored-margins": "@page :left { margin-left: 30mm; margin-right: 10mm }",
    # the cover's logo fixed: WeasyPrint repeats it on every page, and a trial has no cover
    "a-fixed-logo": ".cover img { position: fixed; top: 0; left: 0; width: 8mm }",
}


@pytest.mark.parametrize("css", LAYOUTS_A_TRIAL_CANNOT_STAND_FOR.values(), ids=list(LAYOUTS_A_TRIAL_CANNOT_STAND_FOR))
def test_a_layout_whose_pages_depend_on_what_precedes_them_lays_the_issue_out_again(
    holed_issue: Path,  # noqa: F811
    tmp_path: Path,
    layouts: list[int],
    monkeypatch,
    css: str,
):
    root = tmp_path / "issues"
    shutil.copytree(holed_issue.parent, root)
    (root / "layouts/house/print").mkdir(parents=True)
    (root / "layouts/house/layout.yaml").write_text("extends: default\n")
    (root / "layouts/house/print/head.html.j2").write_text(HEAD.format(css=css))
    publication = root / "publication.yaml"
    publication.write_text(publication.read_text().replace("layout: default", "layout: house"))
    spliced, whole, made = both_ways(root / holed_issue.name, layouts, monkeypatch)
    assert spliced == whole
    assert made.count(max(made)) == 2  # the trial could not stand for the issue's pages: laid out again
    first, again = twice_with_a_memo(root / holed_issue.name, layouts, tmp_path / "memo")
    assert again == first  # the move is not kept: the next build tries the brief again, as a cold one does


def built_with(issue: Path, layouts: list[int], memo: Path) -> tuple[list[int], bytes]:
    """(the page counts of the layouts made, the PDF) of a build keeping pagination's decisions in ``memo``."""
    layouts.clear()
    printed = render_print(assemble(load_content(issue)), variant=None, memo=Memo(memo, "base")).issue
    assert printed is not None
    return list(layouts), printed.data


def twice_with_a_memo(issue: Path, layouts: list[int], memo: Path) -> list[tuple[list[int], bytes]]:
    """A build with an empty pagination memo, then one with what the first kept in it (see built_with)."""
    return [built_with(issue, layouts, memo) for _ in range(2)]


def test_a_kept_decision_whose_brief_now_draws_something_else_is_decided_again(
    holed_issue: Path,  # noqa: F811
    layouts: list[int],
    tmp_path: Path,
):
    """What precedes a brief may change what its pages draw (a number counted across the issue): its kept
    decision then no longer stands for what a build from nothing would decide, which is what is done."""
    memo = tmp_path / "memo"
    cold = built_with(holed_issue, layouts, memo)
    for kept in memo.glob("*.json"):
        data = json.loads(kept.read_text())
        kept.write_text(json.dumps({**data, "signature": "what its pages drew before something changed"}))
    layouts_then, pdf = built_with(holed_issue, layouts, memo)
    assert layouts_then == [cold[0][0], *cold[0]] and pdf == cold[1]  # the kept move tried, then as from nothing


def test_a_spliced_move_is_kept_and_the_next_build_lays_the_issue_out_once(
    holed_issue: Path,  # noqa: F811
    layouts: list[int],
    tmp_path: Path,
):
    """Where the trial's pages stood for the brief's pages in the issue, the move holds whatever precedes
    the brief: kept, the next build lays the issue out once, moved, to the same bytes."""
    (cold_layouts, cold), (warm_layouts, warm) = twice_with_a_memo(holed_issue, layouts, tmp_path / "memo")
    assert len(cold_layouts) == 2 and len(warm_layouts) == 1 and warm == cold


def test_a_running_head_that_follows_the_text_is_spliced_only_when_the_same(
    holed_issue: Path,  # noqa: F811
    tmp_path: Path,
    layouts: list[int],
    monkeypatch,
):
    """A head showing the current part changes where a move carries a part's title to another page."""
    root = tmp_path / "issues"
    shutil.copytree(holed_issue.parent, root)
    (root / "layouts/house/print").mkdir(parents=True)
    (root / "layouts/house/layout.yaml").write_text("extends: default\n")
    css = ".part__title { string-set: section content(text) } @page { @top-left { content: string(section, last) } }"
    (root / "layouts/house/print/head.html.j2").write_text(HEAD.format(css=css))
    publication = root / "publication.yaml"
    publication.write_text(publication.read_text().replace("layout: default", "layout: house"))
    spliced, whole, _ = both_ways(root / holed_issue.name, layouts, monkeypatch)
    assert spliced == whole
