"""The blank area of every page of the print edition, before and after the pagination moves.

Run with `.venv/bin/python benchmarks/bench_pages.py [ISSUE]` (default: the sample issue).

"Before" is the layout with every figure and quote where its ``after:`` puts it; "after"
is what `build` writes (render/pagination.py: figures and quotes that left a hole moved,
or shrunk). Blank area is the fraction of a page's content area below its lowest content,
strip by strip (:func:`~research_news.render.pagination.blank_area`). The script also
times each layout: the cost of pagination is the extra layouts it makes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from generated import SAMPLE_ISSUE

from research_news.assemble import assemble
from research_news.render import pagination
from research_news.render.pdf import ISSUE_TEMPLATE, _lay_out
from research_news.validate import load_content


def main() -> None:
    issue = Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE_ISSUE
    edition = assemble(load_content(issue))
    timings: list[float] = []

    def lay_out(arrangement: pagination.Arrangement):
        started = time.perf_counter()
        laid_out = _lay_out(edition, ISSUE_TEMPLATE, arrangement, "pdf/ua-1")
        timings.append(time.perf_counter() - started)
        return laid_out

    before = lay_out(pagination.Arrangement()).document
    first = timings[0]
    timings.clear()
    started = time.perf_counter()
    after, moves = pagination.arrange(edition, lay_out)
    arranging = time.perf_counter() - started
    print(f"{issue.name}: {len(before.pages)} pages before, {len(after.document.pages)} after")
    print(f"{'page':>4}  {'before':>7}  {'after':>7}")
    for number in range(max(len(before.pages), len(after.document.pages))):
        cells = [
            f"{pagination.blank_area(pages[number]) * 100:6.1f}%" if number < len(pages) else "      -"
            for pages in (before.pages, after.document.pages)
        ]
        print(f"{number + 1:>4}  {cells[0]}  {cells[1]}")
    for note in pagination.move_notes(edition, moves):
        print(note)
    pages = len(before.pages)
    print(
        f"one layout: {first:.2f} s ({first / pages:.3f} s a page); pagination: {len(timings)} layouts "
        f"({', '.join(f'{t:.2f}' for t in timings)} s), {arranging:.2f} s in all, "
        f"{arranging - first:+.2f} s over a single layout"
    )


if __name__ == "__main__":
    main()
