"""Sending the built issue to every subscriber, exactly once, through the publisher's SMTP relay.

``build`` writes ``<out>/<slug>/<slug>.eml``, a message without ``To``; this stage adds the
recipient (``To``, a stable ``Message-ID``, the unsubscribe address) to a copy of it and hands
it to the relay. The relay (Postfix, a university's relay, an email service) queues and
delivers; this module never keeps a mail queue of its own.

The reader's address goes only where the build put :data:`message.ADDRESS_MARKER` (the
unsubscribe link in the List-Unsubscribe header and the footer), never into text that came
from content; headers are set through :mod:`message`'s policy, so a List-Unsubscribe or
Message-ID is never encoded and no line passes 998 octets, and :meth:`Relay.transmit` checks
every message's bytes for that before the relay sees them. One message exists at a time:
memory does not grow with the list.

**Exactly once.** A SQLite ledger, ``<out>/<slug>/send.db``, holds one row per (issue,
recipient), each change committed before the next step:

* ``in_flight`` is committed *just before* the message body is handed to the relay, after
  the relay has accepted ``MAIL FROM``, ``RCPT TO`` and ``DATA``: up to that point the relay
  cannot hold the message, so a crash before it needs no record at all;
* ``sent`` is committed as soon as the relay answers 250 to the end of the message;
* ``deferred`` (a 4xx reply, or the connection lost before the end of the message left this
  machine) and ``failed`` (a 5xx reply) record a relay that certainly did not accept it.

A row still ``in_flight`` when a run starts (the process died or the connection broke between
handing the message over and recording the relay's 250) is *uncertain*: the relay may have
queued it. It is reported by address and resent only with ``resend_uncertain``, because
resending blindly is how subscribers get an issue twice. Everything else resumes by itself:
recipients with no row, or a ``deferred`` one, are sent on the next run; ``failed`` ones only
with ``retry_failed`` (a 5xx usually means the address is wrong, and retrying it every run
would only earn the sender a worse reputation).
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import re
import smtplib
import sqlite3
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from email_validator import EmailNotValidError, validate_email

from .exceptions import ResearchNewsError, UsageError
from .message import MARKER_SHAPE, POLICY, check_wire, mailbox, sender_domain, verbatim
from .models import ADDRESS_SLOT
from .recipients import Recipient

try:  # POSIX: a second send of the same issue is refused while one runs
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock; do not run two sends at once
    fcntl = None

URL_VARIABLE = "RESEARCH_NEWS_SMTP_URL"
PASSWORD_VARIABLE = "RESEARCH_NEWS_SMTP_PASSWORD"
DEFAULT_RATE = "10/s"

IN_FLIGHT, SENT, DEFERRED, FAILED = "in_flight", "sent", "deferred", "failed"
UNCERTAIN = "uncertain"  # not a ledger state: what an ``in_flight`` row means to a new run


class Interrupted(ResearchNewsError):
    """^C during a send: what was done is in the ledger; the same command resumes."""

    exit_code = 130


# --- The built message ------------------------------------------------------------------------


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

    @property
    def ledger_path(self) -> Path:
        return self.path.parent / "send.db"


def load_built_issue(issue_dir: Path, out: Path) -> BuiltIssue:
    """The built message of ``issue_dir`` under ``out``; raises when it is missing or unusable."""
    slug = issue_dir.resolve().name
    path = out / slug / f"{slug}.eml"
    if not path.is_file():
        out_option = "" if out == Path("build") else f" --out {out}"
        raise ResearchNewsError(f"{path} does not exist: run `research-news build {issue_dir}{out_option}` "
                                "first (send transmits the built email)")
    message = parse_message(path.read_bytes(), path)
    addresses = getattr(message["From"], "addresses", ())
    sender = addresses[0].addr_spec if addresses else ""
    domain = sender_domain(sender)
    if not domain:
        raise ResearchNewsError(f"{path} has no From address; rebuild it after setting email.from "
                                "in publication.yaml")
    marker = address_marker(message, path)
    return BuiltIssue(slug, path, message, str(message["Subject"] or ""), sender, domain, marker,
                      placeholders=text_parts_with_placeholder(message, marker) if marker else ())


def address_marker(message: EmailMessage, path: Path) -> str | None:
    """The word that stands for the reader's address, read where content never goes: the
    List-Unsubscribe header. None when the unsubscribe address does not name the reader."""
    header = str(message["List-Unsubscribe"] or "")
    if ADDRESS_SLOT.search(header):
        # Built before the marker existed: filling {email} everywhere would fill it in content too.
        raise ResearchNewsError(f"{path} was built by an older research-news, which marked the reader's "
                                "address with {email}; rebuild it with `research-news build`")
    found = MARKER_SHAPE.search(header)
    return found.group() if found else None


def parse_message(data: bytes, path: Path | None = None) -> EmailMessage:
    """``data`` as a message under the strict policy ``build`` wrote it with."""
    try:
        return BytesParser(policy=POLICY).parsebytes(data)
    except Exception as error:  # the parser raises a different class for each defect
        raise ResearchNewsError(f"{path or 'the message'} is not a well-formed email ({error}); "
                                "rebuild it with `research-news build`") from None


def message_id(issue: BuiltIssue, recipient_email: str) -> str:
    """The Message-ID of the issue for this recipient: the same on every run, so a resend is
    recognisably the same message (mail clients and archives de-duplicate on it)."""
    digest = hashlib.sha256(f"{issue.slug}\n{recipient_email.lower()}".encode()).hexdigest()[:32]
    return f"<{digest}@{issue.domain}>"  # short: a folded Message-ID confuses some mail software


def personalise(issue: BuiltIssue, email: str, name: str = "", *, msgid: str,
                test: bool = False) -> bytes:
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
        _set_header(message, "Subject", f"[TEST] {message['Subject'] or ''}")
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
        part.set_content(self.text.replace(marker, value), subtype=self.subtype, charset=self.charset,
                         params=self.params or None, cte=self.encoding)
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
        found.append(_TextPart(
            index, text, part.get_content_subtype(), part.get_content_charset() or "utf-8",
            {key: val for key, val in part["Content-Type"].params.items() if key != "charset"},
            # Keep the encoding build chose (never 8bit, see message.POLICY); else let email choose.
            encoding if encoding in ("quoted-printable", "base64") else None,
            tuple((name, str(value)) for name, value in part.items() if name.lower().startswith("content-")
                  and name.lower() not in ("content-type", "content-transfer-encoding")),
            "MIME-Version" in part,
        ))
    return tuple(found)


def check_address(address: str) -> str:
    """``address`` (for ``--test-to``) checked like the recipients file checks addresses."""
    try:
        return validate_email(address.strip(), check_deliverability=False, allow_smtputf8=False).ascii_email
    except EmailNotValidError as error:
        raise UsageError(f'"{address}" is not an email address: {error}') from None


# --- Options ---------------------------------------------------------------------------------

_SCHEMES = {"smtps": ("tls", 465), "smtp+starttls": ("starttls", 587), "smtp": ("plain", 25)}


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the relay. The password comes from the environment and is never printed."""

    security: str  # "tls" (implicit, smtps://), "starttls" or "plain" (loopback only)
    host: str
    port: int
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def smtp_settings(url: str | None, password: str | None, need_password: bool = True) -> SmtpSettings:
    """The relay named by an ``smtps://``, ``smtp+starttls://`` or ``smtp://`` URL.

    Raises ``UsageError`` for a URL that is malformed, carries a password (it would end up in
    shell history or a committed file), or sends in clear text to another machine.
    """
    example = "e.g. smtp+starttls://you@smtp.example.org:587"
    if not url:
        raise UsageError(f"no SMTP relay: pass --smtp-url or set {URL_VARIABLE} ({example})")
    try:
        parts = urlsplit(url.strip())
    except ValueError as error:  # an unclosed [ipv6 address, for one
        raise UsageError(f"the SMTP URL cannot be read ({error}; {example})") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise UsageError(f"the SMTP URL must start with smtps://, smtp+starttls:// or smtp:// ({example})")
    if parts.password is not None:
        raise UsageError(f"the SMTP URL contains a password: remove it and set {PASSWORD_VARIABLE} "
                         "instead, so it stays out of shell history and files")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"the SMTP URL has an invalid port ({example})") from None
    host = parts.hostname
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError(f"the SMTP URL must be scheme://[user@]host[:port] ({example})")
    security, default_port = _SCHEMES[scheme]
    if security == "plain" and not is_loopback(host):
        raise UsageError(f"smtp:// sends the password and every address unencrypted, so it is only "
                         f"allowed to this machine (localhost, 127.0.0.1, ::1), not {host}; use "
                         "smtps:// (port 465) or smtp+starttls:// (port 587)")
    user = unquote(parts.username) if parts.username else None
    if user and not password and need_password:
        raise UsageError(f"the SMTP URL logs in as {user}: set {PASSWORD_VARIABLE} to the password "
                         f"(e.g. read -s {PASSWORD_VARIABLE} && export {PASSWORD_VARIABLE})")
    return SmtpSettings(security, host, port or default_port, user, password if user else None)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine, judged by its name alone (no DNS lookup)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_rate(text: str) -> float:
    """Messages per second from ``5/s``, ``300/min`` or ``10000/h``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|second|m|min|minute|h|hour))?\s*", text)
    per = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
    if not match or float(match[1]) <= 0:
        raise UsageError(f"--rate takes a number of messages per second, minute or hour, such as 10/s "
                         f"or 600/min; got {text!r}")
    return float(match[1]) / per[match[2] or "s"]


# --- The ledger ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One ledger row: what the relay last did with the issue for one recipient."""

    address: str
    state: str
    reply: str | None
    attempts: int


