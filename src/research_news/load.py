"""Stage 1: read YAML files into plain data that remembers where each value was.

Briefs are untrusted input, so the loader is deliberately narrow: UTF-8 only, a size
cap, no tabs in indentation, no duplicate keys, no YAML tags (nothing is ever
constructed from a tag), and no aliases (which also rules out alias-expansion bombs).
Dates stay text so that the model can explain a bad one instead of the YAML library
crashing on it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from .exceptions import Problem

try:  # libyaml through ruamel.yaml.clib: about ten times faster than the pure-Python parser
    from _ruamel_yaml import CParser as _Parser
except ImportError:  # pragma: no cover - the wheel is available for every platform we support
    from ruamel.yaml.parser import Parser as _PureParser
    from ruamel.yaml.reader import Reader
    from ruamel.yaml.scanner import RoundTripScanner

    class _Parser:  # type: ignore[no-redef]
        """The pure-Python parser behind the same three calls as CParser."""

        def __init__(self, text: str):
            self.reader, self.scanner = Reader(text, self), RoundTripScanner(self)
            self.parser = _PureParser(self)
            self.get_event, self.peek_event, self.check_event = (
                self.parser.get_event,
                self.parser.peek_event,
                self.parser.check_event,
            )


log = logging.getLogger(__name__)

MAX_FILE_BYTES = 1_000_000
"""Larger than any real brief by two orders of magnitude; refuses accidental binaries."""

MAX_DEPTH = 50
"""Real content nests four levels deep; a deeper file is a mistake or an attack."""


class Positions:
    """Where a mapping or list starts, and where each of its keys, values or items is (0-based),
    with the last line each value or item reaches.

    Named and shaped like ruamel.yaml's ``lc`` so code reads the same as with its loader.
    """

    __slots__ = ("col", "data", "line")

    def __init__(self, line: int, col: int):
        self.line, self.col = line, col
        self.data: dict[str | int, tuple[int, ...]] = {}

    def key(self, key: Any) -> tuple[int, int]:
        line, column = self.data[key][0:2]
        return line, column

    def value(self, key: Any) -> tuple[int, int]:
        line, column = self.data[key][2:4]
        return line, column

    def item(self, index: int) -> tuple[int, int]:
        line, column = self.data[index][0:2]
        return line, column

    def last_line(self, key: Any) -> int:
        """The last line holding part of the value (or item) at ``key``: bounds a multi-line text."""
        return self.data[key][-1]


class YamlMap(dict[str, Any]):
    """A mapping read from YAML; ``lc`` holds the positions of its keys and values."""

    __slots__ = ("lc",)
    lc: Positions


class YamlList(list[Any]):
    """A list read from YAML; ``lc`` holds the positions of its items."""

    __slots__ = ("lc",)
    lc: Positions


class _Refused(MarkedYAMLError):
    """A YAML feature we do not accept, raised while composing, with its position."""

    hint: str | None = None


def _refuse(message: str, mark: Any, hint: str | None = None) -> _Refused:
    error = _Refused(problem=message, problem_mark=mark)
    error.hint = hint
    return error


@dataclass
class Document:
    """A loaded YAML file: its top-level mapping and the lines it came from."""

    path: Path
    data: YamlMap
    lines: list[str]
    warnings: list[Problem] = field(default_factory=list)  # valid YAML that probably says something else
    sha256: str | None = None  # of the bytes read: what was checked (the site records it)


class LoadFailed(Exception):
    """The file could not be read as a YAML mapping; ``problem`` says where and why."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


