"""The errors a user can see.

Everything the CLI reports to a person goes through these types: the CLI prints
them and chooses the exit code. Any other exception is a bug in research-news and
is allowed to surface as a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a file, at a line and column (both 1-based)."""

    path: Path
    line: int
    column: int
    message: str
    hint: str | None = field(default=None, compare=False)
    severity: str = field(default="error", compare=False)  # "error", "warning" or "note" (what a build did)

    def __post_init__(self) -> None:
        # Messages quote what the user wrote; a newline or a terminal escape in it must not
        # forge another problem line or reach the terminal.
        object.__setattr__(self, "message", visible(self.message))
        if self.hint is not None:
            object.__setattr__(self, "hint", visible(self.hint))

    def as_error(self) -> Problem:
        """This problem as an error: what ``--strict`` makes of a warning."""
        return replace(self, severity="error")

    def __str__(self) -> str:
        label = f"{self.severity}: " if self.severity in ("warning", "note") else ""
        text = f"{display_path(self.path)}:{self.line}:{self.column}: {label}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


def visible(text: str) -> str:
    """``text`` with every non-printing character (controls, bidi overrides…) written as an escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def display_path(path: Path) -> str:
    """``path`` relative to the working folder when it is inside it: shorter, and clickable in editors."""
    try:
        shown = str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, RuntimeError, OSError):  # outside the working folder, a link loop, a name too long
        shown = str(path)
    return visible(shown)  # a file name may hold a newline: it must not start a forged problem line


def counted(number: int, noun: str) -> str:
    """``number`` and ``noun``, plural unless one: ``1 file``, ``3 warnings`` (nouns with a plain -s)."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


class ResearchNewsError(Exception):
    """A failure the user can act on. The CLI prints it and exits with ``exit_code``."""

    exit_code = 1


class ContentError(ResearchNewsError):
    """One or more problems in the content (briefs, issue, publication, recipients)."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(ResearchNewsError):
    """The command line itself is wrong (bad option, missing path)."""

    exit_code = 2
