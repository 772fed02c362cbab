"""Shared fixtures: the real sample issue, small YAML trees, and a CLI runner."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from research_news.assemble import Edition, assemble
from research_news.cli import app
from research_news.validate import load_content

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SAMPLE_ROOT = REPO / "issues"
SAMPLE_ISSUE = SAMPLE_ROOT / "2023-01-data-and-society"


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str | Path) -> Result:
    """Run the research-news CLI in-process, as a user would from a shell."""
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli():
    return run_cli


def copy_fixture(name: str, destination: Path) -> Path:
    """A writable copy of ``tests/fixtures/<name>``; returns the copy's root."""
    target = destination / name
    shutil.copytree(FIXTURES / name, target)
    return target


@pytest.fixture
def minimal_tree(tmp_path: Path) -> Path:
    """A writable copy of the minimal content tree (publication + one issue, one brief)."""
    return copy_fixture("minimal", tmp_path)


@pytest.fixture
def minimal_issue(minimal_tree: Path) -> Path:
    return minimal_tree / "2024-05-minimal"


@pytest.fixture
def sample_tree(tmp_path: Path) -> Path:
    """A writable copy of the real sample content tree under issues/."""
    target = tmp_path / "issues"
    shutil.copytree(SAMPLE_ROOT, target)
    return target


@pytest.fixture(scope="session")
def sample_edition() -> Edition:
    """The sample issue, loaded, validated and assembled (read-only: do not mutate)."""
    return assemble(load_content(SAMPLE_ISSUE))


@pytest.fixture(scope="session")
def minimal_edition() -> Edition:
    return assemble(load_content(FIXTURES / "minimal" / "2024-05-minimal"))
