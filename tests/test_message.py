"""The .eml: a strict RFC 5322 message that send can transmit as is."""

from __future__ import annotations

import dataclasses
import email
import re
from email import policy
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from research_news.assemble import assemble
from research_news.build import build
from research_news.exceptions import ResearchNewsError
from research_news.message import ADDRESS_MARKER, MARKER_SHAPE, build_message
from research_news.validate import load_content

HTML = "<!doctype html><html><body><p>Bonjour, \u00e9t\u00e9 {email}</p></body></html>\n"
TEXT = "Bonjour, \u00e9t\u00e9\n\nUnsubscribe:\nhttps://news.example.org/unsubscribe?email={email}\n"


def parse(message) -> email.message.EmailMessage:
    """The bytes a mail server would receive, read back by a strict parser."""
    return email.message_from_bytes(message.as_bytes(), policy=policy.default)


def body(part) -> str:
    """A decoded body part; on the wire text lines end in CRLF, in files and templates in LF."""
    return part.get_content().replace("\r\n", "\n")


@pytest.fixture
def edition(minimal_edition):
    return minimal_edition


def test_alternative_text_then_html(edition):
    parsed = parse(build_message(edition, HTML, TEXT))
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert body(parts[0]) == TEXT
    assert body(parts[1]) == HTML
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    assert all(part["Content-Transfer-Encoding"] in ("quoted-printable", "base64") for part in parts)


def test_headers(edition):
    parsed = parse(build_message(edition, HTML, TEXT))
    assert parsed["Subject"] == "Research News #3: A minimal issue" == edition.subject
    assert parsed["From"] == "Minimal News <news@example.org>"
    assert parsed["Reply-To"] is None  # the fixture sets none
    assert parsed["MIME-Version"] == "1.0"
    assert parsedate_to_datetime(parsed["Date"]).tzinfo is not None
    assert parsed["Message-ID"].startswith("<") and parsed["Message-ID"].endswith("@example.org>")
    assert parsed["List-Unsubscribe"] == f"<https://news.example.org/unsubscribe?email={ADDRESS_MARKER}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["To"] is None and parsed["Bcc"] is None and parsed["Cc"] is None  # send adds To


def test_sample_issue_headers(sample_edition):
    parsed = parse(build_message(sample_edition, HTML, TEXT))
    assert parsed["Subject"] == "Research News #1: Data, regulation and responsible innovation"
    assert parsed["Reply-To"] == "editor@example.org"
    assert parsed["Content-Language"] == "en"


def test_wire_format_is_crlf_and_short_lines(sample_edition):
    raw = build_message(sample_edition, HTML * 50, TEXT * 50).as_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    raw.decode("ascii")  # 7-bit clean: bodies are encoded, headers RFC 2047


def test_non_ascii_subject_is_encoded_and_round_trips(edition):
    headline = "Données et société : un été très long, plié sur plusieurs lignes sans rien perdre du tout"
    parsed = parse(build_message(dataclasses.replace(edition, headline=headline), HTML, TEXT))
    assert parsed["Subject"] == f"Research News #3: {headline}"


def test_pdf_attached_in_mixed(edition):
    pdf = b"%PDF-1.7\n% test\n" + bytes(range(256))
    parsed = parse(build_message(edition, HTML, TEXT, pdf))
    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "2024-05-minimal.pdf"
    assert attachment.get_content() == pdf
    assert parsed["Subject"] == edition.subject


def test_mailto_unsubscribe_has_no_one_click_post(edition):
    publication = dataclasses.replace(edition.publication, unsubscribe="mailto:leave@example.org?subject=leave")
    parsed = parse(build_message(dataclasses.replace(edition, publication=publication), HTML, TEXT))
    assert parsed["List-Unsubscribe"] == "<mailto:leave@example.org?subject=leave>"
    assert parsed["List-Unsubscribe-Post"] is None


