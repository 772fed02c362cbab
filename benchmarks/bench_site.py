"""Issue 13's and 14's site goals, measured side by side on a generated tree of 20 issues.

Run with `.venv/bin/python benchmarks/bench_site.py [--issues 20] [--rounds 1]`.

The tree (generated.generate_site): the sample publication, each issue holding two or three of the
sample's briefs with their photos and figures. Each round runs, in turn, in fresh processes
(`research-news site … -q`, wall clock):

- cold, every core: ``site --force --jobs <cores>`` (every issue's PDF, web edition, offprints,
  cover and share cards drawn again; Pagefind run);
- cold, one core: ``site --force --jobs 1`` into another folder (one process: the issues one after
  the other, each issue's offprints in that process too);
- nothing changed: ``site`` again into the first folder;
- one brief changed: a brief of the middle issue gets a new title, then ``site`` (that brief has a
  figure that leaves a hole: its new text is tried in two arrangements, and the issue laid out again);
- one brief changed, no hole: the same with a brief of the issue before it, whose pages need no
  rearranging; it opens the section of a brief with a hole, whose kept arrangement names it (a
  trial sets a brief after the section's first, as the issue does), so that brief is tried again.

Each ratio is the median of the rounds' ratios (runs seconds apart), so a shared machine's drift
cancels out. Then, once, the share of a cold build spent outside WeasyPrint: ``site --force
--jobs 1`` in a process where WeasyPrint's two entry points, ``HTML.render`` (layout) and
``Document.write_pdf`` (the PDF), add up the time spent in them; the share is the rest of the
build's wall time (checking, templates, pdfium's thumbnails, PNG encoding, writing, Pagefind). One
process, so the sum of times is the work itself, not hidden behind other cores.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generated import generate_site


def timed(command: list[str]) -> tuple[float, str]:
    """(wall seconds, stdout) of ``command`` in a fresh process."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{command[2:5]} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def site(tree: Path, out: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "research_news", "site", str(tree), "--out", str(out), "-q", *options]


def retitle(brief: Path, round_: int) -> None:
    """A new title: the brief's page, offprint and card, its issue's PDF and pages, the feeds all change."""
    text, count = re.subn(
        r"^title:.*(?:\n[ \t]+.*)*",
        f"title: A brief retitled in round {round_}",
        brief.read_text(encoding="utf-8"),
        count=1,
        flags=re.M,
    )
    assert count == 1, f"{brief} has no title line"
    brief.write_text(text, encoding="utf-8")


def measure(tree: Path, work: Path, rounds: int) -> dict[str, list[float]]:
    cores = str(os.cpu_count() or 1)
    issues = sorted(path.parent for path in tree.glob("*/issue.yaml"))
    brief = sorted((issues[len(issues) // 2] / "briefs").glob("*.yaml"))[0]
    plain = sorted((issues[len(issues) // 2 - 1] / "briefs").glob("*.yaml"))[0]
    rows: dict[str, list[float]] = {
        "all cores": [],
        "one core": [],
        "unchanged": [],
        "one brief": [],
        "plain brief": [],
    }
    for round_ in range(rounds):
        rows["all cores"].append(timed(site(tree, work / "all", "--force", "--jobs", cores))[0])
        rows["one core"].append(timed(site(tree, work / "one", "--force", "--jobs", "1"))[0])
        seconds, said = timed(site(tree, work / "all", "--jobs", cores))
        rows["unchanged"].append(seconds)
        if not said.startswith("Up to date"):
            sys.exit(f"a build with nothing changed said: {said}")
        retitle(brief, round_)
        rows["one brief"].append(timed(site(tree, work / "all", "--jobs", cores))[0])
        retitle(plain, round_)
        rows["plain brief"].append(timed(site(tree, work / "all", "--jobs", cores))[0])
    return rows


def weasyprint_share(tree: Path, out: Path) -> None:
    """(In its own process) a cold one-core site build, timing WeasyPrint's layout and PDF writing."""
    from weasyprint import HTML
    from weasyprint.document import Document

    from research_news.site import build_site

    spent = [0.0]

    def timing(function):
        def timed_call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        return timed_call

    HTML.render = timing(HTML.render)  # HTML.write_pdf calls these two: each second counted once
    Document.write_pdf = timing(Document.write_pdf)
    started = time.perf_counter()
    build_site(tree, out, jobs=1, force=True)
    total = time.perf_counter() - started
    print(f"{total:.3f} {spent[0]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--weasyprint-share", nargs=2, type=Path, metavar=("TREE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.weasyprint_share:
        weasyprint_share(*args.weasyprint_share)
        return
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        tree = generate_site(work, args.issues)
        rows = measure(tree, work, args.rounds)
        _, said = timed([sys.executable, __file__, "--weasyprint-share", str(tree), str(work / "profiled")])
        total, weasyprint = (float(word) for word in said.split())
        briefs = sum(1 for _ in tree.glob("*/briefs/*.yaml"))

    def ratio(name: str, to: str) -> float:
        return statistics.median(a / b for a, b in zip(rows[name], rows[to], strict=True))

    def median(name: str) -> str:
        return f"{statistics.median(rows[name]):.2f} s"

    print(f"| site of {args.issues} issues ({briefs} briefs) | median of {args.rounds} | ratio |")
    print("|---|---|---|")
    print(f"| cold, one core (`--jobs 1`) | {median('one core')} | 1 |")
    print(
        f"| 4. cold, every core (`--jobs {os.cpu_count()}`) | {median('all cores')} "
        f"| {ratio('all cores', 'one core'):.2f}× one core (goal ≤ 0.6) |"
    )
    print(f"| 2. nothing changed | {median('unchanged')} | {ratio('unchanged', 'all cores'):.3f}× cold (goal ≤ 0.05) |")
    print(
        f"| 3. one brief changed | {median('one brief')} | {ratio('one brief', 'all cores'):.3f}× cold (goal ≤ 0.15) |"
    )
    print(
        f"| 3. one brief changed, no hole in it | {median('plain brief')} "
        f"| {ratio('plain brief', 'all cores'):.3f}× cold (goal ≤ 0.15) |"
    )
    print(
        f"| cold, one core, outside WeasyPrint | {total - weasyprint:.2f} s of {total:.2f} s "
        f"| {(total - weasyprint) / total:.0%} of the build |"
    )


if __name__ == "__main__":
    main()
