"""What research-news needs to know about an image file: its size, and whether it is safe to use.

Images come with untrusted briefs. A PNG can claim a size that takes gigabytes to
decode, a file named .png can be something else or be cut short, and an SVG is a
document that can carry scripts, which would run on the publisher's site when a reader
opens the figure from the web edition, and can name other files and sites, which
readers' browsers would load. :func:`image_problem` finds each of these, so that
``check`` reports them before anything is rendered; :func:`svg_problem` is the one SVG
rule, which the PDF's URL fetcher applies too (see its docstring).
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import math
import re
import warnings
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote_to_bytes, urlsplit
from xml.parsers.expat import ExpatError, ParserCreate, errors

from .markdown import ALLOWED_SCHEMES

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
        if path.stat().st_size > MAX_SVG_BYTES:  # not read at all
            return f"is over {MAX_SVG_BYTES // 1_000_000} MB", "simplify the drawing or export it as PNG"
        return svg_problem(path.read_bytes())
    with path.open("rb") as stream:
        head = stream.read(64)
    signature = SIGNATURES[suffix]
    assert signature is not None  # only SVG has none, and it was read above
    if not head.startswith(signature):
        named = "a PNG" if suffix == ".png" else "a JPEG"
        actual = _kind_of(head)
        if actual:
            return (
                f"is {actual}, not {named} as its name says",
                f"rename it to end in {ACTUAL_SUFFIX[actual]}, or re-export it as {named[2:]}",
            )
        return f"is not really {named} image", "re-export the image in the format its name says"
    return _bitmap_problem(path)


KINDS = {
    "a PNG": (b"\x89PNG\r\n\x1a\n",),
    "a JPEG": (b"\xff\xd8\xff",),
    "a GIF": (b"GIF87a", b"GIF89a"),
    "a PDF": (b"%PDF",),
    "a TIFF": (b"II*\x00", b"MM\x00*"),
    "an HEIC photo": (b"\x00\x00\x00\x18ftypheic", b"\x00\x00\x00\x1cftypheic"),
}
"""What a file is, by how it starts: to say "is a JPEG" rather than "is not a PNG"."""
ACTUAL_SUFFIX = {
    "a PNG": ".png",
    "a JPEG": ".jpg",
    "a GIF": ".gif (then export it as PNG)",
    "a WebP image": ".webp (then export it as PNG)",
    "a PDF": ".pdf (then export it as PNG or SVG)",
    "a TIFF": ".tif (then export it as PNG)",
    "an HEIC photo": ".heic (then export it as JPEG)",
    "an SVG drawing": ".svg",
}


def _kind_of(head: bytes) -> str | None:
    """ "a JPEG", "an SVG drawing"… for a file starting with ``head``, when it is recognisable."""
    for kind, starts in KINDS.items():
        if any(head.startswith(start) for start in starts):
            return kind
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image"
    if b"<svg" in head.lower():
        return "an SVG drawing"
    return None


RASTER_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF")
"""How PNG, JPEG, GIF and WebP files start: anything else an image decoder is handed may be read as SVG."""


def _bitmap_problem(path: Path | BinaryIO) -> tuple[str, str] | None:
    from PIL import Image as PILImage  # Pillow comes with WeasyPrint

    hint = "export it again at a sensible size: 2,500 pixels across is plenty for a full-width print figure"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        try:
            with PILImage.open(path) as picture:
                width, height = picture.size
                if width * height > MAX_PIXELS:
                    return f"is {width:,} × {height:,} pixels, more than {MAX_PIXELS // 1_000_000} million", hint
                if picture.format not in ("PNG", "JPEG", "GIF", "WEBP"):
                    return f"is a {picture.format} image", "use a PNG or JPEG image"
                picture.verify()  # reads every chunk and its checksum without decoding the pixels
        except PILImage.DecompressionBombError:
            return f"claims more than {MAX_PIXELS // 1_000_000} million pixels", hint
        except (OSError, SyntaxError, ValueError, EOFError):
            return "is damaged or cut short and cannot be read", "export or download it again"
    return None


# --- SVG: one rule for every edition ----------------------------------------------------
#
# An SVG shown with <img> cannot run scripts or load anything, but one opened on its own
# (a reader who clicks the figure, an archive that serves it) runs scripts with the
# publisher's site as origin and loads what it names from readers' browsers.

SVG_HINT = "export the figure again as a plain drawing, without interactivity or scripts"
PLAIN_SVG_HINT = "save it again as plain SVG (Inkscape: Save As › Plain SVG; Illustrator: Export As › SVG)"
SELF_CONTAINED_HINT = (
    "a figure must be one self-contained file: embed pictures in it (Inkscape: Extensions › "
    "Images › Embed Images; Illustrator: Embed) and draw everything else in the figure itself"
)


class _Refused(Exception):
    """Raised inside the parser's callbacks: the first thing the policy refuses ends the reading."""

    def __init__(self, what: str, hint: str = SVG_HINT):
        super().__init__(what)
        self.what, self.hint = what, hint


