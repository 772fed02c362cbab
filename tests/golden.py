"""Golden files: compare an output with its committed reference, or rewrite it with ``--update-golden``.

Two kinds live under ``tests/golden/<tree>/``:

* text (``email.txt``, ``email.html``, ``index.html``, ``print.html``), normalised only where a
  build truly varies (the random unsubscribe marker, the checkout's path) and with long HTML
  lines broken between tags, so that a template change reads as a small diff;
* pictures of the PDF's pages (``pdf/page-NN.png``), rendered by poppler's ``pdftoppm`` at
  :data:`DPI` and compared pixel by pixel within :data:`LEVELS` and :data:`MAX_CHANGED`
  (poppler and the fonts are the same on every machine ``make test`` sets up).

A mismatch fails with a unified diff (text) or a difference image written next to the
test's temporary files (pages), and the command that accepts the change.
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
ACCEPT = "if the change is intended, run: pytest --update-golden (then review and commit tests/golden/)"

# --- text -------------------------------------------------------------------------------

MAX_DIFF_LINES = 80
"""Enough to show a template change in context; a whole rewritten file says so in its line count."""

LONG_LINE = 160
_MARKER = re.compile(r"rnaddr[0-9a-f]{32}")  # the address marker: a hash of the email (message.py)


def normalised(text: str) -> str:
    """``text`` with what varies between two builds of the same sources replaced by placeholders."""
    text = _MARKER.sub("rnaddr{MARKER}", text)
    return text.replace(REPO.as_uri(), "file://{REPO}").replace(str(REPO), "{REPO}")


def readable_html(html: str) -> str:
    """Long lines (inlined styles of the email) broken between tags; short lines as written."""
    lines = []
    for line in html.splitlines():
        lines.append(line.replace("><", ">\n<") if len(line) > LONG_LINE else line)
    return "\n".join(lines) + "\n"


def check_text(actual: str, relative: str, update: bool) -> None:
    """``actual`` (normalised, HTML made readable) equals ``tests/golden/<relative>``."""
    actual = normalised(actual)
    if relative.endswith(".html"):
        actual = readable_html(actual)
    golden = GOLDEN / relative
    if update:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
        return
    if not golden.exists():
        pytest.fail(f"tests/golden/{relative} does not exist; create it with: pytest --update-golden", pytrace=False)
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = list(
            difflib.unified_diff(
                expected.splitlines(), actual.splitlines(), f"golden/{relative}", "this build", lineterm="", n=2
            )
        )
        shown = diff[:MAX_DIFF_LINES]
        if len(diff) > MAX_DIFF_LINES:
            shown.append(f"... and {len(diff) - MAX_DIFF_LINES} more diff lines")
        pytest.fail(f"{relative} differs from its golden file\n" + "\n".join(shown) + f"\n{ACCEPT}", pytrace=False)


# --- PDF pages --------------------------------------------------------------------------

DPI = 40
"""An A4 page is 331 × 468 px: a line of body text is still a visible band, a moved block or a
changed margin (1 mm ≈ 1.6 px) moves thousands of pixels, and a reference stays under 20 KB."""

LEVELS = 32
"""A pixel has changed when one of its channels moved by more than this (of 255). The references'
palette is off by at most 14 levels (octree quantisation), which leaves 18 for antialiasing
differences between renderer versions; near-black text turned dark teal (#1d2125 to #0b4a5a,
53 levels of blue) still crosses it on every solid pixel of the glyphs."""

MAX_CHANGED = 0.001
"""A page fails when more than 0.1% of its pixels changed (155 of an A4 page at 40 dpi). The same
build changes none; five contents entries recoloured change ~680, a pull quote's margin of 2 mm
moves thousands. What stays under it is below the resolution: a page number's colour (≈8 px)."""


def render_pages(pdf: Path, folder: Path) -> list[Path]:
    """Every page of ``pdf`` as an RGB PNG at :data:`DPI`, in order."""
    if not shutil.which("pdftoppm"):
        pytest.fail(
            "pdftoppm is missing; install it with: apt-get install -y poppler-utils (or: make test)", pytrace=False
        )
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def _reference_image(image):
    """The committed form of a page: 256 colours, no dithering, under 20 KB. Octree quantisation keeps
    every pixel within 14 levels of the render (median cut strays by 80 on a photo's pixels)."""
    from PIL import Image

    return image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)


def changed_pixels(reference, actual) -> tuple[int, object]:
    """How many pixels differ by more than :data:`LEVELS` in a channel, and a black-and-white mask of them."""
    from PIL import ImageChops

    red, green, blue = ImageChops.difference(reference.convert("RGB"), actual.convert("RGB")).split()
    largest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    mask = largest.point(lambda level: 255 if level > LEVELS else 0)
    return mask.histogram()[255], mask


def difference_picture(reference, actual, mask, path: Path) -> Path:
    """Reference | this build | the changes in red over a faded reference, side by side."""
    from PIL import Image

    faded = Image.blend(reference.convert("RGB"), Image.new("RGB", reference.size, "white"), 0.7)
    faded.paste(Image.new("RGB", reference.size, (220, 0, 0)), mask=mask)
    width, height = reference.size
    sheet = Image.new("RGB", (width * 3 + 20, height), "white")
    for index, picture in enumerate((reference.convert("RGB"), actual.convert("RGB"), faded)):
        sheet.paste(picture, (index * (width + 10), 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path


def check_pages(pdf: Path, relative: str, work: Path, update: bool) -> None:
    """The pages of ``pdf`` look like the PNGs in ``tests/golden/<relative>/``, page for page."""
    from PIL import Image

    golden = GOLDEN / relative
    pages = render_pages(pdf, work / "rendered")
    if update:
        shutil.rmtree(golden, ignore_errors=True)
        golden.mkdir(parents=True)
        for number, page in enumerate(pages, 1):
            with Image.open(page) as image:
                _reference_image(image.convert("RGB")).save(golden / f"page-{number:02}.png", optimize=True)
        return
    references = sorted(golden.glob("page-*.png"))
    if not references:
        pytest.fail(f"tests/golden/{relative}/ holds no pages; create them with: pytest --update-golden", pytrace=False)
    failures = []
    if len(pages) != len(references):
        failures.append(f"the PDF has {len(pages)} pages, the references {len(references)}")
    # not strict: a page count that differs is reported above, and the pages both have are still compared
    for number, (reference_path, page) in enumerate(zip(references, pages, strict=False), 1):
        with Image.open(reference_path) as reference, Image.open(page) as actual:
            if reference.size != actual.size:
                failures.append(
                    f"page {number} is {actual.size[0]}×{actual.size[1]} px, "
                    f"its reference {reference.size[0]}×{reference.size[1]}"
                )
                continue
            count, mask = changed_pixels(reference, actual)
            if count > MAX_CHANGED * actual.size[0] * actual.size[1]:
                picture = difference_picture(reference, actual, mask, work / f"diff-page-{number:02}.png")
                failures.append(
                    f"page {number}: {count} pixels changed "
                    f"({count / (actual.size[0] * actual.size[1]):.2%}); see {picture}"
                )
    if failures:
        pytest.fail(
            f"the PDF's pages differ from tests/golden/{relative}/:\n  " + "\n  ".join(failures) + f"\n{ACCEPT}",
            pytrace=False,
        )
