"""What research-news needs to know about an image file: its size, and whether it is safe to use.

Images come with untrusted briefs. A PNG can claim a size that takes gigabytes to
decode, a file named .png can be something else or be cut short, and an SVG is a
document that can carry scripts, which would run on the publisher's site when a reader
opens the figure from the web edition. :func:`image_problem` finds each of these, so
that ``check`` reports them before anything is rendered.
"""

from __future__ import annotations

import html
import math
import re
import warnings
from pathlib import Path

SIGNATURES = {".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".svg": None}
"""The image types a brief may use, and how each file starts."""

MAX_PIXELS = 50_000_000
"""Large enough for any camera's photo, small enough to decode in reasonable memory
(and under Pillow's own decompression-bomb threshold of 89 million pixels)."""

MAX_SVG_BYTES = 5_000_000


def image_problem(path: Path) -> tuple[str, str] | None:
    """(what is wrong, how to fix it) for the image at ``path``, or None if it can be used."""
    suffix = path.suffix.lower()
    with path.open("rb") as stream:
        head = stream.read(512)
    if suffix == ".svg":
        if not (b"<svg" in head or head.lstrip().startswith(b"<?xml")):
            return "is not really an SVG image", "re-export the image in the format its name says"
        return _svg_problem(path)
    if not head.startswith(SIGNATURES[suffix]):
        kind = "a PNG" if suffix == ".png" else "a JPEG"
        return f"is not really {kind} image", "re-export the image in the format its name says"
    return _bitmap_problem(path)


def _bitmap_problem(path: Path) -> tuple[str, str] | None:
    from PIL import Image as PILImage  # Pillow comes with WeasyPrint

    hint = "export it again at a sensible size: 2,500 pixels across is plenty for a full-width print figure"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        try:
            with PILImage.open(path) as picture:
                width, height = picture.size
                if width * height > MAX_PIXELS:
                    return f"is {width:,} × {height:,} pixels, more than {MAX_PIXELS // 1_000_000} million", hint
                picture.verify()  # reads every chunk and its checksum without decoding the pixels
        except PILImage.DecompressionBombError:
            return f"claims more than {MAX_PIXELS // 1_000_000} million pixels", hint
        except (OSError, SyntaxError, ValueError, EOFError):
            return "is damaged or cut short and cannot be read", "export or download it again"
    return None


# An SVG shown with <img> cannot run scripts, but one opened on its own (a reader who
# clicks the figure) runs them with the publisher's site as origin.
_SCRIPT_ELEMENT = re.compile(r"<\s*(?:[\w-]+:)?(script|foreignObject|iframe|embed|object)\b", re.I)
_TAG = re.compile(r"<[^>]*>", re.S)
_EVENT_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)


def _svg_problem(path: Path) -> tuple[str, str] | None:
    hint = "export the figure again as a plain drawing, without interactivity or scripts"
    if path.stat().st_size > MAX_SVG_BYTES:
        return f"is over {MAX_SVG_BYTES // 1_000_000} MB", "simplify the drawing or export it as PNG"
    text = path.read_text(encoding="utf-8", errors="replace")
    found = _SCRIPT_ELEMENT.search(text)
    if found:
        return f"contains a <{found.group(1)}> element", hint
    if any(_EVENT_ATTRIBUTE.search(tag) for tag in _TAG.findall(text)):
        return "contains an event handler (an on…= attribute), which is a script", hint
    # Character references and blanks can hide a scheme from a plain search: decode them first.
    squeezed = re.sub(r"[\s\x00-\x1f]+", "", html.unescape(text)).lower()
    if "javascript:" in squeezed or "vbscript:" in squeezed:
        return "contains a javascript: link", hint
    return None


def image_size(path: Path) -> tuple[int | None, int | None]:
    """Intrinsic pixel size of a png/jpg (from its header) or an svg (width/height or viewBox)."""
    if path.suffix.lower() == ".svg":
        return _svg_size(path)
    from PIL import Image as PILImage

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        try:
            with PILImage.open(path) as picture:
                return picture.size
        except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombError):
            return None, None


def _svg_size(path: Path) -> tuple[int | None, int | None]:
    head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    tag = re.search(r"<svg\b[^>]*>", head, re.S)
    if not tag:
        return None, None
    attrs = dict(re.findall(r'(\w+)\s*=\s*["\']([^"\']*)["\']', tag.group(0)))
    box = attrs.get("viewBox", "").replace(",", " ").split()
    if "width" in attrs and "height" in attrs:
        size = _length(attrs["width"]), _length(attrs["height"])
    elif len(box) == 4:
        size = _length(box[2]), _length(box[3])
    else:
        return None, None
    return size if None not in size else (None, None)


def _length(text: str) -> int | None:
    """A positive, finite SVG length in user units, rounded (``1e999`` and ``nan`` are not sizes)."""
    try:
        value = float(re.sub(r"[a-z%]+$", "", text.strip()))
    except ValueError:
        return None
    return round(value) if math.isfinite(value) and 0 < value < 1_000_000 else None
