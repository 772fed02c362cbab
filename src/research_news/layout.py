"""Where presentation comes from: layout folders, their templates and their labels.

A layout is a folder of jinja2 templates, CSS, fonts and per-language labels. A
publication names one with ``layout:``; any file it lacks is taken from the default
layout, so a publisher can restyle the cover alone without copying everything.
"""

from __future__ import annotations

import datetime as dt
import functools
import sysconfig
import traceback
from pathlib import Path
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
from jinja2.sandbox import SandboxedEnvironment

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
    if not path.is_file():
        return {}
    try:
        return dict(load_document(path).data)
    except LoadFailed as failure:
        raise ContentError([failure.problem]) from None


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
        except TemplateError as error:
            raise _layout_error(error, self.filename or self.name) from None


class _LayoutEnvironment(SandboxedEnvironment):
    template_class = _LayoutTemplate

    def get_template(self, name: Any, *args: Any, **kwargs: Any) -> Template:
        try:
            return super().get_template(name, *args, **kwargs)
        except TemplateError as error:
            raise _layout_error(error, str(name)) from None


def _layout_error(error: TemplateError, template: str | None) -> ResearchNewsError:
    """The template's own file and line when jinja knows them, else the template's name."""
    if isinstance(error, TemplateSyntaxError) and error.filename:
        return ContentError([Problem(Path(error.filename), error.lineno or 1, 1,
                                     f"template error: {error.message}", "fix the layout's template")])
    if isinstance(error, TemplateNotFound):
        return LayoutError(f"the layout has no template {error.name!r} (asked for by {template})")
    message = f"template error: {error.message or type(error).__name__}"
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
    """``date`` spelled out with the language's month names and order."""
    return labels["date_format"].format(day=date.day, month=labels["months"][date.month - 1], year=date.year)
