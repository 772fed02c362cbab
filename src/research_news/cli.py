"""The command line: parses arguments, calls the stage that does the work, and
turns the errors users can see into messages and exit codes.

Each verb lives in ``commands/<verb>.py``; this module only assembles them, and imports a
verb's module only when that verb runs (or ``--help`` lists them all): ``check`` and an
up-to-date ``build`` never load what ``send``, ``serve`` or ``site`` need.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import cast

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from . import __version__
from .exceptions import ContentError, ResearchNewsError, UsageError

COMMANDS = ("check", "build", "schema", "send", "serve", "site", "new")
"""The verbs, in the order ``--help`` lists them: each the function of that name in commands/<verb>.py
(``new``: the group commands/new.py makes)."""


def _command(name: str) -> TyperCommand | TyperGroup:
    """The verb ``name`` as a click command, its module imported now."""
    module = importlib.import_module(f"{__package__}.commands.{name}")
    if name == "new":
        group = typer.main.get_group(module.app)
        group.name = name
        return group
    one = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    one.command(name)(getattr(module, name))
    return cast(TyperCommand, typer.main.get_command(one))  # a Typer with one command makes a TyperCommand


class _ReportingGroup(TyperGroup):
    """Turns the errors users can see into messages and exit codes, for every command; loads
    each command when it is asked for."""

    def list_commands(self, ctx) -> list[str]:
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx, cmd_name: str):
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.add_command(_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ResearchNewsError as error:
            report(error, OUTCOMES.get(ctx.invoked_subcommand or "", "nothing was written"))
            ctx.exit(error.exit_code)


app = typer.Typer(
    cls=_ReportingGroup,
    name="research-news",
    help="Turn research briefs written in YAML into a PDF, a web edition and an email.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"research-news {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also say what is read, skipped and refused."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Say nothing but problems and the result."),
) -> None:
    """Turn research briefs written in YAML into a PDF, a web edition and an email."""
    if verbose and quiet:
        raise UsageError("--verbose and --quiet cannot be used together")
    configure_logging(logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes, not when the handler was made."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(level: int) -> None:
    """Log records of research-news (and of nothing else) go to stderr, one plain line each."""
    logger = logging.getLogger("research_news")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if level <= logging.DEBUG else "%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


OUTCOMES = {
    "send": "nothing was sent",
    "site": "nothing was written (--skip-broken builds the issues without errors and leaves the others out)",
}
"""What a command did not do when it stopped on content errors (default: nothing was written)."""


def report(error: ResearchNewsError, outcome: str = "nothing was written") -> None:
    """Print a user-visible error on stderr, one problem per line."""
    if isinstance(error, ContentError):
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        count = sum(1 for p in error.problems if p.severity == "error")
        typer.echo(f"{count} error{'s' if count != 1 else ''}; {outcome}.", err=True)
    else:
        typer.echo(f"error: {error}", err=True)


def main() -> None:
    """Console-script entry point."""
    app()