_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    issue      TEXT NOT NULL,
    recipient  TEXT NOT NULL,            -- the address in lower case: the key
    address    TEXT NOT NULL,            -- as sent, for reports
    state      TEXT NOT NULL CHECK (state IN ('in_flight', 'sent', 'deferred', 'failed')),
    message_id TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    reply      TEXT,                     -- the relay's last reply
    first_try  TEXT NOT NULL,
    updated    TEXT NOT NULL,
    PRIMARY KEY (issue, recipient)
)
"""


class Ledger:
    """The send ledger of one issue, open for writing; one writer at a time.

    Every method commits before it returns (autocommit, one statement per change), with
    ``synchronous=FULL`` so that a committed row survives even a power cut, not just kill -9.
    """

    def __init__(self, path: Path, issue: str):
        self.path, self.issue = path, issue
        self._lock = _lock(path.with_suffix(".lock"), issue)
        try:
            self._db = _connect(path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except BaseException:
            self._lock.close()
            raise

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()
        self._lock.close()

    def rows(self) -> dict[str, Delivery]:
        return _rows(self._db, self.issue)

    def state(self, recipient: Recipient) -> str | None:
        row = self._db.execute("SELECT state FROM deliveries WHERE issue = ? AND recipient = ?",
                               (self.issue, recipient.key)).fetchone()
        return row[0] if row else None

    def mark_in_flight(self, recipient: Recipient, msgid: str) -> None:
        """Committed before the message leaves: a crash from here on leaves it *uncertain*."""
        self._write(recipient, IN_FLIGHT, None, msgid)

    def record(self, recipient: Recipient, state: str, reply: str, attempt: bool = False) -> None:
        """The relay's answer; ``attempt`` counts a try that ended before the message left."""
        self._write(recipient, state, reply, None, attempt)

    def _write(self, recipient: Recipient, state: str, reply: str | None, msgid: str | None,
               attempt: bool = True) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._db.execute(
            """INSERT INTO deliveries (issue, recipient, address, state, message_id, attempts, reply,
                                       first_try, updated)
               VALUES (:issue, :key, :address, :state, :msgid, :tries, :reply, :now, :now)
               ON CONFLICT (issue, recipient) DO UPDATE SET
                   address = excluded.address, state = excluded.state, updated = excluded.updated,
                   message_id = coalesce(excluded.message_id, message_id),
                   attempts = attempts + excluded.attempts,
                   reply = CASE WHEN excluded.state = 'in_flight' THEN reply ELSE excluded.reply END""",
            {"issue": self.issue, "key": recipient.key, "address": recipient.email, "state": state,
             "msgid": msgid, "tries": int(attempt), "reply": reply, "now": now},
        )


