"""Tables and footnotes written in markdown, in every edition, and what `check` says about them.

Tables are GitHub's (header row, `| --- |` line, alignment colons); footnotes are
`[^label]` citations with `[^label]: text` definitions, numbered across a brief and listed
at its end. What markdown would not show as meant (raw HTML, a footnote without its other
half, a row with more cells than its header) is a located warning.
"""

from __future__ import annotations

import dataclasses
import re
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from research_news.assemble import assemble
from research_news.markdown import Footnotes, cut_table_rows, footnotes_in, links_in, raw_html_in, render
from research_news.render.email import editorial_checks, render_email
from research_news.render.pdf import render_pdf
from research_news.render.text import render_text
from research_news.render.web import render_web
from research_news.validate import Checker, load_content
from tests.browser import screenshot, serve
from tests.pdf_tree import struct_elements

TABLE = """\
| Group | "Share" | Note |
|:------|--------:|:----:|
| Young adults | 40 % | <b>x</b> |
| Over 65 | 12 % | - |
"""


# --- markdown --------------------------------------------------------------------------


def test_a_table_has_column_headers_alignment_classes_and_a_scroll_box() -> None:
    html = render(TABLE)
    assert '<div class="table-scroll" tabindex="0">' in html
    assert '<th class="align-left" scope="col">Group</th>' in html
    assert '<th class="align-right" scope="col">“Share”</th>' in html  # typography reaches the cells
    assert '<td class="align-center">&lt;b&gt;x&lt;/b&gt;</td>' in html  # raw HTML stays text in a cell
    assert "style=" not in html  # alignment as classes: the preview's CSP forbids inline style


def test_french_spacing_applies_inside_table_cells() -> None:
    html = render(TABLE, "fr", quotes=("«\u202f", "\u202f»", "“", "”"))
    assert "40\u202f%" in html and "«\u202fShare\u202f»" in html


def test_footnotes_are_numbered_across_a_briefs_fields_in_citation_order() -> None:
    fields = {
        "why_it_matters": "First[^b] then[^a].",
        "methodology": "Again[^b].\n\n[^a]: Note *a*.\n[^b]: Note b, [source](https://example.org/b).",
    }
    notes = Footnotes("brief-one", fields.values())
    html = {key: render(text, footnotes=notes, field=key) for key, text in fields.items()}
    # [^b] is cited first, so it is note 1, although it is defined after [^a] and in another field
    assert '<a href="#fn-brief-one-1" id="fnref-brief-one-1" role="doc-noteref">1</a>' in html["why_it_matters"]
    assert '<a href="#fn-brief-one-2" id="fnref-brief-one-2" role="doc-noteref">2</a>' in html["why_it_matters"]
    assert 'href="#fn-brief-one-1" id="fnref-brief-one-1-2"' in html["methodology"]  # its second citation
    assert "Note" not in html["methodology"]  # definitions are listed at the end of the brief, not here
    shown = notes.shown("en")
    assert [(note.number, note.id, note.label) for note in shown] == [
        (1, "fn-brief-one-1", "b"),
        (2, "fn-brief-one-2", "a"),
    ]
    assert shown[0].backlinks == ("fnref-brief-one-1", "fnref-brief-one-1-2")
    assert shown[0].cited_in == ("why_it_matters", "methodology") and shown[1].cited_in == ("why_it_matters",)
    assert str(shown[1].html) == "Note <em>a</em>."
    assert 'href="https://example.org/b" rel="noopener noreferrer"' in shown[0].html


def test_footnote_syntax_outside_a_brief_stays_text() -> None:
    assert render("Cited[^1].\n\n[^1]: A note.") == "<p>Cited[^1].</p>\n<p>[^1]: A note.</p>\n"


def test_links_in_table_cells_and_footnotes_are_found_where_written() -> None:
    text = "| a | b |\n|---|---|\n| [x](javascript:1) | [x](javascript:1) |\n\nText[^n].\n\n[^n]: See [y](data:z)."
    offsets = [link.offset for link in links_in(text)]
    assert [text[offset:].split(")")[0] for offset in offsets] == ["javascript:1", "javascript:1", "data:z"]
    assert offsets[0] != offsets[1]  # two cells with the same text are told apart


