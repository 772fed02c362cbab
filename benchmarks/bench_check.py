"""How long `research-news check` takes on the sample tree and on 1,000 generated briefs.

Run with `make bench` or `.venv/bin/python benchmarks/bench_check.py [--briefs N]`.
Timings are wall-clock for the whole command, as a pre-commit hook would run it
(interpreter start-up included), best of three runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]
SAMPLE_ROOT = REPO / "issues"
SAMPLE_ISSUE = SAMPLE_ROOT / "2023-01-data-and-society"
COMMAND = [sys.executable, "-m", "research_news", "check"]


def generate_tree(destination: Path, count: int) -> Path:
    """A content tree with one issue listing ``count`` briefs made from the sample briefs."""
    root = destination / "issues"
    shutil.copytree(SAMPLE_ROOT, root)
    issue = root / SAMPLE_ISSUE.name
    templates = [path.read_text(encoding="utf-8") for path in sorted((issue / "briefs").glob("*.yaml"))]
    for old in (issue / "briefs").glob("*.yaml"):
        old.unlink()
    names = []
    for index in range(count):
        template = templates[index % len(templates)]
        name = f"brief-{index:04d}.yaml"
        text = f"# generated copy {index}\n{template}"
        (issue / "briefs" / name).write_text(text, encoding="utf-8")
        names.append(name)
    yaml = YAML()  # round-trip: keeps the sample's events, news and comments
    issue_file = issue / "issue.yaml"
    data = yaml.load(issue_file.read_text(encoding="utf-8"))
    data["sections"] = [{"title": "Everything", "briefs": [f"briefs/{name}" for name in names]}]
    with issue_file.open("w", encoding="utf-8") as stream:
        yaml.dump(data, stream)
    return root


def best_of(runs: int, command: list[str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
        times.append(time.perf_counter() - started)
        if completed.returncode != 0:
            sys.exit("check failed:\n" + "\n".join((completed.stdout + completed.stderr).splitlines()[:20]))
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--briefs", type=int, default=1000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"check sample tree ({SAMPLE_ROOT.relative_to(REPO)}): {best_of(3, [*COMMAND, str(SAMPLE_ROOT)]):.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        root = generate_tree(Path(folder), args.briefs)
        seconds = best_of(3, [*COMMAND, str(root)])
        print(f"check {args.briefs} generated briefs: {seconds:.2f} s ({seconds / args.briefs * 1000:.2f} ms a brief; "
              "target < 3 s for 1,000)")


if __name__ == "__main__":
    main()