def test_no_unsubscribe_no_list_headers(edition):
    publication = dataclasses.replace(edition.publication, unsubscribe=None)
    parsed = parse(build_message(dataclasses.replace(edition, publication=publication), HTML, TEXT))
    assert parsed["List-Unsubscribe"] is None and parsed["List-Unsubscribe-Post"] is None


def test_a_sender_is_required(edition):
    publication = dataclasses.replace(edition.publication, email_from=None)
    with pytest.raises(ResearchNewsError, match=re.escape("email.from")):
        build_message(dataclasses.replace(edition, publication=publication), HTML, TEXT)


# --- header injection ------------------------------------------------------------------


def test_check_reports_a_headline_with_a_line_break(minimal_issue, cli):
    issue = minimal_issue / "issue.yaml"
    issue.write_text(
        issue.read_text(encoding="utf-8").replace(
            "headline: A minimal issue", 'headline: "A minimal issue\\r\\nBcc: x@y"'
        ),
        encoding="utf-8",
    )
    result = cli("check", minimal_issue)
    assert result.exit_code == 1
    assert "headline" in result.stdout and "line break" in result.stdout


@pytest.mark.parametrize(
    "field, value",
    [
        ("headline", "A minimal issue\r\nBcc: x@y"),
        ("headline", "A minimal issue\nBcc: x@y"),
        ("headline", "A minimal issue\rBcc: x@y"),
    ],
)
def test_build_message_refuses_line_breaks_in_headers(edition, field, value):
    """Defence in depth: an edition assembled without check must not smuggle in a Bcc."""
    with pytest.raises(ResearchNewsError, match="line break"):
        build_message(dataclasses.replace(edition, **{field: value}), HTML, TEXT)


@pytest.mark.parametrize("field", ["email_from", "reply_to", "unsubscribe"])
def test_publication_header_fields_refuse_line_breaks(edition, field):
    value = {
        "email_from": "News <news@example.org>\r\nBcc: x@y",
        "reply_to": "a@example.org\nBcc: x@y",
        "unsubscribe": "https://example.org/u\r\nBcc: x@y",
    }[field]
    publication = dataclasses.replace(edition.publication, **{field: value})
    with pytest.raises(ResearchNewsError, match="line break"):
        build_message(dataclasses.replace(edition, publication=publication), HTML, TEXT)


# --- the build writes it --------------------------------------------------------------


def test_build_writes_a_parseable_eml(minimal_issue, tmp_path: Path):
    result = build(minimal_issue, tmp_path / "build", only=("email",))
    folder = result.out_dir
    assert sorted(p.name for p in folder.iterdir()) == [
        ".research-news-manifest.json",
        "2024-05-minimal.eml",
        "email.html",
        "email.txt",
    ]
    parsed = email.message_from_bytes((folder / "2024-05-minimal.eml").read_bytes(), policy=policy.default)
    text, html = parsed.iter_parts()
    assert body(text) == (folder / "email.txt").read_text(encoding="utf-8")
    assert body(html) == (folder / "email.html").read_text(encoding="utf-8")
    marker = MARKER_SHAPE.search(parsed["List-Unsubscribe"]).group()  # where send reads it
    assert marker in body(text) and marker in body(html)  # the footer's link, for send
    assert parsed["Subject"] == "Research News #3: A minimal issue"


