"""Where presentation comes from: layout folders, their templates and their labels.

A layout is a folder of jinja2 templates, CSS, fonts and per-language labels, described by
its manifest (``layout.yaml``, see :mod:`research_news.layout_manifest`). A publication
names one with ``layout:``; a layout ``extends`` another (the built-in ``default`` when it
says nothing), and any file it lacks comes from the layouts it extends, so a publisher can
restyle the cover alone without copying everything. A template can also extend the very
template it replaces: ``{% extends "!parent/print/cover.html.j2" %}`` names the next
layout's copy, so an override changes one block instead of copying the whole file.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import traceback
from importlib import resources
from pathlib import Path, PurePath
from typing import Any

from jinja2 import (
    BaseLoader,
    BytecodeCache,
    Environment,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateRuntimeError,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.bccache import Bucket
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from .exceptions import ContentError, Problem, ResearchNewsError
from .layout_manifest import (
    DATE_LABELS,
    DEFAULT_SUMMARY,
    MANIFEST,
    FontFace,
    Manifest,
    fill,
    read_labels,
    read_manifest,
)
from .locales import long_date, month_names

DEFAULT = "default"

log = logging.getLogger(__name__)


BUILTIN_LAYOUTS = Path(str(resources.files("research_news") / "layouts"))
"""The layouts that ship inside the package (``default``); an installed wheel carries them as
package data, so they are found the same way in a checkout and in any install."""


def layout_candidates(root: Path, name: str) -> list[Path]:
    """Folders that ``layout: name`` may mean, most specific first."""
    if "/" in name or name.startswith("."):
        return [(root / name)]
    return [root / "layouts" / name, root.parent / "layouts" / name, BUILTIN_LAYOUTS / name]


def allowed_layout_places(root: Path) -> list[Path]:
    """Where a layout may live: the content tree, the layouts/ folder beside it, the built-in ones.

    A layout is code (templates) and a door to files (fonts, CSS): ``layout:`` in a
    publication cannot name a folder anywhere else on the machine.
    """
    return [root.resolve(), (root.parent / "layouts").resolve(), BUILTIN_LAYOUTS.resolve()]


def find_layout(root: Path, name: str) -> Path | None:
    """The layout folder for ``name`` as seen from the content tree at ``root``, if any and allowed."""
    places = allowed_layout_places(root)
    return next(
        (
            folder.resolve()
            for folder in layout_candidates(root, name)
            if folder.is_dir() and any(folder.resolve().is_relative_to(place) for place in places)
        ),
        None,
    )


class Layout:
    """The chain of layout folders an edition renders with: the chosen one, the layouts it
    extends, and the built-in default last. Files, templates and labels are looked up in that
    order; fonts and settings of the manifests combine along it."""

    def __init__(self, root: Path, name: str = DEFAULT):
        self.folders, self.manifests = layout_chain(root, name)

    def file(self, relative: str) -> Path | None:
        """The first layout folder's copy of ``relative`` (e.g. ``print/style.css``)."""
        for folder in self.folders:
            candidate = folder / relative
            if candidate.is_file():
                if not candidate.resolve().is_relative_to(folder):
                    raise LayoutError(
                        f"{candidate} links to a file outside its layout folder; copy the file into the layout instead"
                    )
                return candidate
        return None

    @functools.cached_property
    def fonts(self) -> list[FontFace]:
        """The font faces of every edition: the default's, then each layout's, a face declared
        again (same family, weight and style) replacing the one it extends."""
        faces: dict[tuple[str, int, str], FontFace] = {}
        for manifest in reversed(self.manifests):
            for face in manifest.fonts:
                faces[(face.family, face.weight, face.style)] = face
        return list(faces.values())

    @functools.cached_property
    def colors(self) -> dict[str, str | None]:
        """``primary`` and ``accent`` from the first layout of the chain that sets each."""
        return {
            name: next((getattr(m.colors, name) for m in self.manifests if getattr(m.colors, name)), None)
            for name in ("primary", "accent")
        }

    @functools.cached_property
    def email_summary(self) -> tuple[str, ...]:
        """The parts of a brief the email shows when it is not sent in full."""
        chosen = next((m.email.summary for m in self.manifests if m.email.summary), None)
        return tuple(chosen) if chosen else DEFAULT_SUMMARY

    def environment(self, subfolder: str, *, autoescape: bool = True, fallback: str | None = None) -> Environment:
        """A sandboxed jinja2 environment over ``subfolder`` of every layout folder, chosen first;
        a template none of them has comes from ``fallback`` (the site's pages reuse the web
        edition's templates that way: ``environment("site", fallback="web")``).

        Sandboxed because a layout can come with the content: its templates get the
        edition's data and filters, never Python's internals (``__globals__``, ``os``).
        """
        env = _LayoutEnvironment(
            loader=_ChainLoader(self.folders, subfolder, fallback),
            autoescape=select_autoescape(default=autoescape, default_for_string=autoescape),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            bytecode_cache=_COMPILED,
        )
        env.globals.update(layout_fonts=self.fonts, email_summary=self.email_summary)
        return env

    @functools.cached_property
    def own_labels(self) -> frozenset[str]:
        """Label names the layouts' manifests add to the built-in ones."""
        return frozenset(label for manifest in self.manifests for label in manifest.labels)

    def labels(self, lang: str) -> dict[str, Any]:
        """Labels for ``lang`` (or its base language), falling back to English label by label.

        Dates are the exception (:data:`DATE_LABELS`): they follow ``lang`` through Babel, unless a
        labels file *of that language* says otherwise, so an Italian issue never gets English month
        names. ``months`` and ``date_locale`` are always filled in, for templates that spell a
        month themselves and for :func:`format_date`.
        """
        merged: dict[str, Any] = {}
        own_language = (lang.split("-")[0], lang)
        for code in ("en", *own_language):
            for folder in reversed(self.folders):
                found = _read_labels(folder / "labels" / f"{code}.yaml", self.own_labels)
                foreign = code not in own_language
                merged.update({key: value for key, value in found.items() if not (foreign and key in DATE_LABELS)})
        merged.setdefault("date_locale", lang)
        merged.setdefault("months", month_names(merged["date_locale"]))
        return merged

    def has_labels(self, lang: str) -> bool:
        """Whether a layout of the chain has labels for ``lang`` or its base language (``pt`` for ``pt-BR``)."""
        codes = {lang, lang.split("-")[0]}
        return any((folder / "labels" / f"{code}.yaml").is_file() for folder in self.folders for code in codes)

    def problems(self) -> list[Problem]:
        """Every mistake in the chain's labels files, for ``check`` (rendering stops at the first file)."""
        found: list[Problem] = []
        for folder in self.folders:
            for path in sorted((folder / "labels").glob("*.yaml")):
                try:
                    _read_labels(path, self.own_labels)
                except ContentError as error:
                    found += error.problems
        return found