def read_ledger(path: Path, issue: str) -> dict[str, Delivery]:
    """The rows of an existing ledger, for planning and dry runs; creates nothing."""
    if not path.is_file():
        return {}
    db = _connect(path)
    try:
        return _rows(db, issue)
    finally:
        db.close()  # the last connection to close removes the WAL files it created


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=10)  # autocommit: each change commits
    db.execute("PRAGMA synchronous=FULL")
    return db


def _rows(db: sqlite3.Connection, issue: str) -> dict[str, Delivery]:
    try:
        rows = db.execute("SELECT recipient, address, state, reply, attempts FROM deliveries "
                          "WHERE issue = ?", (issue,)).fetchall()
    except sqlite3.DatabaseError as error:
        raise ResearchNewsError(f"cannot read the send ledger: {error}") from None
    return {key: Delivery(address, state, reply, attempts) for key, address, state, reply, attempts in rows}


def _lock(path: Path, issue: str):
    """An open lock file held for the whole run; the OS releases it if the process dies."""
    handle = path.open("a")
    if fcntl is not None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ResearchNewsError(f"another `research-news send` of {issue} is running ({path} is "
                                    "locked); wait for it to finish") from None
    return handle


# --- Who gets the issue this run -------------------------------------------------------------


@dataclass
class Plan:
    """The recipients of this run, sorted by what the ledger says about them."""

    to_send: list[Recipient] = field(default_factory=list)
    already_sent: list[Recipient] = field(default_factory=list)
    uncertain: list[Recipient] = field(default_factory=list)  # left alone this run
    failed: list[tuple[Recipient, str]] = field(default_factory=list)  # earlier 5xx, left alone
    resent: list[Recipient] = field(default_factory=list)  # uncertain or failed, sent again on request


