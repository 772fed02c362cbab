"""Stage 2: check loaded documents against the model and against the file system.

Every problem is reported with the file, line and column of the value (or key) at
fault, in words a researcher understands, and every problem of a file is reported at
once. Cross-file rules live here too: brief paths of an issue, image paths, and the
content tree boundary (the folder holding ``publication.yaml``).

Link rules apply to the fields the model reads as markdown; plain text fields keep
their own rules (one line, no control characters) and are shown escaped. Checking
takes time linear in the size of a file, however many links or problems it holds.
"""

from __future__ import annotations

import bisect
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from pydantic import BaseModel, ValidationError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from . import markdown
from .exceptions import ContentError, Problem
from .images import SIGNATURES, image_problem
from .layout import find_layout, layout_candidates, layout_problems
from .load import Document, LoadFailed, YamlList, YamlMap, load_document
from .models import Brief, Issue, Publication, Strict, holds_markdown
from .sections import issue_model
from .slugs import brief_slug

PUBLICATION_FILE = "publication.yaml"
ISSUE_FILE = "issue.yaml"

ISSUE_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""The issue folder's name is the slug of every output file and URL."""

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
        if isinstance(node, YamlMap) and segment in node:
            steps.append((node, segment))
            real.append(segment)
            node = node[segment]
        elif isinstance(node, YamlList) and isinstance(segment, int) and 0 <= segment < len(node):
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

    Exact for block scalars (``|`` and ``>``), which is how long markdown is written, and
    for plain or quoted text up to its first escape; elsewhere, the start of the value.
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


def _source_segments(lines: list[str], row: int, col: int, last: int,
                     value: str) -> tuple[list[tuple[int, int, int]], int]:
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
    else:
        col += lines[row][col:col + 1] in ("'", '"')  # inside the quote
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


