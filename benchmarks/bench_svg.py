"""How long the SVG rule (images.svg_problem) takes on a large plot, and the glyph check when it speaks.

Run with `.venv/bin/python benchmarks/bench_svg.py [--points N]`. The SVG is shaped like
a matplotlib scatter plot (a <g> with a clip-path, a transform and a <use> per point):
the worst common case, every element carrying attributes the rule reads. Best of three.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from research_news.images import svg_problem  # noqa: E402


def scatter_plot(points: int) -> bytes:
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<defs><path id="m" d="M0 0L1 1"/><clipPath id="p0"><rect width="9" height="9"/></clipPath></defs>'
    ]
    parts += [
        f'<g clip-path="url(#p{i % 50})" transform="translate({i} {i * 2}) rotate(3)">'
        f'<use xlink:href="#m" x="{i}" y="{i}" style="fill: #1f77b4; stroke: #1f77b4"/></g>'
        for i in range(points)
    ]
    return ("".join(parts) + "</svg>").encode()


def best_of(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def glyph_check_seconds() -> float:
    """box_problems on the minimal fixture with two CJK characters in its title (fc-list included once)."""
    from research_news.assemble import assemble
    from research_news.glyphs import box_problems, installed_families
    from research_news.render.pdf import render_html
    from research_news.validate import load_content

    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "minimal"
        shutil.copytree(REPO / "tests" / "fixtures" / "minimal", tree)
        brief = tree / "2024-05-minimal" / "briefs" / "one.yaml"
        brief.write_text(brief.read_text(encoding="utf-8").replace("small things", "中文 things"), encoding="utf-8")
        edition = assemble(load_content(tree / "2024-05-minimal"))
        html = render_html(edition)
        installed_families.cache_clear()
        return best_of(1, lambda: box_problems(edition, {"中", "文"}, html))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=30_000)
    points = parser.parse_args().points
    data = scatter_plot(points)
    seconds = best_of(3, lambda: svg_problem(data))
    print(f"svg_problem: {len(data) / 1e6:.1f} MB, {points * 2:,} elements: {seconds:.2f} s")
    print(f"box_problems (first call, fc-list included): {glyph_check_seconds() * 1000:.0f} ms")


if __name__ == "__main__":
    main()
