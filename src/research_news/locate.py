"""Where a value is in a YAML document, and pydantic's errors as located, plain-words problems.

Every problem is reported with the file, line and column of the value (or key) at fault,
in words a researcher understands. Positions come from the loaded document (see
:mod:`load`), which remembers where each key, value and item was written; inside a text
value, :func:`text_locator` finds the line and column of any character. Locating takes
time linear in the size of a file, however many links or problems it holds.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from .exceptions import Problem
from .load import Document, YamlList, YamlMap
from .models import holds_markdown

Loc = tuple[Any, ...]


# --- positions ---------------------------------------------------------------------


def _walk(data: Any, loc: Loc) -> tuple[list[tuple[Any, Any]], Loc]:
    """Follow ``loc`` into ``data``: the (container, key) pairs passed, and the real path.

    Pydantic inserts names of union members into error locations (``str``,
    ``list[...]``); segments that are not keys of the data are skipped.
    """
    steps: list[tuple[Any, Any]] = []
    real: list[Any] = []
    node = data
    for segment in loc:
        if (isinstance(node, YamlMap) and segment in node) or (
            isinstance(node, YamlList) and isinstance(segment, int) and 0 <= segment < len(node)
        ):
            steps.append((node, segment))
            real.append(segment)
            node = node[segment]
    return steps, tuple(real)


def _container_position(node: Any) -> tuple[int, int]:
    return node.lc.line + 1, node.lc.col + 1


def position_of(data: Any, loc: Loc, *, key: bool = False) -> tuple[int, int]:
    """1-based line and column of the value at ``loc`` (or of its key when ``key``)."""
    steps, _ = _walk(data, loc)
    if not steps:
        return _container_position(data)
    container, segment = steps[-1]
    if isinstance(container, YamlMap):
        line, column = container.lc.key(segment) if key else container.lc.value(segment)
    else:
        line, column = container.lc.item(segment)
    return line + 1, column + 1


def _missing_position(data: Any, loc: Loc) -> tuple[int, int]:
    """A missing field is reported at the mapping that should hold it (or the key naming it)."""
    steps, _ = _walk(data, loc[:-1])
    node = steps[-1][0][steps[-1][1]] if steps else data
    if isinstance(node, (YamlMap, YamlList)) and len(node):
        return _container_position(node)
    return position_of(data, loc[:-1], key=True) if steps else (1, 1)


def field_path(loc: Loc) -> str:
    """``('authors', 0, 'email')`` → ``authors[0].email``."""
    text = ""
    for segment in loc:
        text += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if text else str(segment))
    return text


def position_in_text(doc: Document, loc: Loc, offset: int) -> tuple[int, int]:
    """Line and column of character ``offset`` inside the text value at ``loc``."""
    return text_locator(doc, loc)(offset)


def text_locator(doc: Document, loc: Loc) -> Callable[[int], tuple[int, int]]:
    """A function from offsets in the text value at ``loc`` to their line and column.

    Exact for block scalars (``|`` and ``>``), which is how long markdown is written, for
    quoted text (its escapes and folded lines read as YAML reads them, see :func:`_quoted_segments`)
    and for plain text; where the source cannot be matched to the value, the start of the value.
    The value is matched to its source lines once, so locating each of many links in it
    costs a binary search, not a scan of the text before it.
    """
    line, column = position_of(doc.data, loc)
    steps, _ = _walk(doc.data, loc)
    value = steps[-1][0][steps[-1][1]] if steps else None
    if not isinstance(value, str) or line > len(doc.lines):
        return lambda offset: (line, column)
    container, segment = steps[-1]
    last = min(container.lc.last_line(segment), len(doc.lines) - 1)
    segments, mapped = _source_segments(doc.lines, line - 1, column - 1, last, value)
    starts = [start for start, _, _ in segments]

    def locate(offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(starts, offset) - 1
        if index < 0 or offset >= mapped:
            return line, column
        start, row, col = segments[index]
        return row + 1, col + offset - start + 1

    return locate


_CONTENT = re.compile(r"[^ \n]")
"""What YAML keeps of a source line: line breaks and indentation are all it folds or strips."""


def _source_segments(
    lines: list[str], row: int, col: int, last: int, value: str
) -> tuple[list[tuple[int, int, int]], int]:
    """Where each source line's part of ``value`` begins: ([(offset, row, col)], offsets mapped).

    YAML copies the text of each line into the value and only changes what is between
    lines (line breaks, indentation, a fold into a space) and around the value (quotes,
    chomping). So the value is walked once, each source line's text matched where the
    value's next non-blank character is; matching stops at the first line that differs
    (an escape in a quoted value), and offsets past it are not placed.
    """
    segments: list[tuple[int, int, int]] = []
    position = 0
    if isinstance(value, (LiteralScalarString, FoldedScalarString)):
        row += 1  # the text starts on the line after the `|` or `>`
    elif (quoted := _quoted_segments(lines, row, col, last, value)) is not None:
        return quoted
    else:
        col += lines[row][col : col + 1] in ("'", '"')  # inside the quote
        position = _shared_length(value, 0, lines[row][col:])
        segments.append((0, row, col))
        row += 1
    while row <= last:
        following = _CONTENT.search(value, position)
        if following is None:
            break
        source = lines[row]
        written = source.lstrip(" ")
        row += 1
        if not written:
            continue
        shared = _shared_length(value, following.start(), written)
        if not shared:
            break
        segments.append((following.start(), row - 1, len(source) - len(written)))
        position = following.start() + shared
    return segments, position


ESCAPES = {
    **{"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r"},
    **{"e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"},
}
"""A double-quoted value's escapes of one character (YAML 1.2, 5.7), and what each stands for."""

HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}
"""A double-quoted value's escapes by code point, and how many hexadecimal digits follow each."""


def _quoted_segments(
    lines: list[str], row: int, col: int, last: int, value: str
) -> tuple[list[tuple[int, int, int]], int] | None:
    """:func:`_source_segments` for a quoted value whose opening quote is at ``lines[row][col]``: its
    source read as YAML reads it (escapes, a doubled single quote, lines folded into a space or kept
    as line breaks, an escaped line break), each character's place kept. ``None`` when what is read
    this way is not ``value`` (the caller then places what it can), or the value is not quoted."""
    quote = lines[row][col : col + 1]
    if quote not in ("'", '"'):
        return None
    read: list[str] = []
    segments = [(0, row, col + 1)]
    column = col + 1
    while row <= last:
        line, blank_tail, joined = lines[row], 0, False  # blank_tail: spaces written last on this line
        while column < len(line):
            char = line[column]
            if char == quote and quote == "'" and line[column + 1 : column + 2] == "'":
                width, char = 2, "'"
            elif char == quote:
                return (segments, len(value)) if "".join(read) == value else None
            elif char == "\\" and quote == '"':
                escape = line[column + 1 : column + 2]
                if not escape:  # an escaped line break: the next line follows with no space
                    joined = True
                    break
                digits = line[column + 2 : column + 2 + HEX_ESCAPES.get(escape, 0)]
                if escape in ESCAPES:
                    width, char = 2, ESCAPES[escape]
                elif escape in HEX_ESCAPES and len(digits) == HEX_ESCAPES[escape] and _is_hex(digits):
                    width, char = 2 + len(digits), chr(min(int(digits, 16), 0x10FFFF))
                else:
                    return None
            else:
                read.append(char)
                blank_tail = blank_tail + 1 if char in " \t" else 0
                column += 1
                continue
            segments.append((len(read), row, column))  # one character, written as several
            read.append(char)
            blank_tail = 0
            column += width
            segments.append((len(read), row, column))
        if not joined:  # a line break folds: spaces before it dropped, blank lines kept as line breaks
            del read[len(read) - blank_tail :]
        row += 1
        blank = 0
        while not joined and row <= last and not lines[row].strip(" \t"):
            blank, row = blank + 1, row + 1
        if not joined:
            read.extend("\n" * blank if blank else " ")
        if row > last:
            break
        column = len(lines[row]) - len(lines[row].lstrip(" \t"))
        segments = [segment for segment in segments if segment[0] < len(read)]
        segments.append((len(read), row, column))
    return None


def _is_hex(digits: str) -> bool:
    return all(char in "0123456789abcdefABCDEF" for char in digits)


def _shared_length(value: str, start: int, written: str) -> int:
    """How many characters of ``written`` ``value`` holds from ``start``."""
    if value.startswith(written, start):
        return len(written)
    length = 0
    for char in written:  # only the last line of a value can differ (a closing quote, a comment)
        if start + length >= len(value) or value[start + length] != char:
            break
        length += 1
    return length


