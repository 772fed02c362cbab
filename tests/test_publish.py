"""End to end, as the editor does it: build the sample issue's email edition, then send it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from research_news import send as sending

from .conftest import SAMPLE_ROOT, run_cli
from .smtp_server import SmtpServer


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch) -> Path:
    """A copy of the sample tree in a working folder, with build/ beside it."""
    shutil.copytree(SAMPLE_ROOT, tmp_path / "issues")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(sending.PASSWORD_VARIABLE, raising=False)
    return tmp_path


def test_the_sample_issue_built_and_sent_to_200_readers(workspace: Path, monkeypatch) -> None:
    issue = Path("issues/2023-01-data-and-society")
    built = run_cli("build", issue, "--only", "email", "--quiet")
    assert built.exit_code == 0, built.stdout + built.stderr
    assert (workspace / "build" / issue.name / f"{issue.name}.eml").is_file()

    readers = [f"reader{i:03d}@example.org" for i in range(200)]
    recipients = workspace / "subscribers.csv"
    recipients.write_text("email,name\n" + "".join(f"{a},Reader {i}\n" for i, a in enumerate(readers)))
    with SmtpServer() as relay:
        monkeypatch.setenv(sending.URL_VARIABLE, relay.url)
        sent = run_cli("send", issue, "--recipients", recipients, "--yes", "--rate", "100000/s")
        assert sent.exit_code == 0, sent.stdout + sent.stderr
        messages = relay.messages()

    assert sorted(relay.recipients()) == readers
    assert len({m.message["Message-ID"] for m in messages}) == 200
    first = next(m.message for m in messages if m.rcpt_to == ("reader007@example.org",))
    assert first["Subject"] == "Research News #1: Data, regulation and responsible innovation"
    assert str(first["To"]) == "Reader 7 <reader007@example.org>"
    personal = quote("reader007@example.org", safe="@")
    assert personal in str(first["List-Unsubscribe"])
    text = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    assert "{email}" not in text + html
    assert personal in text and personal in html
    assert "Why is this topic important?" in html


# --- What the relay receives from a real build ------------------------------------------------

LONG_UNSUBSCRIBE = "https://lists.example.org/unsubscribe?list=research-news&email={email}"


def header_fields(data: bytes) -> dict[str, str]:
    """Header name (lower case) → its raw value as received, unfolded by removing CRLF only."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    fields = {}
    for field in re.split(r"\r\n(?![ \t])", head):
        name, _, value = field.replace("\r\n", "").partition(":")
        fields[name.lower()] = value
    return fields


def build_and_send(tree: Path, readers: str, *extra: str) -> list:
    """Build the minimal issue's email, send it to the CSV rows ``readers``; what the relay received."""
    issue = tree / "2024-05-minimal"
    built = run_cli("build", issue, "--only", "email", "--out", tree / "build", "--quiet")
    assert built.exit_code == 0, built.stdout + built.stderr
    recipients = tree / "subscribers.csv"
    recipients.write_text("email,name\n" + readers, encoding="utf-8")
    with SmtpServer() as relay:
        sent = run_cli(
            "send",
            issue,
            "--out",
            tree / "build",
            "--recipients",
            recipients,
            "--yes",
            "--rate",
            "100000/s",
            "--smtp-url",
            relay.url,
            *extra,
        )
        assert sent.exit_code == 0, sent.stdout + sent.stderr
        return relay.messages()


def set_unsubscribe(tree: Path, url: str) -> None:
    publication = tree / "publication.yaml"
    publication.write_text(
        publication.read_text(encoding="utf-8").replace(
            "unsubscribe: https://news.example.org/unsubscribe?email={email}", f'unsubscribe: "{url}"'
        ),
        encoding="utf-8",
    )


def test_list_unsubscribe_reaches_the_relay_raw_for_long_urls_and_addresses(minimal_tree: Path) -> None:
    """RFC 2369/8058: the header is read literally; an encoded word there breaks one-click unsubscribe."""
    set_unsubscribe(minimal_tree, LONG_UNSUBSCRIBE)
    local = "news+" + "x" * 59  # the longest local part there is (64)
    addresses = ["ada@example.org", f"{local}@{'d' * 60}.{'e' * 60}.{'f' * 55}.example.org"]  # 254 in all
    messages = build_and_send(minimal_tree, "".join(f"{a},Reader\n" for a in addresses))
    for address, received in zip(addresses, messages, strict=True):
        fields = header_fields(received.data)
        filled = LONG_UNSUBSCRIBE.replace("{email}", quote(address, safe="@"))
        assert fields["list-unsubscribe"] == f" <{filled}>", fields["list-unsubscribe"]
        assert fields["list-unsubscribe-post"] == " List-Unsubscribe=One-Click"
        for name in ("list-unsubscribe", "list-unsubscribe-post", "message-id", "content-language"):
            assert "=?" not in fields[name], (name, fields[name])
        assert max(len(line) for line in received.data.split(b"\r\n")) <= 998


BRIEF_WITH_ADDRESSES = (
    "why_it_matters: |\n"
    "  Small things add up. Tell {email} about it, or %7Bemail%7D, or %7bemail%7d.\n"
    "  [Join the tracker](https://tracker.example/join?u={email}) and https://tracker.example/t?u={email}\n"
)


def test_content_never_receives_the_readers_address(minimal_tree: Path) -> None:
    """A brief that writes {email} must not collect the list: only the footer's unsubscribe link is filled."""
    brief = minimal_tree / "2024-05-minimal" / "briefs" / "one.yaml"
    brief.write_text(
        brief.read_text(encoding="utf-8").replace("why_it_matters: |\n  Small things add up.\n", BRIEF_WITH_ADDRESSES),
        encoding="utf-8",
    )
    address = "ada+news@example.org"
    for options in ((), ("--test-to", address)):
        [received] = build_and_send(minimal_tree, f"{address},Ada\n", *options)
        message = received.message
        quoted = quote(address, safe="@")
        unsubscribe = f"https://news.example.org/unsubscribe?email={quoted}"
        for kind in ("plain", "html"):
            body = message.get_body((kind,)).get_content()
            assert unsubscribe in body
            # The address appears in the unsubscribe link and nowhere else: not where the brief asked.
            assert body.count(quoted) == body.count(unsubscribe) == 1, kind
            assert address not in body and "ada%2Bnews%40example.org" not in body.replace(unsubscribe, "")
            assert "{email}" in body or "%7Bemail%7D" in body, kind  # the brief's text stays as written
        assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
