"""The web edition: one accessible, responsive ``index.html`` and the assets beside it.

Everything the page shows comes from the :class:`~research_news.assemble.Edition`;
presentation lives in the layout's ``web/`` templates and ``web/web.css``. This module
only decides where each asset goes and how the page names it, so that publishing
``build/<slug>/`` anywhere (or opening it from disk) keeps every link working.
"""

from __future__ import annotations

import functools
import io
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..assemble import Edition, Image
from ..exceptions import ResearchNewsError
from ..layout import LayoutError
from ..sections import require_templates
from .theme import palette

ASSETS = "assets"
STYLESHEET = f"{ASSETS}/web.css"


@dataclass
class WebEdition:
    """The page, the files to copy beside it and the files made for it (the web fonts).

    Destinations are relative to build/<slug>/; ``files`` maps them to a source to copy,
    ``data`` to the bytes to write.
    """

    html: str
    files: dict[str, Path] = field(default_factory=dict)
    data: dict[str, bytes] = field(default_factory=dict)


def render_web(edition: Edition) -> WebEdition:
    """The web edition of ``edition``: ``index.html`` and the assets it links to."""
    files = {image_path(image): image.source for image in edition.images}
    stylesheet = edition.layout.file("web/web.css")
    if stylesheet is None:
        raise ResearchNewsError("the layout has no web/web.css")  # the default layout always has one
    files[STYLESHEET] = stylesheet
    fonts = LayoutFonts(edition)
    require_templates(edition.layout, [extra.type for extra in edition.extras], "web")
    env = edition.layout.environment("web")
    env.filters["asset_url"] = image_url
    env.globals["font_url"] = fonts.url
    html = env.get_template("index.html.j2").render(
        edition=edition,
        labels=edition.labels,
        publication=edition.publication,
        theme=palette(edition),
        stylesheet=STYLESHEET,
    )
    files.update(fonts.files)  # known only once the template has asked for them
    return WebEdition(html=html, files=files, data=fonts.data)


def image_path(image: Image) -> str:
    """Where an image is copied, relative to build/<slug>/ (the email links the same place)."""
    return f"{ASSETS}/{image.rel}"


def image_url(image: Image) -> str:
    """The relative URL of an image from index.html (percent-encoded: file names may have spaces)."""
    return quote(image_path(image))


# --- fonts -------------------------------------------------------------------------


class LayoutFonts:
    """The layout's font files the page asks for, as WOFF files beside it.

    The template names each face it wants (the same files as print, from the layout's
    ``fonts/`` folder) through ``font_url``; a face the layout lacks gives None and the
    template leaves it to the system font stack. A TrueType or OpenType file is wrapped
    as WOFF 1.0, which compresses it to less than half its size: the font data itself is
    left unchanged, which is what the SIL OFL FAQ asks of a WOFF version that keeps a
    Reserved Font Name (subsetting, or WOFF 2's glyph transform, would need a new name).
    The fonts' licence files travel with them, as the OFL asks.
    """

    def __init__(self, edition: Edition):
        self.layout = edition.layout
        self.files: dict[str, Path] = {}
        self.data: dict[str, bytes] = {}
        self._urls: dict[str, str | None] = {}  # a site's hundred pages ask for the same few faces

    def url(self, name: str) -> str | None:
        if name not in self._urls:
            self._urls[name] = self._url(name)
        return self._urls[name]

    def _url(self, name: str) -> str | None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):  # a file name, never a path
            raise LayoutError(f"font_url({name!r}): name a file in the layout's fonts/ folder")
        source = self.layout.file(f"fonts/{name}")
        if source is None:
            return None
        woff = woff_of(source) if source.suffix.lower() in (".ttf", ".otf") else None
        if woff is None:  # already a web format, or not a font WOFF can wrap: served as it is
            destination = f"{ASSETS}/fonts/{name}"
            self.files[destination] = source
        else:
            destination = f"{ASSETS}/fonts/{source.stem}.woff"
            self.data[destination] = woff
        for licence in sorted(source.parent.glob("LICENSE*")) + sorted(source.parent.glob("OFL*")):
            if not licence.resolve().is_relative_to(source.parent.resolve()):
                raise LayoutError(f"{licence} links to a file outside its layout folder")
            self.files[f"{ASSETS}/fonts/{licence.name}"] = licence
        return quote(destination)


def woff_of(font: Path) -> bytes | None:
    """``font`` wrapped as WOFF 1.0 (its tables zlib-compressed, unchanged), or None if it is no font.

    Compressing takes a few hundredths of a second per face; the result is kept for the file
    as it is on disk (a font that changes is wrapped again), so the preview server (``serve``),
    which renders the page on every save, pays for it once.
    """
    try:
        stat = os.stat(font)
    except OSError:
        return None
    return _woff_of(font, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _woff_of(font: Path, modified: int, size: int) -> bytes | None:
    from fontTools.ttLib import TTFont, TTLibError  # WeasyPrint's own dependency; loaded only here

    try:
        # Tables are read lazily and written back byte for byte; only the header's
        # checksum is recomputed, as any font writer must.
        with TTFont(font, lazy=True, recalcBBoxes=False, recalcTimestamp=False) as opened:
            opened.flavor = "woff"
            buffer = io.BytesIO()
            opened.save(buffer, reorderTables=False)
    except (TTLibError, OSError, AssertionError, struct.error):
        return None
    return buffer.getvalue()
