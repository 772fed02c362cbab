"""`research-news send` against a real SMTP server on loopback (tests/smtp_server.py).

Each test builds a realistic ``.eml`` (what ``build`` writes) under ``tmp_path/build/<slug>/``,
a subscribers file, and runs the CLI as a user would; the server stores what it receives.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research_news import send as sending
from research_news.exceptions import ResearchNewsError, UsageError
from research_news.message import POLICY, unsubscribe_url, wire_problems

from .conftest import run_cli
from .smtp_server import SmtpServer, self_signed_certificate, server_context

SLUG = "2024-06-open-science"
SUBJECT = "Research News no. 2: Open science"
UNSUBSCRIBE = "https://news.example.org/unsubscribe?email={email}"  # as publication.yaml says it
FAST = ("--yes", "--rate", "100000/s", "--retry-delay", "0.01")


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def issue(tmp_path: Path, monkeypatch) -> Path:
    """An issue folder and its built .eml, in a working folder where ``build/`` is the default."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(sending.PASSWORD_VARIABLE, raising=False)
    monkeypatch.delenv(sending.URL_VARIABLE, raising=False)
    folder = tmp_path / "issues" / SLUG
    folder.mkdir(parents=True)
    (folder / "issue.yaml").write_text("number: 2\n")
    built = tmp_path / "build" / SLUG
    built.mkdir(parents=True)
    (built / f"{SLUG}.eml").write_bytes(built_message().as_bytes())
    return folder


@pytest.fixture
def relay(smtp_server: SmtpServer, monkeypatch) -> SmtpServer:
    """The loopback server, named in RESEARCH_NEWS_SMTP_URL as an editor would."""
    monkeypatch.setenv(sending.URL_VARIABLE, smtp_server.url)
    return smtp_server


def built_message(subject: str = SUBJECT, unsubscribe: str = UNSUBSCRIBE) -> EmailMessage:
    """What ``build`` writes: no To, and the address marker where the unsubscribe goes."""
    marked = unsubscribe_url(unsubscribe)
    message = EmailMessage(policy=POLICY)
    message.set_content(
        f"Research News — numéro 2\n\n.A line starting with a dot.\n\nUnsubscribe: {marked}\n",
        subtype="plain",
        charset="utf-8",
    )
    message.add_alternative(
        f'<html lang="en"><body><h1>Research News — numéro 2</h1>'
        f'<p><a href="{marked}">Unsubscribe</a></p></body></html>\n',
        subtype="html",
        charset="utf-8",
    )
    message["Subject"] = subject
    message["From"] = "Research News <news@example.org>"
    message["Reply-To"] = "editor@example.org"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="example.org")
    message["Content-Language"] = "en"
    message["List-Unsubscribe"] = f"<{marked}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def subscribers(tmp_path: Path, count: int, extra: str = "") -> tuple[Path, list[str]]:
    """A recipients file of ``count`` readers (plus ``extra`` rows); returns it and the addresses."""
    addresses = [f"reader{i:03d}@example.org" for i in range(count)]
    rows = "".join(f"{address},Reader {i}\n" for i, address in enumerate(addresses))
    path = tmp_path / "subscribers.csv"
    path.write_text("email,name\n" + rows + extra)
    return path, addresses


def ledger(tmp_path: Path) -> dict[str, tuple[str, str | None, int]]:
    """recipient → (state, reply, attempts), read straight from build/<slug>/send.db."""
    with closing(sqlite3.connect(tmp_path / "build" / SLUG / "send.db")) as db:
        rows = db.execute("SELECT recipient, state, reply, attempts FROM deliveries").fetchall()
    return {key: (state, reply, attempts) for key, state, reply, attempts in rows}


def listed(output: str, section: str) -> list[str]:
    """The addresses listed under a summary section ("Failed", "Uncertain", "Deferred")."""
    lines = output.split(f"\n{section} (", 1)[1].splitlines()[1:] if f"\n{section} (" in output else []
    addresses = []
    for line in lines:
        if not line.startswith("  "):
            break
        addresses.append(line.split()[0].rstrip(":"))
    return addresses


