"""`research-news send`: the built issue to a subscriber list, through the publisher's SMTP relay,
each reader in their language's edition (see :mod:`research_news.send.editions`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from .. import send as sending
from ..exceptions import ResearchNewsError, UsageError
from ..locales import language_name
from ..recipients import read_recipients


def send(
    issue_dir: Annotated[
        Path,
        typer.Argument(
            help="The issue folder; its build/<slug>/<slug>.eml is sent, and build/<slug>/<lang>/<slug>.eml "
            "to readers of that language."
        ),
    ],
    recipients: Annotated[
        Path | None,
        typer.Option("--recipients", "-r", help="CSV file with an email column and optional name, language."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where build put <slug>/.")] = Path("build"),
    smtp_url: Annotated[
        str | None,
        typer.Option(
            envvar=sending.URL_VARIABLE,
            show_envvar=True,
            help="smtps://user@host[:465], smtp+starttls://user@host[:587] or smtp://localhost[:25]; the "
            f"password is read from {sending.PASSWORD_VARIABLE}.",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be sent; send nothing.")] = False,
    test_to: Annotated[
        str | None,
        typer.Option(
            "--test-to",
            metavar="ADDRESS",
            help="Send one copy marked [TEST] of each language edition to ADDRESS; record nothing.",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (scripts).")] = False,
    rate: Annotated[
        str, typer.Option(help="At most this many messages: 10/s, 600/min, 5000/h.")
    ] = sending.DEFAULT_RATE,
    resend_uncertain: Annotated[
        bool,
        typer.Option(
            "--resend-uncertain",
            help="Resend messages an interrupted run handed over without a recorded "
            "acceptance (check the relay's log first).",
        ),
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Try again the recipients the relay refused (5xx) in earlier runs.")
    ] = False,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Leave out invalid rows of the recipients file, with a warning.")
    ] = False,
    retry_delay: Annotated[
        float,
        typer.Option(min=0, help="Seconds before the first retry after a temporary (4xx) failure; doubles each time."),
    ] = sending.RetryPolicy.delay,
) -> None:
    """Send the built issue to every recipient exactly once, through your SMTP relay."""
    if recipients is None and test_to is None:
        raise UsageError("--recipients is required (or --test-to ADDRESS for a test copy)")
    per_second = sending.parse_rate(rate)
    password = os.environ.get(sending.PASSWORD_VARIABLE)
    settings = None
    if smtp_url or not dry_run:  # checked before any file is read or connection made
        settings = sending.smtp_settings(smtp_url, password, need_password=not dry_run)
    editions = sending.load_editions(issue_dir, out)
    if test_to is not None:
        _send_test(editions, sending.check_address(test_to), settings, recipients, skip_invalid, dry_run)
        return
    assert recipients is not None  # checked first: without --test-to, --recipients is required
    subscribers = read_recipients(recipients, skip_invalid=skip_invalid)
    for warning in subscribers.skipped:
        typer.echo(str(warning), err=True)
    options = {"resend_uncertain": resend_uncertain, "retry_failed": retry_failed}
    # One ledger for every language: a reader who changed language since a run is not sent it again.
    earlier = sending.read_ledger(editions.ledger_path, editions.slug)  # read only: a dry run creates nothing
    plan = sending.plan_send(subscribers.recipients, earlier, **options)
    if dry_run:
        for line in sending.dry_run_lines(editions, plan, settings):  # line by line: no copy of the list in memory
            typer.echo(line)
        return
    for line in sending.plan_lines(plan):
        typer.echo(line, err=True)
    assert settings is not None  # read above for every run that is not a dry run
    if plan.to_send and not yes:
        _confirm(sending.confirmation(editions, plan, settings))
    with sending.Ledger(editions.ledger_path, editions.slug) as ledger:
        # Planned again under the lock: the ledger is the truth, whatever happened since the question.
        plan = sending.plan_send(subscribers.recipients, ledger.rows(), **options)
        report = _deliver(editions, plan, settings, ledger, per_second, retry_delay)
    typer.echo(sending.summary(report))
    if report.stopped == "interrupted":
        raise sending.Interrupted("interrupted; run the same command again to resume")
    if report.stopped:
        raise ResearchNewsError(f"{report.stopped}; run the same command again to resume")
    if not report.complete:
        raise typer.Exit(1)


def _send_test(
    editions: sending.Editions, address: str, settings, recipients: Path | None, skip_invalid: bool, dry_run: bool
) -> None:
    """The ``--test-to`` path: one copy of each language edition to ``address`` (each is proofread
    before its readers get it); the ledger is never opened."""
    if recipients is not None:  # a chance to check the list before the real send
        listed = read_recipients(recipients, skip_invalid=skip_invalid).recipients
        languages = f": {sending.language_counts(editions, listed)}" if editions.several else ""
        typer.echo(f"{recipients}: {len(listed)} valid recipients{languages} (not sent to).", err=True)
    for issue in editions.all:
        which = f" ({language_name(issue.language)})" if editions.several else ""
        if dry_run:
            typer.echo(f"Dry run: would send a test copy of “{issue.subject}”{which} to {address}. Nothing was sent.")
            continue
        reply = sending.send_test(issue, address, settings)
        typer.echo(
            f"Sent a test copy of “{issue.subject}”{which} to {address} via {settings.where} ({reply}). "
            "Nothing was recorded."
        )


def _confirm(question: str) -> None:
    """Ask before a real send; without a terminal to ask on, refuse rather than hang."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise UsageError(
            "a real send asks for confirmation and there is no terminal to ask on: pass --yes (after a --dry-run)"
        )
    if not typer.confirm(question, err=True):
        raise typer.Exit(1)


class RateColumn(ProgressColumn):
    """Messages per second, averaged by rich over the last half minute."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("–/s" if speed is None else f"{speed:.1f}/s", style="progress.data.speed")


def progress_bar(console: Console, **options) -> Progress:
    """The bar of a real send: done of total, messages per second, time left, the last outcome."""
    columns = (
        TextColumn("Sending"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[last]}"),
    )
    return Progress(*columns, console=console, disable=not console.is_terminal, speed_estimate_period=30, **options)


def _deliver(editions, plan, settings, ledger, per_second: float, retry_delay: float) -> sending.Report:
    """``sending.deliver`` with a progress bar on the terminal (none in logs and pipes)."""
    with progress_bar(Console(stderr=True)) as progress:
        task = progress.add_task("send", total=len(plan.to_send), last="")

        def advance(recipient, outcome: str) -> None:
            progress.update(task, advance=1, last=f"{outcome}: {recipient.email}")

        return sending.deliver(
            editions,
            plan,
            sending.Relay(settings),
            ledger,
            on_progress=advance,
            retry=sending.RetryPolicy(delay=retry_delay),
            rate=per_second,
        )