def svg_problem(data: bytes) -> tuple[str, str] | None:
    """(what is wrong, how to fix it) for an SVG document, or None if it may be published.

    The rule: a figure is **one self-contained drawing**. It may not name anything
    outside itself, run anything, or change how it is read:

    - no scripts: no ``<script>``, ``<foreignObject>``, ``<iframe>`` and the like, no
      event-handler attributes (``onload=``), no ``javascript:`` anywhere;
    - no references out of the file: every ``href`` (in any namespace, whatever its
      prefix) and every CSS ``url()`` names an ``#id`` in the same file, except that an
      ``<image>`` or ``<feImage>`` may hold a PNG, JPEG, GIF or WebP picture as a
      ``data:`` URL (how drawing programs embed pictures; the picture is checked like a
      figure file, and cannot run or fetch anything), and a link ``<a href>`` may go to
      an http, https or mailto address, like a link in a brief's text: it is
      navigation the reader chooses, not something the browser loads. No ``@import``,
      no ``image-set()`` strings, no animation that rewrites an ``href``, no ``xml:base``;
    - no document type with definitions of its own (``<!ENTITY>``: text expanded where
      no one sees it) or from elsewhere than the W3C's SVG DTD, and no
      ``<?xml-stylesheet?>``.

    A figure that breaks the rule is refused, with what to change, rather than published
    as a cleaned copy: the author's drawing would silently lose parts (a cleaned copy of
    a figure with an external picture prints without the picture), and what is checked
    is then exactly what every edition publishes. The PDF's URL fetcher applies this
    same function to every SVG it is asked for (:mod:`research_news.urls`), so ``check``,
    the PDF, the web edition and any archive built from it agree.

    The file is read as XML by expat with namespaces, as a browser builds it:
    entities, character references, prefixes and ``CDATA`` are resolved before the
    rule is applied, so ``&#106;avascript:`` or ``<x:image x:href>`` are seen for what
    they are. Names are compared in lower case, stricter than XML.
    """
    if len(data) > MAX_SVG_BYTES:
        return f"is over {MAX_SVG_BYTES // 1_000_000} MB", "simplify the drawing or export it as PNG"
    reader = _SvgReader()
    try:
        reader.read(data)
    except _Refused as refused:
        return refused.what, refused.hint
    except ExpatError as error:
        return (
            f"is not well-formed SVG ({errors.messages[error.code]}, line {error.lineno})",
            "export it again from your drawing program",
        )
    return None


SVG_NAMESPACE = "http://www.w3.org/2000/svg"
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
_ACTIVE_NAMESPACES = {
    "http://www.w3.org/1999/xhtml": "HTML",
    "http://www.w3.org/1998/Math/MathML": "MathML",
    "http://www.w3.org/1999/XSL/Transform": "XSLT",
    "http://www.w3.org/2001/XInclude": "XInclude",
}
"""Elements from these vocabularies can run, load or include things; editors' own
namespaces (Inkscape, Sodipodi, RDF metadata, Adobe) are inert data and stay allowed."""

_ACTIVE_ELEMENTS = {
    "script",
    "foreignobject",
    "iframe",
    "embed",
    "object",
    "handler",
    "listener",
    "audio",
    "video",
    "canvas",
    "animation",
}
"""SVG elements (1.1, 2 and Tiny 1.2) that run code or show another document. Every
other element is drawing or inert; what any element may *name* is the href and url()
rule, which is an allow-list."""

_ANIMATIONS = {"set", "animate", "animatetransform", "animatemotion", "animatecolor"}
_EMBEDDING_ELEMENTS = {"image", "feimage"}
_W3C_SVG_DTD = re.compile(r"https?://www\.w3\.org/(Graphics/SVG/|TR/2001/REC-SVG-20010904/DTD/)", re.I)
_DATA_BITMAP = re.compile(r"data:image/(png|jpeg|jpg|gif|webp)\s*(;[^,]*)?,", re.I)
_URL_FUNCTIONS = {"url", "src"}
_IMAGE_STRING_FUNCTIONS = ("image-set", "image", "cross-fade")
"""CSS functions whose strings are URLs (``image-set("x.png" 1x)``), with or without a vendor prefix."""