# --- Delivering --------------------------------------------------------------------------------


def test_200_recipients_get_200_distinct_personal_messages(issue, relay, tmp_path) -> None:
    path, addresses = subscribers(tmp_path, 200)
    result = run_cli("send", issue, "--recipients", path, *FAST)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sorted(relay.recipients()) == addresses  # each once
    messages = relay.messages()
    assert len({str(m.message["To"]) for m in messages}) == 200
    assert len({m.message["Message-ID"] for m in messages}) == 200
    first = messages[0].message
    assert str(first["To"]) == "Reader 0 <reader000@example.org>"
    assert first["Message-ID"] == sending.message_id(
        sending.load_built_issue(issue, Path("build")), "READER000@example.org"
    )  # stable, case-blind
    assert first["Subject"] == SUBJECT and messages[0].mail_from == "news@example.org"
    assert "Sent 200 now, 0 already sent earlier, 0 failed, 0 uncertain." in result.stdout
    assert {state for state, _, _ in ledger(tmp_path).values()} == {"sent"}

    again = run_cli("send", issue, "--recipients", path, *FAST)
    assert again.exit_code == 0
    assert "Sent 0 now, 200 already sent earlier" in again.stdout
    assert len(relay.messages()) == 200


def test_each_message_carries_its_own_unsubscribe_address(issue, relay, tmp_path) -> None:
    path = tmp_path / "subscribers.csv"
    path.write_text('email,name\nAda+News@example.org,"Lovelace, Ada"\nzoe@example.org,Zoë Ørsted\n')
    assert run_cli("send", issue, "-r", path, *FAST).exit_code == 0
    received, other = relay.messages()
    assert str(other.message["To"]) == "Zoë Ørsted <zoe@example.org>"  # RFC 2047-encoded on the wire
    message = received.message
    filled = "https://news.example.org/unsubscribe?email=Ada%2BNews@example.org"
    assert message["List-Unsubscribe"].strip() == f"<{filled}>"  # folded after the colon
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = (message.get_body((kind,)) for kind in ("plain", "html"))
    assert f"Unsubscribe: {filled}" in text.get_content() and f'href="{filled}"' in html.get_content()
    assert text.get_content_charset() == "utf-8" and "numéro 2" in text.get_content()
    assert "\n.A line starting with a dot." in text.get_content()  # dot-stuffing undone by the server
    assert "{email}" not in received.data.decode("ascii")
    assert str(message["To"]) == '"Lovelace, Ada" <Ada+News@example.org>'
    assert message["Content-Language"] == "en" and message["Reply-To"] == "editor@example.org"
    assert received.data.isascii()  # 7bit all the way: no relay can mangle it


# --- No line a relay would refuse ---------------------------------------------------------------

HOSTILE_NAMES = [
    "A" * 2000,  # one word longer than a header line
    ("Zoë Ørsted " * 150).strip(),  # non-ASCII, long (the reader strips outer spaces)
    "李" * 700,  # three UTF-8 bytes each
    '"' * 300 + "x" * 1000,  # quotes to escape, then a long word
    ("Lovelace, Ada " * 100).strip(),  # commas: a quoted string, folded at its spaces
    'Ada "the" Lovelace',
]
# As long as publication.yaml allows (see models.LONGEST_ADDRESS_IN_URL): fits with any address.
LONGEST_UNSUBSCRIBE = "https://lists.example.org/u?email={email}&t=" + "x" * (998 - 20 - 382 - 43)
LONGEST_ADDRESS = "+" * 64 + "@" + ".".join(["d" * 63, "e" * 63, "f" * 49]) + ".org"  # 254; each + is %2B


