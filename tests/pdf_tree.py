"""Read a PDF as its object tree (pypdf): what the reader's software acts on, never bytes of the file.

A search for ``b"/JavaScript"`` in a PDF's bytes misses everything inside a compressed object
stream, and finds words in the text; these helpers resolve references, decode streams and
follow the catalogue (/StructTreeRoot, /Outlines, /Names, pages and their /Annots) instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject, TextStringObject

ACTIVE_KEYS = {
    "/JS",
    "/JavaScript",
    "/Launch",
    "/AA",
    "/OpenAction",
    "/EmbeddedFiles",
    "/RichMedia",
    "/SubmitForm",
    "/ImportData",
    "/GoToR",
    "/GoToE",
    "/AcroForm",
}
"""Catalogue, page, annotation and action keys that make a viewer run, open, fetch or send something."""

ALLOWED_ACTIONS = {"/URI", "/GoTo"}
"""The only actions an issue needs: a link out, and a jump inside the document."""


def resolve(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def reachable(reader: PdfReader) -> Iterator[tuple[str, Any]]:
    """(key path, object) for every dictionary, array and string reachable from the trailer, each object once."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[str, Any]] = [("trailer", reader.trailer)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, IndirectObject):
            key = (value.idnum, value.generation)
            if key in seen:
                continue
            seen.add(key)
            value = value.get_object()
        yield where, value
        if isinstance(value, DictionaryObject):  # streams are dictionaries too
            for name in value:
                if name not in ("/Parent", "/P"):  # back links: everything they reach is reached from the root
                    stack.append((f"{where}{name}", value.raw_get(name)))
        elif isinstance(value, ArrayObject):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(value))


def actions(reader: PdfReader) -> list[tuple[str, DictionaryObject]]:
    """(key path, action) for the actions of links, outline items, the catalogue and chained /Next actions.

    Only where an action can be: a structure element's /A is its attributes, not an action.
    """
    found = []
    for where, value in reachable(reader):
        if not isinstance(value, DictionaryObject):
            continue
        if value.get("/Type") == "/Action":
            found.append((where, value))
        elif ("/Subtype" in value or "/Title" in value) and isinstance(resolve(value.get("/A")), DictionaryObject):
            found.append((f"{where}/A", resolve(value["/A"])))  # an annotation's or an outline item's action
    return found


def active_content(reader: PdfReader) -> list[str]:
    """Where the PDF holds a script, a launch, a form, an embedded file, or an action other than a link."""
    found = [
        f"{where}{key}"
        for where, value in reachable(reader)
        if isinstance(value, DictionaryObject)
        for key in value
        if key in ACTIVE_KEYS
    ]
    for where, action in actions(reader):
        if action.get("/S") not in ALLOWED_ACTIONS:
            found.append(f"{where} is a {action.get('/S')} action")
        elif action.get("/S") == "/URI" and not str(action.get("/URI", "")).startswith(("https:", "http:", "mailto:")):
            found.append(f"{where} opens {action.get('/URI')}")
    return found


def decoded_texts(reader: PdfReader) -> Iterator[str]:
    """Every string object and every decoded stream (content, font, image, XMP), as text to search in."""
    for _, value in reachable(reader):
        if isinstance(value, StreamObject):
            yield value.get_data().decode("latin-1")
        elif isinstance(value, (TextStringObject, str)):
            yield str(value)
    for page in reader.pages:
        yield page.extract_text()


def struct_elements(reader: PdfReader) -> list[DictionaryObject]:
    """The structure elements under /StructTreeRoot, in document order (marked-content ids and OBJRs left out)."""
    root = resolve(reader.trailer["/Root"]["/StructTreeRoot"])
    elements: list[DictionaryObject] = []

    def walk(node: Any, depth: int) -> None:
        node = resolve(node)
        if not isinstance(node, DictionaryObject) or node.get("/Type") == "/OBJR" or depth > 100:
            return
        if "/S" in node:
            elements.append(node)
        kids = node.get("/K")
        for kid in kids if isinstance(kids, ArrayObject) else [kids] if kids is not None else []:
            walk(kid, depth + 1)

    walk(root, 0)
    return elements


def parent_tree(reader: PdfReader) -> dict[int, Any]:
    """/StructTreeRoot /ParentTree as a dict: StructParent(s) number → element (or list of elements)."""
    numbers: dict[int, Any] = {}

    def walk(node: Any) -> None:
        node = resolve(node)
        pairs = node.get("/Nums", [])
        for index in range(0, len(pairs), 2):
            numbers[int(pairs[index])] = resolve(pairs[index + 1])
        for kid in node.get("/Kids", []):
            walk(kid)

    walk(resolve(reader.trailer["/Root"]["/StructTreeRoot"])["/ParentTree"])
    return numbers


def link_annotations(reader: PdfReader) -> list[tuple[int, DictionaryObject]]:
    """(0-based page, annotation) for every /Link annotation, in page order."""
    return [
        (number, resolve(annotation))
        for number, page in enumerate(reader.pages)
        for annotation in page.get("/Annots", [])
        if resolve(annotation).get("/Subtype") == "/Link"
    ]


def marked_texts(reader: PdfReader) -> dict[tuple[int, int], str]:
    """(0-based page, marked-content id) → the text drawn inside that marked content."""
    texts: dict[tuple[int, int], str] = {}
    for number, page in enumerate(reader.pages):
        for mcid, text in _marked_runs(page):
            texts[number, mcid] = texts.get((number, mcid), "") + text
    return texts


def _marked_runs(page) -> list[tuple[int, str]]:
    """(marked-content id, text) for each run of text drawn inside marked content on ``page``."""
    runs: list[tuple[int, str]] = []
    marked: list[int | None] = []

    def before(operator, arguments, cm, tm):
        if operator == b"BDC":
            properties = resolve(arguments[1]) if len(arguments) > 1 else None
            marked.append(int(properties["/MCID"]) if hasattr(properties, "get") and "/MCID" in properties else None)
        elif operator == b"EMC" and marked:
            marked.pop()

    def visit(text, cm, tm, font, size):
        runs.extend((mcid, text) for mcid in marked if mcid is not None)

    page.extract_text(visitor_operand_before=before, visitor_text=visit)
    return runs


def text_of(reader: PdfReader, element, texts: dict[tuple[int, int], str]) -> str:
    """The text a structure element marks: its marked-content ids (and its children's), looked up on its page."""
    pieces: list[str] = []

    def collect(node, page):
        node = resolve(node)
        if hasattr(node, "get") and "/Pg" in node:
            page = reader.get_page_number(resolve(node["/Pg"]))
        if isinstance(node, int):
            pieces.append(texts.get((page, int(node)), ""))
        elif hasattr(node, "get") and node.get("/Type") == "/MCR":
            pieces.append(texts.get((page, int(node["/MCID"])), ""))
        elif hasattr(node, "get") and "/S" in node:
            kids = node.get("/K")
            for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
                collect(kid, page)

    collect(element, None)
    return "".join(pieces)
