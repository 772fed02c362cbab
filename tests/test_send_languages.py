"""`send` of an issue built in two languages: each reader gets their language's edition, once.

The bilingual-minimal fixture (the minimal issue with `languages: [en, fr]`, an issue.fr.yaml
and its brief's one.fr.yaml) is built by `research-news build` (its email edition), which
writes the English edition in build/<slug>/ and the French one in build/<slug>/fr/; a real
SMTP server on loopback receives.
"""

from __future__ import annotations

import shutil
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest

from research_news import send as sending
from research_news.recipients import Recipient

from .conftest import copy_fixture, run_cli
from .smtp_server import SmtpServer

SLUG = "2024-05-minimal"
FAST = ("--yes", "--rate", "100000/s", "--retry-delay", "0.01")
FRENCH_HEADLINE = "Un numéro minimal"  # in issue.fr.yaml
FRENCH_TITLE = "Une courte étude des petites choses"  # in briefs/one.fr.yaml
ENGLISH_TITLE = "A short study of small things"


@pytest.fixture
def bilingual(tmp_path: Path, monkeypatch) -> Path:
    """The bilingual issue built (email only) in English and French under ``<tree>/build``, the tree
    the working folder."""
    tree = copy_fixture("bilingual-minimal", tmp_path)
    monkeypatch.chdir(tree)
    monkeypatch.delenv(sending.PASSWORD_VARIABLE, raising=False)
    monkeypatch.delenv(sending.URL_VARIABLE, raising=False)
    issue = tree / SLUG
    built = run_cli("build", issue, "--only", "email", "--quiet")
    assert built.exit_code == 0, built.stdout + built.stderr
    assert (tree / "build" / SLUG / "fr" / f"{SLUG}.eml").is_file()
    return issue


