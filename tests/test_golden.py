"""Golden files: the editions of the minimal fixture and the sample issue, as committed in tests/golden/.

Text editions are compared line by line, the PDF page by page as pictures, so a template or
stylesheet change that moves, recolours or drops something fails here with a diff to review.
Accept an intended change with ``pytest --update-golden`` and commit tests/golden/ with it
(tests/golden.py says what is normalised and how close a page must be).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from research_news.render.pdf import render_html

from .golden import check_pages, check_text

TEXT_EDITIONS = ["email.txt", "email.html", "index.html"]


@pytest.fixture(scope="module")
def builds(minimal_build, sample_build) -> dict[str, Path]:
    return {"minimal": minimal_build, "sample": sample_build[0]}


@pytest.mark.parametrize("tree", ["minimal", "sample"])
@pytest.mark.parametrize("name", TEXT_EDITIONS)
def test_text_editions_match_their_golden_files(builds, tree, name, update_golden):
    check_text((builds[tree] / name).read_text(encoding="utf-8"), f"{tree}/{name}", update_golden)


@pytest.mark.parametrize("tree", ["minimal", "sample"])
def test_print_html_matches_its_golden_file(minimal_edition, sample_edition, tree, update_golden):
    """The HTML WeasyPrint lays out: a template change shows here as markup, next to the page pictures."""
    edition = {"minimal": minimal_edition, "sample": sample_edition}[tree]
    check_text(render_html(edition), f"{tree}/print.html", update_golden)


@pytest.mark.parametrize("tree", ["minimal", "sample"])
def test_pdf_pages_look_like_their_references(builds, tree, tmp_path, update_golden):
    pdf = next(builds[tree].glob("*.pdf"))
    check_pages(pdf, f"{tree}/pdf", tmp_path, update_golden)