def layout_problems(root: Path, name: str) -> list[Problem]:
    """What is wrong with the layout ``name`` of the content tree at ``root``: its manifests
    (and those of the layouts it extends) and its labels files."""
    try:
        return Layout(root, name).problems()
    except ContentError as error:
        return list(error.problems)


def layout_chain(root: Path, name: str) -> tuple[list[Path], list[Manifest]]:
    """The folders (and their manifests) from the layout ``name`` through what it extends to the
    built-in default; a layout that cannot be found, or extends itself in a loop, is an error
    at its ``extends:`` line."""
    builtin = (BUILTIN_LAYOUTS / DEFAULT).resolve()
    chosen = find_layout(root, name)
    if chosen is None:
        raise FileNotFoundError(f"layout {name!r} not found")  # validated earlier; a bug if reached
    folders: list[Path] = []
    manifests: list[Manifest] = []
    folder = chosen
    while True:
        manifest, document = read_manifest(folder)
        folders.append(folder)
        manifests.append(manifest)
        if folder == builtin:
            break
        parent_name = manifest.extends or DEFAULT
        parent = find_layout(root, parent_name)
        if parent_name == DEFAULT and (parent is None or parent in folders):
            parent = builtin  # a publisher's own layouts/default extends the built-in one
        if parent is None or parent in folders:
            line, column = document.data.lc.value("extends") if document and "extends" in document.data else (0, 0)
            what = (
                f'extends: "{parent_name}" leads back to a layout already in the chain '
                f"({' → '.join(f.name for f in [*folders, parent])})"
                if parent is not None
                else f'extends: no layout "{parent_name}"'
            )
            raise ContentError(
                [
                    Problem(
                        folder / MANIFEST,
                        line + 1,
                        column + 1,
                        what,
                        "name a layout in layouts/ beside the issues, or `default`",
                    )
                ]
            )
        folder = parent
    log.debug("layout %s: %s", name, " → ".join(str(folder) for folder in folders))
    return folders, manifests