def plan_send(recipients: list[Recipient], ledger: dict[str, Delivery], *,
              resend_uncertain: bool = False, retry_failed: bool = False) -> Plan:
    """Who to send to now, in file order: nobody twice, nobody silently skipped."""
    plan = Plan()
    for recipient in recipients:
        row = ledger.get(recipient.key)
        state = row.state if row else None
        if state == SENT:
            plan.already_sent.append(recipient)
        elif state == IN_FLIGHT and not resend_uncertain:
            plan.uncertain.append(recipient)
        elif state == FAILED and not retry_failed:
            plan.failed.append((recipient, row.reply or "refused"))
        else:
            plan.to_send.append(recipient)
            if state in (IN_FLIGHT, FAILED):
                plan.resent.append(recipient)
    return plan


# --- The relay -------------------------------------------------------------------------------


class Refused(Exception):
    """The relay answered with an error code: it certainly did not accept the message."""

    def __init__(self, code: int, text: str, stage: str):
        self.code, self.text, self.stage = code, text, stage
        super().__init__(f"{code} {text}")

    @property
    def permanent(self) -> bool:
        return self.code >= 500


class ConnectionLost(Exception):
    """The connection failed. ``handed_over``: after the whole message had left, so the relay
    may have accepted it; ``recorded``: the ledger already marked it in flight."""

    def __init__(self, reason: str, handed_over: bool = False, recorded: bool = False):
        self.handed_over, self.recorded = handed_over, recorded
        super().__init__(reason)