def _suggestion(wrong: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(str(wrong), list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def _fields_of(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names (as written in YAML) of the model that owns ``loc``."""
    current: Any = model
    for segment in loc:
        if isinstance(segment, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = _field_named(current, segment)
        if info is None:
            break
        current = _model_inside(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _field_named(model: type[BaseModel], name: str) -> Any:
    """The field of ``model`` written ``name`` in YAML (its alias, or its own name), or None."""
    return model.model_fields.get(name) or next((f for f in model.model_fields.values() if f.alias == name), None)


def _model_inside(annotation: Any) -> Any:
    """The pydantic model inside ``list[Model]``, ``Model | None`` and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_inside(arg)
        if found is not None:
            return found
    return None


PATTERN_MESSAGES = {
    "primary": "is not a colour; write it as #rrggbb, e.g. #0b4f6c",
    "accent": "is not a colour; write it as #rrggbb, e.g. #e07a1f",
    "language": "is not a language code; write it like en, fr or pt-BR",
    "languages": "is not a language code; write it like en, fr or pt-BR",
    "doi": "is not a DOI; write it like 10.1234/abcd (without https://doi.org/)",
    "orcid": "is not an ORCID iD; write it as 0000-0002-1825-0097",
}


def _message(error: dict, model: type[BaseModel]) -> tuple[str, str | None, bool]:
    """(message, hint, points_at_key) for one pydantic error."""
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    loc = error["_real_loc"]
    name = field_path(loc)
    last = next((s for s in reversed(loc) if isinstance(s, str)), "")
    if kind == "missing":
        missing = error["loc"][-1]
        return f"missing required field `{missing}`", f"add `{missing}: …`", False
    if kind == "extra_forbidden":
        allowed = _fields_of(model, loc[:-1])
        hint = _suggestion(loc[-1], allowed) or ("allowed fields: " + ", ".join(allowed) if allowed else None)
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
        return (f"{name}: has {ctx.get('actual_length')} items; at most {ctx.get('max_length')} are allowed",
                None, False)
    if kind == "string_too_long":
        return (f"{name}: is {len(value)} characters long; the limit is {ctx.get('max_length')}",
                "shorten it; a subtitle can hold the rest" if last == "title" else None, False)
    if kind == "string_pattern_mismatch":
        return f"{name}: {_describe(value)} {PATTERN_MESSAGES.get(last, 'is not in the expected form')}", None, False
    if kind == "literal_error":
        expected = [c.strip(" '") for c in str(ctx.get("expected", "")).replace(" or ", ",").split(",") if c.strip()]
        about_key = "[key]" in error["loc"]  # a mapping key (e.g. under `limits`) is wrong, not a value
        return (f"{name}: {_describe(value)} is not one of {', '.join(expected)}",
                _suggestion(str(value), expected), about_key)
    if kind in {"int_type", "int_parsing", "int_from_float", "greater_than"}:
        return f"{name}: expected a positive whole number, got {_describe(value)}", None, False
    if kind in {"bool_type", "bool_parsing"}:
        return f"{name}: expected true or false, got {_describe(value)}", None, False
    if kind in {"date_type", "date_parsing", "date_from_datetime_parsing"}:
        return f"{name}: {_describe(value)} is not a date; write it as YYYY-MM-DD", None, False
    return f"{name}: {error['msg']}", None, False


TYPE_ERRORS = {"string_type", "list_type", "dict_type", "model_type", "model_attributes_type"}
"""Errors that only say the value is of another kind than a field (or one branch of it) wants."""


def model_problems(doc: Document, model: type[Strict], error: ValidationError) -> list[Problem]:
    """Located, plain-words problems for every error pydantic found in ``doc``."""
    errors = [dict(raw) for raw in error.errors(include_url=False)]
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
    return Problem(doc.path, line + 1, column + 1,
                   f'{field_path(real)}: the colon after "{shorten(key, 40)}" made YAML read a field name, '
                   "so this is a mapping, not text", _quoting_hint(doc, node, key))


def _quoting_hint(doc: Document, node: YamlMap, key: str) -> str:
    """How to write text holding `: `: the line as typed, in quotes, when it is one line."""
    line, column = node.lc.key(key)
    written = doc.lines[line][column:].rstrip() if line < len(doc.lines) else ""
    one_line = len(node) == 1 and not isinstance(node[key], (YamlMap, YamlList)) and (
        node[key] is None or node.lc.value(key)[0] == line)
    if one_line and written and not any(mark in written for mark in ('"', "\\", " #")):
        return f'put the text in quotes: "{written}", or write | and the text on the lines below, indented'
    return "put the text in quotes, or write | and the text on the lines below, indented"


# --- the checker -------------------------------------------------------------------


@dataclass
class BriefEntry:
    """A validated brief with where it came from."""

    path: Path
    brief: Brief
    doc: Document


@dataclass
class Content:
    """Everything one issue needs, validated: what the assembly stage works from."""

    root: Path
    publication: Publication
    issue_dir: Path
    issue: Issue
    briefs: dict[Path, BriefEntry]
    warnings: list[Problem] = field(default_factory=list)


def find_root(start: Path) -> Path | None:
    """The content tree holding ``start``: the nearest folder above it with publication.yaml."""
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.parents]:
        if (candidate / PUBLICATION_FILE).is_file():
            return candidate
    return None


class Checker:
    """Collects problems across many files; each file is read and checked once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._models: dict[tuple[Path, type], tuple[Document | None, Any]] = {}
        # A thousand briefs share a handful of folders and images: ask the file system once.
        self._real_paths: dict[Path, Path] = {}
        self._files: dict[Path, bool] = {}
        self._image_problems: dict[Path, tuple[str, str] | None] = {}

    def _resolved(self, path: Path) -> Path:
        if path not in self._real_paths:
            try:
                self._real_paths[path] = path.resolve()
            except (RuntimeError, OSError):  # a symbolic link loop, a name too long: reading it will say so
                self._real_paths[path] = path.absolute()
        return self._real_paths[path]

    def _is_file(self, path: Path) -> bool:
        if path not in self._files:
            try:
                self._files[path] = path.is_file()
            except OSError:  # a name too long for the file system
                self._files[path] = False
        return self._files[path]

    # files

    def _model(self, path: Path, model: type[Strict]) -> tuple[Document | None, Any]:
        """(document or None if unreadable, validated model or None) for ``path``, read once."""
        key = (self._resolved(path), model)
        if key not in self._models:
            self._models[key] = self._validate(path, model)
        return self._models[key]

    def _validate(self, path: Path, model: type[Strict]) -> tuple[Document | None, Any]:
        try:
            doc = load_document(path)
        except LoadFailed as failure:
            self.problems.append(failure.problem)
            return None, None
        self._check_strings(doc, model)
        try:
            return doc, model.model_validate(doc.data)
        except ValidationError as error:
            self.problems.extend(model_problems(doc, model, error))
            return doc, None

    def _seen(self, path: Path, model: type[Strict]) -> bool:
        return (self._resolved(path), model) in self._models

    def publication(self, root: Path) -> Publication | None:
        """The publication of the content tree at ``root``, with its logo checked."""
        first = not self._seen(root / PUBLICATION_FILE, Publication)
        doc, publication = self._model(root / PUBLICATION_FILE, Publication)
        if doc and first:
            for loc, written in _raw_strings(doc.data, [("logo",)]):
                self._check_image(doc, loc, written, root)
            if publication and "about" in publication.limits and publication.about:
                self._limit(doc, ("about",), publication.about, publication.limits["about"])
            if publication and not publication.web_base_url:
                self._add(doc, (), "no `web_base_url`: the email edition needs it for its links and images",
                          "add `web_base_url: https://…` where the web editions will be published", severity="warning")
            if publication and find_layout(root, publication.layout) is not None:
                self.problems.extend(layout_problems(root, publication.layout))
            elif publication:
                candidates = layout_candidates(root, publication.layout)
                if any(folder.is_dir() for folder in candidates):
                    self._add(doc, ("layout",), f'layout: "{publication.layout}" is outside the content tree '
                              "and its layouts/ folder", "put the layout in layouts/ next to the issues and "
                              "write its name, e.g. `layout: house`")
                else:
                    tried = ", ".join(str(p) for p in candidates)
                    self._add(doc, ("layout",), f'layout: no layout "{publication.layout}"', f"looked in {tried}")
        return publication

    def brief(self, path: Path, root: Path | None = None) -> BriefEntry | None:
        """A validated brief; its images are checked against the content tree."""
        root = root or self._root_for(path)
        if root is None or not self._brief_file(path, root):
            return None
        first = not self._seen(path, Brief)
        doc, brief = self._model(path, Brief)
        if doc and first:
            # Image paths are checked even when other fields are wrong: all errors at once.
            for loc, written in _raw_strings(doc.data, [("authors", "*", "photo"), ("figures", "*", "src")]):
                self._check_image(doc, loc, written, root)
            publication = self.publication(root)
            if brief and publication:
                self._check_limits(doc, brief, publication.limits)
                if brief.language:
                    self._check_language(doc, brief.language, publication)
        return BriefEntry(path, brief, doc) if brief else None

    def issue(self, issue_dir: Path) -> Content | None:
        """The issue in ``issue_dir`` with its publication and every brief it lists."""
        path = issue_dir / ISSUE_FILE
        root = self._root_for(path)
        if root is None:
            return None
        publication = self.publication(root)
        doc, issue = self._model(path, issue_model())  # with the registered section types
        if doc is None:
            return None
        if not ISSUE_FOLDER_NAME.fullmatch(issue_dir.resolve().name):
            self._add(doc, (), f'the issue folder "{shorten(issue_dir.resolve().name)}" names the output files '
                      "and web addresses, so it may only hold letters, digits, dots, hyphens and underscores",
                      "rename the folder, e.g. 2024-06-open-science")
        briefs: dict[Path, BriefEntry] = {}
        seen: dict[Path, int] = {}
        slugs: dict[str, tuple[str, int]] = {}  # slug → the listing that took it first
        for loc, relative in _raw_strings(doc.data, [("sections", "*", "briefs", "*")]):
            brief_path = self._contained_path(doc, loc, relative, root, kinds=(".yaml", ".yml"), what="brief")
            if brief_path is None:
                continue
            if brief_path.name in (ISSUE_FILE, PUBLICATION_FILE):
                self._add(doc, loc, f'{field_path(loc)}: "{relative}" is the {brief_path.stem} file, not a brief',
                          "list the briefs' own files, e.g. briefs/my-study.yaml")
                continue
            line, _ = position_of(doc.data, loc)
            if brief_path in seen:
                self._add(doc, loc, f"{field_path(loc)}: this brief is already listed",
                          f"a brief appears once per issue; see line {seen[brief_path]}")
                continue
            seen[brief_path] = line
            slug = brief_slug(brief_path)
            if slug in slugs:
                other, other_line = slugs[slug]
                self._add(doc, loc, f'{field_path(loc)}: "{relative}" would be published as `{slug}`, like '
                          f'"{other}" on line {other_line} (offprints/{slug}.pdf, #brief-{slug})',
                          "rename one of the two files: a brief's file name names its offprint and its "
                          "place in the web edition")
            else:
                slugs[slug] = (relative, line)
            entry = self.brief(brief_path, root)
            if entry:
                briefs[brief_path] = entry
        if publication and issue:
            self._check_language(doc, issue.language, publication)
        if publication and issue and issue.editorial and "editorial" in publication.limits:
            self._limit(doc, ("editorial",), issue.editorial, publication.limits["editorial"])
        if not (publication and issue):
            return None
        return Content(root, publication, issue_dir, issue, briefs)

    # rules

    def _brief_file(self, path: Path, root: Path) -> bool:
        """A brief is read only if it lies inside the content tree and is not one of its other files."""
        resolved = self._resolved(path)
        if not resolved.is_relative_to(self._resolved(root)):
            self.problems.append(Problem(path, 1, 1, f"this brief is outside the content tree ({self._resolved(root)}), "
                                         "so it was not read", "a symbolic link may point out of the tree; "
                                         "copy the brief into the issue's briefs/ folder"))
            return False
        if resolved.name in (ISSUE_FILE, PUBLICATION_FILE):
            self.problems.append(Problem(path, 1, 1, f"{resolved.name} is not a brief",
                                         "list the briefs' own files, e.g. briefs/my-study.yaml"))
            return False
        return True

    def _root_for(self, path: Path) -> Path | None:
        root = find_root(path)
        if root is None:
            self.problems.append(Problem(
                path, 1, 1, f"no {PUBLICATION_FILE} in this folder or any folder above it",
                "content lives in a tree whose top folder holds publication.yaml",
            ))
        return root

    def _add(self, doc: Document, loc: Loc, message: str, hint: str | None = None, *, severity="error") -> None:
        line, column = position_of(doc.data, loc)
        self.problems.append(Problem(doc.path, line, column, message, hint, severity))

    def _contained_path(self, doc: Document, loc: Loc, written: str, root: Path, *,
                        kinds: tuple[str, ...], what: str) -> Path | None:
        """The file ``written`` names, if it is a local file inside the content tree."""
        name = field_path(loc)
        if not written.isprintable():
            self._add(doc, loc, f'{name}: "{written}" contains an invisible character', "retype the path")
            return None
        if len(written) > 1000 or any(len(part.encode()) > 255 for part in written.split("/")):
            self._add(doc, loc, f'{name}: "{shorten(written)}" is too long for a file name',
                      "use short file names: at most 255 bytes per folder or file name")
            return None
        if "://" in written or written.split(":", 1)[0].lower() in ("http", "https", "data", "file", "ftp"):
            self._add(doc, loc, f'{name}: "{written}" is a URL; nothing is downloaded',
                      f"save the file under images/ and write its path relative to {doc.path.name}")
            return None
        if Path(written).is_absolute() or written.startswith("~"):
            self._add(doc, loc, f'{name}: "{written}" is an absolute path',
                      f"write the path relative to the folder of {doc.path.name}, e.g. ../images/photo.png")
            return None
        target = (doc.path.parent / written)
        resolved = self._resolved(target)
        if not resolved.is_relative_to(self._resolved(root)):
            self._add(doc, loc, f'{name}: "{written}" points outside the content tree ({self._resolved(root)})',
                      "keep every file inside the folder that holds publication.yaml")
            return None
        if resolved.suffix.lower() not in kinds:
            self._add(doc, loc, f'{name}: "{written}" is not a {what} file ({", ".join(kinds)})')
            return None
        if not self._is_file(resolved) and resolved.is_dir():
            self._add(doc, loc, f'{name}: "{written}" is a folder, not a {what} file')
            return None
        if not self._is_file(resolved):
            hint = _suggestion(target.name, [p.name for p in target.parent.glob("*")]) if target.parent.is_dir() else None
            self._add(doc, loc, f'{name}: "{written}" does not exist', hint or "check the spelling and the folder")
            return None
        return resolved

    def _check_image(self, doc: Document, loc: Loc, written: str, root: Path) -> None:
        path = self._contained_path(doc, loc, written, root, kinds=tuple(SIGNATURES), what="png, jpg or svg image")
        if path is None:
            return
        if path not in self._image_problems:
            self._image_problems[path] = image_problem(path)
        if self._image_problems[path]:
            what, hint = self._image_problems[path]
            self._add(doc, loc, f'{field_path(loc)}: "{written}" {what}', hint)

    def _check_strings(self, doc: Document, model: type[Strict]) -> None:
        """Placeholders in every text value; links in the values the model reads as markdown.

        Checked on the raw data, so they are reported even when other fields are wrong.
        """
        for loc, text in _strings(doc.data, ()):
            if text.lstrip()[:4].upper() == "TODO":
                self._placeholder(doc, loc, text)
        for loc, text in _markdown_strings(doc.data, model, ()):
            if "](" in text or "<" in text or "]:" in text:  # inline links, autolinks, reference definitions
                self._check_links(doc, loc, text)

    def _check_links(self, doc: Document, loc: Loc, text: str) -> None:
        """Links in markdown: only http, https and mailto; no images."""
        locate = None  # matched to the file only when a link must be reported
        for link in markdown.links_in(text):
            if link.is_image:
                message, hint = "images are not allowed inside text", "add it under `figures:` with alt text and a credit"
            elif not markdown.link_allowed(link.href):
                message, hint = f'the link "{link.href}" is not allowed', "links must start with http:, https: or mailto:"
            else:
                continue
            locate = locate or text_locator(doc, loc)
            line, column = locate(link.offset)
            self.problems.append(Problem(doc.path, line, column, f"{field_path(loc)}: {message}", hint))

    def _placeholder(self, doc: Document, loc: Loc, text: str) -> None:
        """A value still holding a `research-news new` placeholder."""
        line, column = position_in_text(doc, loc, text.upper().find("TODO"))
        self.problems.append(Problem(doc.path, line, column,
                                     f"{field_path(loc)}: still holds the template's TODO placeholder",
                                     "replace it with your text, or delete the line if the field is optional"))

    def _check_language(self, doc: Document, language: str, publication: Publication) -> None:
        """A publication that lists its languages accepts only those (catches `language: eng`)."""
        if publication.languages and language not in publication.languages:
            where = ("language",) if "language" in doc.data else ()
            self._add(doc, where, f'language: "{language}" is not one of the publication\'s languages '
                      f'({", ".join(publication.languages)})', _suggestion(language, publication.languages)
                      or "add it to `languages:` in publication.yaml")

    def _check_limits(self, doc: Document, brief: Brief, limits: dict[str, int]) -> None:
        for name, limit in limits.items():
            if name in ("why_it_matters", "methodology", "key_findings", "key_takeaways"):
                self._limit(doc, (name,), getattr(brief, name), limit)
            elif name == "bio":
                for index, author in enumerate(brief.authors):
                    self._limit(doc, ("authors", index, "bio"), author.bio, limit)

    def _limit(self, doc: Document, loc: Loc, text: Any, limit: int) -> None:
        words = markdown.word_count(text)
        if words > limit:
            self._add(doc, loc, f"{field_path(loc)}: {words} words; the publication's limit is {limit}",
                      f"cut {words - limit} words", severity="warning")

    # entry points

    def check_path(self, path: Path) -> None:
        """Check whatever ``path`` is: a brief, an issue, a publication, or a folder of them."""
        try:
            self._check_path(path)
        except OSError as error:  # a name too long, a symbolic link loop, a folder we may not list
            self.problems.append(Problem(path, 1, 1, f"cannot be read: {error.strerror or error}"))

    def _check_path(self, path: Path) -> None:
        if path.is_dir():
            if (path / ISSUE_FILE).is_file():
                self.issue(path)
                self._check_unlisted(path)
            elif (path / PUBLICATION_FILE).is_file():
                self.publication(path)
                for issue_file in sorted(path.rglob(ISSUE_FILE)):
                    self.issue(issue_file.parent)
                    self._check_unlisted(issue_file.parent)
            else:
                files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
                if not files:
                    self.problems.append(Problem(path, 1, 1, "no YAML files in this folder"))
                for file in files:
                    self.brief(file)
        elif path.name == PUBLICATION_FILE:
            self.publication(path.parent)
        elif path.name == ISSUE_FILE:
            self.issue(path.parent)
        elif not path.exists():
            self.problems.append(Problem(path, 1, 1, "no such file or folder"))
        else:
            self.brief(path)

    def _check_unlisted(self, issue_dir: Path) -> None:
        """Briefs in briefs/ that no section lists are checked too, and pointed out."""
        for file in sorted((issue_dir / "briefs").glob("*.y*ml")):
            if not self._seen(file, Brief):
                self.brief(file)
                self.problems.append(Problem(file, 1, 1, "this brief is not listed in issue.yaml",
                                             "add it to a section's `briefs:` or move it out of briefs/",
                                             "warning"))


def _strings(node: Any, loc: Loc) -> Iterable[tuple[Loc, str]]:
    if isinstance(node, YamlMap):
        for key, value in node.items():
            yield from _strings(value, (*loc, key))
    elif isinstance(node, YamlList):
        for index, value in enumerate(node):
            yield from _strings(value, (*loc, index))
    elif isinstance(node, str):
        yield loc, node


def _markdown_strings(node: Any, field: Any, loc: Loc) -> Iterable[tuple[Loc, str]]:
    """The text values in ``node`` that ``field`` (a model, or a model's field) reads as markdown."""
    if isinstance(node, str):
        if holds_markdown(field):
            yield loc, node
    elif isinstance(node, YamlList):
        for index, item in enumerate(node):
            yield from _markdown_strings(item, field, (*loc, index))
    elif isinstance(node, YamlMap) and (model := _model_inside(getattr(field, "annotation", field))) is not None:
        for key, value in node.items():
            if (info := _field_named(model, key)) is not None:
                yield from _markdown_strings(value, info, (*loc, key))


def _raw_strings(data: Any, patterns: list[Loc]) -> Iterable[tuple[Loc, str]]:
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
