"""Every workaround for a WeasyPrint bug, in one place, each with a test that says when to remove it.

The print edition calls :func:`apply` before each render. A workaround is installed only
when WeasyPrint's code is the one it was written for, and tests/test_weasyprint_fixes.py
renders each failing case twice: with the workaround (the bug must not show) and without it
(the bug must still show). When an upgrade of WeasyPrint fixes the bug, the second test
fails, saying that the workaround can go.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
import zlib
from collections.abc import Callable
from typing import Any


def apply() -> None:
    """Install every workaround (idempotent)."""
    hang_trailing_spaces()
    tag_element_languages()
    encode_images_once()
    compress_at_the_default_level()
    list_page_references_once()
    name_images_by_content()


def wrap_once(owner: Any, name: str, parameters: list[str], wrap: Callable[[Any], Any], mark: str) -> None:
    """Replace the function ``owner.<name>`` with ``wrap(function)``, marked with the attribute ``mark``,
    unless it is marked already (idempotent) or its parameters are not ``parameters``: it is then not the
    function the wrapper was written for (an upgraded WeasyPrint), and is left alone, for a test to notice."""
    original = getattr(owner, name, None)
    if original is None or getattr(original, mark, False):
        return
    if list(inspect.signature(original).parameters) != parameters:
        return
    wrapped = wrap(original)
    setattr(wrapped, mark, True)
    setattr(owner, name, wrapped)


# --- every stream compressed at zlib's slowest level ------------------------------------------


DEFLATE_LEVEL = 6
"""zlib's own default level: what the PDF's streams are compressed at."""


def compress_at_the_default_level() -> None:
    """Compress the PDF's streams at zlib's default level (6), not at its slowest (9).

    pydyf 0.13, WeasyPrint's PDF writer, deflates every stream (each page's drawing, the fonts,
    the object streams) at level 9. Measured on the 48-brief issue with its 48 offprints (49
    PDFs, 1,066 streams): 1.92 s of a 31.8 s build spent compressing, 0.51 s at level 6, for
    files 1.6% larger (4.80 MB → 4.88 MB in all). This gives pydyf a ``zlib`` whose
    ``compressobj`` asks for no more than level 6; anything else is zlib's own.
    """
    import pydyf

    if isinstance(pydyf.zlib, _DefaultLevelZlib):
        return
    if "compressobj(level=9)" not in inspect.getsource(pydyf.Stream.data.fget):
        return  # pydyf compresses some other way now: look again
    pydyf.zlib = _DefaultLevelZlib()


class _DefaultLevelZlib:
    """The ``zlib`` module, its ``compressobj`` held to :data:`DEFLATE_LEVEL` at most."""

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    @staticmethod
    def compressobj(level: int = -1, *args: Any, **kwargs: Any) -> Any:
        return zlib.compressobj(min(level, DEFLATE_LEVEL), *args, **kwargs)


# --- every page's reference listed again for each tagged element --------------------------


def list_page_references_once() -> None:
    """List the pages' references once per page added, not once per structure element.

    pydyf 0.13's ``PDF.page_references`` builds the reference of every page each time it is read,
    and WeasyPrint 70 reads it for each tagged element (PDF/UA: every paragraph, heading, link)
    and each link's destination to pick one page. On the 48-brief issue (121 pages), 18,044 reads
    made 2.2 million references, a tenth of the time spent writing its PDF. This keeps the tuple on
    the PDF and makes it again only when a page was added (pydyf only ever appends pages).
    """
    import pydyf

    current = pydyf.PDF.__dict__.get("page_references")
    listing = current.fget if isinstance(current, property) else None
    if listing is None or getattr(listing, "lists_once", False):
        return
    if "for object_number in self.pages['Kids'][::3]" not in inspect.getsource(listing):
        return  # pydyf lists its pages some other way now: look again
    pydyf.PDF.page_references = property(_listed_once(listing))


def _listed_once(original: Callable[[Any], tuple[bytes, ...]]) -> Callable[[Any], tuple[bytes, ...]]:
    @functools.wraps(original)
    def page_references(self: Any) -> tuple[bytes, ...]:
        kids = self.pages["Kids"]
        listed = self.__dict__.get("_listed_page_references")
        if listed is None or listed[0] is not kids or listed[1] != len(kids):
            listed = self.__dict__["_listed_page_references"] = (kids, len(kids), original(self))
        return listed[2]

    page_references.lists_once = True  # type: ignore[attr-defined]
    return page_references


# --- an image encoded again for each PDF written from one layout ----------------------------


def encode_images_once() -> None:
    """Encode a raster image once per layout, not once per PDF written from it.

    WeasyPrint 70 decodes a PNG figure and encodes it again (its pixels, then its alpha channel
    apart) each time a PDF that shows it is written, although the result is the same bytes every
    time. The print edition writes the issue and then each brief's offprint from one layout, so
    each figure was encoded twice: a fifth of the time spent writing a figure-rich issue. This
    wraps the image's ``get_x_object`` to keep what it made, by its arguments, on the image, and
    give each PDF a fresh stream object of those bytes (writing a PDF rewrites its streams'
    references in place, so two PDFs may not share one).
    """
    from weasyprint.images import RasterImage

    wrap_once(RasterImage, "get_x_object", ["self", "interpolate", "dpi_ratio"], _encoding_once, "encodes_once")


def _encoding_once(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def get_x_object(self, interpolate, dpi_ratio):
        made = self.__dict__.setdefault("_encoded", {})
        key = (interpolate, dpi_ratio)
        if key not in made:
            made[key] = _fresh_stream(original(self, interpolate, dpi_ratio))
        return _fresh_stream(made[key])

    return get_x_object


def _fresh_stream(stream: Any) -> Any:
    """A new stream object of ``stream``'s data and entries (its mask too), nothing in it shared that a
    PDF's writing changes. Bytes WeasyPrint keeps in its image cache are taken out of it: another call
    (at another resolution) would store other bytes under the same cache key."""
    import pydyf
    from weasyprint.images import LazyImage

    extra = pydyf.Dictionary(stream.extra)
    if isinstance(extra.get("SMask"), pydyf.Stream):
        extra["SMask"] = _fresh_stream(extra["SMask"])
    data = [item.data if isinstance(item, LazyImage) else item for item in stream.stream]
    return pydyf.Stream(data, extra, stream.compress)


# --- an image named by where it was read, not by what it is -------------------------------


RASTER_IMAGE_PARAMETERS = [
    "self",
    "pillow_image",
    "image_id",
    "image_data",
    "filename",
    "cache",
    "orientation",
    "options",
]
"""``RasterImage.__init__``'s parameters in WeasyPrint 70, as :func:`name_images_by_content` was written for them."""