@pytest.mark.parametrize("subject", [SUBJECT, "S" * 3000, "Données " * 300])
def test_no_line_of_any_sent_message_passes_998_octets(issue, relay, tmp_path, subject) -> None:
    """RFC 5322 2.1.1: relays refuse longer lines. Names, subjects and URLs of any length."""
    (tmp_path / "build" / SLUG / f"{SLUG}.eml").write_bytes(built_message(subject, LONGEST_UNSUBSCRIBE).as_bytes())
    path = tmp_path / "subscribers.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name"])
        writer.writerows([f"reader{i}@example.org", name] for i, name in enumerate(HOSTILE_NAMES))
        writer.writerow([LONGEST_ADDRESS, "Longest"])
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 0, result.stdout + result.stderr
    messages = relay.messages()
    assert len(messages) == len(HOSTILE_NAMES) + 1
    for received, name in zip(messages, [*HOSTILE_NAMES, "Longest"], strict=True):
        assert max(len(line) for line in received.data.split(b"\r\n")) <= 998
        assert received.data.isascii()
        assert display_name(received.data) == name  # the name, decoded intact
        assert received.message["Subject"] == subject
    raw = messages[-1].data.replace(b"\r\n ", b" ")
    filled = LONGEST_UNSUBSCRIBE.replace("{email}", "%2B" * 64 + LONGEST_ADDRESS[64:])
    assert f"List-Unsubscribe: <{filled}>".encode() in raw  # 998 octets, on one line, never encoded


def display_name(data: bytes) -> str:
    """The To display name as RFC 2047 decodes it: adjacent encoded words join without the space
    between them (Python's newer header parser keeps that space; mail programs do not)."""
    [field] = [f for f in re.split(rb"\r\n(?![ \t])", data.split(b"\r\n\r\n")[0]) if f.startswith(b"To:")]
    value = field[3:].replace(b"\r\n", b"").decode("ascii").strip()
    if "=?" not in value:
        return BytesParser(policy=policy.default).parsebytes(field + b"\r\n\r\n")["To"].addresses[0].display_name
    return str(make_header(decode_header(value))).rsplit(" <", 1)[0]


def test_the_relay_never_sees_a_message_with_an_over_long_line(relay) -> None:
    """The last line of defence, in the one place every message passes: nothing is sent at all."""
    body = b"Subject: x\r\nFrom: news@example.org\r\n\r\n" + b"x" * 999 + b"\r\n"
    connection = sending.Relay(sending.smtp_settings(relay.url, None))
    with pytest.raises(ResearchNewsError, match="line 4 is 999 octets long"):
        connection.transmit("news@example.org", "ada@example.org", body)
    connection.close()
    assert not relay.messages() and relay.sessions == 0


def test_an_eml_from_before_the_address_marker_is_refused(issue, relay, tmp_path) -> None:
    """Built with {email} as the placeholder: filling it would fill any {email} a brief wrote too."""
    old = built_message()
    old.replace_header("List-Unsubscribe", f"<{UNSUBSCRIBE}>")
    (tmp_path / "build" / SLUG / f"{SLUG}.eml").write_bytes(old.as_bytes())
    path, _ = subscribers(tmp_path, 2)
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 1 and "built by an older research-news" in result.stderr
    assert "rebuild it" in result.stderr and not relay.messages()


def test_a_relay_closing_the_connection_is_reconnected_to(issue, relay, tmp_path) -> None:
    relay.close_every = 25  # closes after the 250 of every 25th message, as relays with limits do
    path, addresses = subscribers(tmp_path, 100)
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sorted(relay.recipients()) == addresses
    assert relay.sessions == 4


