"""`research-news check`: validate briefs, issues or a whole content tree."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..exceptions import Problem, counted, display_path
from ..validate import Checker


class Format(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def check(
    paths: Annotated[list[Path], typer.Argument(help="Brief files, issue folders, or the whole issues/ tree.")],
    format: Annotated[
        Format, typer.Option("--format", "-f", help="text for people, json for tools, github for workflow annotations.")
    ] = Format.text,
    strict: Annotated[
        bool, typer.Option("--strict", help="Warnings fail the check too (exit 1), e.g. in continuous integration.")
    ] = False,
) -> None:
    """Check content for mistakes; every problem is shown as path:line:column."""
    checker = Checker()
    for path in paths:
        checker.check_path(path)
    problems = sorted(set(checker.problems))
    if strict:
        problems = [problem.as_error() for problem in problems]
    typer.echo(render(problems, format), nl=False)
    if any(p.severity == "error" for p in problems):
        raise typer.Exit(1)


def render(problems: list[Problem], format: Format) -> str:
    """The report in the chosen format, ending with a newline (or empty when clean in text)."""
    if format is Format.json:
        return json.dumps([_as_dict(p) for p in problems], indent=2, ensure_ascii=False) + "\n"
    if format is Format.github:
        return "".join(_annotation(p) + "\n" for p in problems)
    lines = [str(p) for p in problems]
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    if errors or warnings:
        lines.append(f"{counted(errors, 'error')}, {counted(warnings, 'warning')}.")
    else:
        lines.append("No problems found.")
    return "\n".join(lines) + "\n"


def _as_dict(problem: Problem) -> dict:
    return {
        "path": display_path(problem.path),
        "line": problem.line,
        "column": problem.column,
        "severity": problem.severity,
        "message": problem.message,
        "hint": problem.hint,
    }


def _annotation(problem: Problem) -> str:
    # Workflow commands need %, CR and LF escaped in the message and , : in properties.
    def escape(text: str, prop: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    message = problem.message + (f" ({problem.hint})" if problem.hint else "")
    return (
        f"::{problem.severity} file={escape(display_path(problem.path), True)},line={problem.line},"
        f"col={problem.column}::{escape(message)}"
    )
