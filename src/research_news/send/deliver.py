"""Who gets the issue this run, and sending to them one by one, retrying what may succeed later.

One message exists at a time: memory does not grow with the list.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import make_msgid

from ..exceptions import ResearchNewsError
from ..recipients import Recipient
from .built import BuiltIssue, message_id, personalise
from .editions import Editions
from .ledger import DEFERRED, FAILED, IN_FLIGHT, SENT, UNCERTAIN, Delivery, Ledger
from .relay import ConnectionLost, Refused, Relay
from .report import Report
from .settings import SmtpSettings


class Interrupted(ResearchNewsError):
    """^C during a send: what was done is in the ledger; the same command resumes."""

    exit_code = 130


@dataclass
class Plan:
    """The recipients of this run, sorted by what the ledger says about them."""

    to_send: list[Recipient] = field(default_factory=list)
    already_sent: list[Recipient] = field(default_factory=list)
    uncertain: list[Recipient] = field(default_factory=list)  # left alone this run
    failed: list[tuple[Recipient, str]] = field(default_factory=list)  # earlier 5xx, left alone
    resent: list[Recipient] = field(default_factory=list)  # uncertain or failed, sent again on request


def plan_send(
    recipients: list[Recipient],
    ledger: dict[str, Delivery],
    *,
    resend_uncertain: bool = False,
    retry_failed: bool = False,
) -> Plan:
    """Who to send to now, in file order: nobody twice, nobody silently skipped."""
    plan = Plan()
    for recipient in recipients:
        row = ledger.get(recipient.key)
        state = row.state if row else None
        if state == SENT:
            plan.already_sent.append(recipient)
        elif state == IN_FLIGHT and not resend_uncertain:
            plan.uncertain.append(recipient)
        elif state == FAILED and row is not None and not retry_failed:
            plan.failed.append((recipient, row.reply or "refused"))
        else:
            plan.to_send.append(recipient)
            if state in (IN_FLIGHT, FAILED):
                plan.resent.append(recipient)
    return plan


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


class _Stop(Exception):
    """A reason to stop sending to anyone (the relay is gone, or refuses the sender)."""


def deliver(
    editions: Editions,
    plan: Plan,
    relay: Relay,
    ledger: Ledger,
    *,
    retry: RetryPolicy = RetryPolicy(),
    rate: float = 10.0,
    on_progress: Callable[[Recipient, str], None] = lambda recipient, outcome: None,
) -> Report:
    """Send to ``plan.to_send`` one by one, each in their language's edition, recording each
    outcome in ``ledger`` as it happens."""
    report = Report(
        languages=[edition.language for edition in editions.all],
        planned=len(plan.to_send),
        already_sent=len(plan.already_sent),
        failed_earlier=list(plan.failed),
        uncertain_earlier=list(plan.uncertain),
    )
    if not plan.to_send:
        return report
    throttle = Throttle(rate)
    done = deferred_in_a_row = 0
    relay.open()
    try:
        for recipient in plan.to_send:
            edition = editions.for_reader(recipient)
            outcome, reply = _deliver_one(edition, recipient, relay, ledger, retry, throttle)
            done += 1
            deferred_in_a_row = deferred_in_a_row + 1 if outcome == DEFERRED else 0
            if outcome == SENT:
                report.sent.append(recipient)
                report.sent_in[edition.language] += 1
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
                raise _Stop(f"the relay deferred {deferred_in_a_row} recipients in a row (last: {reply}); wait a while")
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


def _deliver_one(
    issue: BuiltIssue, recipient: Recipient, relay: Relay, ledger: Ledger, retry: RetryPolicy, throttle: Throttle
) -> tuple[str, str]:
    """(outcome, the relay's reply) for one recipient, retrying what may succeed later."""
    # The same in every language (slug and sender are): a resend in another language is the same message.
    msgid = message_id(issue, recipient.email)
    body = personalise(issue, recipient.email, recipient.name, msgid=msgid)
    refusals = losses = 0
    while True:
        throttle.wait()
        try:
            reply = relay.transmit(
                issue.sender, recipient.email, body, before_handover=lambda: ledger.mark_in_flight(recipient, msgid)
            )
        except Refused as refusal:
            if refusal.permanent and refusal.stage == "MAIL FROM":
                # The sender is refused: true for every recipient, so stop instead of failing them all.
                raise _Stop(f"the relay refuses the sender {issue.sender}: {refusal}") from None
            ledger.record(
                recipient,
                FAILED if refusal.permanent else DEFERRED,
                str(refusal),
                attempt=refusal.stage != "end of message",
            )
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
                raise _Stop(
                    f"lost the connection to the relay {relay.settings.where} {losses} times in a row ({lost})"
                ) from None
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
        raise ResearchNewsError(
            f"the connection to {settings.where} was lost during the test send "
            f"({lost}); nothing was recorded, try again"
        ) from None
    finally:
        relay.close()
