"""What the editor reads: the question before a send, the dry run, and the end-of-run summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.headerregistry import Address
from typing import TYPE_CHECKING

from ..exceptions import counted
from ..locales import language_name
from ..recipients import Recipient
from .built import message_id
from .editions import Editions, language_counts
from .settings import SmtpSettings

if TYPE_CHECKING:  # deliver makes reports: it imports this module
    from .deliver import Plan


@dataclass
class Report:
    """What a run did, for the summary and the exit code."""

    languages: list[str] = field(default_factory=list)  # of the editions, the issue's own first
    planned: int = 0
    sent: list[Recipient] = field(default_factory=list)
    sent_in: Counter[str] = field(default_factory=Counter)  # edition language → messages sent now
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
        return not (
            self.failed
            or self.failed_earlier
            or self.deferred
            or self.uncertain
            or self.uncertain_earlier
            or self.not_attempted
            or self.stopped
        )


def confirmation(editions: Editions, plan: Plan, settings: SmtpSettings) -> str:
    """The question asked before a real send."""
    already = f" ({len(plan.already_sent)} already sent)" if plan.already_sent else ""
    languages = f": {language_counts(editions, plan.to_send)}" if editions.several else ""
    return (
        f"About to send “{editions.own.subject}” to {counted(len(plan.to_send), 'recipient')}{languages}{already} "
        f"via {settings.where}. Continue?"
    )


def plan_lines(plan: Plan) -> Iterator[str]:
    """The recipients a run leaves alone, and why; printed before sending and in dry runs."""
    for recipient in plan.uncertain:
        yield (
            f"uncertain: {recipient.email} (handed to the relay by an earlier run, acceptance not "
            "recorded; check the relay's log, and resend with --resend-uncertain if it is not there)"
        )
    for recipient, reply in plan.failed:
        yield f"failed earlier: {recipient.email}: {reply} (retry with --retry-failed)"
    for recipient in plan.resent:
        yield f"sending again: {recipient.email}"


def dry_run_lines(editions: Editions, plan: Plan, settings: SmtpSettings | None) -> Iterator[str]:
    """One line per message a real run would send now, then what it would leave alone."""
    issue = editions.own
    via = f" via {settings.where}" if settings else ""
    yield (
        f"Dry run: “{issue.subject}” from {issue.sender}{via}: would send "
        f"{counted(len(plan.to_send), 'message')}, {len(plan.already_sent)} already sent."
    )
    if editions.several:
        for edition in editions.all:
            yield f"{language_name(edition.language)} ({edition.language}): “{edition.subject}”, {edition.path}"
        yield f"Would send {counted(len(plan.to_send), 'message')}: {language_counts(editions, plan.to_send)}."
    for recipient in plan.to_send:
        to = str(Address(display_name=recipient.name, addr_spec=recipient.email))
        language = f" in {editions.for_reader(recipient).language}" if editions.several else ""
        yield f"would send: {to} {message_id(issue, recipient.email)}{language}"
    yield from plan_lines(plan)
    yield "Nothing was sent and nothing was recorded."


def summary(report: Report) -> str:
    """The end-of-run report: sent now, already sent, failed with reasons, uncertain, left."""
    lines = [
        f"Sent {len(report.sent)} now, {report.already_sent} already sent earlier, "
        f"{len(report.failed) + len(report.failed_earlier)} failed, "
        f"{len(report.uncertain) + len(report.uncertain_earlier)} uncertain"
        + (f", {len(report.deferred)} deferred" if report.deferred else "")
        + (f", {report.not_attempted} not attempted" if report.not_attempted else "")
        + "."
    ]
    if len(report.languages) > 1:
        lines.append(
            "Sent now: "
            + ", ".join(f"{report.sent_in[language]} in {language_name(language)}" for language in report.languages)
            + "."
        )
    if report.failed or report.failed_earlier:
        lines.append("Failed (the relay refused them; fix or remove the addresses; --retry-failed tries them again):")
        lines += [f"  {r.email}: {reply}" for r, reply in report.failed]
        lines += [f"  {r.email}: {reply} (earlier run)" for r, reply in report.failed_earlier]
    if report.deferred:
        lines.append("Deferred (temporary failures; run the same command again to retry):")
        lines += [f"  {r.email}: {reply}" for r, reply in report.deferred]
    if report.uncertain or report.uncertain_earlier:
        lines.append(
            "Uncertain (handed to the relay, acceptance not recorded; check the relay's log, "
            "then run again with --resend-uncertain only for those it does not show):"
        )
        lines += [f"  {r.email}" for r in report.uncertain]
        lines += [f"  {r.email} (earlier run)" for r in report.uncertain_earlier]
    if report.not_attempted:
        lines.append(
            f"{counted(report.not_attempted, 'recipient')} not attempted: run the same command again to resume."
        )
    return "\n".join(lines)
