"""How long `research-news check` takes on the sample tree and on 1,000 generated briefs.

Run with `make bench` or `.venv/bin/python benchmarks/bench_check.py [--briefs N]`.
Timings are wall-clock for the whole command, as a pre-commit hook would run it
(interpreter start-up included), best of three runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generated import REPO, SAMPLE_ROOT, generate_issue
COMMAND = [sys.executable, "-m", "research_news", "check"]


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
        root = generate_issue(Path(folder), args.briefs).parent
        seconds = best_of(3, [*COMMAND, str(root)])
        print(f"check {args.briefs} generated briefs: {seconds:.2f} s ({seconds / args.briefs * 1000:.2f} ms a brief; "
              "target < 3 s for 1,000)")


if __name__ == "__main__":
    main()
