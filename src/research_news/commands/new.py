"""`research-news new`: commented templates for a publication, an issue or a brief."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

import typer

from ..exceptions import UsageError
from ..scaffold import checked_language, issue_date, new_brief, new_issue, new_publication, new_translation

app = typer.Typer(
    help="Start a new publication, issue, brief or translation from a commented template.", no_args_is_help=True
)

LanguageOption = Annotated[str | None, typer.Option("--language", "-l", help="Language code (en, fr, de, …).")]


@app.command("publication")
def publication(
    path: Annotated[Path, typer.Argument(help="The folder to create: the top of the content tree, e.g. issues.")],
    language: Annotated[str, typer.Option("--language", "-l", help="The publication's language.")] = "en",
) -> None:
    """Create a content tree: a folder with a commented publication.yaml and assets/."""
    _refuse_existing(path / "publication.yaml")
    new_publication(path, checked_language(language))
    typer.echo(
        f"Created {path}/. Fill in every TODO, then: research-news new issue {path}/{dt.date.today():%Y-%m}-first-issue"
    )


@app.command("issue")
def issue(
    path: Annotated[Path, typer.Argument(help="The issue folder to create, e.g. issues/2024-05-open-science.")],
    date: Annotated[
        str | None,
        typer.Option(
            help="Publication date, YYYY-MM-DD (default: from the folder's name, e.g. 2024-05-…, else today)."
        ),
    ] = None,
    language: LanguageOption = None,
) -> None:
    """Create an issue folder with issue.yaml, briefs/ (one brief template) and images/."""
    _refuse_existing(path)
    new_issue(
        path,
        issue_date(path, None if date is None else _checked_date(date)),
        None if language is None else checked_language(language),
    )
    typer.echo(f"Created {path}/. Fill in every TODO, then run: research-news check {path}")


@app.command("brief")
def brief(
    path: Annotated[Path, typer.Argument(help="The brief file to create, e.g. issues/2024-05-x/briefs/my-study.yaml.")],
    language: LanguageOption = None,
    add_to: Annotated[
        str | None,
        typer.Option("--add-to", help="List the brief in its issue.yaml under this section (its title or number)."),
    ] = None,
) -> None:
    """Write a brief template to PATH (default language: its issue's)."""
    _refuse_existing(path)
    section = new_brief(path, None if language is None else checked_language(language), add_to)
    listed = f" and listed it under “{section}” in issue.yaml" if section else ""
    typer.echo(f"Wrote {path}{listed}. Fill in every TODO, then run: research-news check {path}")


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


@app.command("translation")
def translation(
    original: Annotated[
        Path, typer.Argument(help="The brief to translate (briefs/x.yaml), or the issue folder for its texts.")
    ],
    to: Annotated[str, typer.Option("--to", help="The language to translate into (one of the publication's).")],
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh",
            help="Record that the existing translation follows the original's current text (sets translated_from).",
        ),
    ] = False,
) -> None:
    """Write the translation template of a brief (briefs/x.fr.yaml) or of an issue's texts (issue.fr.yaml)."""
    target = new_translation(original, checked_language(to), refresh)
    if refresh:
        typer.echo(f"Updated translated_from in {target}: it now follows the current text of {original}.")
    else:
        typer.echo(
            f"Wrote {target}. Translate each text (the original is in the comment above it), then run: research-news check {original}"
        )
