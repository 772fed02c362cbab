"""Stage 2: check loaded documents against the model and against the file system.

The stage's entry points: :func:`load_content` for building, :class:`Checker` for
``check``. The work is split along its seams: :mod:`locate` (positions in YAML
documents, pydantic errors as located problems), :mod:`tree` (the content tree on disk)
and :mod:`checker` (the model and cross-file rules).
"""

from __future__ import annotations

from pathlib import Path

from .checker import BriefEntry, Checker, Content
from .exceptions import ContentError, Problem
from .locate import field_path, model_problems, position_in_text, position_of, text_locator
from .tree import ISSUE_FILE, PUBLICATION_FILE, find_root

__all__ = [
    "ISSUE_FILE",
    "PUBLICATION_FILE",
    "BriefEntry",
    "Checker",
    "Content",
    "errors_only",
    "field_path",
    "find_root",
    "load_content",
    "model_problems",
    "position_in_text",
    "position_of",
    "text_locator",
]


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def load_content(issue_dir: Path) -> Content:
    """Load and validate one issue for building; raise :class:`ContentError` on any error."""
    checker = Checker()
    content = checker.issue(issue_dir)
    if errors_only(checker.problems) or content is None:
        raise ContentError(checker.problems)
    content.warnings = checker.problems
    return content