def test_a_reply_lost_with_the_connection_is_uncertain_and_not_resent_silently(issue, relay, tmp_path) -> None:
    relay.vanish_at = 50  # the server keeps message 50, but the connection closes before its 250
    path, addresses = subscribers(tmp_path, 100)
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 1  # not everyone is known to have it
    assert listed(result.stdout, "Uncertain") == [addresses[49]]
    assert sorted(relay.recipients()) == addresses  # the run went on: nobody skipped, nobody twice
    assert ledger(tmp_path)[addresses[49]][0] == "in_flight"

    again = run_cli("send", issue, "-r", path, *FAST)
    assert again.exit_code == 1 and len(relay.messages()) == 100
    assert "uncertain: reader049@example.org" in again.stderr
    assert listed(again.stdout, "Uncertain") == [addresses[49]]

    # The editor checked the relay's log and decided to resend (here it is a duplicate: the
    # relay had kept it, which is exactly why resending needs a decision).
    resent = run_cli("send", issue, "-r", path, "--resend-uncertain", *FAST)
    assert resent.exit_code == 0 and relay.recipients()[100:] == [addresses[49]]


def test_a_run_stopped_by_the_relay_going_away_resumes_where_it_stopped(issue, relay, tmp_path) -> None:
    relay.down_after = 50
    path, addresses = subscribers(tmp_path, 200)
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 1
    assert "lost the connection to the relay" in result.stderr
    assert "run the same command again to resume" in result.stderr
    assert "150 recipients not attempted" in result.stdout
    assert len(relay.messages()) == 50

    relay.back_up()
    resumed = run_cli("send", issue, "-r", path, *FAST)
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr
    assert "Sent 150 now, 50 already sent earlier" in resumed.stdout
    assert sorted(relay.recipients()) == addresses


