"""Typography by language: what changes, and what must never change."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research_news.typography import NNBSP, typeset

FR_QUOTES = ("«\u202f", "\u202f»", "“", "”")
DE_QUOTES = ("„", "“", "‚", "‘")


@pytest.mark.parametrize(
    ("lang", "quotes", "written", "printed"),
    [
        (
            "fr",
            FR_QUOTES,
            "Note: voir le rapport; vraiment ? Oui! Quoi?!",
            f"Note{NNBSP}: voir le rapport{NNBSP}; vraiment{NNBSP}? Oui{NNBSP}! Quoi{NNBSP}?!",
        ),
        ("fr", FR_QUOTES, "« Bonjour » et «salut»", f"«{NNBSP}Bonjour{NNBSP}» et «{NNBSP}salut{NNBSP}»"),
        ("fr", FR_QUOTES, '"Citation" et l\'étude', f"«{NNBSP}Citation{NNBSP}» et l’étude"),
        (
            "fr",
            FR_QUOTES,
            "10 000 personnes, soit 40 % ou 12%",
            f"10{NNBSP}000 personnes, soit 40{NNBSP}% ou 12{NNBSP}%",
        ),
        (
            "fr",
            FR_QUOTES,
            "à 10:30, voir https://ex.org/a?b=1 et x@y.org",
            "à 10:30, voir https://ex.org/a?b=1 et x@y.org",
        ),
        (
            "en",
            ("“", "”", "‘", "’"),
            "\"Hello,\" she said, 'it's fine' -- don't",
            "“Hello,” she said, ‘it’s fine’ -- don’t",
        ),
        ("en", ("“", "”", "‘", "’"), "Note: 10 000 people!", "Note: 10 000 people!"),
        ("de", DE_QUOTES, '"Hallo" sagte sie: 10 000', f"„Hallo“ sagte sie: 10{NNBSP}000"),
    ],
)
def test_typeset(lang: str, quotes: tuple[str, ...], written: str, printed: str) -> None:
    assert typeset(written, lang, quotes) == printed


@pytest.mark.parametrize(
    ("lang", "quotes", "written", "printed"),
    [
        ("de", DE_QUOTES, '„Zitat" und "so"', "„Zitat“ und „so“"),  # a German opening mark, then a straight one
        ("en", ("“", "”", "‘", "’"), 'a 5" screen and "quoted"', "a 5” screen and “quoted”"),
    ],
)
def test_markdown_text_gets_the_quotes_plain_text_gets(lang, quotes, written, printed) -> None:
    """markdown-it's smartquotes pairs quotes; the ones it leaves straight are set as typeset() sets them."""
    from research_news import markdown

    html = markdown.render(written, lang, 3, quotes)
    assert html == f"<p>{printed}</p>\n"
    assert printed == typeset(written, lang, quotes)


TEXT = st.lists(st.sampled_from([*"ab é1 0:;!?%'\"«»-/.@", " https://x.org/a?b ", " 10:30 "]), max_size=30).map("".join)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(TEXT, st.sampled_from(["en", "fr", "de"]))
def test_typesetting_changes_only_spaces_and_quotes_and_is_stable(text: str, lang: str) -> None:
    quotes = {"fr": FR_QUOTES, "de": DE_QUOTES}.get(lang, ("“", "”", "‘", "’"))
    once = typeset(text, lang, quotes)
    assert typeset(once, lang, quotes) == once  # typesetting typeset text changes nothing

    def letters(value: str) -> str:  # what a reader reads, spaces and quote marks aside
        return re.sub(r"[\s\u202f\u00a0'\"“”‘’„‚«»]", "", value)

    assert letters(once) == letters(text)
    for protected in re.findall(r"https://x\.org/a\?b|\b\d+:\d+\b", text):
        assert protected in once


def test_french_typography_reaches_every_edition(tmp_path) -> None:
    """Written with plain spaces and straight quotes; printed, shown and sent the French way."""
    from email import policy
    from email.parser import BytesParser
    from io import BytesIO

    from pypdf import PdfReader

    from .conftest import copy_fixture, run_cli

    tree = copy_fixture("print-french", tmp_path)
    publication = tree / "publication.yaml"
    publication.write_text(publication.read_text() + 'email:\n  from: "Notes <notes@example.org>"\n')
    issue = tree / "2024-09-numero-francais"
    (issue / "issue.yaml").write_text(
        (issue / "issue.yaml")
        .read_text()
        .replace("headline: Données et société", 'headline: "Données : qui décide ? 10 000 \\"avis\\""')
    )
    brief = issue / "briefs" / "une-note.yaml"
    brief.write_text(
        brief.read_text().replace(
            "title: Une étude des délégués à la protection des données", 'title: "L\'étude des délégués: pourquoi ?"'
        )
    )
    out = tmp_path / "build"
    result = run_cli("build", issue, "--out", out)
    assert result.exit_code == 0, result.stderr
    built = out / issue.name
    headline = f"Données{NNBSP}: qui décide{NNBSP}? 10{NNBSP}000 «{NNBSP}avis{NNBSP}»"
    title = f"L’étude des délégués{NNBSP}: pourquoi{NNBSP}?"

    pdf = PdfReader(BytesIO((built / f"{issue.name}.pdf").read_bytes()))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert title in text.replace("\n", " ") and f"«{NNBSP}avis{NNBSP}»" in text
    assert headline in pdf.metadata.title

    web = (built / "index.html").read_text()
    assert f"<title>Notes de recherche numéro 2{NNBSP}: {headline}" in web
    assert f'<meta property="og:title" content="Notes de recherche numéro 2{NNBSP}: {headline}' in web
    assert title in web

    message = BytesParser(policy=policy.default).parsebytes((built / f"{issue.name}.eml").read_bytes())
    assert str(message["Subject"]) == f"Notes de recherche n°\u00a02{NNBSP}: {headline}"
    assert title in (built / "email.txt").read_text() and title in (built / "email.html").read_text()