# --- messages ----------------------------------------------------------------------


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}` (true/false)"
    if isinstance(value, (int, float)):
        return f"the number {value}" if len(str(value)) <= 40 else "a very long number"
    if isinstance(value, (list, YamlList)):
        return "a list"
    if isinstance(value, (dict, YamlMap)):
        return "a mapping"
    if value is None:
        return "empty"
    return f'"{shorten(str(value))}"'


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters for quoting in a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def suggestion(wrong: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(str(wrong), list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def _fields_of(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names (as written in YAML) of the model that owns ``loc``."""
    current: Any = model
    for segment in loc:
        if isinstance(segment, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = field_named(current, segment)
        if info is None:
            break
        current = model_inside(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def field_named(model: type[BaseModel], name: str) -> Any:
    """The field of ``model`` written ``name`` in YAML (its alias, or its own name), or None."""
    return model.model_fields.get(name) or next((f for f in model.model_fields.values() if f.alias == name), None)


def model_inside(annotation: Any) -> Any:
    """The pydantic model inside ``list[Model]``, ``Model | None`` and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = model_inside(arg)
        if found is not None:
            return found
    return None


PATTERN_MESSAGES = {
    "primary": "is not a colour; write it as #rrggbb, e.g. #0b4f6c",
    "accent": "is not a colour; write it as #rrggbb, e.g. #e07a1f",
    "language": "is not a language code; write it like en, fr or pt-BR",
    "languages": "is not a language code; write it like en, fr or pt-BR",
    "date_locale": "is not a language code; write it like en-GB, fr or pt-BR",
    "orcid": "is not an ORCID iD; write it as 0000-0002-1825-0097",
}


def _message(error: dict, model: type[BaseModel]) -> tuple[str, str | None, bool]:
    """(message, hint, points_at_key) for one pydantic error."""
    kind, ctx, value = error["type"], error.get("ctx", {}), error["input"]
    loc = error["_real_loc"]
    name = field_path(loc)
    last = next((s for s in reversed(loc) if isinstance(s, str)), "")
    if kind == "missing":
        missing = error["loc"][-1]
        # The full path (figures[0].alt), so a field missing from one of several items is found.
        return f"missing required field `{field_path((*loc, missing))}`", f"add `{missing}: …`", False
    if kind == "extra_forbidden":
        allowed = _fields_of(model, loc[:-1])
        hint = suggestion(loc[-1], allowed) or ("allowed fields: " + ", ".join(allowed) if allowed else None)
        return f"unknown field `{loc[-1]}`", hint, True
    if kind in {"string_type"}:
        hint = "put the value in quotes" if isinstance(value, (int, float, bool)) else None
        return f"{name}: expected text, got {_describe(value)}", hint, False
    if kind in {"list_type"}:
        return f"{name}: expected a list (lines starting with `- `), got {_describe(value)}", None, False
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"{name}: expected a mapping of fields (`key: value` lines), got {_describe(value)}", None, False
    if kind == "too_short":
        need = ctx.get("min_length", 1)
        return f"{name}: needs at least {need} item{'s' if need != 1 else ''}", None, False
    if kind == "too_long" and isinstance(value, str):
        return f"{name}: is {len(value)} characters long; the limit is {ctx.get('max_length')}", None, False
    if kind == "too_long":
        return (
            f"{name}: has {ctx.get('actual_length')} items; at most {ctx.get('max_length')} are allowed",
            None,
            False,
        )
    if kind == "string_too_long":
        return (
            f"{name}: is {len(value)} characters long; the limit is {ctx.get('max_length')}",
            "shorten it; a subtitle can hold the rest" if last == "title" else None,
            False,
        )
    if kind == "string_pattern_mismatch":
        return f"{name}: {_describe(value)} {PATTERN_MESSAGES.get(last, 'is not in the expected form')}", None, False
    if kind == "literal_error":
        expected = [c.strip(" '") for c in str(ctx.get("expected", "")).replace(" or ", ",").split(",") if c.strip()]
        about_key = "[key]" in error["loc"]  # a mapping key (e.g. under `limits`) is wrong, not a value
        return (
            f"{name}: {_describe(value)} is not one of {', '.join(expected)}",
            suggestion(str(value), expected),
            about_key,
        )
    if kind in {"int_type", "int_parsing", "int_from_float", "greater_than"}:
        return f"{name}: expected a positive whole number, got {_describe(value)}", None, False
    if kind in {"bool_type", "bool_parsing"}:
        return f"{name}: expected true or false, got {_describe(value)}", None, False
    if kind in {"date_type", "date_parsing", "date_from_datetime_parsing"}:
        return f"{name}: {_describe(value)} is not a date; write it as YYYY-MM-DD", None, False
    return f"{name}: {error['msg']}", None, False


TYPE_ERRORS = {"string_type", "list_type", "dict_type", "model_type", "model_attributes_type"}
"""Errors that only say the value is of another kind than a field (or one branch of it) wants."""


def model_problems(doc: Document, model: type[BaseModel], error: ValidationError) -> list[Problem]:
    """Located, plain-words problems for every error pydantic found in ``doc``."""
    errors: list[dict[str, Any]] = [dict(raw) for raw in error.errors(include_url=False)]
    for raw in errors:
        _, raw["_real_loc"] = _walk(doc.data, raw["loc"])
    explained = _explained_locations(errors)
    problems = []
    for raw in errors:
        if _other_branch(raw) and raw["_real_loc"] in explained:
            continue  # `expected text, got a list` where the list form was taken, and is wrong inside
        colon = _colon_problem(doc, raw)
        if colon:
            problems.append(colon)
            continue
        message, hint, at_key = _message(raw, model)
        if raw["type"] == "missing":
            line, column = _missing_position(doc.data, raw["loc"])
        else:
            line, column = position_of(doc.data, raw["_real_loc"], key=at_key)
        problems.append(Problem(doc.path, line, column, message, hint))
    return problems


def _other_branch(raw: dict) -> bool:
    """A type error from one member of a union (``text or a list``): its location names the member."""
    return raw["type"] in TYPE_ERRORS and len(raw["loc"]) > len(raw["_real_loc"])


def _explained_locations(errors: list[dict]) -> set[Loc]:
    """Locations some error explains better than a type error: errors inside the value, or
    errors about its content rather than its kind."""
    explained: set[Loc] = set()
    for raw in errors:
        real = raw["_real_loc"]
        explained.update(real[:end] for end in range(len(real)))
        if raw["type"] not in TYPE_ERRORS:
            explained.add(real)
    return explained


def _colon_problem(doc: Document, raw: dict) -> Problem | None:
    """Text that YAML read as a mapping because of an unquoted `: ` (`- Note: voir le rapport`).

    Common in French, where a space also goes before the colon (`Résultat : 40 %` is a
    mapping too). Pointed at the colon, with the text quoted as it should be written.
    """
    steps, real = _walk(doc.data, raw["loc"])
    node = steps[-1][0][steps[-1][1]] if steps else None
    if raw["type"] != "string_type" or not isinstance(node, YamlMap) or not node:
        return None
    key = next(iter(node))
    line, column = node.lc.key(key)
    source = doc.lines[line] if line < len(doc.lines) else ""
    colon = source.find(":", column + len(key))
    column = colon if colon >= 0 and not source[column:colon].strip(" ").endswith(("'", '"')) else column
    return Problem(
        doc.path,
        line + 1,
        column + 1,
        f'{field_path(real)}: the colon after "{shorten(key, 40)}" made YAML read a field name, '
        "so this is a mapping, not text",
        _quoting_hint(doc, node, key),
    )


def _quoting_hint(doc: Document, node: YamlMap, key: str) -> str:
    """How to write text holding `: `: the line as typed, in quotes, when it is one line."""
    line, column = node.lc.key(key)
    written = doc.lines[line][column:].rstrip() if line < len(doc.lines) else ""
    one_line = (
        len(node) == 1
        and not isinstance(node[key], (YamlMap, YamlList))
        and (node[key] is None or node.lc.value(key)[0] == line)
    )
    if one_line and written and not any(mark in written for mark in ('"', "\\", " #")):
        return f'put the text in quotes: "{written}", or write | and the text on the lines below, indented'
    return "put the text in quotes, or write | and the text on the lines below, indented"


# --- values of a document, with their locations ------------------------------------


def strings(node: Any, loc: Loc) -> Iterable[tuple[Loc, str]]:
    if isinstance(node, YamlMap):
        for key, value in node.items():
            yield from strings(value, (*loc, key))
    elif isinstance(node, YamlList):
        for index, value in enumerate(node):
            yield from strings(value, (*loc, index))
    elif isinstance(node, str):
        yield loc, node


def markdown_strings(node: Any, field: Any, loc: Loc) -> Iterable[tuple[Loc, str]]:
    """The text values in ``node`` that ``field`` (a model, or a model's field) reads as markdown."""
    if isinstance(node, str):
        if holds_markdown(field):
            yield loc, node
    elif isinstance(node, YamlList):
        for index, item in enumerate(node):
            yield from markdown_strings(item, field, (*loc, index))
    elif isinstance(node, YamlMap) and (model := model_inside(getattr(field, "annotation", field))) is not None:
        for key, value in node.items():
            if (info := field_named(model, key)) is not None:
                yield from markdown_strings(value, info, (*loc, key))
    elif isinstance(node, YamlMap) and holds_markdown(field):  # markdown per language: {en: …, fr: …}
        for key, value in node.items():
            yield from markdown_strings(value, field, (*loc, key))


def raw_strings(data: Any, patterns: list[Loc]) -> Iterable[tuple[Loc, str]]:
    """String values of the raw data at locations matching ``patterns`` (``*`` = every item)."""
    for pattern in patterns:
        yield from _match(data, pattern, ())


def _match(node: Any, pattern: Loc, loc: Loc) -> Iterable[tuple[Loc, str]]:
    if not pattern:
        if isinstance(node, str):
            yield loc, node
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*" and isinstance(node, YamlList):
        for index, item in enumerate(node):
            yield from _match(item, rest, (*loc, index))
    elif isinstance(node, YamlMap) and head in node:
        yield from _match(node[head], rest, (*loc, head))
