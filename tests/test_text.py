"""The plain-text email: readable in a text-only client, written from the content model."""

from __future__ import annotations

import dataclasses
import re
from itertools import pairwise

import pytest

from research_news.message import ADDRESS_MARKER
from research_news.render.text import WIDTH, Notes, fill, heading, markdown_text, render_text


@pytest.fixture(scope="module")
def text(sample_edition) -> str:
    return render_text(sample_edition)


def is_url_line(line: str) -> bool:
    """A line that may exceed 72 columns: a URL alone (or a numbered note), which must not be split."""
    return re.fullmatch(r"(\[\d+\] )?(https?|mailto):\S+", line) is not None


def test_every_line_fits_72_columns(text, sample_edition):
    for edition_text in (text, render_text(dataclasses.replace(sample_edition, email_full_text=True))):
        for line in edition_text.splitlines():
            assert len(line) <= WIDTH or is_url_line(line), line


def test_no_markup_left(text):
    assert "**" not in text and "](" not in text and "<" not in text and "&amp;" not in text
    assert not re.search(r"(?<!\w)_\w", text)  # no _emphasis_


def test_headings_are_underlined_to_their_length(text, sample_edition):
    for brief in sample_edition.briefs:
        assert "\n" + heading(brief.title, "=") + "\n" in text
    for label in ("Why is this topic important?", "Key takeaways"):
        assert f"\n{label}\n{'-' * len(label)}\n" in text
    assert "\nData, regulation and responsible innovation\n" + "=" * 43 + "\n" in text
    lines = text.splitlines()
    for above, line in pairwise(lines):
        if line and set(line) in ({"-"}, {"~"}) and len(line) < WIDTH:
            assert len(line) == len(above), (above, line)


def test_sections_are_banners(text):
    assert "=" * WIDTH + "\nDATA PROCESSING AND RESPONSIBLE DIGITAL INNOVATION\n" + "=" * WIDTH in text


def test_takeaways_are_bullets_with_hanging_indent(text):
    assert (
        "- Marketing intermediaries combine first-party and third-party data into\n"
        "  consistent, unified customer databases."
    ) in text


def test_links_become_numbered_notes(text):
    assert "General Data Protection Regulation\n[1]" in text or "General Data Protection Regulation [1]" in text
    notes = text.split("\nLinks\n=====\n", 1)[1]
    assert notes.lstrip().startswith("[1] https://eur-lex.europa.eu/eli/reg/2016/679/oj")


def test_summary_like_the_html_email(text, sample_edition):
    for brief in sample_edition.briefs:
        assert f"{sample_edition.web_url}#{brief.id}" in text
        assert text.count(brief.labels["methodology"]) == 0
    assert text.count("Read the full brief:") == len(sample_edition.briefs)


def test_full_text_has_every_part_and_describes_figures(sample_edition):
    full = render_text(dataclasses.replace(sample_edition, email_full_text=True))
    assert "Methodology\n-----------" in full and "Key findings\n------------" in full
    assert "[Figure 1: Diagram of a marketing-technology value chain" in full
    assert "> For data professionals, a company is above all a network of channels" in full
    assert "> — From the study by Kevin Mellet" in full


def test_ends_with_browser_pdf_and_unsubscribe(text, sample_edition):
    tail = text[text.rindex("-" * WIDTH) :]
    assert sample_edition.web_url in tail
    assert sample_edition.web_url + sample_edition.pdf_name in tail
    assert tail.rstrip().endswith(f"https://news.example.org/unsubscribe?email={ADDRESS_MARKER}")
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_starts_with_the_issue(text):
    assert text.startswith("GOOD IN TECH · RESEARCH NEWS\nIssue 1 · January 16, 2023\n\n")


# --- markdown conversion ----------------------------------------------------------------


def convert(source: str, lang: str = "en") -> tuple[str, list[str]]:
    """``source`` in plain text, with the quotes the default layout's labels give ``lang``."""
    from research_news.layout import BUILTIN_LAYOUTS, DEFAULT
    from research_news.layout_manifest import read_labels

    notes = Notes()
    quotes = tuple(read_labels(BUILTIN_LAYOUTS / DEFAULT / "labels" / f"{lang}.yaml")["quotes"])
    return markdown_text(source, lang, notes, quotes=quotes), notes.urls


def test_emphasis_is_dropped_and_quotes_are_typographic():
    assert convert('**Bold** and *italic* and `code` and "quoted"')[0] == "Bold and italic and code and “quoted”"
    assert convert('"Bonjour"', "fr")[0] == "«\u202fBonjour\u202f»"
    assert convert("Vraiment? Oui: 10 000 fois", "fr")[0] == "Vraiment\u202f? Oui\u202f: 10\u202f000 fois"
    assert convert('"Hallo"', "de")[0] == "„Hallo“"


def test_links_share_numbers_and_autolinks_stay_inline():
    out, urls = convert(
        "See [one](https://a.example/x) and [again](https://a.example/x), "
        "[two](mailto:b@example.org) and <https://c.example>."
    )
    assert out == "See one [1] and again [1], two [2] and https://c.example."
    assert urls == ["https://a.example/x", "mailto:b@example.org"]


def test_unsafe_links_are_text():
    out, urls = convert("[click](javascript:alert(1))")
    assert urls == [] and "javascript" not in out.replace("[click](javascript:alert(1))", "")


def test_lists_nested_ordered_and_loose():
    source = (
        "1. first item that is long enough to wrap around the seventy-two column limit of text\n"
        "2. second\n   - nested bullet\n   - another\n"
    )
    out, _ = convert(source)
    assert out == (
        "1. first item that is long enough to wrap around the seventy-two column\n"
        "   limit of text\n"
        "2. second\n"
        "   - nested bullet\n"
        "   - another"
    )
    loose, _ = convert("- a\n\n- b\n")
    assert loose == "- a\n\n- b"


def test_subheadings_blockquotes_and_breaks():
    out, _ = convert("### Sample\nTwelve boxes.\n\n> Quoted words\n> more.\n\nline one\\\nline two")
    assert out == "Sample\n~~~~~~\n\nTwelve boxes.\n\n> Quoted words more.\n\nline one\nline two"


def test_fill_keeps_urls_and_hyphenated_words_whole():
    long_url = "https://example.org/" + "a" * 80
    assert fill(f"see {long_url} now").splitlines()[1] == long_url
    wrapped = fill("word " * 13 + "data-protection officer")
    assert all(not line.endswith("-") for line in wrapped.splitlines())


def test_heading_underline_matches_longest_line():
    out = heading("A title " * 12, "=")
    lines = out.splitlines()
    assert set(lines[-1]) == {"="} and len(lines[-1]) == max(len(line) for line in lines[:-1])


def test_french_issue_uses_french_labels_and_typography(minimal_issue):
    from research_news.assemble import assemble
    from research_news.validate import load_content

    issue = minimal_issue / "issue.yaml"
    issue.write_text(
        issue.read_text(encoding="utf-8").replace("number: 3", "number: 3\nlanguage: fr"), encoding="utf-8"
    )
    text = render_text(assemble(load_content(minimal_issue)))
    assert "Numéro 3 · 14 mai 2024" in text
    assert "Lire la note complète\u202f:\nhttps://news.example.org/minimal/2024-05-minimal/#brief-one" in text
    assert "Pourquoi ce sujet est-il important ?\n" + "-" * 36 in text