class Relay:
    """One SMTP connection to the relay, opened on first use and reused for every message."""

    def __init__(self, settings: SmtpSettings, timeout: float = 60.0):
        self.settings, self.timeout = settings, timeout
        self._smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect now, so that a wrong host, port or password stops the run before it starts."""
        try:
            self._connection()
        except ConnectionLost as error:
            raise ResearchNewsError(f"cannot reach the relay {self.settings.where}: {error}") from None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass  # it is going away anyway
            self._smtp = None

    def transmit(self, sender: str, recipient: str, body: bytes,
                 before_handover: Callable[[], None] = lambda: None) -> str:
        """Send one message; the relay's 250 reply, or ``Refused`` / ``ConnectionLost``.

        ``before_handover`` runs once the relay has accepted the envelope and is waiting for
        the message, just before it is sent: from then on the relay may accept it at any time.
        """
        check_wire(body, f"the message to {recipient}")  # before the relay sees anything of it
        smtp = self._connection()
        try:
            self._expect(smtp.mail(sender), (250,), "MAIL FROM")
            self._expect(smtp.rcpt(recipient), (250, 251), "RCPT TO")
            self._expect(smtp.docmd("DATA"), (354,), "DATA")
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            raise ConnectionLost(_reason(error)) from None
        try:
            before_handover()
        except BaseException:
            self._drop()  # the relay is waiting for a message that will not come
            raise
        try:
            smtp.send(_data_block(body))
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            # The end-of-message dot is the last thing sent; if sending failed it never left,
            # and a relay accepts nothing without it.
            self._drop()
            raise ConnectionLost(_reason(error), recorded=True) from None
        try:
            code, text = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            # The whole message left; whether the relay kept it, only the relay knows.
            self._drop()
            raise ConnectionLost(_reason(error), handed_over=True, recorded=True) from None
        self._expect((code, text), (250,), "end of message")
        return f"{code} {_text(text)}"

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        """A connected, secured and logged-in session; fatal problems raise ResearchNewsError."""
        s = self.settings
        context = ssl.create_default_context()
        smtp = None
        try:
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            smtp.ehlo_or_helo_if_needed()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise ResearchNewsError(f"the relay {s.where} does not offer STARTTLS; use smtps:// "
                                            "if it expects TLS from the start (usually port 465)")
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password or "")
            return smtp
        except BaseException as error:
            if smtp is not None:
                smtp.close()
            if isinstance(error, ssl.SSLCertVerificationError):
                raise ResearchNewsError(f"the relay {s.where} presented a certificate that cannot be "
                                        f"trusted: {error.verify_message}") from None
            if isinstance(error, smtplib.SMTPAuthenticationError):
                raise ResearchNewsError(f"the relay {s.where} refused the login of {s.user}: "
                                        f"{error.smtp_code} {_text(error.smtp_error)} (check "
                                        f"{PASSWORD_VARIABLE})") from None
            if isinstance(error, smtplib.SMTPNotSupportedError):
                raise ResearchNewsError(f"the relay {s.where} does not offer a login on this connection"
                                        f" ({error}); try smtp+starttls:// or smtps://") from None
            if isinstance(error, (smtplib.SMTPException, OSError)):
                raise ConnectionLost(_reason(error)) from None
            raise

    def _expect(self, reply: tuple[int, bytes | str], codes: tuple[int, ...], stage: str) -> None:
        code, text = reply
        if code in codes:
            return
        if code == 421 or code == -1:  # the relay is closing the connection
            self._drop()
        else:
            try:
                self._smtp.rset()  # a clean slate for the next message on this connection
            except (smtplib.SMTPException, OSError):
                self._drop()
        raise Refused(code, _text(text), stage)

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _data_block(body: bytes) -> bytes:
    """``body`` as the DATA block of RFC 5321: leading dots doubled, ended by a lone dot."""
    block = re.sub(rb"(?m)^\.", b"..", body)
    if not block.endswith(b"\r\n"):
        block += b"\r\n"
    return block + b".\r\n"


def _text(text: bytes | str) -> str:
    return (text.decode("utf-8", "replace") if isinstance(text, bytes) else text).replace("\n", " ").strip()


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


# --- Delivery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` per recipient on 4xx replies, with exponential back-off
    from ``delay`` seconds; ``reconnects`` failed connections in a row, or ``deferrals``
    recipients in a row deferred, before the run stops (the relay is not taking mail now)."""

    attempts: int = 5
    delay: float = 2.0
    max_delay: float = 120.0
    reconnects: int = 5
    deferrals: int = 3

    def backoff(self, retry: int) -> float:
        return min(self.delay * 2 ** (retry - 1), self.max_delay)


class Throttle:
    """Spaces messages ``1/rate`` seconds apart (``--rate``), so the relay's limits are respected."""

    def __init__(self, per_second: float):
        self.interval = 1 / per_second
        self._next = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if now < self._next:
            time.sleep(self._next - now)
        self._next = max(now, self._next) + self.interval


@dataclass
class Report:
    """What a run did, for the summary and the exit code."""

    planned: int = 0
    sent: list[Recipient] = field(default_factory=list)
    already_sent: int = 0
    failed: list[tuple[Recipient, str]] = field(default_factory=list)  # 5xx, this run
    failed_earlier: list[tuple[Recipient, str]] = field(default_factory=list)  # 5xx, not retried
    deferred: list[tuple[Recipient, str]] = field(default_factory=list)  # 4xx after every try
    uncertain: list[Recipient] = field(default_factory=list)  # this run
    uncertain_earlier: list[Recipient] = field(default_factory=list)  # not resent
    not_attempted: int = 0
    stopped: str | None = None  # why the run ended early

    @property
    def complete(self) -> bool:
        """Whether every recipient on the list is now recorded as accepted by the relay."""
        return not (self.failed or self.failed_earlier or self.deferred or self.uncertain
                    or self.uncertain_earlier or self.not_attempted or self.stopped)


