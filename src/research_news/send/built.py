"""The message ``build`` wrote, read once, and the copy of it each recipient gets.

The reader's address goes only where the build put :data:`message.ADDRESS_MARKER` (the
unsubscribe link in the List-Unsubscribe header and the footer), never into text that came
from content; headers are set through :mod:`message`'s policy, so a List-Unsubscribe or
Message-ID is never encoded and no line passes 998 octets.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote

from ..exceptions import ResearchNewsError
from ..message import MARKER_SHAPE, POLICY, mailbox, sender_domain, text_header, verbatim
from ..models import ADDRESS_SLOT


@dataclass(frozen=True)
class BuiltIssue:
    """The ``.eml`` that ``build`` wrote for one issue, read once and checked."""

    slug: str
    path: Path
    message: EmailMessage = field(repr=False, compare=False)  # never changed: personalise copies it
    subject: str
    sender: str  # the envelope sender: the address in From
    domain: str  # the sender's domain, for Message-IDs
    marker: str | None = None  # message.ADDRESS_MARKER as this build drew it; None: nothing to fill
    placeholders: tuple[_TextPart, ...] = field(default=(), repr=False, compare=False)
    language: str = ""  # its Content-Language: the language readers get it in

    @property
    def attachment_names(self) -> list[str]:
        """The file names of what the message carries (the PDF, ``<slug>.pdf``)."""
        return [part.get_filename() or "" for part in self.message.iter_attachments()]


def load_built_issue(issue_dir: Path, out: Path) -> BuiltIssue:
    """The built message of ``issue_dir`` under ``out``, in the issue's own language; raises when
    it is missing or unusable. Its translations are found by :func:`.editions.load_editions`."""
    slug = issue_dir.resolve().name
    path = out / slug / f"{slug}.eml"
    if not path.is_file():
        out_option = "" if out == Path("build") else f" --out {out}"
        raise ResearchNewsError(
            f"{path} does not exist: run `research-news build {issue_dir}{out_option}` "
            "first (send transmits the built email)"
        )
    return read_built_issue(path, slug)


def read_built_issue(path: Path, slug: str) -> BuiltIssue:
    """The message ``build`` wrote at ``path`` for the issue ``slug``, checked."""
    message = parse_message(path.read_bytes(), path)
    addresses = getattr(message["From"], "addresses", ())
    sender = addresses[0].addr_spec if addresses else ""
    domain = sender_domain(sender)
    if not domain:
        raise ResearchNewsError(f"{path} has no From address; rebuild it after setting email.from in publication.yaml")
    marker = address_marker(message, path)
    return BuiltIssue(
        slug,
        path,
        message,
        str(message["Subject"] or ""),
        sender,
        domain,
        marker,
        placeholders=text_parts_with_placeholder(message, marker) if marker else (),
        language=str(message["Content-Language"] or "").strip(),
    )


def address_marker(message: EmailMessage, path: Path) -> str | None:
    """The word that stands for the reader's address, read where content never goes: the
    List-Unsubscribe header. None when the unsubscribe address does not name the reader."""
    header = str(message["List-Unsubscribe"] or "")
    if ADDRESS_SLOT.search(header):
        # Built before the marker existed: filling {email} everywhere would fill it in content too.
        raise ResearchNewsError(
            f"{path} was built by an older research-news, which marked the reader's "
            "address with {email}; rebuild it with `research-news build`"
        )
    found = MARKER_SHAPE.search(header)
    return found.group() if found else None


def parse_message(data: bytes, path: Path | None = None) -> EmailMessage:
    """``data`` as a message under the strict policy ``build`` wrote it with."""
    try:
        return BytesParser(policy=POLICY).parsebytes(data)
    except Exception as error:  # the parser raises a different class for each defect
        raise ResearchNewsError(
            f"{path or 'the message'} is not a well-formed email ({error}); rebuild it with `research-news build`"
        ) from None


def message_id(issue: BuiltIssue, recipient_email: str) -> str:
    """The Message-ID of the issue for this recipient: the same on every run, so a resend is
    recognisably the same message (mail clients and archives de-duplicate on it)."""
    digest = hashlib.sha256(f"{issue.slug}\n{recipient_email.lower()}".encode()).hexdigest()[:32]
    return f"<{digest}@{issue.domain}>"  # short: a folded Message-ID confuses some mail software


def personalise(issue: BuiltIssue, email: str, name: str = "", *, msgid: str, test: bool = False) -> bytes:
    """The bytes to send to one recipient: the built message with its To, Message-ID, Date
    and unsubscribe address filled in (a ``[TEST] `` subject for a test copy)."""
    message = copy.deepcopy(issue.message)  # a fresh copy for every recipient
    # build never writes these; a hand-edited .eml must not copy every send to someone else.
    for header in ("To", "Cc", "Bcc"):
        del message[header]
    message["To"] = verbatim("To", mailbox(name, email))  # any name length: folded, or encoded words
    _set_header(message, "Message-ID", msgid)
    _set_header(message, "Date", formatdate(localtime=True))  # when it was sent, not built
    if test:
        subject = f"[TEST] {issue.subject}"  # issue.subject is decoded: re-encoded whole, spaces kept
        _set_header(message, "Subject", verbatim("Subject", text_header(subject)))
    if issue.marker:
        filled = quote(email, safe="@")
        message.replace_header("List-Unsubscribe", str(message["List-Unsubscribe"]).replace(issue.marker, filled))
        parts = list(message.walk())
        for text_part in issue.placeholders:
            text_part.fill(parts[text_part.index], issue.marker, filled)
    return message.as_bytes(policy=POLICY)


def _set_header(message: EmailMessage, name: str, value: str) -> None:
    """Set one header, in its place when the message already has it."""
    if name in message:
        message.replace_header(name, value)
    else:
        message[name] = value


@dataclass(frozen=True)
class _TextPart:
    """A text part of the built message holding the address marker, decoded once for every recipient."""

    index: int  # position in ``message.walk()``
    text: str
    subtype: str
    charset: str
    params: dict[str, str]
    encoding: str | None
    kept: tuple[tuple[str, str], ...]  # its Content-* headers that set_content() would drop
    had_mime_version: bool

    def fill(self, part: EmailMessage, marker: str, value: str) -> None:
        """Put the text back into ``part`` (a copy of the original) with ``marker`` replaced by ``value``."""
        part.set_content(
            self.text.replace(marker, value),
            subtype=self.subtype,
            charset=self.charset,
            params=self.params or None,
            cte=self.encoding,
        )
        for name, header in self.kept:
            part[name] = header
        if not self.had_mime_version:
            del part["MIME-Version"]  # set_content() adds it; it belongs on the whole message only


def text_parts_with_placeholder(message: EmailMessage, marker: str) -> tuple[_TextPart, ...]:
    """The text parts (not attachments) of ``message`` in which ``marker`` is to be filled."""
    found = []
    for index, part in enumerate(message.walk()):
        if part.get_content_maintype() != "text" or part.is_attachment():
            continue
        text = part.get_content()
        if marker not in text:
            continue
        encoding = str(part.get("Content-Transfer-Encoding", "")).lower()
        found.append(
            _TextPart(
                index,
                text,
                part.get_content_subtype(),
                part.get_content_charset() or "utf-8",
                {key: val for key, val in part["Content-Type"].params.items() if key != "charset"},
                # Keep the encoding build chose (never 8bit, see message.POLICY); else let email choose.
                encoding if encoding in ("quoted-printable", "base64") else None,
                tuple(
                    (name, str(value))
                    for name, value in part.items()
                    if name.lower().startswith("content-")
                    and name.lower() not in ("content-type", "content-transfer-encoding")
                ),
                "MIME-Version" in part,
            )
        )
    return tuple(found)
