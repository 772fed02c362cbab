"""Markdown: the only way researchers' text becomes markup, so it must be safe."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from research_news.markdown import links_in, render, render_inline, word_count


def test_raw_html_is_shown_as_typed() -> None:
    html = render('<script>alert(1)</script> and <img src=x onerror="alert(1)">')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onerror=" in html  # as text, inside an escaped tag


def test_only_safe_link_schemes_become_links() -> None:
    html = render("[a](javascript:alert(1)) [b](data:text/html,x) [c](https://ok.example) [d](mailto:x@y.org)")
    assert html.count("<a ") == 2
    assert 'href="https://ok.example"' in html and 'href="mailto:x@y.org"' in html
    assert 'href="javascript' not in html and 'href="data' not in html


def test_images_are_not_rendered() -> None:
    assert "<img" not in render("![x](file:///etc/passwd)")


def test_sub_headings_sit_below_the_part_heading() -> None:
    html = render("### Sample\n\n#### Detail\n\n# Big", heading_level=4)
    assert "<h4>Sample</h4>" in html and "<h5>Detail</h5>" in html and "<h4>Big</h4>" in html


def test_quotes_and_spacing_follow_the_language() -> None:
    """Quotes come from the labels (passed in); spacing is the language's own."""
    french = ("«\u202f", "\u202f»", "“", "”")
    assert render_inline("\"oui\" : c'est l'avis de 10 000 lecteurs !", "fr", french) == (
        "«\u202foui\u202f»\u202f: c’est l’avis de 10\u202f000 lecteurs\u202f!"
    )
    assert "“yes”" in render_inline('"yes"', "en")
    html = render("Voir `a: b` et [le site](https://ex.org/a?b=c) : fin", "fr", quotes=french)
    assert "<code>a: b</code>" in html and 'href="https://ex.org/a?b=c"' in html and "site</a>\u202f: fin" in html


def test_links_in_reports_every_link_with_its_offset() -> None:
    text = "see [x](javascript:alert(1)) and ![i](/etc/passwd)"
    links = links_in(text)
    assert [(link.href, link.is_image) for link in links] == [("javascript:alert(1)", False), ("/etc/passwd", True)]
    assert text[links[0].offset :].startswith("javascript:")
    assert text[links[1].offset :].startswith("![i]")


def test_the_same_link_twice_is_found_at_each_place() -> None:
    text = "[a](javascript:x) then [b](javascript:x)"
    assert [link.offset for link in links_in(text)] == [4, 27]


def test_an_encoded_link_is_found_in_its_own_paragraph() -> None:
    text = "See [e](&#106;avascript:alert(1)) now.\n\nLater, JAVASCRIPT: is only a word."
    assert [text[link.offset :].startswith("&#106;avascript") for link in links_in(text)] == [True]


def test_word_count_ignores_markup_and_link_targets() -> None:
    assert word_count("Hello **world**, see [the site](https://example.org/a-b-c).") == 5
    assert word_count(["one two", "three"]) == 3


@given(st.text(alphabet="](x) \n", max_size=40))
def test_word_count_cuts_every_closed_link_target(text: str) -> None:
    # The rule word counts follow, written as the regex it replaces (quadratic on unclosed `](`).
    assert word_count(text) == len(re.findall(r"[\w’'-]+", re.sub(r"\]\([^)]*\)", "]", text)))


def test_a_reference_link_is_found_at_its_own_definition() -> None:
    text = "[a][one] and [b][two]\n\n[one]: javascript:x\n[two]: javascript:x"
    assert [text[: link.offset].count("\n") for link in links_in(text)] == [2, 3]


def test_a_link_is_not_found_at_its_href_written_as_text_before_it() -> None:
    text = "Never type javascript:x here; see [this](javascript:x)."
    assert [link.offset for link in links_in(text)] == [text.index("(javascript") + 1]
