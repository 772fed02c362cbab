"""Files for a publication's own repository: the pre-commit hook and the GitHub Actions workflow."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]


def _hook() -> dict:
    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return next(hook for hook in hooks if hook["id"] == "research-news-check")


def _run_entry(entry: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run the hook's entry as pre-commit would, through this checkout's console script."""
    command, *rest = shlex.split(entry)
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module = scripts[command].split(":")[0]  # the entry must name the console script pip installs
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-c", f"from {module} import main; main()", *rest, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_pre_commit_hook_runs_check_on_the_content_tree(sample_tree):
    hook = _hook()
    assert shlex.split(hook["entry"])[:2] == ["research-news", "check"]
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    clean = _run_entry(hook["entry"], hook["args"], sample_tree.parent)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    brief = sample_tree / "2023-01-data-and-society" / "briefs" / "data-protection-officer.yaml"
    brief.write_text(brief.read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8")
    broken = _run_entry(hook["entry"], hook["args"], sample_tree.parent)
    assert broken.returncode == 1
    assert re.search(r"data-protection-officer\.yaml:1:1: .*titel", broken.stdout)


@pytest.mark.parametrize(
    "name, runs",
    [
        ("issues/2023-01-data-and-society/briefs/x.yaml", True),
        ("issues/publication.yaml", True),
        ("issues/images/photo.JPG", False),
        ("issues/images/photo.jpg", True),
        ("README.md", False),
    ],
)
def test_the_hook_runs_when_content_is_committed(name, runs):
    assert bool(re.search(_hook()["files"], name)) is runs


def test_the_publication_workflow_checks_pull_requests_and_publishes_main():
    workflow = YAML(typ="safe").load((REPO / "docs" / "publication-workflow.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on") or workflow.get(True)  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert any("research-news check --format github" in run for run in runs)
    assert any("research-news site issues --out site" in run for run in runs)
