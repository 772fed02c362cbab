"""Sending the built issue to every subscriber, exactly once, through the publisher's SMTP relay.

``build`` writes ``<out>/<slug>/<slug>.eml``, a message without ``To`` (and one per
translation, ``<out>/<slug>/<lang>/<slug>.eml``); this stage picks each reader's language
edition (:mod:`.editions`), adds the recipient (``To``, a stable ``Message-ID``, the
unsubscribe address) to a copy of it and hands it to the relay. The relay (Postfix, a university's relay, an email service) queues and
delivers; this stage never keeps a mail queue of its own.

The reader's address goes only where the build put :data:`message.ADDRESS_MARKER` (the
unsubscribe link in the List-Unsubscribe header and the footer), never into text that came
from content; headers are set through :mod:`message`'s policy, so a List-Unsubscribe or
Message-ID is never encoded and no line passes 998 octets, and :meth:`Relay.transmit` checks
every message's bytes for that before the relay sees them. One message exists at a time:
memory does not grow with the list.

**Exactly once.** A SQLite ledger, ``<out>/<slug>/send.db``, holds one row per (issue,
recipient), whatever the language, each change committed before the next step:

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

The stage is a package, one module a job: :mod:`.built` (the built message and each
recipient's copy), :mod:`.editions` (the languages built, and each reader's), :mod:`.settings` (the SMTP URL and the rate), :mod:`.ledger`,
:mod:`.relay`, :mod:`.deliver` (the plan and the delivery loop) and :mod:`.report`.
This module gathers the names the command and the tests use.
"""

from .built import BuiltIssue, load_built_issue, message_id, parse_message, personalise
from .deliver import Interrupted, Plan, RetryPolicy, Throttle, deliver, plan_send, send_test
from .editions import Editions, language_counts, load_editions
from .ledger import DEFERRED, FAILED, IN_FLIGHT, SENT, UNCERTAIN, Delivery, Ledger, read_ledger
from .relay import ConnectionLost, Refused, Relay
from .report import Report, confirmation, dry_run_lines, plan_lines, summary
from .settings import (
    DEFAULT_RATE,
    PASSWORD_VARIABLE,
    URL_VARIABLE,
    SmtpSettings,
    check_address,
    is_loopback,
    parse_rate,
    smtp_settings,
)

__all__ = [
    "DEFAULT_RATE",
    "DEFERRED",
    "FAILED",
    "IN_FLIGHT",
    "PASSWORD_VARIABLE",
    "SENT",
    "UNCERTAIN",
    "URL_VARIABLE",
    "BuiltIssue",
    "ConnectionLost",
    "Delivery",
    "Editions",
    "Interrupted",
    "Ledger",
    "Plan",
    "Refused",
    "Relay",
    "Report",
    "RetryPolicy",
    "SmtpSettings",
    "Throttle",
    "check_address",
    "confirmation",
    "deliver",
    "dry_run_lines",
    "is_loopback",
    "language_counts",
    "load_built_issue",
    "load_editions",
    "message_id",
    "parse_message",
    "parse_rate",
    "personalise",
    "plan_lines",
    "plan_send",
    "read_ledger",
    "send_test",
    "smtp_settings",
    "summary",
]