class _SvgReader:
    """Reads an SVG with expat and raises :class:`_Refused` at the first thing the policy refuses."""

    def __init__(self) -> None:
        self.parser = ParserCreate(namespace_separator=" ")
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._entity
        self.parser.ProcessingInstructionHandler = self._instruction
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.depth = 0
        self.style_depth: int | None = None  # depth of the open <style> element, if any
        self.style_text: list[str] = []

    def read(self, data: bytes) -> None:
        self.parser.Parse(data, True)

    def _doctype(self, name: str, system_id: str | None, public_id: str | None, internal_subset: int) -> None:
        if internal_subset:
            raise _Refused(
                "has a document type with definitions of its own (<!DOCTYPE … [ … ]>), "
                "which can hide text from this check",
                PLAIN_SVG_HINT,
            )
        if system_id and not _W3C_SVG_DTD.match(system_id):
            raise _Refused(f'names an outside document type definition, "{_shorten(system_id)}"', SELF_CONTAINED_HINT)

    def _entity(self, name: str, *_: Any) -> None:
        raise _Refused(f"declares an entity (<!ENTITY {name} …>), which can hide text from this check", PLAIN_SVG_HINT)

    def _instruction(self, target: str, data: str) -> None:
        if target.lower() == "xml-stylesheet":
            raise _Refused("names a stylesheet (<?xml-stylesheet?>), which could transform it into a page")

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        namespace, local = _split(name)
        if self.depth == 0 and (local != "svg" or namespace not in ("", SVG_NAMESPACE)):
            raise _Refused("is not really an SVG image", "re-export the image in the format its name says")
        if self.style_depth is not None:
            raise _Refused("has elements inside a <style> element", SVG_HINT)
        self.depth += 1
        if namespace in _ACTIVE_NAMESPACES:
            raise _Refused(
                f"contains {_ACTIVE_NAMESPACES[namespace]} (a <{local}> element), "
                "which belongs in a web page, not a figure"
            )
        drawing = namespace in ("", SVG_NAMESPACE)
        if drawing and local in _ACTIVE_ELEMENTS:
            raise _Refused(f"contains a <{name.rsplit(' ', 1)[-1]}> element")
        if drawing and local == "style":
            self.style_depth, self.style_text = self.depth, []
        for attribute, value in attributes.items():
            _attribute_rule(local if drawing else None, attribute, value)

    def _end(self, name: str) -> None:
        if self.style_depth == self.depth:
            self.style_depth = None
            css = "".join(self.style_text)
            if _is_script_url(css):
                raise _Refused("contains a javascript: link")
            _css_rule(css, stylesheet=True)
        self.depth -= 1

    def _text(self, text: str) -> None:
        if self.style_depth is not None:
            self.style_text.append(text)


def _split(name: str) -> tuple[str, str]:
    """expat's ``namespace local`` name as (namespace, local name in lower case)."""
    namespace, _, local = name.rpartition(" ")
    return namespace, local.lower()


def _attribute_rule(element: str | None, name: str, value: str) -> None:
    """``element`` is the SVG element's name, None for an element of an editor's namespace."""
    namespace, local = _split(name)
    if local.startswith("on"):
        raise _Refused(f"contains an event handler ({local}=), which is a script")
    if _is_script_url(value):
        raise _Refused("contains a javascript: link")
    if namespace == XML_NAMESPACE and local == "base":
        raise _Refused("sets xml:base, which makes its references point elsewhere", SELF_CONTAINED_HINT)
    if local == "href":
        _href_rule(element, value)
    if local == "attributename" and element in _ANIMATIONS and _split(value.replace(":", " "))[1] == "href":
        raise _Refused(f'has a <{element}> that rewrites a link (attributeName="{value}")', SVG_HINT)
    if "(" in value and _CSS_URL_WORDS.search(value):  # a url() needs its "(" whatever escapes spell "url"
        refused = _css_value_refusal(value)
        if refused:
            raise _Refused(*refused)