def forget_labels() -> None:
    """Read labels files again from now on: a long-running process (``serve``) calls it when one changes."""
    _read_labels.cache_clear()


@functools.cache
def _read_labels(path: Path, own: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A layout's labels file (``labels/fr.yaml``), checked: built-in names and the layout's own only."""
    return read_labels(path, own) if path.is_file() else {}


# --- templates: sandboxed, contained, and their errors told as the layout's -----------


class LayoutError(ResearchNewsError):
    """A layout that cannot be used: a template that does not compile or fails, a file linked from outside."""


PARENT = "!parent/"
"""A template name starting with this means the next layout's copy: ``!parent/print/cover.html.j2``."""


class _ChainLoader(BaseLoader):
    """Templates from ``subfolder`` of each layout folder in turn, refusing links out of a folder.

    Internally a template found from layout ``k`` on is named ``@k/<path in the layout>``;
    :meth:`_LayoutEnvironment.join_path` turns ``!parent/…`` into such a name, one layout
    further down the chain than the template that asks for it.
    """

    def __init__(self, folders: list[Path], subfolder: str, fallback: str | None = None):
        self.folders = [folder.resolve() for folder in folders]
        self.subfolder = subfolder
        self.fallback = fallback

    def locate(self, name: str) -> tuple[int, Path]:
        """(index of the layout folder, file) that provides the template ``name``."""
        found = re.fullmatch(r"@(\d+)/(.+)", name)
        if found:
            return self._first(int(found[1]), found[2], name)
        try:
            return self._first(0, f"{self.subfolder}/{name}", name)
        except TemplateNotFound:
            if self.fallback is None:
                raise
            return self._first(0, f"{self.fallback}/{name}", name)

    def _first(self, start: int, relative: str, name: str) -> tuple[int, Path]:
        pieces = split_template_path(relative)  # refuses `..`
        for index in range(start, len(self.folders)):
            candidate = self.folders[index].joinpath(*pieces)
            if candidate.is_file():
                if not candidate.resolve().is_relative_to(self.folders[index]):
                    # Not TemplateNotFound: that would quietly fall back to the next layout.
                    raise TemplateRuntimeError(f"{candidate} links to a file outside its layout folder")
                return index, candidate
        raise TemplateNotFound(name)

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        _, path = self.locate(template)
        modified = path.stat().st_mtime
        return path.read_text(encoding="utf-8"), str(path), lambda: _unchanged(path, modified)


def _unchanged(path: Path, modified: float) -> bool:
    try:
        return path.stat().st_mtime == modified
    except OSError:
        return False


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept in memory for the life of the process, keyed by file, source and
    the options that change the compiled code.

    Every edition makes fresh environments, so without it each render compiles every template
    again: once per build, but on every save for the preview server (``serve``). A template
    whose source changed has another checksum, and is compiled anew.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def get_bucket(self, environment: Environment, name: str, filename: str | None, source: str) -> Bucket:
        escapes = environment.autoescape(name) if callable(environment.autoescape) else environment.autoescape
        options = f"{type(environment).__name__}|{escapes}|{environment.trim_blocks}|{environment.lstrip_blocks}"
        return super().get_bucket(environment, f"{name}|{options}", filename, source)

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # ignored when the checksum differs: compiled anew

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class _LayoutTemplate(Template):
    def render(self, *args: Any, **kwargs: Any) -> str:
        try:
            return super().render(*args, **kwargs)
        except ResearchNewsError:
            raise
        except (
            TemplateError,
            ArithmeticError,
            LookupError,
            TypeError,
            ValueError,
            AttributeError,
            RecursionError,
            MemoryError,
        ) as error:  # a layout's own mistake, at its line
            raise _layout_error(error, self.filename or self.name) from None


MAX_PRODUCT = 1_000_000
"""The longest string or list a template may make with ``*`` (``"a" * 10**10`` would exhaust memory)."""


class _LayoutEnvironment(SandboxedEnvironment):
    """jinja2's sandbox, made stricter for layouts that come with the content.

    The edition handed to templates holds paths and the layout itself; a template may
    show a path's name, never open, read or write it, and never reach the layout's
    methods. ``*`` and ``**`` are bounded so a template cannot exhaust memory.
    """

    template_class = _LayoutTemplate
    intercepted_binops = frozenset(["*", "**"])

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, PurePath):
            return attr in ("name", "stem", "suffix")
        if isinstance(obj, (Layout, Environment)):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 100:
            raise SecurityError("an exponent over 100 is not allowed in a template")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if (
                    isinstance(sequence, (str, list, tuple))
                    and isinstance(count, int)
                    and len(sequence) * count > MAX_PRODUCT
                ):
                    raise SecurityError(f"a template may not make text or lists longer than {MAX_PRODUCT:,}")
        return super().call_binop(context, operator, left, right)

    def get_template(self, name: Any, *args: Any, **kwargs: Any) -> Template:
        try:
            return super().get_template(name, *args, **kwargs)
        except TemplateError as error:
            raise _layout_error(error, str(name)) from None

    def join_path(self, template: str, parent: str) -> str:
        """``!parent/<path>`` asked for by ``parent``: the copy in the layouts after the one
        ``parent`` itself comes from."""
        if not template.startswith(PARENT):
            return template
        loader: _ChainLoader = self.loader  # type: ignore[assignment]
        index, _ = loader.locate(parent)
        if index + 1 >= len(loader.folders):
            raise TemplateNotFound(
                template, f"{parent} asks for {template}, but no layout comes after {loader.folders[index]}"
            )
        return f"@{index + 1}/{template.removeprefix(PARENT)}"


