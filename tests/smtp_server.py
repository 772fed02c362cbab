"""A real SMTP server on loopback for tests: it stores what it receives, and misbehaves on request.

    with SmtpServer() as server:          # or the ``smtp_server`` fixture of a test module
        server.temporary_failures["a@example.org"] = 2   # 451 twice, then accept
        server.permanent_failures.add("b@example.org")    # 550 always
        server.refuse_sender = True       # 553 to every MAIL FROM
        server.close_every = 50           # close the connection after every 50th message (after its 250)
        server.vanish_at = 50             # keep the 50th message but close instead of answering 250
        server.down_after = 50            # after the 50th message, close and refuse new sessions
        server.back_up()                  # ... until this
        ... send to f"smtp://127.0.0.1:{server.port}" ...
        server.recipients()               # one entry per message received, in order

Built on aiosmtpd's ``Controller``, which runs the server's event loop in a thread.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cached_property
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Received:
    """One message as the server stored it: the envelope and the message."""

    mail_from: str
    rcpt_to: tuple[str, ...]
    data: bytes

    @cached_property
    def message(self) -> EmailMessage:
        """The message, parsed when a test first asks (parsing in the server would slow it)."""
        return BytesParser(policy=policy.default).parsebytes(self.data)


class SmtpServer:
    """An SMTP server on 127.0.0.1 at a free port; ``user`` and ``password`` turn on AUTH
    (without TLS). The attributes below are the knobs; aiosmtpd calls the ``handle_*`` hooks."""

    def __init__(
        self,
        user: str | None = None,
        password: str | None = None,
        *,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ):
        self.port = _free_port()
        self._tls = tls  # a server context: STARTTLS offered (and required), or TLS from the start
        self._implicit_tls = implicit_tls
        self.received: list[Received] = []
        self.temporary_failures: dict[str, int] = {}  # address -> how many 451 replies before a 250
        self.permanent_failures: set[str] = set()  # addresses answered 550
        self.refuse_sender = False  # answer 553 to every MAIL FROM
        self.close_every: int | None = None
        self.vanish_at: int | None = None
        self.down_after: int | None = None
        self.down = False
        self.sessions = 0
        self.lock = threading.Lock()
        self._credentials = (user, password) if user else None
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        options = {}
        if self._credentials:
            # aiosmtpd counts only STARTTLS as TLS; with implicit TLS the whole session already is.
            options = {
                "authenticator": self._authenticate,
                "auth_require_tls": self._tls is not None and not self._implicit_tls,
            }
        if self._tls is not None and self._implicit_tls:
            options["ssl_context"] = self._tls
        elif self._tls is not None:
            options.update(tls_context=self._tls, require_starttls=True)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def back_up(self) -> None:
        """In service again after ``down_after``."""
        self.down, self.down_after = False, None

    def recipients(self) -> list[str]:
        """Every envelope recipient of every message received, in order (duplicates kept)."""
        with self.lock:
            return [rcpt.lower() for item in self.received for rcpt in item.rcpt_to]

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        """Block until ``count`` messages have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.received)} messages after {timeout} s")
            time.sleep(0.002)

    # --- aiosmtpd hooks (run in the server's thread) ---

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.sessions += 1
        if self.down:
            server.transport.close()  # the relay is gone: the client sees the connection close
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_sender:
            return f"553 5.7.1 <{address}>: sender not allowed"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            if address.lower() in self.permanent_failures:
                return f"550 5.1.1 <{address}>: mailbox unavailable"
            left = self.temporary_failures.get(address.lower(), 0)
            if left:
                self.temporary_failures[address.lower()] = left - 1
                return f"451 4.7.1 <{address}>: greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content))
            count = len(self.received)
        if count == self.vanish_at:
            # Stored, but the reply never reaches the client: the "uncertain" case.
            server.transport.close()
            return "250 2.0.0 OK (never reaches the client)"
        if count == self.down_after:
            self.down = True
        if self.down or (self.close_every and count % self.close_every == 0):
            # call_soon: the 250 is written first, then the connection closes, between messages.
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 2.0.0 OK: queued"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and (auth_data.login.decode(), auth_data.password.decode()) == self._credentials
        )
        return AuthResult(success=ok, handled=False)  # handled=False: the server replies 535


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the openssl command (a day's validity).

    Tests make clients trust it through SSL_CERT_FILE, which OpenSSL reads whenever a default
    context loads its certificates: the client code under test stays exactly as in production.
    """
    certificate, key = folder / "relay.pem", folder / "relay.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


def server_context(certificate: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    return context