def name_images_by_content() -> None:
    """Name a raster image in the PDF by its bytes (and orientation), not by its address.

    WeasyPrint 70 names each image's XObject after an MD5 of its URL, which holds the content tree's
    absolute path: the same issue built in two checkouts (a CI runner's and an editor's) made PDFs that
    differed in those names, and in every offset after them. Named after the image's own bytes and the
    orientation it is drawn in, the PDF is the same bytes wherever the tree is; two addresses of the
    same bytes drawn the same way share one XObject, as two uses of one address did already.
    """
    from weasyprint.images import RasterImage

    wrap_once(RasterImage, "__init__", RASTER_IMAGE_PARAMETERS, _named_by_content, "names_by_content")


def _named_by_content(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def __init__(self, pillow_image, image_id, image_data, *more, **options):
        if isinstance(image_data, bytes):  # (WeasyPrint passes the file's bytes; anything else: its own name)
            orientation = options.get("orientation", more[2] if len(more) > 2 else "none")
            digest = hashlib.md5(repr(orientation).encode(), usedforsecurity=False)
            digest.update(image_data)
            image_id = digest.hexdigest()
        original(self, pillow_image, image_id, image_data, *more, **options)

    return __init__


# --- a part in another language is not tagged with it --------------------------------------


def tag_element_languages() -> None:
    """Give a structure element the language of its HTML element's own ``lang`` attribute.

    WeasyPrint 70 writes the document's language (``/Lang`` in the catalogue) but not the
    ``lang`` of an element inside it, so a screen reader reads a French brief of an English
    issue with an English voice; PDF/UA asks for ``/Lang`` on the element where the
    language changes. This wraps the function that builds each box's structure element.
    """
    from weasyprint.pdf import tags

    wrap_once(tags, "_build_box_tree", _BUILD_BOX_TREE_PARAMETERS, _with_languages, "tags_languages")


_BUILD_BOX_TREE_PARAMETERS = ["box", "parent", "pdf", "page_number", "nums", "annotations", "tags"]


def _with_languages(original):
    import pydyf

    @functools.wraps(original)
    def build_box_tree(box, parent, pdf, page_number, nums, annotations, tags):
        element = getattr(box, "element", None)
        tag = getattr(box, "element_tag", None)
        own = element.get("lang") if element is not None and tag not in ("html", "body") else None
        document_language = pdf.catalog.get("Lang")  # set from <html lang> before the tags are built
        built = original(box, parent, pdf, page_number, nums, annotations, tags)
        if not own or own == getattr(document_language, "string", None):
            # Nothing to add (or the document's language, already in the catalogue): WeasyPrint's own
            # generator, not one wrapping it, since every element built below would pass through it.
            return built
        return _languaged(built, parent, pydyf.String(own))

    return build_box_tree


def _languaged(built: Any, parent: Any, language: Any) -> Any:
    """The structure elements ``built`` yields, the box's own with ``language``: it comes out last; its
    children's went through the wrapper already."""
    for element in built:
        if element.get("P") == parent.reference and "Lang" not in element:
            element["Lang"] = language
        yield element


# --- a trailing space counted as overflow ------------------------------------------------


def hang_trailing_spaces() -> None:
    """Let a line's trailing space hang, so a line that fits is not broken after its first word.

    WeasyPrint 70 compares a text's width *including* its trailing space with the line
    width. When the words fit but the space after them does not (a text node that ends
    just before ``<strong>``, for instance), it concludes that nothing fits and breaks
    after the first word, leaving "people," alone on a line. CSS Text 3 says trailing
    spaces hang; this wrapper lays such a text out whole when its words alone fit.
    Idempotent, and skipped when WeasyPrint's function is not the one this was written
    for (a test renders the failing paragraph, so an upgrade that needs a new fix shows).
    """
    from weasyprint.layout import inline

    wrap_once(inline, "split_first_line", _SPLIT_FIRST_LINE_PARAMETERS, _hanging_space, "hangs_trailing_space")


_SPLIT_FIRST_LINE_PARAMETERS = [
    "text",
    "style",
    "context",
    "max_width",
    "justification_spacing",
    "is_line_start",
    "minimum",
]


def _hanging_space(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def split_first_line(text, style, context, max_width, justification_spacing, is_line_start=True, minimum=False):
        result = original(text, style, context, max_width, justification_spacing, is_line_start, minimum)
        if (
            result[2] is None
            or max_width is None
            or not text.endswith(" ")
            or style["white_space"] not in ("normal", "nowrap", "pre-line")
        ):
            return result
        if " " in text.encode()[: result[2]].decode(errors="ignore").strip():
            return result  # more than one word fits: not the symptom, and no second layout to pay for
        words = original(text.rstrip(" "), style, context, max_width, justification_spacing, is_line_start, minimum)
        if words[2] is not None:
            return result  # the words alone do not fit either: WeasyPrint's break stands
        return original(text, style, context, math.inf, justification_spacing, is_line_start, minimum)

    return split_first_line
