"""Where presentation comes from: layout folders, their templates and their labels.

A layout is a folder of jinja2 templates, CSS, fonts and per-language labels. A
publication names one with ``layout:``; any file it lacks is taken from the default
layout, so a publisher can restyle the cover alone without copying everything.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sysconfig
import traceback
from pathlib import Path, PurePath
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateRuntimeError,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from .exceptions import ContentError, Problem, ResearchNewsError
from .load import LoadFailed, load_document

DEFAULT = "default"


def builtin_layouts_folder(candidates: list[Path] | None = None) -> Path:
    """The folder holding the layouts that ship with research-news.

    In a checkout (and an editable install) that is ``layouts/`` at the top of the
    repository; an installed wheel puts it under ``<prefix>/share/research-news/``
    (pyproject.toml's data-files), for the environment or for the user.
    """
    if candidates is None:
        share = Path("share") / "research-news" / "layouts"
        candidates = [Path(__file__).resolve().parents[2] / "layouts",
                      Path(sysconfig.get_path("data")) / share,
                      Path(sysconfig.get_path("data", sysconfig.get_preferred_scheme("user"))) / share]
    return next((folder for folder in candidates if (folder / DEFAULT / "print").is_dir()), candidates[0])


BUILTIN_LAYOUTS = builtin_layouts_folder()


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
    return next((folder.resolve() for folder in layout_candidates(root, name)
                 if folder.is_dir() and any(folder.resolve().is_relative_to(place) for place in places)), None)


class Layout:
    """The chain of layout folders an edition renders with: the chosen one, then the default."""

    def __init__(self, root: Path, name: str = DEFAULT):
        chosen = find_layout(root, name)
        if chosen is None:
            raise FileNotFoundError(f"layout {name!r} not found")  # validated earlier; a bug if reached
        default = find_layout(root, DEFAULT) or (BUILTIN_LAYOUTS / DEFAULT).resolve()
        self.folders: list[Path] = list(dict.fromkeys([chosen, default, (BUILTIN_LAYOUTS / DEFAULT).resolve()]))

    def file(self, relative: str) -> Path | None:
        """The first layout folder's copy of ``relative`` (e.g. ``print/style.css``)."""
        for folder in self.folders:
            candidate = folder / relative
            if candidate.is_file():
                if not candidate.resolve().is_relative_to(folder):
                    raise LayoutError(f"{candidate} links to a file outside its layout folder; "
                                      "copy the file into the layout instead")
                return candidate
        return None

    def environment(self, subfolder: str, *, autoescape: bool = True) -> Environment:
        """A sandboxed jinja2 environment over ``subfolder`` of every layout folder, chosen first.

        Sandboxed because a layout can come with the content: its templates get the
        edition's data and filters, never Python's internals (``__globals__``, ``os``).
        """
        loader = ChoiceLoader([_ContainedLoader(folder / subfolder) for folder in self.folders])
        env = _LayoutEnvironment(
            loader=loader,
            autoescape=select_autoescape(default=autoescape, default_for_string=autoescape),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        return env

    def labels(self, lang: str) -> dict[str, Any]:
        """Labels for ``lang`` (or its base language), falling back to English label by label."""
        merged: dict[str, Any] = {}
        for code in ("en", lang.split("-")[0], lang):
            for folder in reversed(self.folders):
                merged.update(_read_labels(folder / "labels" / f"{code}.yaml"))
        return merged


@functools.cache
def _read_labels(path: Path) -> dict[str, Any]:
    """A layout's labels file: text labels, and ``months``, a list of twelve names."""
    if not path.is_file():
        return {}
    try:
        document = load_document(path)
    except LoadFailed as failure:
        raise ContentError([failure.problem]) from None
    problems = []
    for key, value in document.data.items():
        months = key == "months"
        if (months and not (isinstance(value, list) and len(value) == 12 and all(isinstance(m, str) for m in value))) \
                or (not months and not isinstance(value, str)):
            line, column = document.data.lc.value(key)
            what = "a list of the twelve month names" if months else "text"
            problems.append(Problem(path, line + 1, column + 1, f"{key}: a label must be {what}",
                                    'quote it if it looks like a number or yes/no: "…"'))
    if problems:
        raise ContentError(problems)
    return dict(document.data)


# --- templates: sandboxed, contained, and their errors told as the layout's -----------


class LayoutError(ResearchNewsError):
    """A layout that cannot be used: a template that does not compile or fails, a file linked from outside."""


class _ContainedLoader(FileSystemLoader):
    """A layout folder's templates, refusing any that is a link to a file outside the folder."""

    def __init__(self, folder: Path):
        super().__init__(str(folder))
        self.folder = folder.resolve()

    def get_source(self, environment: Environment, template: str):
        source, filename, uptodate = super().get_source(environment, template)
        if not Path(filename).resolve().is_relative_to(self.folder):
            # Not TemplateNotFound: ChoiceLoader would quietly fall back to the default layout.
            raise TemplateRuntimeError(f"{filename} links to a file outside its layout folder")
        return source, filename, uptodate


class _LayoutTemplate(Template):
    def render(self, *args: Any, **kwargs: Any) -> str:
        try:
            return super().render(*args, **kwargs)
        except ResearchNewsError:
            raise
        except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError,
                RecursionError, MemoryError) as error:  # a layout's own mistake, at its line
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
                if isinstance(sequence, (str, list, tuple)) and isinstance(count, int) \
                        and len(sequence) * count > MAX_PRODUCT:
                    raise SecurityError(f"a template may not make text or lists longer than {MAX_PRODUCT:,}")
        return super().call_binop(context, operator, left, right)

    def get_template(self, name: Any, *args: Any, **kwargs: Any) -> Template:
        try:
            return super().get_template(name, *args, **kwargs)
        except TemplateError as error:
            raise _layout_error(error, str(name)) from None


def _layout_error(error: Exception, template: str | None) -> ResearchNewsError:
    """The template's own file and line when jinja knows them, else the template's name."""
    if isinstance(error, TemplateSyntaxError) and error.filename:
        return ContentError([Problem(Path(error.filename), error.lineno or 1, 1,
                                     f"template error: {error.message}", "fix the layout's template")])
    if isinstance(error, TemplateNotFound):
        return LayoutError(f"the layout has no template {error.name!r} (asked for by {template})")
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    message = f"template error: {text}" if isinstance(error, TemplateError) else \
        f"template error: {type(error).__name__}: {text}"
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
    """``date`` spelled out with the language's month names and order.

    Plain substitution of ``{day}``, ``{month}`` and ``{year}``, not ``str.format``,
    whose ``{day.__class__}`` would reach Python's internals from a labels file.
    """
    parts = {"{day}": str(date.day), "{month}": labels["months"][date.month - 1], "{year}": str(date.year)}
    return re.sub(r"\{day\}|\{month\}|\{year\}", lambda found: parts[found.group()], labels["date_format"])
