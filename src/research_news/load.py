"""Stage 1: read YAML files into plain data that remembers where each value was.

Briefs are untrusted input, so the loader is deliberately narrow: UTF-8 only, a size
cap, no tabs in indentation, no duplicate keys, no YAML tags (nothing is ever
constructed from a tag), and no aliases (which also rules out alias-expansion bombs).
Dates stay text so that the model can explain a bad one instead of the YAML library
crashing on it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent

from .exceptions import Problem

MAX_FILE_BYTES = 1_000_000
"""Larger than any real brief by two orders of magnitude; refuses accidental binaries."""


class _Refused(MarkedYAMLError):
    """A YAML feature we do not accept, raised while composing with its position."""


class _StrictComposer(Composer):
    """Refuses aliases and explicit tags at the point where they appear."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            raise _Refused(
                problem=f"YAML aliases (*{event.anchor}) are not allowed; write the value out in full",
                problem_mark=event.start_mark,
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            raise _Refused(
                problem=f"YAML tags such as {tag.replace('tag:yaml.org,2002:', '!!')} are not allowed; remove the tag",
                problem_mark=event.start_mark,
            )
        return super().compose_node(parent, index)


class _TextDatesConstructor(RoundTripConstructor):
    """Keeps timestamps as the text the author wrote; the model validates dates."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        return self.construct_scalar(node)


_TextDatesConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", _TextDatesConstructor.construct_yaml_timestamp
)


@dataclass
class Document:
    """A loaded YAML file: its top-level mapping and the lines it came from."""

    path: Path
    data: CommentedMap
    lines: list[str]


class LoadFailed(Exception):
    """The file could not be read as a YAML mapping; ``problem`` says where and why."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@functools.cache
def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.Composer = _StrictComposer
    yaml.Constructor = _TextDatesConstructor
    yaml.allow_duplicate_keys = False
    return yaml


def load_document(path: Path) -> Document:
    """Read ``path`` as a YAML mapping, or raise :class:`LoadFailed` with a located problem."""
    text = _read_text(path)
    lines = text.splitlines()
    _refuse_tab_indentation(path, lines)
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in lines):
        raise LoadFailed(Problem(path, 1, 1, "the file is empty", "write the fields described in FORMAT.md"))
    try:
        data = _yaml().load(text)
    except DuplicateKeyError as error:
        raise LoadFailed(_duplicate_key_problem(path, error)) from None
    except MarkedYAMLError as error:
        raise LoadFailed(_yaml_problem(path, error)) from None
    except RecursionError:
        raise LoadFailed(Problem(path, 1, 1, "the YAML is nested too deeply")) from None
    if data is None:
        raise LoadFailed(Problem(path, 1, 1, "the file is empty", "write the fields described in FORMAT.md"))
    if not isinstance(data, CommentedMap):
        kind = "a list" if isinstance(data, CommentedSeq) else "a single value"
        first = next((i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")), 0)
        raise LoadFailed(
            Problem(path, first + 1, 1, f"the file holds {kind}; it must be a mapping of fields",
                    "start lines with `field: value`, for example `title: …`")
        )
    return Document(path, data, lines)


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadFailed(Problem(path, 1, 1, f"the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"))
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LoadFailed(Problem(path, 1, 1, "no such file")) from None
    except IsADirectoryError:
        raise LoadFailed(Problem(path, 1, 1, "is a folder, not a YAML file")) from None
    except OSError as error:
        raise LoadFailed(Problem(path, 1, 1, f"cannot be read: {error.strerror}")) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _position_of_offset(raw, error.start)
        raise LoadFailed(
            Problem(path, line, column, f"invalid UTF-8 (byte 0x{raw[error.start]:02x})",
                    "save the file as UTF-8")
        ) from None
    return text.removeprefix("\ufeff")


def _position_of_offset(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset in undecodable bytes."""
    before = raw[:offset]
    line = before.count(b"\n") + 1
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return line, column


def _refuse_tab_indentation(path: Path, lines: list[str]) -> None:
    for number, line in enumerate(lines, start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            raise LoadFailed(
                Problem(path, number, indent.index("\t") + 1, "a tab is used for indentation",
                        "YAML indents with spaces only; replace the tab with spaces")
            )


def _yaml_problem(path: Path, error: MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if isinstance(error, _Refused):
        return Problem(path, line, column, error.problem)
    what = (error.problem or "invalid YAML").strip()
    context = f" {error.context.strip()}" if error.context else ""
    began = error.context_mark
    if began and mark and began.line != mark.line:
        context += f" that began on line {began.line + 1}, column {began.column + 1}"
    return Problem(path, line, column, f"invalid YAML: {what}{context}",
                   "check indentation and quote values that contain ': ' or start with a symbol")


def _duplicate_key_problem(path: Path, error: DuplicateKeyError) -> Problem:
    mark = error.problem_mark
    first = error.context_mark
    key = str(error.problem).split('"')[1] if '"' in str(error.problem) else "a key"
    message = f"duplicate field `{key}`"
    hint = f"it is already set on line {first.line + 1}; keep one" if first else "keep one"
    return Problem(path, mark.line + 1, mark.column + 1, message, hint)