def test_a_killed_process_resumes_without_duplicates(issue, relay, tmp_path) -> None:
    path, addresses = subscribers(tmp_path, 200)
    process = subprocess.Popen(
        [sys.executable, "-m", "research_news", "send", str(issue), "-r", str(path), "--yes", "--rate", "200/s"],
        cwd=tmp_path,
        env={**os.environ, sending.URL_VARIABLE: relay.url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        relay.wait_for(50, timeout=15)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert len(relay.messages()) < 200  # killed mid-run

    resumed = run_cli("send", issue, "-r", path, *FAST)
    uncertain = listed(resumed.stdout, "Uncertain")
    assert len(uncertain) <= 1  # at most the one message in flight at the kill
    received = relay.recipients()
    assert not [address for address, n in Counter(received).items() if n > 1]
    assert set(received) | set(uncertain) == set(addresses)
    if uncertain and uncertain[0] not in received:
        # Died before the relay got it: after checking the relay's log, the editor resends it.
        run_cli("send", issue, "-r", path, "--resend-uncertain", *FAST)
    assert sorted(relay.recipients()) == addresses


def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(issue, relay, tmp_path) -> None:
    path, addresses = subscribers(tmp_path, 60)
    process = subprocess.Popen(
        [sys.executable, "-m", "research_news", "send", str(issue), "-r", str(path), "--yes", "--rate", "100/s"],
        cwd=tmp_path,
        env={**os.environ, sending.URL_VARIABLE: relay.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        relay.wait_for(20, timeout=15)
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=15)
    assert process.returncode == 130
    assert "error: interrupted; run the same command again to resume" in stderr
    assert "not attempted: run the same command again to resume." in stdout

    resumed = run_cli("send", issue, "-r", path, *FAST)
    assert resumed.exit_code == 0 or listed(resumed.stdout, "Uncertain")
    received = relay.recipients()
    assert len(received) == len(set(received))
    assert set(received) | set(listed(resumed.stdout, "Uncertain")) == set(addresses)


# --- Relay replies ------------------------------------------------------------------------------


def test_temporary_failures_are_retried_with_back_off(issue, relay, tmp_path) -> None:
    path, addresses = subscribers(tmp_path, 20)
    for address in addresses[3:6]:
        relay.temporary_failures[address] = 2
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 0, result.stdout
    assert sorted(relay.recipients()) == addresses
    assert ledger(tmp_path)[addresses[3]] == ("sent", "250 2.0.0 OK: queued", 3)


def test_temporary_failures_that_last_are_deferred_to_the_next_run(issue, relay, tmp_path) -> None:
    path, addresses = subscribers(tmp_path, 5)
    relay.temporary_failures[addresses[2]] = 100
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 1
    assert listed(result.stdout, "Deferred") == [addresses[2]]
    assert "451 4.7.1" in result.stdout and "(5 tries)" in result.stdout
    assert ledger(tmp_path)[addresses[2]][0] == "deferred"

    relay.temporary_failures.clear()
    again = run_cli("send", issue, "-r", path, *FAST)  # deferred ones are retried without a flag
    assert again.exit_code == 0 and sorted(relay.recipients()) == addresses


def test_a_relay_deferring_everyone_stops_the_run(issue, relay, tmp_path) -> None:
    path, addresses = subscribers(tmp_path, 10)
    for address in addresses[1:]:
        relay.temporary_failures[address] = 100  # e.g. "451 too many messages, slow down"
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 1
    assert "the relay deferred 3 recipients in a row" in result.stderr
    assert "6 recipients not attempted" in result.stdout
    assert listed(result.stdout, "Deferred") == addresses[1:4]

    relay.temporary_failures.clear()
    resumed = run_cli("send", issue, "-r", path, *FAST)
    assert resumed.exit_code == 0 and sorted(relay.recipients()) == addresses


def test_permanent_failures_are_recorded_reported_and_not_retried(issue, relay, tmp_path) -> None:
    path, addresses = subscribers(tmp_path, 10)
    relay.permanent_failures.update(addresses[1:3])
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 1
    assert "Sent 8 now, 0 already sent earlier, 2 failed, 0 uncertain." in result.stdout
    assert f"  {addresses[1]}: 550 5.1.1 <{addresses[1]}>: mailbox unavailable" in result.stdout
    refusal = f"550 5.1.1 <{addresses[1]}>: mailbox unavailable"
    assert ledger(tmp_path)[addresses[1]][:2] == ("failed", refusal)
    assert len(relay.messages()) == 8

    again = run_cli("send", issue, "-r", path, *FAST)
    assert again.exit_code == 1 and len(relay.messages()) == 8  # one refusal was enough
    assert f"  {addresses[1]}: 550 5.1.1 <{addresses[1]}>: mailbox unavailable (earlier run)" in again.stdout
    assert "failed earlier" in again.stderr and "--retry-failed" in again.stderr

    relay.permanent_failures.clear()  # the subscribers fixed their mailboxes
    retried = run_cli("send", issue, "-r", path, "--retry-failed", *FAST)
    assert retried.exit_code == 0 and sorted(relay.recipients()) == addresses


def test_a_refused_sender_stops_the_run_instead_of_failing_everyone(issue, relay, tmp_path) -> None:
    relay.refuse_sender = True
    path, _ = subscribers(tmp_path, 5)
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 1
    assert "the relay refuses the sender news@example.org: 553 5.7.1" in result.stderr
    assert "5 recipients not attempted" in result.stdout
    assert ledger(tmp_path) == {} and not relay.messages()


# --- Nothing sent, nothing recorded ------------------------------------------------------------


def test_dry_run_sends_nothing_and_creates_no_ledger(issue, relay, tmp_path) -> None:
    path, _ = subscribers(tmp_path, 3)
    result = run_cli("send", issue, "-r", path, "--dry-run")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"Dry run: “{SUBJECT}” from news@example.org via {relay.url[7:]}: would send 3 messages, 0 already sent."
    )
    assert lines[1].startswith("would send: Reader 0 <reader000@example.org> <")
    assert lines[-1] == "Nothing was sent and nothing was recorded."
    assert not relay.messages() and relay.sessions == 0
    assert sorted(p.name for p in (tmp_path / "build" / SLUG).iterdir()) == [f"{SLUG}.eml"]


def test_dry_run_after_a_partial_send_reports_and_changes_nothing(issue, relay, tmp_path) -> None:
    path, addresses = subscribers(tmp_path, 4)
    relay.permanent_failures.add(addresses[0])
    run_cli("send", issue, "-r", path, *FAST)
    db = tmp_path / "build" / SLUG / "send.db"
    before = (db.read_bytes(), ledger(tmp_path))
    subscribers(tmp_path, 6)  # two more readers since
    result = run_cli("send", issue, "-r", path, "--dry-run")
    assert "would send 2 messages, 3 already sent." in result.stdout
    assert f"failed earlier: {addresses[0]}: 550" in result.stdout
    assert (db.read_bytes(), ledger(tmp_path)) == before
    assert not (db.parent / "send.db-wal").exists()


def test_test_to_sends_one_marked_copy_and_records_nothing(issue, relay, tmp_path) -> None:
    path, _ = subscribers(tmp_path, 3)
    result = run_cli("send", issue, "--test-to", "me@example.org", "-r", path)
    assert result.exit_code == 0, result.stderr
    assert "Sent a test copy" in result.stdout and "Nothing was recorded." in result.stdout
    assert "3 valid recipients (not sent to)" in result.stderr
    [received] = relay.messages()
    assert received.rcpt_to == ("me@example.org",)
    assert received.message["Subject"] == f"[TEST] {SUBJECT}"
    assert "email=me@example.org" in received.message["List-Unsubscribe"]
    assert not (tmp_path / "build" / SLUG / "send.db").exists()
    # Its Message-ID is not the real one, so the real issue is not taken for a copy of the test.
    built = sending.load_built_issue(issue, Path("build"))
    assert received.message["Message-ID"] != sending.message_id(built, "me@example.org")


def test_a_real_send_without_a_terminal_needs_yes(issue, relay, tmp_path) -> None:
    path, _ = subscribers(tmp_path, 3)
    result = run_cli("send", issue, "-r", path)
    assert result.exit_code == 2
    assert "pass --yes" in result.stderr
    assert not relay.messages() and not (tmp_path / "build" / SLUG / "send.db").exists()


def test_bad_recipients_stop_the_send_until_fixed_or_skipped(issue, relay, tmp_path) -> None:
    path, addresses = subscribers(
        tmp_path, 3, extra='eve@example.org,"Eve\nBcc: all@example.org"\nREADER001@example.org,Again\n'
    )
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "subscribers.csv:5:17: name contains a line break (a value must be one line: a line break in a "
        "header could add headers such as Bcc to every message)",
        "subscribers.csv:7:1: READER001@example.org is listed twice (first on line 3) "
        "(addresses are compared ignoring case)",
    ]
    assert not relay.messages()

    skipped = run_cli("send", issue, "-r", path, "--skip-invalid", *FAST)
    assert skipped.exit_code == 0
    assert "subscribers.csv:5:17: warning: skipped:" in skipped.stderr
    assert sorted(relay.recipients()) == addresses


def test_a_second_send_of_the_same_issue_waits_for_the_first(issue, relay, tmp_path) -> None:
    path, _ = subscribers(tmp_path, 3)
    with sending.Ledger(tmp_path / "build" / SLUG / "send.db", SLUG):
        result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 1 and "another `research-news send`" in result.stderr
    assert not relay.messages()


def test_a_missing_build_says_how_to_make_it(issue, relay, tmp_path) -> None:
    path, _ = subscribers(tmp_path, 1)
    result = run_cli("send", issue, "-r", path, "--out", "elsewhere", *FAST)
    assert result.exit_code == 1
    assert f"run `research-news build {issue} --out elsewhere` first" in result.stderr


def test_recipients_are_required_for_a_real_send(issue, relay) -> None:
    result = run_cli("send", issue, "--yes")
    assert result.exit_code == 2 and "--recipients is required" in result.stderr


# --- The relay's address and login --------------------------------------------------------------


def test_plain_smtp_to_another_machine_is_refused_before_connecting(issue, tmp_path, monkeypatch) -> None:
    path, _ = subscribers(tmp_path, 1)
    monkeypatch.setenv(sending.URL_VARIABLE, "smtp://192.0.2.1:25")  # TEST-NET: a connection would hang
    result = run_cli("send", issue, "-r", path, *FAST)
    assert result.exit_code == 2
    assert "only allowed to this machine" in result.stderr and "smtp+starttls://" in result.stderr


def test_a_password_in_the_url_is_refused(issue, tmp_path) -> None:
    path, _ = subscribers(tmp_path, 1)
    result = run_cli("send", issue, "-r", path, "--smtp-url", "smtps://ada:secret@smtp.example.org", *FAST)
    assert result.exit_code == 2
    assert sending.PASSWORD_VARIABLE in result.stderr and "secret" not in result.stderr


def test_login_with_the_password_from_the_environment(issue, tmp_path, monkeypatch) -> None:
    path, addresses = subscribers(tmp_path, 2)
    with SmtpServer(user="news@example.org", password="s3cret") as server:
        url = f"smtp://news%40example.org@127.0.0.1:{server.port}"
        missing = run_cli("send", issue, "-r", path, "--smtp-url", url, *FAST)
        assert missing.exit_code == 2 and f"set {sending.PASSWORD_VARIABLE}" in missing.stderr

        monkeypatch.setenv(sending.PASSWORD_VARIABLE, "wrong")
        wrong = run_cli("send", issue, "-r", path, "--smtp-url", url, *FAST)
        assert wrong.exit_code == 1 and "refused the login of news@example.org: 535" in wrong.stderr
        assert "wrong" not in wrong.stderr

        monkeypatch.setenv(sending.PASSWORD_VARIABLE, "s3cret")
        right = run_cli("send", issue, "-r", path, "--smtp-url", url, *FAST)
        assert right.exit_code == 0, right.stderr
        assert sorted(server.recipients()) == addresses


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize("scheme, implicit", [("smtp+starttls", False), ("smtps", True)])
def test_a_tls_relay_with_a_trusted_certificate_gets_every_message(
    issue, tmp_path, monkeypatch, certificate, scheme, implicit
) -> None:
    """The success path over TLS: certificate checked, login only inside TLS, every message delivered."""
    path, addresses = subscribers(tmp_path, 5)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust this relay's certificate, as a CA bundle would
    monkeypatch.setenv(sending.PASSWORD_VARIABLE, "s3cret")
    with SmtpServer(
        user="news@example.org", password="s3cret", tls=server_context(*certificate), implicit_tls=implicit
    ) as server:
        url = f"{scheme}://news%40example.org@127.0.0.1:{server.port}"
        result = run_cli("send", issue, "-r", path, "--smtp-url", url, *FAST)
        assert result.exit_code == 0, result.stderr
        assert sorted(server.recipients()) == addresses


def test_an_untrusted_certificate_stops_before_anything_is_sent(issue, tmp_path, monkeypatch, certificate) -> None:
    path, _ = subscribers(tmp_path, 2)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))  # trusts nothing
    monkeypatch.setenv(sending.PASSWORD_VARIABLE, "s3cret")
    with SmtpServer(user="news@example.org", password="s3cret", tls=server_context(*certificate)) as server:
        url = f"smtp+starttls://news%40example.org@127.0.0.1:{server.port}"
        result = run_cli("send", issue, "-r", path, "--smtp-url", url, *FAST)
        assert result.exit_code == 1 and "Traceback" not in result.stderr
        assert "presented a certificate that cannot be trusted" in result.stderr, result.stderr
        assert not server.messages()