@pytest.fixture
def relay(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setenv(sending.URL_VARIABLE, server.url)
        yield server


def readers(tree: Path, rows: str) -> Path:
    path = tree / "subscribers.csv"
    path.write_text("email,name,language\n" + rows, encoding="utf-8")
    return path


MIXED = (
    "ada@example.org,Ada,fr\n"
    "bob@example.org,Bob,en\n"
    "cleo@example.org,Cleo,\n"  # no language: the issue's own
    "dan@example.org,Dan,FR-CA\n"  # any case; no fr-CA edition: its base language's
    "eve@example.org,Eve,de\n"  # not built: the issue's own, and the editor is told
)


def by_address(relay: SmtpServer) -> dict[str, EmailMessage]:
    return {received.rcpt_to[0]: received.message for received in relay.messages()}


def test_french_and_english_readers_each_receive_their_edition(bilingual: Path, relay: SmtpServer) -> None:
    result = run_cli("send", bilingual, "-r", readers(bilingual.parent, MIXED), *FAST)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Sent 5 now, 0 already sent earlier, 0 failed, 0 uncertain." in result.stdout
    assert "Sent now: 3 in English, 2 in French." in result.stdout
    received = by_address(relay)
    assert sorted(received) == sorted(f"{name}@example.org" for name in ("ada", "bob", "cleo", "dan", "eve"))
    for address, message in received.items():
        french = address in ("ada@example.org", "dan@example.org")
        assert message["Content-Language"] == ("fr" if french else "en"), address
        subject = str(message["Subject"])
        assert (FRENCH_HEADLINE in subject and "n°" in subject) if french else subject.endswith(": A minimal issue")
        html = message.get_body(("html",)).get_content()
        assert f'lang="{"fr" if french else "en"}"' in html
        text = message.get_body(("plain",)).get_content()
        # The brief in the reader's language, from its translation: the other language's is not there.
        assert (FRENCH_TITLE in html and FRENCH_TITLE in text) if french else (ENGLISH_TITLE in html)
        assert (ENGLISH_TITLE not in html) if french else (FRENCH_TITLE not in html and FRENCH_TITLE not in text)
        # Each edition's own address marker was filled: the reader's unsubscribe link, everywhere.
        personal = quote(address, safe="@")
        assert personal in str(message["List-Unsubscribe"]) and personal in html
        assert personal in message.get_body(("plain",)).get_content()
    # One Message-ID per reader, the same whichever language: a later copy is the same message.
    editions = sending.load_editions(bilingual, Path("build"))
    assert received["ada@example.org"]["Message-ID"] == sending.message_id(editions.own, "ada@example.org")


def test_the_dry_run_counts_readers_per_language_and_names_the_fallback(bilingual: Path, relay) -> None:
    result = run_cli("send", bilingual, "-r", readers(bilingual.parent, MIXED), "--dry-run")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("would send 5 messages, 0 already sent.")
    assert lines[1].startswith("English (en): “Research News #3: A minimal issue”")
    assert lines[2].startswith(f"French (fr): “Research News n°\u00a03\u202f: {FRENCH_HEADLINE}”")
    assert lines[3] == (
        "Would send 5 messages: 3 in English, 2 in French (1 reader whose language, de, is not built, gets English)."
    )
    assert [line.rsplit(" ", 1)[1] for line in lines if line.startswith("would send: ")] == [
        "fr",
        "en",
        "en",
        "fr",
        "en",
    ]
    assert not relay.messages() and not (bilingual.parent / "build" / SLUG / "send.db").exists()


def test_the_confirmation_counts_readers_per_language(bilingual: Path) -> None:
    editions = sending.load_editions(bilingual, Path("build"))
    recipients = [Recipient(f"r{i}@example.org", language=lang) for i, lang in enumerate(["fr", "de", "it", "de"])]
    plan = sending.plan_send(recipients, {})
    question = sending.confirmation(editions, plan, sending.smtp_settings("smtp://localhost", None))
    assert question == (
        "About to send “Research News #3: A minimal issue” to 4 recipients: 3 in English, 1 in French "
        "(3 readers whose languages, de and it, are not built, get English) via localhost:25. Continue?"
    )


def test_a_reader_who_changes_language_between_runs_is_not_sent_a_second_copy(bilingual: Path, relay) -> None:
    first = run_cli("send", bilingual, "-r", readers(bilingual.parent, "ada@example.org,Ada,en\n"), *FAST)
    assert first.exit_code == 0, first.stdout + first.stderr
    [received] = relay.messages()
    assert received.message["Content-Language"] == "en"

    changed = readers(bilingual.parent, "ADA@example.org,Ada,fr\nzoe@example.org,Zoé,fr\n")  # and a new reader
    again = run_cli("send", bilingual, "-r", changed, *FAST)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "Sent 1 now, 1 already sent earlier" in again.stdout
    assert [m.rcpt_to for m in relay.messages()] == [("ada@example.org",), ("zoe@example.org",)]
    assert relay.messages()[1].message["Content-Language"] == "fr"


def test_test_to_sends_one_marked_copy_of_each_edition(bilingual: Path, relay) -> None:
    result = run_cli("send", bilingual, "--test-to", "me@example.org", "-r", readers(bilingual.parent, MIXED))
    assert result.exit_code == 0, result.stderr
    assert "5 valid recipients: 3 in English, 2 in French" in result.stderr
    assert result.stdout.count("Sent a test copy of") == 2 and "(French) to me@example.org" in result.stdout
    subjects = [str(m.message["Subject"]) for m in relay.messages()]
    assert subjects == [
        "[TEST] Research News #3: A minimal issue",
        f"[TEST] Research News n°\u00a03\u202f: {FRENCH_HEADLINE}",
    ]
    assert not (bilingual.parent / "build" / SLUG / "send.db").exists()


def rewrite_french_eml(bilingual: Path, change) -> Path:
    """Rewrite build/<slug>/fr/<slug>.eml with ``change`` applied to its message."""
    path = bilingual.parent / "build" / SLUG / "fr" / f"{SLUG}.eml"
    message = sending.parse_message(path.read_bytes(), path)
    change(message)
    path.write_bytes(message.as_bytes())
    return path


def attach_another_issues_pdf(message: EmailMessage) -> None:
    message.add_attachment(b"%PDF-1.7", maintype="application", subtype="pdf", filename="2024-06-other.pdf")
    message["Content-Language"] = "fr"  # add_attachment drops the Content-* headers of the whole message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda m: m.replace_header("Content-Language", "en"),
            "fr/2024-05-minimal.eml says Content-Language: en, but its folder is for fr",
        ),
        (lambda m: m.__delitem__("Content-Language"), "fr/2024-05-minimal.eml has no Content-Language"),
        (
            lambda m: m.replace_header("From", "Other News <other@example.net>"),
            "is sent from other@example.net",
        ),
        (attach_another_issues_pdf, "carries 2024-06-other.pdf, the PDF of another issue"),
    ],
)
def test_an_edition_that_is_not_what_its_folder_says_is_refused(bilingual: Path, relay, change, expected) -> None:
    rewrite_french_eml(bilingual, change)
    for options in (FAST, ("--dry-run",), ("--test-to", "me@example.org")):
        result = run_cli("send", bilingual, "-r", readers(bilingual.parent, MIXED), *options)
        assert result.exit_code == 1 and expected in result.stderr, result.stderr
        assert "remove" in result.stderr and "build the issue again" in result.stderr
        assert "Traceback" not in result.stderr
    assert not relay.messages()