class _Composer:
    """Builds mappings and lists from parser events, keeping every key's and value's position.

    Doing this ourselves (instead of ruamel's round-trip loader) is what lets the fast C
    parser keep line and column for each value, and it is also where the restrictions are
    enforced: no aliases, no tags, no duplicate keys, no complex keys, one document.
    Scalars are resolved with the YAML 1.2 core schema, except that timestamps stay text.
    """

    def __init__(self, text: str):
        self.parser = _Parser(text)
        self.text = text
        self._lines: list[str] | None = None  # split once, when first needed
        self.depth = 0
        self.last_line = 0  # of the node composed last
        self.suspicious: list[tuple[int, int]] = []  # (line, column), 0-based: see _folded_items

    def _folded_items(self, event: Any) -> None:
        """Note a plain multi-line value with a line starting with ``- ``: an item indented one
        space too far is folded into the item above instead of starting a new one."""
        if event.style or event.start_mark.line == event.end_mark.line:
            return
        if self._lines is None:
            self._lines = self.text.splitlines()
        for number in range(event.start_mark.line + 1, min(event.end_mark.line + 1, len(self._lines))):
            line = self._lines[number]
            stripped = line.lstrip(" ")
            if stripped.startswith("- "):
                self.suspicious.append((number, len(line) - len(stripped)))

    def _ended(self, event: Any) -> None:
        # An end mark at column 0 is the start of the next line (a block scalar's end).
        self.last_line = event.end_mark.line - (event.end_mark.column == 0 and event.end_mark.line > 0)

    def document(self) -> Any:
        self.parser.get_event()  # stream start
        if not self.parser.check_event(DocumentStartEvent):
            return None
        self.parser.get_event()
        node = self.node()
        self.parser.get_event()  # document end
        if self.parser.check_event(DocumentStartEvent):
            raise _refuse(
                "a second YAML document (after ---) is not allowed",
                self.parser.peek_event().start_mark,
                "one file holds one brief, issue or publication",
            )
        return node

    def node(self) -> Any:
        event = self.parser.get_event()
        if isinstance(event, AliasEvent):
            raise _refuse(
                f"YAML aliases (*{event.anchor}) are not allowed", event.start_mark, "write the value out in full"
            )
        tag = event.tag
        if tag is not None and tag != "!":
            raise _refuse(
                f"YAML tags such as {tag.replace('tag:yaml.org,2002:', '!!')} are not allowed",
                event.start_mark,
                "remove the tag",
            )
        if isinstance(event, ScalarEvent):
            self._ended(event)
            self._folded_items(event)
            return _scalar(event)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _refuse("the YAML is nested too deeply", event.start_mark)
        try:
            if isinstance(event, SequenceStartEvent):
                return self.sequence(event)
            if isinstance(event, MappingStartEvent):
                return self.mapping(event)
        finally:
            self.depth -= 1
        raise AssertionError(f"unexpected YAML event {event!r}")  # the parser guarantees a node here

    def sequence(self, start: Any) -> YamlList:
        items = YamlList()
        items.lc = positions = Positions(start.start_mark.line, start.start_mark.column)
        while not self.parser.check_event(SequenceEndEvent):
            mark = self.parser.peek_event().start_mark
            items.append(self.node())
            positions.data[len(items) - 1] = (mark.line, mark.column, self.last_line)
        self._ended(self.parser.get_event())
        return items

    def mapping(self, start: Any) -> YamlMap:
        fields = YamlMap()
        fields.lc = positions = Positions(start.start_mark.line, start.start_mark.column)
        while not self.parser.check_event(MappingEndEvent):
            key_mark = self.parser.peek_event().start_mark
            key = self.node()
            if isinstance(key, (YamlMap, YamlList)) or key is None:
                raise _refuse("a field name must be plain text", key_mark)
            key = str(key)
            if key in fields:
                first = fields.lc.key(key)[0] + 1
                raise _refuse(f"duplicate field `{key}`", key_mark, f"it is already set on line {first}; keep one")
            value_mark = self.parser.peek_event().start_mark
            fields[key] = self.node()
            positions.data[key] = (key_mark.line, key_mark.column, value_mark.line, value_mark.column, self.last_line)
        self._ended(self.parser.get_event())
        return fields


MAX_INT_DIGITS = 30
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


def _scalar(event: Any) -> Any:
    """The value of a scalar: YAML 1.2 core schema for plain scalars, text otherwise."""
    value = event.value
    if event.style == "|":
        return LiteralScalarString(value)
    if event.style == ">":
        return FoldedScalarString(value)
    if event.style or event.tag == "!":  # quoted, or explicitly marked as text with `!`
        return value
    if value in ("", "~", "null", "Null", "NULL"):
        return None
    if value in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return value.lower() == "true"
    if _INT.fullmatch(value):
        if len(value) > MAX_INT_DIGITS:  # no field wants such a number; as text, the model explains
            return value
        return int(value, 0) if value[:2] in ("0o", "0x") else int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    if value.lower() in (".inf", "+.inf", "-.inf", ".nan"):
        return float(value.replace(".", ""))
    return value