def test_sample_issue_builds_its_eml(sample_tree, tmp_path: Path):
    result = build(sample_tree / "2023-01-data-and-society", tmp_path / "build", only=("email",))
    raw = (result.out_dir / "2023-01-data-and-society.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert result.warnings == []
    edition = assemble(load_content(sample_tree / "2023-01-data-and-society"))
    assert parsed["Subject"] == edition.subject


def test_an_international_sender_domain_is_sent_as_idna(minimal_tree, cli, tmp_path):
    publication = minimal_tree / "publication.yaml"
    publication.write_text(
        publication.read_text(encoding="utf-8").replace(
            "from: Minimal News <news@example.org>", "from: Minimal News <news@exämple.org>"
        ),
        encoding="utf-8",
    )
    result = cli("build", minimal_tree / "2024-05-minimal", "--out", tmp_path, "--only", "email")
    assert result.exit_code == 0, result.stderr
    sent = email.message_from_bytes(
        (tmp_path / "2024-05-minimal" / "2024-05-minimal.eml").read_bytes(), policy=policy.default
    )
    assert sent["From"].addresses[0].addr_spec == "news@xn--exmple-cua.org"


# --- headers that must stay literal, lines that must stay short --------------------------


def test_check_refuses_an_unsubscribe_url_no_header_line_can_hold(minimal_issue, cli):
    """A URL cannot be folded (it has no spaces); one the longest address would push past 998 is refused."""
    publication = minimal_issue.parent / "publication.yaml"
    long_url = "https://news.example.org/unsubscribe?email={email}&t=" + "x" * 600
    publication.write_text(
        publication.read_text(encoding="utf-8").replace("https://news.example.org/unsubscribe?email={email}", long_url),
        encoding="utf-8",
    )
    result = cli("check", minimal_issue)
    assert result.exit_code == 1
    assert "publication.yaml:6:16: email.unsubscribe:" in result.stdout
    assert "once the longest possible address fills its {email}" in result.stdout
    assert "shorten it to 603 characters or fewer" in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "https://lists.example.org/unsubscribe?list=research-news&email={email}&token=" + "t" * 400,
        "mailto:leave@example.org?subject=" + "leave%20" * 60 + "{email}",
    ],
)
def test_list_unsubscribe_is_folded_never_encoded(edition, url):
    publication = dataclasses.replace(edition.publication, unsubscribe=url)
    raw = build_message(dataclasses.replace(edition, publication=publication), HTML, TEXT).as_bytes()
    head = raw.split(b"\r\n\r\n")[0].replace(b"\r\n ", b" ").decode("ascii") + "\r\n"
    assert f"\r\nList-Unsubscribe: <{url.replace('{email}', ADDRESS_MARKER)}>\r\n" in head
    assert "=?" not in head


def test_a_long_sender_name_is_encoded_not_left_on_one_long_line(edition):
    publication = dataclasses.replace(edition.publication, email_from=f"{'N' * 1200} <news@example.org>")
    raw = build_message(dataclasses.replace(edition, publication=publication), HTML, TEXT).as_bytes()
    head = raw.split(b"\r\n\r\n")[0].decode("ascii")
    [sender] = [field for field in re.split(r"\r\n(?![ \t])", head) if field.startswith("From:")]
    assert max(len(line) for line in sender.split("\r\n")) <= 78  # encoded words, folded
    assert (
        parse(build_message(dataclasses.replace(edition, publication=publication), HTML, TEXT))["From"]
        .addresses[0]
        .display_name.replace(" ", "")
        == "N" * 1200
    )  # (Python's parser keeps a space between encoded words)
    assert parse(build_message(edition, HTML, TEXT))["From"] == "Minimal News <news@example.org>"


def test_a_long_non_ascii_subject_keeps_every_space() -> None:
    """Python's folding split encoded words at a space and dropped it ("qui décide" → "quidécide")."""
    from email import policy as email_policy
    from email.message import EmailMessage
    from email.parser import BytesParser

    from research_news.message import POLICY, text_header, verbatim

    for subject in [
        "Notes de recherche n°\u00a02\u202f: Données\u202f: qui décide\u202f? 10\u202f000 «\u202favis\u202f»",
        "Short ASCII subject",
        "Ünïcödé " * 30,
        "x" * 200 + " end",
        "=?utf-8?q?looks_encoded?= text",
    ]:
        message = EmailMessage(policy=POLICY)
        message["Subject"] = verbatim("Subject", text_header(subject))
        message.set_content("body")
        data = message.as_bytes()
        assert all(len(line) <= 78 or b" " not in line for line in data.split(b"\r\n"))
        parsed = BytesParser(policy=email_policy.default).parsebytes(data)
        assert str(parsed["Subject"]) == subject
