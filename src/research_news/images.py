"""What research-news needs to know about an image file: its size, and whether it is safe to use.

Images come with untrusted briefs. A PNG can claim a size that takes gigabytes to
decode, a file named .png can be something else or be cut short, and an SVG is a
document that can carry scripts, which would run on the publisher's site when a reader
opens the figure from the web edition. :func:`image_problem` finds each of these, so
that ``check`` reports them before anything is rendered.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from xml.etree import ElementTree

SIGNATURES = {".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".svg": None}
"""The image types a brief may use, and how each file starts."""

MAX_PIXELS = 50_000_000
"""Large enough for any camera's photo, small enough to decode in reasonable memory
(and under Pillow's own decompression-bomb threshold of 89 million pixels)."""

MAX_SVG_BYTES = 5_000_000


def image_problem(path: Path) -> tuple[str, str] | None:
    """(what is wrong, how to fix it) for the image at ``path``, or None if it can be used."""
    suffix = path.suffix.lower()
    if suffix == ".svg":  # parsed whole: a long comment may come before <svg>
        return _svg_problem(path)
    with path.open("rb") as stream:
        head = stream.read(len(SIGNATURES[suffix]))
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
# clicks the figure) runs them with the publisher's site as origin. The file is parsed
# as XML (expat expands its internal entities, within limits, and never fetches external
# ones), so what is checked is the tree a browser would build, not the text.
_ACTIVE_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
_STYLESHEET_INSTRUCTION = re.compile(r"<\?xml-stylesheet", re.I)


def _svg_problem(path: Path) -> tuple[str, str] | None:
    hint = "export the figure again as a plain drawing, without interactivity or scripts"
    if path.stat().st_size > MAX_SVG_BYTES:
        return f"is over {MAX_SVG_BYTES // 1_000_000} MB", "simplify the drawing or export it as PNG"
    data = path.read_bytes()
    if _STYLESHEET_INSTRUCTION.search(data.decode("utf-8", errors="replace")):
        return "names a stylesheet (<?xml-stylesheet?>), which could transform it into a page", hint
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        return f"is not well-formed SVG ({error})", "export it again from your drawing program"
    if _local(root.tag) != "svg":
        return "is not really an SVG image", "re-export the image in the format its name says"
    for element in root.iter():
        if _local(element.tag) in _ACTIVE_ELEMENTS:
            return f"contains a <{element.tag.rsplit('}', 1)[-1]}> element", hint
        for attribute, value in element.attrib.items():
            if _local(attribute).startswith("on"):
                return f"contains an event handler ({_local(attribute)}=), which is a script", hint
            if _is_script_url(value):
                return "contains a javascript: link", hint
        if _is_script_url(element.text or "") or _is_script_url(element.tail or ""):  # <style> url(javascript:…)
            return "contains a javascript: link", hint
    return None


def _local(name: str) -> str:
    """An XML name without its namespace, lower case: ``{http://www.w3.org/2000/svg}Script`` → ``script``."""
    return name.rsplit("}", 1)[-1].lower()


def _is_script_url(text: str) -> bool:
    # Browsers skip blanks and control characters inside a URL's scheme.
    squeezed = re.sub(r"[\s\x00-\x1f]+", "", text).lower()
    return "javascript:" in squeezed or "vbscript:" in squeezed


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
