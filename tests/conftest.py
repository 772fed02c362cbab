"""Shared fixtures: the real sample issue, small YAML trees, a CLI runner and one Chromium.

Also the suite's switches: ``--update-golden`` rewrites the golden files (tests/golden.py);
tests that use the ``browser`` fixture are marked ``browser`` automatically, so
``pytest -m "not browser"`` runs everything else; Hypothesis runs derandomized (the same
examples on every run and every machine) under the ``ci`` profile.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from research_news.assemble import Edition, assemble
from research_news.cli import app
from research_news.validate import load_content

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SAMPLE_ROOT = REPO / "issues"
SAMPLE_ISSUE = SAMPLE_ROOT / "2023-01-data-and-society"

# Derandomized: a failure found once is found again on the next run and on CI, and no
# example database is needed. Tests keep their own modest max_examples (suite speed).
settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/golden/ from this build instead of comparing",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that drives Chromium, so ``-m "not browser"`` leaves them out."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; each page gets a fresh context (tests/browser.py)."""
    from tests.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture
def new_page(browser):
    """``open_page`` in the session's Chromium; every context it made is closed after the test, pass or fail."""
    from tests.browser import open_page

    contexts = []

    def open_(url: str, width: int, **options):
        page = open_page(browser, url, width, **options)
        contexts.append(page.context)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return request.config.getoption("--update-golden")


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


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> tuple[Path, str]:
    """The sample issue built once, every edition and the offprints, through the CLI: (output folder, stdout).

    Read-only: the PDF, web, email and golden tests all read this one build.
    """
    out = tmp_path_factory.mktemp("sample-build")
    result = run_cli("build", SAMPLE_ISSUE, "--out", out, "--offprints")
    assert result.exit_code == 0, result.stderr
    return out / SAMPLE_ISSUE.name, result.stdout


@pytest.fixture(scope="session")
def minimal_build(tmp_path_factory) -> Path:
    """The minimal fixture built once, every edition, through the CLI: its output folder (read-only)."""
    out = tmp_path_factory.mktemp("minimal-build")
    result = run_cli("build", FIXTURES / "minimal" / "2024-05-minimal", "--out", out)
    assert result.exit_code == 0, result.stderr
    return out / "2024-05-minimal"


@pytest.fixture
def layouts(monkeypatch) -> list[int]:
    """The page count of each layout WeasyPrint makes from now on, in this process (render/pdf.py)."""
    from research_news.render import pdf

    counts: list[int] = []
    original = pdf._laid_out

    def counted(*args):
        laid_out = original(*args)
        counts.append(len(laid_out.document.pages))
        return laid_out

    monkeypatch.setattr(pdf, "_laid_out", counted)
    return counts
