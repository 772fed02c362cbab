"""Where layouts come from: the checkout's layouts/, or the copy an installed wheel carries."""

from __future__ import annotations

import tomllib
from pathlib import Path

from research_news.layout import BUILTIN_LAYOUTS, DEFAULT, builtin_layouts_folder

from .conftest import REPO


def make_layout(folder: Path) -> Path:
    (folder / DEFAULT / "print").mkdir(parents=True)
    return folder


def test_the_first_folder_holding_the_default_layout_wins(tmp_path: Path):
    checkout, environment, user = tmp_path / "checkout", make_layout(tmp_path / "env"), make_layout(tmp_path / "user")
    assert builtin_layouts_folder([checkout, environment, user]) == environment
    make_layout(checkout)
    assert builtin_layouts_folder([checkout, environment, user]) == checkout


def test_a_checkout_uses_its_own_layouts():
    assert BUILTIN_LAYOUTS == REPO / "layouts"


def test_the_wheel_carries_every_file_of_the_default_layout():
    """pyproject.toml's data-files must name every folder of layouts/default, or an install lacks it."""
    data_files = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["data-files"]
    carried = {Path(pattern).parent for patterns in data_files.values() for pattern in patterns}
    folders = {path.parent.relative_to(REPO) for path in (REPO / "layouts" / DEFAULT).rglob("*") if path.is_file()}
    assert folders == carried
    for target, patterns in data_files.items():
        assert all(target == f"share/research-news/{Path(pattern).parent}" for pattern in patterns)
