"""A generated content tree for benchmarks: the sample tree with its issue holding N briefs."""

from __future__ import annotations

import shutil
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]
SAMPLE_ROOT = REPO / "issues"
SAMPLE_ISSUE = SAMPLE_ROOT / "2023-01-data-and-society"


def generate_issue(destination: Path, count: int, sections: int = 1) -> Path:
    """Copy the sample tree into ``destination`` with ``count`` briefs (copies of the sample's,
    cycled) spread over ``sections`` themes; return the generated issue folder."""
    root = destination / "issues"
    shutil.copytree(SAMPLE_ROOT, root)
    issue = root / SAMPLE_ISSUE.name
    templates = [path.read_text(encoding="utf-8") for path in sorted((issue / "briefs").glob("*.yaml"))]
    for old in (issue / "briefs").glob("*.yaml"):
        old.unlink()
    names = []
    for index in range(count):
        name = f"brief-{index:04d}.yaml"
        (issue / "briefs" / name).write_text(templates[index % len(templates)], encoding="utf-8")
        names.append(f"briefs/{name}")
    yaml = YAML()  # round trip: keeps the sample's events, news and comments
    issue_file = issue / "issue.yaml"
    data = yaml.load(issue_file.read_text(encoding="utf-8"))
    size = (count + sections - 1) // sections
    data["sections"] = [{"title": f"Theme {n + 1}", "briefs": names[n * size:(n + 1) * size]}
                        for n in range(sections) if names[n * size:(n + 1) * size]]
    with issue_file.open("w", encoding="utf-8") as stream:
        yaml.dump(data, stream)
    return issue
