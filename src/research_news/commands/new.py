"""`research-news new`: commented templates for a brief or an issue."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

import typer

from ..exceptions import UsageError
from ..scaffold import new_brief, new_issue

app = typer.Typer(help="Start a new brief or issue from a commented template.", no_args_is_help=True)


@app.command("brief")
def brief(path: Annotated[Path, typer.Argument(help="The brief file to create, e.g. issues/2024-05-x/briefs/my-study.yaml.")]) -> None:
    """Write a brief template to PATH."""
    _refuse_existing(path)
    new_brief(path)
    typer.echo(f"Wrote {path}. Fill in every TODO, then run: research-news check {path}")


@app.command("issue")
def issue(
    path: Annotated[Path, typer.Argument(help="The issue folder to create, e.g. issues/2024-05-open-science.")],
    date: Annotated[str, typer.Option(help="Publication date, YYYY-MM-DD.")] = dt.date.today().isoformat(),
) -> None:
    """Create an issue folder with issue.yaml, briefs/ (one brief template) and images/."""
    _refuse_existing(path)
    new_issue(path, _checked_date(date))
    typer.echo(f"Created {path}/. Fill in every TODO, then run: research-news check {path}")


def _checked_date(text: str) -> str:
    """``text`` if it is a real YYYY-MM-DD date: it goes into issue.yaml as written."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise UsageError(f"--date {text!r} is not a date; write it as YYYY-MM-DD")
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date {text!r} is not a real date") from None
    return text


def _refuse_existing(path: Path) -> None:
    try:
        exists = path.exists()
    except OSError as error:  # a name too long for the file system
        raise UsageError(f"{path}: {error.strerror or error}") from None
    if exists:
        raise UsageError(f"{path} already exists; choose another name (nothing was overwritten)")
