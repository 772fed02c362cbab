"""Issue 14's stretch goal, bounded from above: could an issue laid out in two halves, one per core,
and joined be ≤ 0.6× the issue laid out whole?

Run with `.venv/bin/python benchmarks/bench_split.py [--briefs 48] [--runs 3]`.

The generated issue (4 sections) is rendered to HTML three ways by research-news's own templates:
whole (``issue.html.j2``: cover, contents, every brief, back matter); its first half (the same
template with the first sections only: cover, contents, those briefs, back matter); and its
second half (``trial.html.j2`` with the other sections' briefs only, as a pagination trial lays
them out: no cover, no contents). Each round, in turn, in fresh processes, with the same PDF
variant and WeasyPrint's own fetcher:

- whole: the ``weasyprint`` command on the whole issue;
- halves at once: two ``weasyprint`` commands started together, one per half, waited for;
- each half alone: the same two commands one after the other (their sum is the work; its ratio
  to the halves at once shows what two layouts at once cost each other on this machine);
- join: pypdf appending the second half's pages to the first's (pages only: no structure tree,
  outline, links or page numbers are mended, so a real join costs more).

The bound printed is (halves at once + join) / whole, the median of the rounds' ratios. It is a
lower bound on what a correct split would take: it leaves out pagination's trials (which need
their brief's own process), laying out the contents page again once the second half's page
numbers are known, and mending the joined PDF's structure tree, outline and links.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench_build import VARIANT, VENV_BIN
from generated import generate_issue


def write_halves(issue: Path, folder: Path) -> tuple[Path, Path, Path, str]:
    """(whole, first half, second half) HTML files of ``issue``, and their base URL."""
    from research_news.assemble import assemble
    from research_news.render.pdf import ISSUE_TEMPLATE, TRIAL_TEMPLATE, _only, base_url, render_html
    from research_news.validate import load_content

    edition = assemble(load_content(issue))
    middle = len(edition.sections) // 2
    first = replace(edition, sections=edition.sections[:middle])
    second = _only(edition, [brief for section in edition.sections[middle:] for brief in section.briefs])
    files = []
    for name, part, template in (
        ("whole", edition, ISSUE_TEMPLATE),
        ("first", first, ISSUE_TEMPLATE),
        ("second", second, TRIAL_TEMPLATE),
    ):
        path = folder / f"{name}.html"
        path.write_text(render_html(part, template), encoding="utf-8")
        files.append(path)
    return files[0], files[1], files[2], base_url(edition)


def weasyprint(html: Path, base: str) -> list[str]:
    return [
        str(VENV_BIN / "weasyprint"),
        "--pdf-variant",
        VARIANT,
        "-u",
        base,
        str(html),
        str(html.with_suffix(".pdf")),
    ]


def at_once(commands: list[list[str]]) -> float:
    """Wall seconds of ``commands`` started together, until the last one ends."""
    started = time.perf_counter()
    processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for command in commands]
    for process in processes:
        _, stderr = process.communicate()
        if process.returncode != 0:
            sys.exit(f"weasyprint failed:\n{stderr.decode()[-2000:]}")
    return time.perf_counter() - started


def joined(first: Path, second: Path, out: Path) -> tuple[float, int]:
    """(seconds, pages) of appending ``second``'s pages to ``first``'s with pypdf."""
    from pypdf import PdfWriter

    started = time.perf_counter()
    writer = PdfWriter(clone_from=str(first))
    writer.append(str(second))
    with out.open("wb") as stream:
        writer.write(stream)
    return time.perf_counter() - started, len(writer.pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--briefs", type=int, default=48)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        whole, first, second, base = write_halves(generate_issue(work, options.briefs, sections=4), work)
        rows: dict[str, list[float]] = {"whole": [], "halves at once": [], "each half alone": [], "join": []}
        for _ in range(options.runs):
            rows["whole"].append(at_once([weasyprint(whole, base)]))
            rows["halves at once"].append(at_once([weasyprint(first, base), weasyprint(second, base)]))
            rows["each half alone"].append(at_once([weasyprint(first, base)]) + at_once([weasyprint(second, base)]))
            seconds, pages = joined(first.with_suffix(".pdf"), second.with_suffix(".pdf"), work / "joined.pdf")
            rows["join"].append(seconds)
        from pypdf import PdfReader

        whole_pages = len(PdfReader(str(whole.with_suffix(".pdf"))).pages)
        print(
            f"{options.briefs} briefs: whole {whole_pages} pages; halves joined {pages} pages ({options.runs} rounds)"
        )
        print("| what | median seconds | ratio to whole |")
        print("|---|---|---|")
        for name, times in rows.items():
            ratios = [time_ / whole_ for time_, whole_ in zip(times, rows["whole"], strict=True)]
            print(f"| {name} | {statistics.median(times):.2f} | {statistics.median(ratios):.2f}× |")
        bound = [
            (at + join) / whole_
            for at, join, whole_ in zip(rows["halves at once"], rows["join"], rows["whole"], strict=True)
        ]
        print(f"| halves at once + join (the bound) | | {statistics.median(bound):.2f}× (goal ≤ 0.6×) |")


if __name__ == "__main__":
    main()
