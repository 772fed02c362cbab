"""End to end, as the editor does it: build the sample issue's email edition, then send it."""

from __future__ import annotations

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
