"""Dates follow the issue's language through Babel, in every edition; a layout may override them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pypdf import PdfReader

from research_news.layout import Layout, format_date
from research_news.locales import babel_locale, language_name, long_date

from .conftest import run_cli

ISSUE = "2024-05-minimal"  # dated 2024-05-14
EVENT = "events:\n  - date: 2024-10-15\n    title: Seminar\n    place: Paris\n"


def set_language(tree: Path, language: str, extra: str = EVENT) -> Path:
    issue = tree / ISSUE / "issue.yaml"
    issue.write_text(issue.read_text(encoding="utf-8") + f"language: {language}\n{extra}", encoding="utf-8")
    return tree / ISSUE


def build(tree: Path, *only: str) -> Path:
    result = run_cli("build", tree / ISSUE, "--out", tree / "build", *(("--only", ",".join(only)) if only else ()))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return tree / "build" / ISSUE


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def test_a_french_issue_has_french_dates_in_the_pdf_the_web_and_the_email(minimal_tree: Path) -> None:
    set_language(minimal_tree, "fr")
    built = build(minimal_tree)
    for name in ("index.html", "email.html", "email.txt"):
        text = (built / name).read_text(encoding="utf-8")
        assert "14 mai 2024" in text, name
        assert "15 octobre 2024" in text, name  # the event's date
        assert "May" not in text, name
    printed = pdf_text(built / f"{ISSUE}.pdf").lower()  # the cover sets it in capitals
    assert "14 mai 2024" in printed and "may" not in printed
    assert "15octobre2024" in "".join(printed.split())  # the event's date block, letter-spaced


@pytest.mark.parametrize(
    ("language", "issue_date", "event_date"),
    [
        ("de", "14. Mai 2024", "15. Oktober 2024"),
        ("pt-BR", "14 de maio de 2024", "15 de outubro de 2024"),  # no labels file: Babel alone
        ("it", "14 maggio 2024", "15 ottobre 2024"),
        ("en", "May 14, 2024", "October 15, 2024"),  # as the English labels spelled it before Babel
        ("xx", "May 14, 2024", "October 15, 2024"),  # a tag Babel does not know: English
        ("fr-XX", "14 mai 2024", "15 octobre 2024"),  # a region Babel does not know: its base language
    ],
)
def test_dates_follow_any_language(minimal_tree: Path, language: str, issue_date: str, event_date: str) -> None:
    set_language(minimal_tree, language)
    built = build(minimal_tree, "web", "email")
    for name in ("index.html", "email.txt"):
        text = (built / name).read_text(encoding="utf-8")
        assert issue_date in text and event_date in text, (name, text[:2000])


def test_a_layouts_date_labels_override_babel_for_their_own_language_only(minimal_tree: Path) -> None:
    house = minimal_tree / "layouts" / "house"
    (house / "labels").mkdir(parents=True)
    (house / "labels" / "en.yaml").write_text('date_format: "{day} {month} {year}"\n', encoding="utf-8")
    (house / "labels" / "de.yaml").write_text(
        "months: [Jänner, Feber, März, April, Mai, Juni, Juli, August, September, Oktober, November, Dezember]\n",
        encoding="utf-8",
    )
    (house / "labels" / "fr.yaml").write_text("date_locale: fr-CA\n", encoding="utf-8")
    layout = Layout(minimal_tree, "house")
    january = dt.date(2024, 1, 16)
    assert format_date(january, layout.labels("en")) == "16 January 2024"
    assert format_date(january, layout.labels("de")) == "16. Jänner 2024"  # the layout's month, German order
    assert format_date(january, layout.labels("it")) == "16 gennaio 2024"  # English's override stays English
    assert format_date(january, layout.labels("fr")) == "16 janvier 2024"
    assert layout.labels("it")["months"][0] == "gennaio"  # for templates that spell a month themselves


def test_date_locale_picks_another_variant_of_the_language(minimal_tree: Path) -> None:
    """A British publication: `date_locale: en-GB` in its layout's labels/en.yaml."""
    house = minimal_tree / "layouts" / "house"
    (house / "labels").mkdir(parents=True)
    (house / "labels" / "en.yaml").write_text("date_locale: en-GB\n", encoding="utf-8")
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text() + "layout: house\n")
    set_language(minimal_tree, "en")
    built = build(minimal_tree, "web")
    assert "14 May 2024" in (built / "index.html").read_text(encoding="utf-8")


def test_a_bad_date_locale_is_located_by_check(minimal_tree: Path) -> None:
    labels = minimal_tree / "layouts" / "house" / "labels"
    labels.mkdir(parents=True)
    (labels / "en.yaml").write_text("date_locale: English please\n", encoding="utf-8")
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text() + "layout: house\n")
    result = run_cli("check", minimal_tree)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "layouts/house/labels/en.yaml:1:14: date_locale: " in result.stdout
    assert "is not a language code; write it like en-GB" in result.stdout


@pytest.mark.parametrize("tag", ["xx", "en-ZZZZ", "", "-", "zz-Latn-ZZ"])
def test_unknown_tags_fall_back_instead_of_failing(tag: str) -> None:
    assert long_date(dt.date(2023, 1, 16), tag) in ("January 16, 2023",)
    assert babel_locale(tag).language == "en"


def test_language_names_for_the_editor() -> None:
    assert [language_name(tag) for tag in ("en", "fr", "pt-BR", "xx")] == [
        "English",
        "French",
        "Portuguese (Brazil)",
        "xx",
    ]
