"""How long `research-news build --only pdf` takes, next to bare WeasyPrint on the same HTML.

Run with `make bench` or `.venv/bin/python benchmarks/bench_build.py [--briefs 48] [--runs 3]`.

Both sides are timed the same way: wall-clock of a fresh process. They take turns,
``--runs`` rounds; the ratio reported is the median of the rounds' ratios.

- build: ``research-news build ISSUE --only pdf`` (interpreter start-up, loading and
  validating the YAML, assembling, templates, the safe fetcher, rendering, atomic write);
- bare: the ``weasyprint`` command on the HTML our templates make for that issue, with
  the same PDF variant (``pdf/ua-1``, so the same tagging work) and WeasyPrint's own
  fetcher reading the same images and fonts.

The ratio build / bare is what research-news costs on top of WeasyPrint itself
(target: at most 1.15). Run on the sample issue and on a generated 48-brief issue.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generated import SAMPLE_ISSUE, generate_issue

VENV_BIN = Path(sys.executable).parent
VARIANT = "pdf/ua-1"


def write_html(issue: Path, destination: Path) -> tuple[Path, str]:
    """The HTML research-news renders for ``issue``, saved for bare WeasyPrint, and its base URL."""
    from research_news.assemble import assemble
    from research_news.render.pdf import base_url, render_html
    from research_news.validate import load_content

    edition = assemble(load_content(issue))
    html = destination / "issue.html"
    html.write_text(render_html(edition), encoding="utf-8")
    return html, base_url(edition)


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if completed.returncode != 0:
        sys.exit(f"{command[0]} failed:\n" + "\n".join((completed.stdout + completed.stderr).splitlines()[-20:]))
    return time.perf_counter() - started


def interleaved(runs: int, build: list[str], bare: list[str]) -> tuple[float, float, float]:
    """(best build time, best bare time, median of the rounds' build/bare ratios).

    The two commands take turns, and each round's ratio compares runs a few seconds
    apart: on a shared VM whose speed drifts by a quarter from one minute to the next,
    that median is steadier than a ratio of two best times taken minutes apart.
    """
    builds, bares = [], []
    for _ in range(runs):
        builds.append(timed(build))
        bares.append(timed(bare))
    return min(builds), min(bares), statistics.median(b / w for b, w in zip(builds, bares, strict=True))


def compare(label: str, issue: Path, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        html, base = write_html(issue, work)
        build, bare, ratio = interleaved(
            runs,
            [
                str(VENV_BIN / "research-news"),
                "build",
                str(issue),
                "--out",
                str(work / "build"),
                "--only",
                "pdf",
                "--quiet",
            ],
            [
                str(VENV_BIN / "weasyprint"),
                "--quiet",
                "--base-url",
                base,
                "--pdf-variant",
                VARIANT,
                str(html),
                str(work / "bare.pdf"),
            ],
        )
        pdf = work / "build" / issue.name / f"{issue.name}.pdf"
        pages = _pages(pdf)
        print(
            f"{label}: {pages} pages, build {build:.2f} s, bare WeasyPrint {bare:.2f} s (best of {runs}), "
            f"ratio {ratio:.3f} (median of {runs} rounds; target <= 1.15)"
        )


def _pages(pdf: Path) -> int | str:
    try:
        from pypdf import PdfReader
    except ImportError:  # pypdf is a test dependency; the count is only informative
        return "?"
    return len(PdfReader(pdf).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--briefs", type=int, default=48)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, best of {args.runs}")
    compare("sample issue", SAMPLE_ISSUE, args.runs)
    with tempfile.TemporaryDirectory() as folder:
        compare(f"{args.briefs}-brief issue", generate_issue(Path(folder), args.briefs, sections=4), args.runs)


if __name__ == "__main__":
    main()