def test_starttls_is_required_when_asked_for(issue, relay, tmp_path) -> None:
    path, _ = subscribers(tmp_path, 2)
    url = f"smtp+starttls://127.0.0.1:{relay.port}"  # the test server offers no STARTTLS
    result = run_cli("send", issue, "-r", path, "--smtp-url", url, *FAST)
    assert result.exit_code == 1 and "does not offer STARTTLS" in result.stderr
    assert not relay.messages() and ledger(tmp_path) == {}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtps://news@smtp.example.org", ("tls", "smtp.example.org", 465, "news")),
        (
            "smtp+starttls://news%40example.org@smtp.example.org",
            ("starttls", "smtp.example.org", 587, "news@example.org"),
        ),
        ("SMTP+STARTTLS://relay.example.org:2525", ("starttls", "relay.example.org", 2525, None)),
        ("smtp://localhost", ("plain", "localhost", 25, None)),
        ("smtp://127.0.0.2:2525", ("plain", "127.0.0.2", 2525, None)),
        ("smtp://[::1]:2525", ("plain", "::1", 2525, None)),
    ],
)
def test_smtp_urls(url: str, expected: tuple) -> None:
    settings = sending.smtp_settings(url, "pw")
    assert (settings.security, settings.host, settings.port, settings.user) == expected
    assert "pw" not in repr(settings)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "pass --smtp-url or set RESEARCH_NEWS_SMTP_URL"),
        ("http://smtp.example.org", "must start with smtps://"),
        ("smtp://smtp.example.org", "only allowed to this machine"),
        ("smtp://localhost.example.org", "only allowed to this machine"),
        ("smtps://smtp.example.org:port", "invalid port"),
        ("smtps://smtp.example.org/path", "scheme://[user@]host[:port]"),
        ("smtps://u:p@smtp.example.org", "contains a password"),
        ("smtp://[::1", "cannot be read"),
    ],
)
def test_bad_smtp_urls(url: str | None, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        sending.smtp_settings(url, None)


@pytest.mark.parametrize(
    ("text", "per_second"), [("10/s", 10), ("600/min", 10), ("36000/h", 10), ("2.5", 2.5), ("1/m", 1 / 60)]
)
def test_rates(text: str, per_second: float) -> None:
    assert sending.parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["0/s", "fast", "-1/s", "10/day"])
