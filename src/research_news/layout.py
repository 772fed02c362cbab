"""Where presentation comes from: layout folders, their templates and their labels.

A layout is a folder of jinja2 templates, CSS, fonts and per-language labels. A
publication names one with ``layout:``; any file it lacks is taken from the default
layout, so a publisher can restyle the cover alone without copying everything.
"""

from __future__ import annotations

import datetime as dt
import functools
import sysconfig
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from ruamel.yaml import YAML

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


def find_layout(root: Path, name: str) -> Path | None:
    """The layout folder for ``name`` as seen from the content tree at ``root``, if any."""
    return next((folder.resolve() for folder in layout_candidates(root, name) if folder.is_dir()), None)


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
        return next((folder / relative for folder in self.folders if (folder / relative).is_file()), None)

    def environment(self, subfolder: str, *, autoescape: bool = True) -> Environment:
        """A jinja2 environment over ``subfolder`` of every layout folder, chosen first."""
        loader = ChoiceLoader([FileSystemLoader(str(folder / subfolder)) for folder in self.folders])
        env = Environment(
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
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    return dict(data or {})


def format_date(date: dt.date, labels: dict[str, Any]) -> str:
    """``date`` spelled out with the language's month names and order."""
    return labels["date_format"].format(day=date.day, month=labels["months"][date.month - 1], year=date.year)
