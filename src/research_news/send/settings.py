"""How to reach the relay and how fast to send: the options of ``send``, checked before anything is sent."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from email_validator import EmailNotValidError, validate_email

from ..exceptions import UsageError

URL_VARIABLE = "RESEARCH_NEWS_SMTP_URL"
PASSWORD_VARIABLE = "RESEARCH_NEWS_SMTP_PASSWORD"
DEFAULT_RATE = "10/s"


def check_address(address: str) -> str:
    """``address`` (for ``--test-to``) checked like the recipients file checks addresses."""
    try:
        valid = validate_email(address.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise UsageError(f'"{address}" is not an email address: {error}') from None
    assert valid.ascii_email is not None  # set for every address that does not need SMTPUTF8, which is refused
    return valid.ascii_email


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
        raise UsageError(
            f"the SMTP URL contains a password: remove it and set {PASSWORD_VARIABLE} "
            "instead, so it stays out of shell history and files"
        )
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"the SMTP URL has an invalid port ({example})") from None
    host = parts.hostname
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError(f"the SMTP URL must be scheme://[user@]host[:port] ({example})")
    security, default_port = _SCHEMES[scheme]
    if security == "plain" and not is_loopback(host):
        raise UsageError(
            f"smtp:// sends the password and every address unencrypted, so it is only "
            f"allowed to this machine (localhost, 127.0.0.1, ::1), not {host}; use "
            "smtps:// (port 465) or smtp+starttls:// (port 587)"
        )
    user = unquote(parts.username) if parts.username else None
    if user and not password and need_password:
        raise UsageError(
            f"the SMTP URL logs in as {user}: set {PASSWORD_VARIABLE} to the password "
            f"(e.g. read -s {PASSWORD_VARIABLE} && export {PASSWORD_VARIABLE})"
        )
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
        raise UsageError(
            f"--rate takes a number of messages per second, minute or hour, such as 10/s or 600/min; got {text!r}"
        )
    return float(match[1]) / per[match[2] or "s"]
