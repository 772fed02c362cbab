"""How long `research-news check` takes on the sample tree, on 1,000 generated briefs,
and on one brief just under the file size cap that is full of links.

Run with `make bench` or `.venv/bin/python benchmarks/bench_check.py [--briefs N] [--links N]`.
Timings are wall-clock for the whole command, as a pre-commit hook would run it
(interpreter start-up included), best of ``--runs`` runs.

The links case is the budget for one file: a 0.8 MB brief with 30,000 markdown links
(in ``|`` blocks, ``>`` blocks and reference-style, one in ten not allowed, so thousands
are located and reported) must check in about the time it takes to parse and render it,
at most 2 s. Locating a link must not re-scan the text before it.

The scaling case checks briefs with N and 2N of one thing (bad links on one line,
the same bad link in a folded block, reference links, list items of the wrong type,
unknown fields, missing figures, unclosed `](` counted for a word limit) and prints
the ratio of the times: about 2 where the work is linear, about 4 where it is quadratic.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generated import REPO, SAMPLE_ROOT, generate_issue, generate_link_brief

COMMAND = [sys.executable, "-m", "research_news", "check"]


def best_of(runs: int, command: list[str], *, exit_code: int = 0) -> tuple[float, str]:
    """(best wall-clock time, output of the last run) of ``command``, which must exit with ``exit_code``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
        times.append(time.perf_counter() - started)
        if completed.returncode != exit_code:
            sys.exit(
                f"check exited with {completed.returncode}:\n"
                + "\n".join((completed.stdout + completed.stderr).splitlines()[:20])
            )
    return min(times), completed.stdout


def parse_and_render_seconds(path: Path) -> float:
    """In-process time to load ``path``, validate it as a brief and render its markdown to HTML:
    the floor a check of the same file is measured against."""
    from research_news import markdown
    from research_news.load import load_document
    from research_news.models import Brief

    started = time.perf_counter()
    brief = Brief.model_validate(load_document(path).data)
    for text in (brief.why_it_matters, brief.methodology, brief.key_findings, *brief.key_takeaways):
        for item in text if isinstance(text, list) else [text]:
            markdown.render(item)
    return time.perf_counter() - started


def check_seconds(path: Path) -> float:
    """In-process time to check ``path`` (no interpreter start-up, like :func:`parse_and_render_seconds`)."""
    from research_news.validate import Checker

    started = time.perf_counter()
    Checker().check_path(path)
    return time.perf_counter() - started


def check_links(links: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        brief = generate_link_brief(Path(folder), links)
        size = brief.stat().st_size
        floor = min(parse_and_render_seconds(brief) for _ in range(runs))
        inside = min(check_seconds(brief) for _ in range(runs))
        seconds, output = best_of(runs, [*COMMAND, str(brief)], exit_code=1)
        reported = output.count(": the link ")
        print(
            f"check a {size / 1e6:.2f} MB brief with {links:,} links ({reported:,} reported): {seconds:.2f} s "
            f"(target <= 2 s); in-process {inside:.2f} s, where parsing and rendering it takes {floor:.2f} s"
        )


_HEAD = "title: T\nauthors:\n  - name: Ada\nmethodology: M.\nkey_findings: F.\nkey_takeaways:\n  - One.\n"
SCALING = {
    "bad links on one line": lambda n: (
        _HEAD + "why_it_matters: |\n  " + " ".join(f"[a](javascript:{i})" for i in range(n))
    ),
    "one bad link repeated in a > block": lambda n: _HEAD + "why_it_matters: >\n" + "  [a](javascript:x) w\n" * n,
    "reference links": lambda n: (
        _HEAD
        + "why_it_matters: |\n  "
        + " ".join(f"[a][r{i}]" for i in range(n))
        + "\n\n"
        + "".join(f"  [r{i}]: javascript:x\n" for i in range(n))
    ),
    "keywords that are mappings": lambda n: _HEAD + "keywords:\n" + "".join(f"  - k{i}: v\n" for i in range(n)),
    "unknown fields": lambda n: _HEAD + "why_it_matters: W.\n" + "".join(f"extra{i}: v\n" for i in range(n)),
    "missing figures": lambda n: (
        _HEAD
        + "why_it_matters: W.\nfigures:\n"
        + "".join(f"  - src: ../images/no{i}.png\n    alt: A\n" for i in range(n))
    ),
    "10 x unclosed `](` under a word limit": lambda n: _HEAD + "why_it_matters: |\n  " + "](" * (10 * n),
}


def check_scaling(size: int) -> None:
    """Time the checker in-process on briefs with ``size`` and ``2 * size`` of each thing."""
    from research_news.validate import Checker

    with tempfile.TemporaryDirectory() as folder:
        path = generate_issue(Path(folder), 1) / "briefs" / "probe.yaml"
        for name, make in SCALING.items():
            times = []
            for n in (size, 2 * size):
                path.write_text(make(n), encoding="utf-8")
                started = time.perf_counter()
                Checker().check_path(path)
                times.append(time.perf_counter() - started)
            print(
                f"  {name}: {times[0]:.2f} s for {size:,}, {times[1]:.2f} s for {2 * size:,} "
                f"(x{times[1] / times[0]:.1f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--briefs", type=int, default=1000, help="generated briefs in the many-briefs case")
    parser.add_argument("--links", type=int, default=30_000, help="links in the one-big-brief case")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scaling", type=int, default=4000, help="N in the scaling case")
    parser.add_argument("--only", choices=("sample", "briefs", "links", "scaling"), help="run one case")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    if args.only in (None, "sample"):
        seconds, _ = best_of(args.runs, [*COMMAND, str(SAMPLE_ROOT)])
        print(f"check sample tree ({SAMPLE_ROOT.relative_to(REPO)}): {seconds:.2f} s")
    if args.only in (None, "briefs"):
        with tempfile.TemporaryDirectory() as folder:
            root = generate_issue(Path(folder), args.briefs).parent
            seconds, _ = best_of(args.runs, [*COMMAND, str(root)])
            print(
                f"check {args.briefs} generated briefs: {seconds:.2f} s ({seconds / args.briefs * 1000:.2f} ms "
                "a brief; target < 3 s for 1,000)"
            )
    if args.only in (None, "links"):
        check_links(args.links, args.runs)
    if args.only in (None, "scaling"):
        print("check time as things double (x2 linear, x4 quadratic):")
        check_scaling(args.scaling)


if __name__ == "__main__":
    main()