def _href_rule(element: str | None, value: str) -> None:
    """An ``href`` names a part of this figure; a link may also go to a web or mail address;
    an embedded picture may be a bitmap ``data:`` URL."""
    url = _as_browser_reads(value)
    if url.startswith("#"):
        return
    scheme = urlsplit(url).scheme.lower() if ":" in url else ""
    if element == "a" and scheme in ALLOWED_SCHEMES:
        return
    if element in _EMBEDDING_ELEMENTS and _DATA_BITMAP.match(url):
        problem = _data_bitmap_problem(url)
        if problem:
            raise _Refused(f"embeds a picture that {problem[0]}", problem[1])
        return
    if element in _EMBEDDING_ELEMENTS and scheme == "data":
        raise _Refused(
            f'embeds "{_shorten(url, 40)}", which is not a PNG, JPEG, GIF or WebP picture',
            "embed pictures as PNG or JPEG",
        )
    where = f"a link (<a href>) may only go to an {', '.join(ALLOWED_SCHEMES)} address; " if element == "a" else ""
    raise _Refused(
        f'names "{_shorten(url, 60)}" (in <{element or "an element"}>), which is outside the figure',
        where + SELF_CONTAINED_HINT,
    )


def _as_browser_reads(url: str) -> str:
    """A URL as the URL standard reads it: outer blanks and controls stripped, tabs and newlines dropped."""
    return re.sub(r"[\t\n\r]", "", url).strip(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12"
        "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "
    )


def _data_bitmap_problem(url: str) -> tuple[str, str] | None:
    """The picture in a ``data:image/…`` URL, checked like a picture file (size, damage)."""
    header, _, payload = url.partition(",")
    try:
        body = (
            base64.b64decode(re.sub(r"\s+", "", payload)) if ";base64" in header.lower() else unquote_to_bytes(payload)
        )
    except (binascii.Error, ValueError):
        return "is damaged and cannot be read", "embed the picture again"
    return _bitmap_problem(io.BytesIO(body))


_CSS_URL_WORDS = re.compile(r"url|src|image|fade|\\", re.I)
"""Words every CSS function naming a URL has (or a backslash, which could spell one): values
without them (``translate(3 4)``) need no parsing."""


@functools.lru_cache(maxsize=4096)
def _css_value_refusal(value: str) -> tuple[str, str] | None:
    """:func:`_css_rule` for an attribute value, remembered: plots repeat ``clip-path="url(#p1)"``."""
    try:
        _css_rule(value, stylesheet=False)
    except _Refused as refused:
        return refused.what, refused.hint
    return None


def _css_rule(text: str, *, stylesheet: bool) -> None:
    """CSS (a <style> element, a style= attribute or a presentation attribute) may name only ``#id``s."""
    import tinycss2  # WeasyPrint's own CSS parser: escapes and comments are read as browsers read them
    from tinycss2.ast import AtRule, FunctionBlock, Node, URLToken

    nodes = tinycss2.parse_stylesheet(text) if stylesheet else tinycss2.parse_component_value_list(text)
    pending: list[Node] = list(nodes)
    while pending:
        node = pending.pop()
        if isinstance(node, AtRule) and node.lower_at_keyword == "import":
            raise _Refused("imports a stylesheet (@import), which is outside the figure", SELF_CONTAINED_HINT)
        if isinstance(node, URLToken) and not node.value.strip().startswith("#"):
            raise _Refused(
                f'names "{_shorten(node.value, 60)}" in its styles, which is outside the figure', SELF_CONTAINED_HINT
            )
        if isinstance(node, FunctionBlock):
            _css_function_rule(node)
        for child in ("prelude", "content", "arguments"):
            pending.extend(getattr(node, child, None) or [])


def _css_function_rule(function: Any) -> None:
    strings = [token.value for token in function.arguments if token.type == "string"]
    name = function.lower_name
    if name in _URL_FUNCTIONS:
        others = [t for t in function.arguments if t.type not in ("whitespace", "comment", "string")]
        if others or not strings or not all(s.strip().startswith("#") for s in strings):
            shown = (strings or ["…"])[0]
            raise _Refused(
                f'names "{_shorten(shown, 60)}" in its styles ({name}()), which is outside the figure',
                SELF_CONTAINED_HINT,
            )
    elif strings and name.endswith(_IMAGE_STRING_FUNCTIONS):
        raise _Refused(
            f'names "{_shorten(strings[0], 60)}" in its styles ({name}()), which is outside the figure',
            SELF_CONTAINED_HINT,
        )


_GAP = r"[\s\x00-\x1f]*"  # browsers skip blanks and control characters inside a URL's scheme
_SCRIPT_SCHEME = re.compile(_GAP.join("javascript:") + "|" + _GAP.join("vbscript:"), re.I)


def _is_script_url(text: str) -> bool:
    return ":" in text and _SCRIPT_SCHEME.search(text) is not None


def _shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (a data: URL can be megabytes long)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