def load_document(path: Path) -> Document:
    """Read ``path`` as a YAML mapping, or raise :class:`LoadFailed` with a located problem."""
    text, digest = _read_text(path)
    _refuse_invisible_characters(path, text)
    lines = text.splitlines()
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in lines):
        raise LoadFailed(Problem(path, 1, 1, "the file is empty", "write the fields described in docs/format.md"))
    composer = _Composer(text)
    try:
        data = composer.document()
    except MarkedYAMLError as error:
        raise LoadFailed(_tab_problem(path, lines, error) or _yaml_problem(path, error)) from None
    if data is None:
        raise LoadFailed(Problem(path, 1, 1, "the file is empty", "write the fields described in docs/format.md"))
    if not isinstance(data, YamlMap):
        kind = "a list" if isinstance(data, YamlList) else "a single value"
        first = next((i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")), 0)
        raise LoadFailed(
            Problem(
                path,
                first + 1,
                1,
                f"the file holds {kind}; it must be a mapping of fields",
                "start lines with `field: value`, for example `title: …`",
            )
        )
    log.debug("read %s (%d lines)", path, len(lines))
    return Document(
        path, data, lines, [_folded_item_warning(path, line, column) for line, column in composer.suspicious], digest
    )


def _folded_item_warning(path: Path, line: int, column: int) -> Problem:
    return Problem(
        path,
        line + 1,
        column + 1,
        "this line starts with `- ` but continues the text above: YAML joined it to the previous "
        "line instead of starting a new item",
        "indent it exactly like the other items (same column), or put the text in quotes if the dash belongs to it",
        "warning",
    )


def _read_text(path: Path) -> tuple[str, str]:
    """The text of ``path`` (UTF-8, without a byte-order mark) and the SHA-256 of its bytes."""
    try:
        status = path.stat()
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(status.st_mode):  # a FIFO or a device would block or never end
            raise LoadFailed(Problem(path, 1, 1, "is not a regular file", "a brief is a plain YAML file"))
        size = status.st_size
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
            Problem(path, line, column, f"invalid UTF-8 (byte 0x{raw[error.start]:02x})", "save the file as UTF-8")
        ) from None
    return text.removeprefix("\ufeff"), hashlib.sha256(raw).hexdigest()


def _position_of_offset(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset in undecodable bytes."""
    before = raw[:offset]
    line = before.count(b"\n") + 1
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return line, column


# Characters YAML does not allow in a file (C0 and C1 controls but tab and line breaks,
# DEL, surrogates, U+FFFE/FFFF), and the line breaks other than \n and \r that YAML
# honours but editors do not show, which would shift every line number after them.
_NOT_ALLOWED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_HIDDEN_BREAKS = re.compile(r"[\x85\u2028\u2029]")


def _refuse_invisible_characters(path: Path, text: str) -> None:
    """A control character or a hidden line break, located, before the parser trips on it."""
    found = _NOT_ALLOWED.search(text) or _HIDDEN_BREAKS.search(text)
    if not found:
        return
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    code = f"U+{ord(found.group()):04X}"
    if _HIDDEN_BREAKS.fullmatch(found.group()):
        raise LoadFailed(
            Problem(
                path,
                line,
                column,
                f"an invisible line separator ({code}) is in the text",
                "it often comes with text pasted from a PDF or a word processor; "
                "replace it with a space or a normal line break",
            )
        )
    raise LoadFailed(
        Problem(
            path,
            line,
            column,
            f"an invisible control character ({code}) is in the text",
            "delete it; it often comes with text pasted from another program",
        )
    )


def _tab_problem(path: Path, lines: list[str], error: MarkedYAMLError) -> Problem | None:
    """The tab that made the parser fail, when the failing line is indented with one.

    Only the parser can tell a tab in the indentation (refused by YAML) from a tab inside a
    ``|`` block's text (valid content), so tabs are judged after it fails, not before.
    """
    mark = error.problem_mark
    if mark is None or mark.line >= len(lines):
        return None
    line = lines[mark.line]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" not in indent:
        return None
    return Problem(
        path,
        mark.line + 1,
        indent.index("\t") + 1,
        "a tab is used for indentation",
        "YAML indents with spaces only; replace the tab with spaces",
    )


def _yaml_problem(path: Path, error: MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if isinstance(error, _Refused):
        return Problem(path, line, column, error.problem, error.hint)
    what = (error.problem or "invalid YAML").strip()
    context = f" {error.context.strip()}" if error.context else ""
    began = error.context_mark
    if began and mark and began.line != mark.line:
        context += f" that began on line {began.line + 1}, column {began.column + 1}"
    return Problem(
        path,
        line,
        column,
        f"invalid YAML: {what}{context}",
        "check indentation and quote values that contain ': ' or start with a symbol",
    )