def test_scanners_locate_raw_html_footnotes_and_cut_rows() -> None:
    text = "Hi <b>there</b>\n\n<div>\nx\n</div>\n\nSee[^a].\n\n[^b]: B.\n\n| a |\n|---|\n| 1 | 2 |\n"
    assert [(mark.written, text[mark.offset :][:5]) for mark in raw_html_in(text)] == [
        ("<b>", "<b>th"),
        ("</b>", "</b>\n"),
        ("<div>", "<div>"),
    ]
    cited, defined = footnotes_in(text)
    assert [(m.written, text[m.offset :][:4]) for m in cited] == [("a", "[^a]")]
    assert [(m.written, text[m.offset :][:4]) for m in defined] == [("b", "[^b]")]
    assert [(m.written, text[m.offset :][:5]) for m in cut_table_rows(text)] == [("2", "| 1 |")]


# --- check -------------------------------------------------------------------------------


def _write(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def _problems(issue: Path) -> list[str]:
    checker = Checker()
    checker.check_path(issue)
    return [str(problem) for problem in checker.problems]


def test_check_locates_what_markdown_would_not_show_as_meant(minimal_issue: Path) -> None:
    brief = minimal_issue / "briefs" / "one.yaml"
    _write(
        brief,
        "why_it_matters: |\n  Small things add up.\n",
        "why_it_matters: |\n"
        "  Small things add up[^gone], <em>really</em>.[^dup]\n"
        "\n"
        "  | Box | Count |\n"
        "  |-----|------:|\n"
        "  | A | 1 | 2 |\n"
        "  | [B](javascript:x) | 3 |\n"
        "\n"
        "  [^unused]: Never cited.\n"
        "  [^dup]: First.\n"
        "  [^dup]: Second, see [z](ftp://z).\n",
    )
    _write(
        minimal_issue / "issue.yaml",
        "headline: A minimal issue\n",
        "headline: A minimal issue\neditorial: Hello[^1].\n",
    )
    found = "\n".join(_problems(minimal_issue))
    where = f"{brief}:"
    expected = [
        f"{where}11:22: warning: why_it_matters: footnote [^gone] is cited but never defined",
        f"{where}11:31: warning: why_it_matters: <em> is HTML, which is printed as typed",
        f"{where}15:3: warning: why_it_matters: this table row has 3 cells",
        f'{where}16:9: why_it_matters: the link "javascript:x" is not allowed',
        f"{where}18:3: warning: why_it_matters: footnote [^unused] is never cited",
        f"{where}20:3: warning: why_it_matters: footnote [^dup] is defined twice",
        f'{where}20:27: why_it_matters: the link "ftp://z" is not allowed',
        f"{minimal_issue / 'issue.yaml'}:4:17: warning: editorial: footnote [^1]: footnotes belong to briefs",
    ]
    for line in expected:
        assert line in found, f"{line}\nnot in:\n{found}"


def test_footnotes_and_tables_written_well_raise_nothing(minimal_issue: Path) -> None:
    _add_table_and_footnote(minimal_issue)
    assert _problems(minimal_issue) == []


# --- every edition -------------------------------------------------------------------------


def _add_table_and_footnote(issue: Path) -> None:
    brief = issue / "briefs" / "one.yaml"
    _write(
        brief,
        "why_it_matters: |\n  Small things add up.\n",
        "why_it_matters: |\n  Small things add up.[^count]\n\n"
        "  | Box | Small things | Share |\n"
        "  |:----|-------------:|------:|\n"
        "  | Red | 1200 | 60% |\n"
        "  | Blue | 800 | 40% |\n",
    )
    _write(brief, "  We counted them.\n", "  We counted them.[^how]\n\n  [^how]: By hand, twice.\n")
    _write(
        brief,
        "    caption: Small things per box.\n",
        "    caption: |\n      Small things per box.[^count]\n\n"
        "      [^count]: Counted by [the lab](https://example.org/lab) in 2024.\n",
    )


@pytest.fixture
def noted_edition(minimal_issue: Path):
    _add_table_and_footnote(minimal_issue)
    return assemble(load_content(minimal_issue))


def test_the_pdf_tags_the_table_and_lists_the_notes(noted_edition) -> None:
    reader = PdfReader(BytesIO(render_pdf(noted_edition).data))
    kinds = [str(element["/S"]) for element in struct_elements(reader)]
    table = kinds.index("/Table")
    assert kinds[table : table + 4] == ["/Table", "/THead", "/TR", "/TH"]
    assert kinds.count("/TH") == 3 and kinds.count("/TD") == 6
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "By hand, twice." in text and "Counted by the lab in 2024." in text
    assert "[^" not in text


def test_the_web_edition_links_citations_and_notes_both_ways(noted_edition) -> None:
    html = render_web(noted_edition).html
    brief = noted_edition.briefs[0]
    assert [(note.number, note.label) for note in brief.footnotes] == [(1, "count"), (2, "how")]
    assert html.count('href="#fn-one-1"') == 2  # cited in the text and in the figure's caption
    assert 'id="fn-one-1"' in html and 'href="#fnref-one-1"' in html and 'href="#fnref-one-1-2"' in html
    assert '<li id="fn-one-2" value="2">By hand, twice.' in html
    assert re.search(r'<th class="align-right" scope="col">Small things</th>', html)


def test_the_email_lists_the_notes_its_parts_cite_with_the_briefs_numbers(noted_edition) -> None:
    html = render_email(noted_edition)  # the summary: why it matters and the takeaways
    assert 'id="fn-one-1"' in html and 'href="#fn-one-1"' in html
    assert 'id="fn-one-2"' not in html  # cited in the methodology, which the summary leaves out
    assert re.search(r"<table[^>]*style=\"[^\"]*width: ?100%", html)  # the table spans the column
    assert editorial_checks(noted_edition, html) == []  # citations point inside the message
    full = render_email(dataclasses.replace(noted_edition, email_full_text=True))
    assert 'id="fn-one-2"' in full


def test_the_plain_text_draws_the_table_and_cites_notes_by_number(noted_edition) -> None:
    text = render_text(dataclasses.replace(noted_edition, email_full_text=True))
    assert (
        "Box   Small things  Share\n----  ------------  -----\nRed           1200    60%\nBlue           800    40%"
        in text
    )
    assert "Small things add up.¹" in text and "We counted them.²" in text
    notes = text.split("Notes\n-----\n\n", 1)[1]
    assert notes.startswith("1.  Counted by the lab [") and "2.  By hand, twice." in notes


def test_a_table_too_wide_for_72_columns_becomes_header_value_lines(minimal_issue: Path) -> None:
    wide = "| Country | Share of respondents who answered | Sample size |\n|---|--:|--:|\n"
    wide += "| France | 40% of the respondents in the first wave of the survey | 1200 |\n"
    _write(minimal_issue / "briefs" / "one.yaml", "  Small things add up.\n", "  " + wide.replace("\n", "\n  ") + "\n")
    text = render_text(assemble(load_content(minimal_issue)))
    assert "Country: France\nShare of respondents who answered: 40% of the respondents in the first\n  wave" in text
    assert max(len(line) for line in text.splitlines() if "http" not in line) <= 72


@pytest.mark.browser
def test_the_email_table_fits_a_phone(noted_edition, new_page, tmp_path: Path) -> None:
    folder = tmp_path / noted_edition.slug
    folder.mkdir()
    full = dataclasses.replace(noted_edition, email_full_text=True)
    (folder / "email.html").write_text(render_email(full), encoding="utf-8")
    with serve(folder) as base:
        page = new_page(base + "email.html", 375)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
        box = page.evaluate("document.querySelector('.prose table').getBoundingClientRect().right")
        assert box <= 375
        screenshot(page, tmp_path / "email-table-375.png")