class _Stop(Exception):
    """A reason to stop sending to anyone (the relay is gone, or refuses the sender)."""


def deliver(issue: BuiltIssue, plan: Plan, relay: Relay, ledger: Ledger, *,
            retry: RetryPolicy = RetryPolicy(), rate: float = 10.0,
            on_progress: Callable[[Recipient, str], None] = lambda recipient, outcome: None) -> Report:
    """Send to ``plan.to_send`` one by one, recording each outcome in ``ledger`` as it happens."""
    report = Report(planned=len(plan.to_send), already_sent=len(plan.already_sent),
                    failed_earlier=list(plan.failed), uncertain_earlier=list(plan.uncertain))
    if not plan.to_send:
        return report
    throttle = Throttle(rate)
    done = deferred_in_a_row = 0
    relay.open()
    try:
        for recipient in plan.to_send:
            outcome, reply = _deliver_one(issue, recipient, relay, ledger, retry, throttle)
            done += 1
            deferred_in_a_row = deferred_in_a_row + 1 if outcome == DEFERRED else 0
            if outcome == SENT:
                report.sent.append(recipient)
            elif outcome == FAILED:
                report.failed.append((recipient, reply))
            elif outcome == DEFERRED:
                report.deferred.append((recipient, reply))
            else:
                report.uncertain.append(recipient)
            on_progress(recipient, outcome)
            if deferred_in_a_row >= retry.deferrals:
                # Not one address's problem: the relay is throttling everyone. Each further
                # recipient would cost minutes of back-off; a later run resumes with these.
                raise _Stop(f"the relay deferred {deferred_in_a_row} recipients in a row (last: {reply}); "
                            "wait a while")
    except _Stop as stop:
        report.stopped = str(stop)
    except ResearchNewsError as error:  # e.g. the password stopped working on a reconnection
        report.stopped = str(error)
    except sqlite3.Error as error:
        report.stopped = f"cannot write the send ledger {ledger.path}: {error}"
    except KeyboardInterrupt:
        report.stopped = "interrupted"
    finally:
        relay.close()
    if report.stopped:
        if done < len(plan.to_send) and _in_flight(ledger, plan.to_send[done]):
            report.uncertain.append(plan.to_send[done])  # stopped while the relay had it
            done += 1
        report.not_attempted = len(plan.to_send) - done
    return report


def _in_flight(ledger: Ledger, recipient: Recipient) -> bool:
    try:
        return ledger.state(recipient) == IN_FLIGHT
    except sqlite3.Error:
        return True  # cannot tell: say so rather than risk a duplicate


def _deliver_one(issue: BuiltIssue, recipient: Recipient, relay: Relay, ledger: Ledger,
                 retry: RetryPolicy, throttle: Throttle) -> tuple[str, str]:
    """(outcome, the relay's reply) for one recipient, retrying what may succeed later."""
    msgid = message_id(issue, recipient.email)
    body = personalise(issue, recipient.email, recipient.name, msgid=msgid)
    refusals = losses = 0
    while True:
        throttle.wait()
        try:
            reply = relay.transmit(issue.sender, recipient.email, body,
                                   before_handover=lambda: ledger.mark_in_flight(recipient, msgid))
        except Refused as refusal:
            if refusal.permanent and refusal.stage == "MAIL FROM":
                # The sender is refused: true for every recipient, so stop instead of failing them all.
                raise _Stop(f"the relay refuses the sender {issue.sender}: {refusal}") from None
            ledger.record(recipient, FAILED if refusal.permanent else DEFERRED, str(refusal),
                          attempt=refusal.stage != "end of message")
            if refusal.permanent:
                return FAILED, str(refusal)
            refusals += 1
            if refusals >= retry.attempts:
                return DEFERRED, f"{refusal} ({refusals} tries)"
            time.sleep(retry.backoff(refusals))
        except ConnectionLost as lost:
            if lost.handed_over:
                # The row stays in_flight: the relay may have queued it, so it is not resent.
                return UNCERTAIN, f"connection lost waiting for the relay's reply: {lost}"
            if lost.recorded:
                ledger.record(recipient, DEFERRED, f"connection lost while sending: {lost}")
            # Lost before the relay could hold the message: reconnect and send it again.
            losses += 1
            if losses > retry.reconnects:
                raise _Stop(f"lost the connection to the relay {relay.settings.where} {losses} times "
                            f"in a row ({lost})") from None
            if losses > 1:  # the first reconnection is immediate: relays close idle connections
                time.sleep(retry.backoff(losses - 1))
        else:
            ledger.record(recipient, SENT, reply)
            return SENT, reply