def test_an_email_of_another_issue_in_a_language_folder_is_refused(bilingual: Path, relay) -> None:
    french = bilingual.parent / "build" / SLUG / "fr"
    (french / f"{SLUG}.eml").rename(french / "2024-06-other.eml")
    result = run_cli("send", bilingual, "-r", readers(bilingual.parent, MIXED), *FAST)
    assert result.exit_code == 1
    assert "holds 2024-06-other.eml, not 2024-05-minimal.eml: an email of another issue" in result.stderr
    assert not relay.messages()


def test_a_translation_in_the_issues_own_language_is_refused(bilingual: Path, relay) -> None:
    build = bilingual.parent / "build" / SLUG
    shutil.rmtree(build / "fr")
    shutil.copytree(build, build / "en", ignore=shutil.ignore_patterns("en", "assets"))
    result = run_cli("send", bilingual, "-r", readers(bilingual.parent, MIXED), *FAST)
    assert result.exit_code == 1 and "the language of the issue's own edition" in result.stderr
    assert not relay.messages()


def test_a_language_folder_without_an_email_is_not_an_edition(bilingual: Path, relay) -> None:
    """A translation built without its email (--only pdf,web): its readers get the issue's own."""
    (bilingual.parent / "build" / SLUG / "fr" / f"{SLUG}.eml").unlink()
    result = run_cli("send", bilingual, "-r", readers(bilingual.parent, "ada@example.org,Ada,fr\n"), *FAST)
    assert result.exit_code == 0, result.stderr
    assert "Sent now" not in result.stdout  # one edition: the summary is as it always was
    assert relay.messages()[0].message["Content-Language"] == "en"


def test_which_edition_each_language_gets(tmp_path: Path) -> None:
    def edition(language: str) -> sending.BuiltIssue:
        return sending.BuiltIssue(
            SLUG, tmp_path / language, EmailMessage(), language, "n@x.org", "x.org", language=language
        )

    own = edition("en")
    editions = sending.Editions(own, (edition("pt"), edition("zh-Hant"), edition("fr-CA"), edition("fr-BE")))
    chosen = {
        tag: editions.for_language(tag).language for tag in ("", "en-GB", "PT-BR", "pt", "zh", "ZH-hant", "fr", "de")
    }
    assert chosen == {
        "": "en",  # no language: the issue's own
        "en-GB": "en",  # base language
        "PT-BR": "pt",  # any case; base language
        "pt": "pt",
        "zh": "zh-Hant",  # an edition of the same base language
        "ZH-hant": "zh-Hant",
        "fr": "fr-BE",  # of several, the first by tag: the same every run
        "de": "en",  # not built: the issue's own
    }
    assert [editions.is_built(tag) for tag in ("de", "fr-CH", "en-US", "")] == [False, True, True, True]
