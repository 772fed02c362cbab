"""Issue 14's goals as ratios, measured side by side: cold build, nothing changed, one brief changed.

Run with `.venv/bin/python benchmarks/bench_cache.py [--briefs 0] [--issue NAME] [--runs 5]`
(``--briefs 0``: a sample issue, ``--issue`` naming which, by default the bilingual one; N: a
generated issue of N briefs).

Each round runs, in turn, in fresh processes: bare WeasyPrint on the issue's HTML (the same PDF
variant: the ``weasyprint`` command on the issue's own language), bare WeasyPrint making every PDF
the build makes (each language's issue HTML, one after the other in one process, so WeasyPrint is
imported once), a cold ``build`` of every edition with offprints (``--force``), a ``build`` with
nothing changed, and a ``build`` after one brief changed. Each ratio is the median of the rounds'
ratios to that round's bare WeasyPrint (or to its cold build), so a shared machine's drift cancels
out. For an issue in one language the two bare rows are the same work.
Then issue 14's other goals, once each: the peak memory of a cold build of a generated 48-brief
issue (the build's own process, from ``wait4``, and the largest of its worker processes, from
``RUSAGE_CHILDREN`` of a process that runs only that build), and ``check`` of 1,000 generated
briefs (best of ``--runs``, interpreter start-up included). ``--no-goals`` leaves them out.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_build import VARIANT, VENV_BIN, write_html
from generated import SAMPLE_ISSUE, generate_issue


def run(command: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak memory in MB, stdout) of ``command`` in a fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"}
    )
    _, status, usage = os.wait4(process.pid, 0)  # -q: the output is a line or two, the pipes do not fill
    seconds = time.perf_counter() - started
    stdout, stderr = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{command[:3]} failed:\n{stderr.decode()[-2000:]}")
    return seconds, usage.ru_maxrss // 1024, stdout.decode()


def tree_memory(command: list[str]) -> tuple[int, int]:
    """(the build's own peak MB, the largest peak MB of any process of its tree, workers included)."""
    script = (
        "import os, resource, subprocess, sys\n"
        "process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "_, status, usage = os.wait4(process.pid, 0)\n"
        "print(usage.ru_maxrss // 1024, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
    )
    own, largest = run([sys.executable, "-c", script, *command])[2].split()
    return int(own), int(largest)


def goals(runs: int) -> None:
    """Goal 6 (peak memory of the 48-brief build) and goal 5 (check of 1,000 briefs)."""
    with tempfile.TemporaryDirectory() as folder:
        issue = generate_issue(Path(folder), 48, sections=4)
        build = [sys.executable, "-m", "research_news", "build", str(issue), "--out", str(Path(folder) / "b")]
        own, largest = tree_memory([*build, "--offprints", "--force", "-q"])
        print(f"| 6. peak memory, cold 48-brief build + offprints | main {own} MB, largest process {largest} MB | |")
    with tempfile.TemporaryDirectory() as folder:
        issue = generate_issue(Path(folder), 1000, sections=4)
        check = [sys.executable, "-m", "research_news", "check", str(issue)]
        best = min(run_status(check) for _ in range(runs))
        print(f"| 5. check of 1,000 briefs | {best:.2f} s (best of {runs}) | goal ≤ 3 s |")


def run_status(command: list[str]) -> float:
    """Wall seconds of ``command``, whatever its exit status (generated briefs may have warnings)."""
    started = time.perf_counter()
    subprocess.run(command, capture_output=True)
    return time.perf_counter() - started


BARE_ALL = """
import sys
from weasyprint import HTML
for html, base, pdf in zip(*[iter(sys.argv[2:])] * 3):
    HTML(filename=html, base_url=base).write_pdf(pdf, pdf_variant=sys.argv[1])
"""
"""Bare WeasyPrint making one PDF per HTML file, in one process (arguments: variant, then html base pdf...)."""


def every_language_html(issue: Path, work: Path) -> list[str]:
    """(html, base URL, pdf) for each language the issue is built in, flattened: BARE_ALL's arguments."""
    from research_news.assemble import assemble
    from research_news.render.pdf import base_url, render_html
    from research_news.translations import in_language
    from research_news.validate import load_content

    content = load_content(issue)
    arguments = []
    for language in content.languages or [content.issue.language]:
        edition = assemble(in_language(content, language))
        html = work / f"issue.{language}.html"
        html.write_text(render_html(edition), encoding="utf-8")
        arguments += [str(html), base_url(edition), str(work / f"bare.{language}.pdf")]
    return arguments


def measure(issue: Path, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        html, base = write_html(issue, work)
        out = work / "build"
        bare = [str(VENV_BIN / "weasyprint"), "--quiet", "--base-url", base, "--pdf-variant", VARIANT, str(html)]
        every = every_language_html(issue, work)
        bare_all = [sys.executable, "-c", BARE_ALL, VARIANT, *every]
        build = [sys.executable, "-m", "research_news", "build", str(issue), "--out", str(out), "--offprints", "-q"]
        brief = sorted((issue / "briefs").glob("*.yaml"))[0]
        original = brief.read_text()
        rows: dict[str, list[float]] = {"bare": [], "bare all": [], "cold": [], "unchanged": [], "one brief": []}
        said = ""
        for round_ in range(runs):
            rows["bare"].append(run([*bare, str(work / "bare.pdf")])[0])
            rows["bare all"].append(run(bare_all)[0])
            rows["cold"].append(run([*build, "--force"])[0])
            seconds, _, said = run(build)
            rows["unchanged"].append(seconds)
            brief.write_text(original + f"# changed in round {round_}\n")
            rows["one brief"].append(run(build)[0])
        brief.write_text(original)
        _, memory, _ = run([*build, "--force"])
    ratio = lambda name, to: statistics.median(a / b for a, b in zip(rows[name], rows[to], strict=True))  # noqa: E731
    print(f"| {issue.name} ({len(list((issue / 'briefs').glob('*.yaml')))} briefs) | median of {runs} | ratio |")
    print("|---|---|---|")
    languages = len(every) // 3
    print(f"| bare WeasyPrint PDF, the issue's own language | {statistics.median(rows['bare']):.2f} s | 1 |")
    print(
        f"| bare WeasyPrint, every PDF the build makes ({languages} language{'s' * (languages > 1)}) "
        f"| {statistics.median(rows['bare all']):.2f} s | |"
    )
    print(
        f"| 1. cold build, all editions + offprints | {statistics.median(rows['cold']):.2f} s "
        f"| {ratio('cold', 'bare'):.2f}× bare own language, {ratio('cold', 'bare all'):.2f}× bare every PDF "
        "(goal ≤ 1.0) |"
    )
    print(
        f"| 2. nothing changed | {statistics.median(rows['unchanged']):.2f} s "
        f"| {ratio('unchanged', 'cold'):.3f}× cold (goal ≤ 0.05) |"
    )
    print(
        f"| 3. one brief changed | {statistics.median(rows['one brief']):.2f} s "
        f"| {ratio('one brief', 'cold'):.2f}× cold |"
    )
    print(f"| peak memory, cold build of this issue (main process) | {memory} MB | |")
    print(f"nothing changed said: {said.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--briefs", type=int, default=0, help="0: a sample issue; N: a generated issue")
    parser.add_argument("--issue", default=SAMPLE_ISSUE.name, help="which sample issue (with --briefs 0)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-goals", action="store_true", help="only the cold / unchanged / one brief rows")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        issue = generate_issue(Path(folder), args.briefs, sections=4) if args.briefs else None
        if issue is None:  # a copy: the benchmark edits a brief
            copy = Path(folder) / "tree"
            shutil.copytree(SAMPLE_ISSUE.parent, copy)
            issue = copy / args.issue
        measure(issue, args.runs)
    if not args.no_goals:
        goals(args.runs)


if __name__ == "__main__":
    main()
