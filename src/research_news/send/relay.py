"""One SMTP connection to the publisher's relay, and what its replies mean for a message.

:meth:`Relay.transmit` checks every message's bytes (no line over 998 octets) before the
relay sees them, and says exactly when the message was handed over, so the ledger can
record ``in_flight`` just before.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from collections.abc import Callable

from ..exceptions import ResearchNewsError
from ..message import check_wire
from .settings import PASSWORD_VARIABLE, SmtpSettings


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
            with contextlib.suppress(smtplib.SMTPException, OSError):  # it is going away anyway
                self._smtp.quit()
            self._smtp = None

    def transmit(
        self, sender: str, recipient: str, body: bytes, before_handover: Callable[[], None] = lambda: None
    ) -> str:
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
        smtp: smtplib.SMTP | None = None
        try:
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            smtp.ehlo_or_helo_if_needed()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise ResearchNewsError(
                        f"the relay {s.where} does not offer STARTTLS; use smtps:// "
                        "if it expects TLS from the start (usually port 465)"
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password or "")
            return smtp
        except BaseException as error:
            if smtp is not None:
                smtp.close()
            if isinstance(error, ssl.SSLCertVerificationError):
                raise ResearchNewsError(
                    f"the relay {s.where} presented a certificate that cannot be trusted: {error.verify_message}"
                ) from None
            if isinstance(error, smtplib.SMTPAuthenticationError):
                raise ResearchNewsError(
                    f"the relay {s.where} refused the login of {s.user}: "
                    f"{error.smtp_code} {_text(error.smtp_error)} (check "
                    f"{PASSWORD_VARIABLE})"
                ) from None
            if isinstance(error, smtplib.SMTPNotSupportedError):
                raise ResearchNewsError(
                    f"the relay {s.where} does not offer a login on this connection"
                    f" ({error}); try smtp+starttls:// or smtps://"
                ) from None
            if isinstance(error, (smtplib.SMTPException, OSError)):
                raise ConnectionLost(_reason(error)) from None
            raise

    def _expect(self, reply: tuple[int, bytes | str], codes: tuple[int, ...], stage: str) -> None:
        code, text = reply
        if code in codes:
            return
        if code == 421 or code == -1:  # the relay is closing the connection
            self._drop()
        elif self._smtp is not None:
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
