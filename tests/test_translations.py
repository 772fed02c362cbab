"""Bilingual issues: translations beside their originals, their checks, `new translation`, and the
build of every language (build/<slug>/ for the issue's own, build/<slug>/<lang>/ for each translation)."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from research_news.assemble import assemble
from research_news.models import Brief
from research_news.translations import fingerprint, in_language, translatable_text
from research_news.validate import load_content

from .conftest import SAMPLE_ISSUE, run_cli
from .pdf_tree import struct_elements

ISSUE = "2023-01-data-and-society"
DPO = f"{ISSUE}/briefs/data-protection-officer"
NNBSP = "\u202f"


def line_of(path: Path, text: str) -> int:
    """The 1-based number of the first line of ``path`` holding ``text``."""
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def check(tree: Path) -> tuple[int, str]:
    result = run_cli("check", tree)
    return result.exit_code, result.stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


# --- check ------------------------------------------------------------------------------


def test_the_bilingual_sample_checks_clean(sample_tree: Path):
    assert check(sample_tree) == (0, "No problems found.\n")


@pytest.mark.parametrize("name", [f"{DPO}.fr.yaml", f"{ISSUE}/issue.fr.yaml"])
def test_a_translation_linked_from_outside_the_tree_is_refused_unread(sample_tree: Path, tmp_path: Path, name: str):
    outside = tmp_path / "outside.yaml"
    outside.write_text('title: a line from elsewhere\nsecret_key: "hunter2"\n')
    translation = sample_tree / name
    translation.unlink()
    translation.symlink_to(outside)
    code, out = check(sample_tree)
    assert code == 1
    assert f"{name}:1:1: this translation is outside the content tree" in out
    assert "secret_key" not in out and "elsewhere" not in out  # never read, so never echoed


def test_a_takeaway_less_is_an_error_at_the_list(sample_tree: Path):
    french = sample_tree / f"{DPO}.fr.yaml"
    edit(
        french,
        '  - "Que peut accomplir un DPO ? Cela dépend du soutien de la direction et d\'un budget à la mesure des risques."\n',
        "",
    )
    code, out = check(sample_tree)
    line = line_of(french, "key_takeaways:")
    assert code == 1
    assert (
        f"{french.name}:{line}:1: key_takeaways: 2 items here, 3 in the original (data-protection-officer.yaml)" in out
    )


def test_a_takeaway_more_is_an_error_at_the_list(sample_tree: Path):
    french = sample_tree / f"{DPO}.fr.yaml"
    edit(french, "key_takeaways:\n", "key_takeaways:\n  - Une de plus.\n")
    code, out = check(sample_tree)
    assert (
        code == 1 and f":{line_of(french, 'key_takeaways:')}:1: key_takeaways: 4 items here, 3 in the original" in out
    )


def test_a_missing_quote_is_an_error(sample_tree: Path):
    french = sample_tree / f"{DPO}.fr.yaml"
    text = french.read_text()
    start = text.index("  - text: >-\n      Les meilleurs DPO")
    french.write_text(text[:start] + text[text.index("\nkeywords:") :])
    code, out = check(sample_tree)
    assert code == 1 and f":{line_of(french, 'quotes:')}:1: quotes: 1 item here, 2 in the original" in out


def test_a_field_left_out_is_an_error_at_its_mapping(sample_tree: Path):
    french = sample_tree / f"{DPO}.fr.yaml"
    edit(french, "subtitle: Qui veille au respect du RGPD dans les grandes entreprises, et comment\n", "")
    code, out = check(sample_tree)
    assert code == 1 and "subtitle is missing: the original (data-protection-officer.yaml) has it" in out


def test_a_field_the_original_lacks_is_an_error(sample_tree: Path):
    french = sample_tree / f"{DPO}.fr.yaml"
    edit(french, "\nkeywords:", "\nfigures:\n  - alt: Une figure\nkeywords:")
    code, out = check(sample_tree)
    line = line_of(french, "figures:")
    assert code == 1 and f":{line}:1: figures: the original (data-protection-officer.yaml) has no figures" in out


def test_a_list_written_as_text_is_an_error(sample_tree: Path):
    french = sample_tree / f"{DPO}.fr.yaml"
    edit(french, "key_findings: |\n", "key_findings:\n  - |\n")
    text = french.read_text()
    start = text.index("key_findings:")
    end = text.index("\nkey_takeaways:")
    french.write_text(text[:start] + "key_findings:\n  - Un seul résultat.\n" + text[end:])
    code, out = check(sample_tree)
    assert code == 1 and f":{line_of(french, 'key_findings:') + 1}:" in out
    assert "key_findings: the original (data-protection-officer.yaml) writes it as one text" in out


def test_an_untranslated_field_is_a_located_warning(sample_tree: Path):
    french = sample_tree / f"{DPO}.fr.yaml"
    edit(
        french,
        "subtitle: Qui veille au respect du RGPD dans les grandes entreprises, et comment",
        "subtitle: Who keeps large companies within the GDPR,   and how they go about it",
    )
    code, out = check(sample_tree)
    assert code == 0
    assert f"{french.name}:{line_of(french, 'subtitle:')}:11: warning: subtitle: still the original's text" in out


@pytest.mark.parametrize(
    "text",
    [
        "Data",  # one word: a term, a name
        "GDPR",
        "2016/679",
        "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
        "`gdpr-audit` at https://example.org/tool",
    ],
)
def test_text_with_nothing_to_translate_is_not_called_untranslated(sample_tree: Path, text: str):
    english, french = sample_tree / f"{DPO}.yaml", sample_tree / f"{DPO}.fr.yaml"
    edit(english, "subtitle: Who keeps", f"subtitle: {text!r}\n# Who keeps")
    edit(french, "subtitle: Qui veille", f"subtitle: {text!r}\n# Qui veille")
    code, out = check(sample_tree)
    assert code == 0 and "subtitle: still the original's text" not in out, out


def test_a_field_listed_as_same_as_the_original_is_not_called_untranslated(sample_tree: Path):
    """A name of several words reads like any text: the writer says it is deliberately the same."""
    english, french = sample_tree / f"{DPO}.yaml", sample_tree / f"{DPO}.fr.yaml"
    edit(english, "subtitle: Who keeps", "subtitle: Christine Balagué and Ada Lovelace\n# Who keeps")
    edit(french, "subtitle: Qui veille", "subtitle: Christine Balagué and Ada Lovelace\n# Qui veille")
    code, out = check(sample_tree)
    line = line_of(french, "subtitle:")
    assert f"{french.name}:{line}:11: warning: subtitle: still the original's text" in out
    assert "list it in this file under `same_as_original:` (a line `  - subtitle`)" in out

    edit(french, "translated_from:", "same_as_original: [subtitle]\ntranslated_from:")
    code, out = check(sample_tree)
    assert code == 0 and "subtitle: still the original's text" not in out, out
    assert "why_it_matters: still" not in out  # the rest of the file is compared as before

    edit(french, "same_as_original: [subtitle]", "same_as_original: [subtitle, subtitel]")
    code, out = check(sample_tree)
    assert code == 1
    assert (
        f'{french.name}:{line_of(french, "same_as_original:")}:30: same_as_original[1]: "subtitel" is not a text '
        "of this translation" in out
    )


def test_a_translation_older_than_its_original_is_a_warning_until_refreshed(sample_tree: Path):
    original = sample_tree / f"{DPO}.yaml"
    french = sample_tree / f"{DPO}.fr.yaml"
    edit(
        original, "  - How much a DPO can achieve depends", "  - How much a Data Protection Officer can achieve depends"
    )
    code, out = check(sample_tree)
    assert code == 0
    line = line_of(french, "translated_from:")
    assert f"{french.name}:{line}:18: warning: translated_from: the original changed since this translation" in out
    assert (
        f"new translation {original.relative_to(Path.cwd()) if original.is_relative_to(Path.cwd()) else original}"
        in out
    )
    before = french.read_text()
    result = run_cli("new", "translation", original, "--to", "fr", "--refresh")
    assert result.exit_code == 0
    after = french.read_text()
    # Only the fingerprint changed: comments, quoting and line breaks stay as written.
    assert [a for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b] == [
        before.splitlines()[line - 1]
    ]
    assert check(sample_tree) == (0, "No problems found.\n")


def test_reformatting_the_original_does_not_make_its_translation_stale(sample_tree: Path):
    original = sample_tree / f"{DPO}.yaml"
    text = original.read_text()
    # A comment and the title in another quoting style: the same text.
    original.write_text(
        "# reviewed\n"
        + text.replace(
            'title: "The Data Protection Officer: portrait of a new profession"',
            "title: 'The Data Protection Officer: portrait of a new profession'",
        )
    )
    assert check(sample_tree) == (0, "No problems found.\n")


@pytest.mark.parametrize("written", ["name: Alexis Louvion", "orcid: 0000-0000-1148-8428", "photo: ../images/x.png"])
def test_a_field_of_the_original_in_a_translation_is_an_error(sample_tree: Path, written: str):
    french = sample_tree / f"{DPO}.fr.yaml"
    edit(
        french,
        "  - role: Chercheur postdoctoral en sociologie\n",
        f"  - {written}\n    role: Chercheur postdoctoral en sociologie\n",
    )
    code, out = check(sample_tree)
    key = written.split(":")[0]
    assert code == 1
    assert (
        f"{french.name}:{line_of(french, written)}:5: authors[0].{key}: comes from the original "
        "(data-protection-officer.yaml) and is the same in every language" in out
    )
    assert "unknown" not in out  # said once, in these words


def test_required_translations_are_an_error_at_the_brief_entry(sample_tree: Path):
    edit(sample_tree / "publication.yaml", "translations: optional", "translations: required")
    code, out = check(sample_tree)
    issue = sample_tree / ISSUE / "issue.yaml"
    line = line_of(issue, "briefs/responsible-innovation-management.yaml")
    assert code == 1
    assert (
        f"issue.yaml:{line}:9: sections[1].briefs[0]: responsible-innovation-management.yaml has no fr translation, "
        "which the publication requires" in out
    )


def test_a_translation_of_an_unlisted_brief_is_pointed_out(sample_tree: Path):
    briefs = sample_tree / ISSUE / "briefs"
    shutil.copy(briefs / "data-protection-officer.yaml", briefs / "spare.yaml")
    shutil.copy(briefs / "data-protection-officer.fr.yaml", briefs / "spare.fr.yaml")
    _, out = check(sample_tree)
    assert "spare.fr.yaml:1:1: warning: this translates spare.yaml, which issue.yaml does not list" in out
    assert "spare.yaml:1:1: warning: this brief is not listed in issue.yaml" in out
    assert "spare.fr.yaml" not in out.replace("spare.fr.yaml:1:1: warning: this translates", "")  # checked, and clean


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", '"de" (in the file name) is not one of the publication\'s languages (en, fr)'),
        (
            "en",
            "data-protection-officer.en.yaml would translate data-protection-officer.yaml into en, the language it is written in",
        ),
    ],
)
def test_a_translation_in_another_language_than_the_publications_is_an_error(sample_tree: Path, language, message):
    french = sample_tree / f"{DPO}.fr.yaml"
    french.rename(french.with_name(f"data-protection-officer.{language}.yaml"))
    code, out = check(sample_tree)
    assert code == 1 and f"data-protection-officer.{language}.yaml:1:1: {message}" in out


def test_listing_a_translation_as_a_brief_is_an_error(sample_tree: Path):
    issue = sample_tree / ISSUE / "issue.yaml"
    edit(issue, "      - briefs/data-protection-officer.yaml\n", "      - briefs/data-protection-officer.fr.yaml\n")
    code, out = check(sample_tree)
    line = line_of(issue, "data-protection-officer.fr.yaml")
    assert code == 1
    assert (
        f'issue.yaml:{line}:9: sections[0].briefs[1]: "briefs/data-protection-officer.fr.yaml" is the fr translation'
        in out
    )


def test_a_brief_translated_into_a_language_the_issue_is_not_is_a_warning(sample_tree: Path):
    (sample_tree / ISSUE / "issue.fr.yaml").unlink()
    code, out = check(sample_tree)
    assert code == 0
    assert "data-protection-officer.fr.yaml:1:1: warning: the issue has no issue.fr.yaml" in out


def test_a_brief_in_another_language_translated_into_the_issues_own_is_shown_translated(sample_tree: Path):
    """A French brief in an English issue, translated into English (x.en.yaml): no warning about an
    issue.en.yaml (the English edition is the issue's own), and that edition shows the translation."""
    original = sample_tree / ISSUE / "briefs" / "responsible-innovation-management.yaml"
    edit(original, 'title: "Responsible digital', 'language: fr\ntitle: "Responsible digital')
    made = run_cli("new", "translation", original, "--to", "en")
    assert made.exit_code == 0, made.stderr
    english = original.with_name("responsible-innovation-management.en.yaml")
    edit(english, 'title: "Responsible digital innovation in management', 'title: "Innovation, told in English')
    code, out = check(sample_tree)
    assert code == 0 and "issue.en.yaml" not in out and "0 errors" in out, out
    assert f"{english.name}:{line_of(english, 'subtitle:')}:11: warning: subtitle: still the original's text" in out

    built = run_cli("build", sample_tree / ISSUE, "--only", "web", "--out", sample_tree / "out", "--quiet")
    assert built.exit_code == 0, built.stdout + built.stderr
    web = sample_tree / "out" / ISSUE
    own, french = (web / "index.html").read_text(), (web / "fr" / "index.html").read_text()
    assert "Innovation, told in English" in own and "Innovation, told in English" not in french
    assert "Responsible digital innovation in management" in french  # the French edition shows the original
    assert "Article disponible en" not in french.split("Responsible digital innovation in management")[1][:2000]


def test_an_issue_translation_is_checked_like_a_brief_translation(sample_tree: Path):
    french = sample_tree / ISSUE / "issue.fr.yaml"
    edit(french, "  - title: Manager l'innovation de façon responsable\n", "")
    edit(french, "headline: Données", "number: 2\nheadline: Données")
    code, out = check(sample_tree)
    assert code == 1
    assert (
        f"issue.fr.yaml:{line_of(french, 'sections:')}:1: sections: 1 item here, 2 in the original (issue.yaml)" in out
    )
    assert f"issue.fr.yaml:{line_of(french, 'number: 2')}:1: number: comes from the original (issue.yaml)" in out


# --- merging ----------------------------------------------------------------------------


def test_the_french_content_keeps_what_does_not_translate():
    content = load_content(SAMPLE_ISSUE)
    french = in_language(content, "fr")
    assert french.issue.language == "fr" and french.issue.number == content.issue.number
    for path, entry in content.briefs.items():
        merged = french.briefs[path].brief
        assert [a.name for a in merged.authors] == [a.name for a in entry.brief.authors]
        assert [a.orcid for a in merged.authors] == [a.orcid for a in entry.brief.authors]
        assert [f.src for f in merged.figures] == [f.src for f in entry.brief.figures]
        assert [q.after for q in merged.quotes] == [q.after for q in entry.brief.quotes]
    untranslated = SAMPLE_ISSUE.resolve() / "briefs" / "responsible-innovation-management.yaml"
    assert french.untranslated == {untranslated}
    assert french.briefs[untranslated].brief.language == "en"
    assert [e.date for e in french.issue.events] == [e.date for e in content.issue.events]


def test_french_edition_views_say_which_language_each_brief_is_in():
    edition = assemble(in_language(load_content(SAMPLE_ISSUE), "fr"))
    langs = {brief.slug: (brief.lang, brief.untranslated_note) for brief in edition.briefs}
    assert langs == {
        "customer-value-big-data": ("fr", None),
        "data-protection-officer": ("fr", None),
        "responsible-innovation-management": ("en", "Article disponible en anglais"),
    }
    assert edition.folder == "fr/" and edition.web_url.endswith(f"/{ISSUE}/fr/")
    assert edition.date_label == "16 janvier 2023"


# --- new translation --------------------------------------------------------------------


def test_new_translation_writes_a_valid_template_that_round_trips(sample_tree: Path):
    french = sample_tree / f"{DPO}.fr.yaml"
    french.unlink()
    result = run_cli("new", "translation", sample_tree / f"{DPO}.yaml", "--to", "fr")
    assert result.exit_code == 0 and french.is_file()
    text = french.read_text()
    assert "# en: The Data Protection Officer: portrait of a new profession\n" in text
    assert "orcid" not in text and "photo" not in text and "name:" not in text
    code, out = check(sample_tree)
    assert code == 0 and "0 errors" in out  # valid at once; what is left to translate is listed
    assert f"{french.name}:{line_of(french, 'title:')}:8: warning: title: still the original's text" in out
    content = load_content(sample_tree / ISSUE)
    path = (sample_tree / f"{DPO}.yaml").resolve()
    merged = in_language(content, "fr").briefs[path].brief
    assert translatable_text(merged) == translatable_text(content.briefs[path].brief)  # every text, unchanged
    assert f'translated_from: "{fingerprint(content.briefs[path].brief)}"' in text


def test_new_translation_of_an_issue(sample_tree: Path):
    (sample_tree / ISSUE / "issue.fr.yaml").unlink()
    assert run_cli("new", "translation", sample_tree / ISSUE, "--to", "fr").exit_code == 0
    code, out = check(sample_tree)
    assert code == 0 and "issue.fr.yaml" in out and "headline: still the original's text" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--to", "en"), "is written in en"),
        (("--to", "de"), "add it to `languages:` in publication.yaml"),
        (("--to", "fr"), "already exists (nothing was overwritten)"),
        (("--to", "french"), "is not a language code"),
    ],
)
def test_new_translation_refuses_with_a_usage_error(sample_tree: Path, args, message):
    before = (sample_tree / f"{DPO}.fr.yaml").read_text()
    result = run_cli("new", "translation", sample_tree / f"{DPO}.yaml", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert (sample_tree / f"{DPO}.fr.yaml").read_text() == before
    assert not (sample_tree / f"{DPO}.de.yaml").exists()


def test_refresh_needs_an_existing_translation(sample_tree: Path):
    (sample_tree / f"{DPO}.fr.yaml").unlink()
    result = run_cli("new", "translation", sample_tree / f"{DPO}.yaml", "--to", "fr", "--refresh")
    assert result.exit_code == 2 and "nothing to refresh" in result.stderr


# --- build ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(sample_build) -> Path:
    return sample_build[0]


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def canon(text: str) -> str:
    """Text as PDF extraction compares: no spaces (letter-spaced headings), one case."""
    return re.sub(r"\s+", "", text).casefold()


def test_each_language_has_its_editions_under_the_same_names(built: Path):
    for name in (
        f"{ISSUE}.pdf",
        "index.html",
        "email.html",
        "email.txt",
        f"{ISSUE}.eml",
        "offprints/data-protection-officer.pdf",
    ):
        assert (built / name).is_file() and (built / "fr" / name).is_file(), name
    assert not (built / "en").exists()


def test_each_pdf_holds_its_languages_takeaways_labels_and_lang(built: Path):
    english, french = PdfReader(built / f"{ISSUE}.pdf"), PdfReader(built / "fr" / f"{ISSUE}.pdf")
    assert english.trailer["/Root"]["/Lang"] == "en" and french.trailer["/Root"]["/Lang"] == "fr"
    english_text, french_text = pdf_text(built / f"{ISSUE}.pdf"), pdf_text(built / "fr" / f"{ISSUE}.pdf")
    french_takeaway = "Les intermédiaires du marketing combinent données"
    english_takeaway = "Marketing intermediaries combine"
    assert canon(french_takeaway) in canon(french_text) and canon(french_takeaway) not in canon(english_text)
    assert canon(english_takeaway) in canon(english_text) and canon(english_takeaway) not in canon(french_text)
    for label in (
        "À retenir",
        "Principaux résultats",
        "Méthodologie",
        "16 janvier 2023",
        "Article disponible en anglais",
    ):
        assert canon(label) in canon(french_text), label
    assert canon("Key takeaways") in canon(english_text) and canon("Article disponible") not in canon(english_text)
    # The brief shown untranslated is tagged English inside the French document.
    assert any(element.get("/Lang") == "en" for element in struct_elements(french))


def test_french_text_follows_french_typography_in_the_pdf(built: Path):
    text = pdf_text(built / "fr" / f"{ISSUE}.pdf")
    assert f"big data{NNBSP}:" in text  # written "big data :" in the translation
    assert f"un DPO{NNBSP}?" in text  # written "un DPO ?"
    assert f"«{NNBSP}votre avis compte{NNBSP}»" in text  # written "votre avis compte" with straight quotes
    source = (SAMPLE_ISSUE / "issue.fr.yaml").read_text()
    assert NNBSP not in source and "«" not in source  # applied when rendering, never to the source


def test_web_editions_link_each_other_with_hreflang(built: Path):
    base = f"https://news.example.org/research-news/{ISSUE}/"
    english, french = (built / "index.html").read_text(), (built / "fr" / "index.html").read_text()
    for page in (english, french):
        assert f'<link rel="alternate" hreflang="en" href="{base}">' in page
        assert f'<link rel="alternate" hreflang="fr" href="{base}fr/">' in page
        assert f'<link rel="alternate" hreflang="x-default" href="{base}">' in page
    assert '<html lang="fr">' in french and '<html lang="en">' in english
    assert '<a href="fr/" lang="fr" hreflang="fr">Français</a>' in english
    assert '<a href="./" lang="en" hreflang="en" aria-current="page">English</a>' in english
    assert '<a href="../" lang="en" hreflang="en">English</a>' in french
    assert '<a href="./" lang="fr" hreflang="fr" aria-current="page">Français</a>' in french
    assert f'<link rel="canonical" href="{base}fr/">' in french
    assert '<p class="brief__language" lang="fr">Article disponible en anglais</p>' in french


def test_french_email_and_message(built: Path):
    message = email.message_from_bytes((built / "fr" / f"{ISSUE}.eml").read_bytes(), policy=email.policy.default)
    assert message["Content-Language"] == "fr"
    assert "Données, régulation et innovation responsable" in message["Subject"]
    text = (built / "fr" / "email.txt").read_text()
    assert f"Read in English:\nhttps://news.example.org/research-news/{ISSUE}/\n" in text
    assert f"/{ISSUE}/fr/#brief-data-protection-officer" in text  # links go to the French web edition
    assert "[Article disponible en anglais]" in text


def test_the_invitation_to_read_in_another_language_is_punctuated_in_that_language(built: Path):
    """ "Lire en français :" is a line of French for the French reader, in the English edition too; and
    "Read in English:" has no space before its colon in the French one. Each edition's own labels
    keep its own punctuation."""
    base = f"https://news.example.org/research-news/{ISSUE}/"
    english, french = (built / "email.txt").read_text(), (built / "fr" / "email.txt").read_text()
    assert f"Lire en français{NNBSP}:\n{base}fr/\n" in english
    assert "View this issue in your browser:\n" in english and f"{NNBSP}:" not in english.replace("français\u202f:", "")
    assert f"Read in English:\n{base}\n" in french
    assert f"Voir ce numéro dans votre navigateur{NNBSP}:\n" in french


# --- the build's own files per language ---------------------------------------------------


def test_a_build_removes_a_dropped_language_and_never_another_languages_files(sample_tree: Path, tmp_path: Path):
    out = tmp_path / "build"
    issue = sample_tree / ISSUE
    assert run_cli("build", issue, "--out", out, "--only", "web").exit_code == 0
    french = out / ISSUE / "fr"
    assert (french / "index.html").is_file()
    (french / "notes.txt").write_text("an editor's own file")
    # Another edition alone: the web editions of both languages stay.
    assert run_cli("build", issue, "--out", out, "--only", "email").exit_code == 0
    assert (french / "index.html").is_file() and (french / "email.html").is_file()
    # Again, in full: nothing of either language is lost.
    assert run_cli("build", issue, "--out", out, "--only", "web,email").exit_code == 0
    assert (french / "index.html").is_file() and (out / ISSUE / "index.html").is_file()
    # French dropped from the content: its files go, the editor's file and the English edition stay.
    (issue / "issue.fr.yaml").unlink()
    assert run_cli("build", issue, "--out", out, "--only", "web,email").exit_code == 0
    assert sorted(p.relative_to(french).as_posix() for p in french.rglob("*") if p.is_file()) == ["notes.txt"]
    assert (out / ISSUE / "index.html").is_file() and "hreflang" not in (out / ISSUE / "index.html").read_text()


def test_an_issue_without_translations_builds_only_its_own_language(minimal_build: Path):
    assert not [p for p in minimal_build.iterdir() if p.is_dir() and p.name not in ("assets", "offprints")]
    assert "hreflang" not in (minimal_build / "index.html").read_text()
    assert 'class="languages"' not in (minimal_build / "index.html").read_text()


def test_briefs_lists_only_their_own_text_fields():
    """What a translation may hold of a brief; everything else comes from the original."""
    from research_news.translations import translatable_fields

    assert set(translatable_fields(Brief)) == {
        "title",
        "subtitle",
        "authors",
        "why_it_matters",
        "methodology",
        "key_findings",
        "key_takeaways",
        "quotes",
        "figures",
        "keywords",
    }


@pytest.mark.parametrize(
    "original, languages",
    [
        ("a.yaml", {"fr", "fr-CA", "zz-Latn", "sv"}),  # sv: a folder named like a translation, as glob finds it
        ("a[1].yaml", {"fr"}),
        ("a.b.yaml", {"it"}),
        (".a.yaml", {"pt"}),
        ("a.yml", {"de", "es"}),
    ],
)
def test_translations_found_from_a_listing_are_those_globbing_finds(tmp_path: Path, original: str, languages: set):
    """The check lists a folder of briefs once and looks up each brief's translations in that list:
    the same files as globbing the folder for each brief, whatever the names."""
    import os

    from research_news.translations import translations_beside

    names = [
        "a.yaml", "a.fr.yaml", "a.de.yml", "a.FR.yaml", "a.fr.yaml.bak", "ab.fr.yaml", "a.x.fr.yaml", "a.yml",
        "a.es.yml", "a[1].yaml", "a[1].fr.yaml", "a1.fr.yaml", "a.b.yaml", "a.b.it.yaml", ".a.yaml", ".a.pt.yaml",
        "a.fr-CA.yaml", "a.zz-Latn.yaml", "a.nl.yaml~",
    ]  # fmt: skip
    for name in names:
        (tmp_path / name).write_text("title: x\n")
    (tmp_path / "a.sv.yaml").mkdir()  # a folder named like a translation
    globbed = translations_beside(tmp_path / original)
    assert translations_beside(tmp_path / original, os.listdir(tmp_path)) == globbed
    assert set(globbed) == languages