def send_test(issue: BuiltIssue, address: str, settings: SmtpSettings) -> str:
    """Send one copy marked ``[TEST]`` to ``address``, recording nothing; the relay's reply."""
    # A fresh Message-ID: a test to an address also on the list must not look like the real one.
    body = personalise(issue, address, msgid=make_msgid(domain=issue.domain), test=True)
    relay = Relay(settings)
    relay.open()
    try:
        return relay.transmit(issue.sender, address, body)
    except Refused as refusal:
        raise ResearchNewsError(f"the relay refused the test message: {refusal}") from None
    except ConnectionLost as lost:
        raise ResearchNewsError(f"the connection to {settings.where} was lost during the test send "
                                f"({lost}); nothing was recorded, try again") from None
    finally:
        relay.close()


# --- What the editor reads -------------------------------------------------------------------


def confirmation(issue: BuiltIssue, plan: Plan, settings: SmtpSettings) -> str:
    """The question asked before a real send."""
    already = f" ({len(plan.already_sent)} already sent)" if plan.already_sent else ""
    return (f"About to send “{issue.subject}” to {_count(len(plan.to_send), 'recipient')}{already} "
            f"via {settings.where}. Continue?")


def plan_lines(plan: Plan) -> Iterator[str]:
    """The recipients a run leaves alone, and why; printed before sending and in dry runs."""
    for recipient in plan.uncertain:
        yield (f"uncertain: {recipient.email} (handed to the relay by an earlier run, acceptance not "
               "recorded; check the relay's log, and resend with --resend-uncertain if it is not there)")
    for recipient, reply in plan.failed:
        yield f"failed earlier: {recipient.email}: {reply} (retry with --retry-failed)"
    for recipient in plan.resent:
        yield f"sending again: {recipient.email}"


def dry_run_lines(issue: BuiltIssue, plan: Plan, settings: SmtpSettings | None) -> Iterator[str]:
    """One line per message a real run would send now, then what it would leave alone."""
    via = f" via {settings.where}" if settings else ""
    yield (f"Dry run: “{issue.subject}” from {issue.sender}{via}: would send "
           f"{_count(len(plan.to_send), 'message')}, {len(plan.already_sent)} already sent.")
    for recipient in plan.to_send:
        to = str(Address(display_name=recipient.name, addr_spec=recipient.email))
        yield f"would send: {to} {message_id(issue, recipient.email)}"
    yield from plan_lines(plan)
    yield "Nothing was sent and nothing was recorded."


def summary(report: Report) -> str:
    """The end-of-run report: sent now, already sent, failed with reasons, uncertain, left."""
    lines = [f"Sent {len(report.sent)} now, {report.already_sent} already sent earlier, "
             f"{len(report.failed) + len(report.failed_earlier)} failed, "
             f"{len(report.uncertain) + len(report.uncertain_earlier)} uncertain"
             + (f", {len(report.deferred)} deferred" if report.deferred else "")
             + (f", {report.not_attempted} not attempted" if report.not_attempted else "") + "."]
    if report.failed or report.failed_earlier:
        lines.append("Failed (the relay refused them; fix or remove the addresses; "
                     "--retry-failed tries them again):")
        lines += [f"  {r.email}: {reply}" for r, reply in report.failed]
        lines += [f"  {r.email}: {reply} (earlier run)" for r, reply in report.failed_earlier]
    if report.deferred:
        lines.append("Deferred (temporary failures; run the same command again to retry):")
        lines += [f"  {r.email}: {reply}" for r, reply in report.deferred]
    if report.uncertain or report.uncertain_earlier:
        lines.append("Uncertain (handed to the relay, acceptance not recorded; check the relay's log, "
                     "then run again with --resend-uncertain only for those it does not show):")
        lines += [f"  {r.email}" for r in report.uncertain]
        lines += [f"  {r.email} (earlier run)" for r in report.uncertain_earlier]
    if report.not_attempted:
        lines.append(f"{_count(report.not_attempted, 'recipient')} not attempted: "
                     "run the same command again to resume.")
    return "\n".join(lines)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
