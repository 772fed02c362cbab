"""The one door between a render and the outside world.

WeasyPrint fetches every resource a document names (images, stylesheets, fonts, and
whatever an SVG figure or a stylesheet names in turn) through its ``url_fetcher``.
Its default fetcher reads any local file and any URL, so an SVG figure saying
``<image href="file:///etc/passwd">`` or ``href="http://127.0.0.1/…"`` would be read.
:class:`SafeFetcher` replaces it, modelled on WeasyPrint's own ``urls.URLFetcher``:

- ``file:`` URLs are served only when the file's real path (symbolic links resolved)
  is a regular file inside an allowed folder (the content tree and the layout
  folders) and of a type a document may embed (image, stylesheet, font);
- ``data:`` URLs are decoded in memory: their bytes are already in the document, so
  serving them reads nothing new, and SVG exports (Inkscape, Illustrator) embed
  bitmaps that way. What a ``data:`` SVG names in turn comes back through this door;
- everything else (http, https, ftp, file on another host, unknown schemes) is
  refused without any network access.

Whatever it serves that an image decoder could read as SVG (declared SVG, or any
body that is neither a bitmap, a font nor a stylesheet: WeasyPrint tries SVG when
Pillow fails) must also pass :func:`research_news.images.svg_problem`, the rule
``check`` applies to figures: a figure changed after ``check``, or an SVG a layout
names, is refused for the same reason ``check`` would give.

Each refusal is recorded (URL and reason) so the build can report it, and raised as
an ordinary exception, which WeasyPrint turns into a skipped resource: the document
still renders, without the refused image or font.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname
from xml.etree import ElementTree

from weasyprint.urls import URLFetcher, URLFetcherResponse, iri_to_uri, path2url

from .images import RASTER_SIGNATURES, svg_problem

EMBEDDABLE = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
"""What a document may load from disk, with the type WeasyPrint needs to decode it.

Anything else inside the content tree (YAML, notes, keys someone left there) is
refused too: an image decoder never needs it.
"""

MAX_BYTES = 64 * 1024 * 1024
"""Far above any figure or font; stops an accidental multi-gigabyte file from being read."""


@dataclass(frozen=True)
class Refusal:
    """A resource the fetcher did not serve, and why."""

    url: str
    reason: str


class RefusedURL(ValueError):
    """Raised for a refused URL. Not fatal: WeasyPrint skips the resource and goes on."""


class SafeFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves local files from ``folders`` and nothing else."""

    def __init__(self, folders: Iterable[Path]):
        # allowed_protocols is a second lock on the same door: even if fetch() below were
        # bypassed, WeasyPrint's own code would refuse anything but file and data.
        super().__init__(timeout=1, allowed_protocols=("file", "data"), allow_redirects=False)
        self.folders: tuple[Path, ...] = tuple(dict.fromkeys(Path(f).resolve() for f in folders))
        self.refused: list[Refusal] = []
        self.read: set[Path] = set()  # every local file asked for, found or not: what the cache must watch

    @classmethod
    def for_edition(cls, edition) -> SafeFetcher:
        """A fetcher for ``edition``: its content tree and its layout folders."""
        return cls([edition.root, *edition.layout.folders])

    # WeasyPrint calls ``fetcher(url)``, which calls ``fetch``; both are covered.
    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        """The resource at ``url``, or :class:`RefusedURL` (recorded in ``refused``)."""
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            with closing(super().fetch(url, headers)) as decoded:  # by urllib's DataHandler, in memory
                body, kind, served, header = (
                    decoded.read(MAX_BYTES + 1),
                    decoded.content_type,
                    decoded.url,
                    decoded.headers,
                )
        elif scheme == "file":
            path = self.local_path(url)
            with open(path, "rb") as stream:
                body = stream.read(MAX_BYTES + 1)
            kind, served = EMBEDDABLE[path.suffix.lower()], path2url(path)
            header = {"Content-Type": kind}
        else:
            self._refuse(url, "network and non-file URLs are never fetched")
        if len(body) > MAX_BYTES:
            self._refuse(url, f"larger than {MAX_BYTES // (1024 * 1024)} MB")
        if _may_be_read_as_svg(kind, body):
            problem = svg_problem(body)
            if problem:
                self._refuse(url, f"the SVG {problem[0]}")
        return URLFetcherResponse(served, body, header)

    def local_path(self, url: str) -> Path:
        """The real path of a ``file:`` URL when it may be served; refuses (and records) otherwise."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            self._refuse(url, f"file on another host ({parts.netloc})")
        try:
            self.read.add(file_url_path(url).absolute())  # as named: its absence is an input too
            # resolve() follows every symbolic link, so a link inside the tree that points
            # outside it is judged by where it really leads.
            path = file_url_path(url).resolve(strict=True)
            self.read.add(path)
            mode = path.stat().st_mode
        except (OSError, RuntimeError, ValueError):
            self._refuse(url, "no such file")
        if not any(path.is_relative_to(folder) for folder in self.folders):
            self._refuse(url, "outside the content tree and the layout folders")
        if not stat.S_ISREG(mode):
            self._refuse(url, "not a regular file")
        if path.suffix.lower() not in EMBEDDABLE:
            self._refuse(url, "not an image, stylesheet or font")
        if not os.access(path, os.R_OK):
            self._refuse(url, "not readable")
        return path

    def _refuse(self, url: str, reason: str) -> NoReturn:
        self.refused.append(Refusal(url, reason))
        raise RefusedURL(f"refused {url}: {reason}")


def _may_be_read_as_svg(kind: str | None, body: bytes) -> bool:
    """Declared SVG, or anything but a bitmap, font or stylesheet (WeasyPrint's last resort is SVG)."""
    if kind == "image/svg+xml":
        return True
    return not (
        body.startswith(RASTER_SIGNATURES + FONT_SIGNATURES) or (kind or "").startswith("font/") or kind == "text/css"
    )


FONT_SIGNATURES = (b"\x00\x01\x00\x00", b"true", b"OTTO", b"ttcf", b"wOFF", b"wOF2")
"""How TrueType, OpenType, collections and WOFF files start, whatever type a data: URL claims."""


# --- where a refused URL came from ---------------------------------------------------

_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.I | re.S)


def svg_references(svg: Path) -> set[str]:
    """Absolute URLs an SVG file names (hrefs, CSS ``url()`` and ``@import``), resolved as WeasyPrint does.

    Used only to say which figure a refused URL came from; a file that does not parse
    names nothing.
    """
    base = path2url(svg)
    try:
        tree = ElementTree.parse(svg)
    except (ElementTree.ParseError, OSError):
        return set()
    found: set[str] = set()
    for element in tree.iter():
        for name, value in element.attrib.items():
            if name.rsplit("}", 1)[-1] == "href":
                found.add(value)
            elif "url(" in value:
                found.update(_css_urls(value))
        if element.tag.rsplit("}", 1)[-1] == "style" and element.text:
            found.update(_css_urls(element.text))
    return {normal_url(urljoin(base, ref.strip())) for ref in found if ref.strip() and not ref.startswith("#")}


def _css_urls(text: str) -> list[str]:
    return [match.group(2) or match.group(4) or "" for match in _CSS_URL.finditer(text)]


def file_url_path(url: str) -> Path:
    """The local path a ``file:`` URL names (not resolved, not checked)."""
    return Path(url2pathname(urlsplit(url).path))  # url2pathname also percent-decodes


def normal_url(url: str) -> str:
    """``url`` in the form WeasyPrint hands to the fetcher, without fragment, to compare URLs."""
    return iri_to_uri(url.split("#", 1)[0])