def _layout_error(error: Exception, template: str | None) -> ResearchNewsError:
    """The template's own file and line when jinja knows them, else the template's name."""
    if isinstance(error, TemplateSyntaxError) and error.filename:
        return ContentError(
            [
                Problem(
                    Path(error.filename),
                    error.lineno or 1,
                    1,
                    f"template error: {error.message}",
                    "fix the layout's template",
                )
            ]
        )
    if isinstance(error, TemplateNotFound):
        return LayoutError(f"the layout has no template {error.name!r} (asked for by {template})")
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    message = (
        f"template error: {text}"
        if isinstance(error, TemplateError)
        else f"template error: {type(error).__name__}: {text}"
    )
    located = _innermost_template_line(error)
    if located:
        return ContentError([Problem(located[0], located[1], 1, message, "fix the layout's template")])
    return LayoutError(f"the layout's template {template}: {message}")


def _innermost_template_line(error: Exception) -> tuple[Path, int] | None:
    """The template file and line that failed: jinja rewrites traceback frames to point at them."""
    found = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2") and Path(filename).is_file():
            found = (Path(filename), line)
    return found


def format_date(date: dt.date, labels: dict[str, Any]) -> str:
    """``date`` spelled out as the labels' language writes it (``16 janvier 2023``, through Babel),
    or with the layout's own ``date_format`` and ``months`` where its labels set them."""
    tag = labels.get("date_locale") or "en"
    months = labels.get("months") or month_names(tag)
    if labels.get("date_format"):
        return fill(
            labels["date_format"], {"day": str(date.day), "month": months[date.month - 1], "year": str(date.year)}
        )
    return long_date(date, tag, months)