def test_bad_rates(text: str) -> None:
    with pytest.raises(UsageError, match="--rate"):
        sending.parse_rate(text)


# --- Property: whatever the name, subject and address, the relay gets legal lines ----------------

_NAME_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=1500)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=_NAME_TEXT,
    subject=_NAME_TEXT.filter(str.strip),
    local=st.from_regex(r"[a-z+!#$%&'*=?^_`{|}~-]{1,64}", fullmatch=True),
)
def test_personalised_messages_are_always_fit_for_a_relay(tmp_path_factory, name, subject, local) -> None:
    folder = tmp_path_factory.mktemp("property") / SLUG
    folder.mkdir()
    (folder / f"{SLUG}.eml").write_bytes(
        built_message(subject.replace("\r", " ").replace("\n", " "), LONGEST_UNSUBSCRIBE).as_bytes()
    )
    issue = sending.load_built_issue(folder, folder.parent)
    email = sending.check_address(f"{local}@example.org")
    data = sending.personalise(issue, email, name, msgid=sending.message_id(issue, email))
    assert wire_problems(data) == []  # lines ≤ 998, 7-bit, CRLF, List-Unsubscribe and Message-ID not encoded
    assert f"email={quote(email, safe='@')}".encode() in data.replace(b"\r\n ", b" ")


def test_the_progress_bar_shows_the_rate_and_the_time_left() -> None:
    from io import StringIO

    from rich.console import Console

    from research_news.commands.send import progress_bar

    clock = iter(range(0, 1000)).__next__  # one second per reading
    screen = StringIO()
    with progress_bar(
        Console(file=screen, force_terminal=True, width=120), get_time=clock, auto_refresh=False
    ) as progress:
        task = progress.add_task("send", total=100, last="")
        for _ in range(10):
            progress.update(task, advance=2, last="sent: reader@example.org")
        progress.refresh()
    shown = screen.getvalue()
    assert "20/100" in shown
    assert re.search(r"\d+\.\d/s", shown), shown  # messages per second
    assert re.search(r"0:00:\d\d", shown), shown  # time left
