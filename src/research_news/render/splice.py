"""A brief's pages from a trial layout put into the issue's layout, in place of its own.

Pagination (render/pagination.py) lays the issue out, then tries other arrangements of the
briefs that left a hole, each laid out apart from the issue. Laying the whole issue out
again for the chosen arrangement would double the cost of a build; instead, when a moved
brief fills as many pages in its trial as in the issue, its trial pages take the place of
its pages in the issue. A page's content comes from the trial; its page box (size, margins,
background) and margin boxes (the page number, the running head and foot) stay the issue's,
since a trial numbers its pages from 1.

That is only right when the trial set the brief as the issue would have. Each condition
below is checked, and a brief that fails one is not spliced (the caller lays the issue out
again): the same number of pages, no page shared with another brief, the same page and
text-area geometry, the same running heads and feet but for the page numbers (a head
showing the current part would change with a move), the same characters, images and colours
in the brief's pages (a layout that numbers figures across the issue, or a "see page 7",
would give a trial other numbers; a fixed logo would be missing), and no link from another
page to an anchor the move carried to another page (its ``target-counter()`` would print
the old page). The result is tested to be the same bytes as the issue laid out
again whole (tests/test_splice.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from weasyprint.document import Document, Page
from weasyprint.formatting_structure import boxes as wboxes

IGNORED = re.compile(r"[\s\u00ad\u2010-]")
"""What may differ between two settings of the same text: spaces, and hyphens a line break adds."""

DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Replacement:
    """The pages ``pages`` (0-based, of the issue's layout) of one brief, and the same brief's pages
    ``trial_pages`` in ``trial``, as the chosen arrangement sets them."""

    pages: list[int]
    trial: Document
    trial_pages: list[int]
    others: frozenset[str]  # the anchors of every other brief: a page showing one is shared


def spliced(document: Document, replacements: Iterable[Replacement]) -> list[Page] | None:
    """``document``'s pages with each replacement's trial pages in place of its pages, or ``None``
    when one of them may not be set as the issue would set it (see the module's docstring)."""
    pages = list(document.pages)
    replacements = list(replacements)
    moved: set[str] = set()  # anchors the trials put on another of their brief's pages
    for replacement in replacements:
        if not _fits(document, replacement):
            return None
        moved |= _moved_anchors(document, replacement)
        for at, trial_at in zip(replacement.pages, replacement.trial_pages, strict=True):
            pages[at] = _page(document.pages[at], replacement.trial.pages[trial_at])
    spliced_in = {at for replacement in replacements for at in replacement.pages}
    for at, page in enumerate(document.pages):
        if at not in spliced_in and any(kind == "internal" and target in moved for kind, target, *_ in page.links):
            return None  # a link elsewhere names a moved anchor: its target-counter() would print another page
    return pages


def _moved_anchors(document: Document, replacement: Replacement) -> set[str]:
    """The anchors of the brief that are on another of its pages in the trial than in the issue."""
    issue = _anchor_pages([document.pages[at] for at in replacement.pages])
    trial = _anchor_pages([replacement.trial.pages[at] for at in replacement.trial_pages])
    return {anchor for anchor in issue.keys() | trial.keys() if issue.get(anchor) != trial.get(anchor)}


def _anchor_pages(pages: list[Page]) -> dict[str, int]:
    found: dict[str, int] = {}
    for number, page in enumerate(pages):
        for anchor in page.anchors:
            found.setdefault(anchor, number)
    return found


def _fits(document: Document, replacement: Replacement) -> bool:
    """Whether the trial's pages of the brief may stand for its pages in ``document``."""
    pages = [document.pages[at] for at in replacement.pages]
    trial = [replacement.trial.pages[at] for at in replacement.trial_pages]
    if not pages or len(pages) != len(trial):
        return False
    if any(replacement.others & page.anchors.keys() for page in [*pages, *trial]):
        return False
    if any(geometry(page) != geometry(other) for page, other in zip(pages, trial, strict=True)):
        return False
    if any(_furniture(page) != _furniture(other) for page, other in zip(pages, trial, strict=True)):
        return False
    return _content(pages) == _content(trial)


def _page(issue_page: Page, trial_page: Page) -> Page:
    """The issue's page box (its size, margins and background) with the trial page's content in it,
    and the issue's margin boxes (its page number)."""
    box = issue_page._page_box.copy()
    content = [child for child in trial_page._page_box.children if not isinstance(child, wboxes.MarginBox)]
    margins = [child for child in issue_page._page_box.children if isinstance(child, wboxes.MarginBox)]
    box.children = (*content, *margins)
    return Page(box)


def geometry(page: Page) -> tuple[float, ...]:
    """The page's size and its text area's place and size."""
    box = page._page_box
    return (
        round(box.margin_width(), 3),
        round(box.margin_height(), 3),
        round(box.content_box_x(), 3),
        round(box.content_box_y(), 3),
        round(box.width, 3),
        round(box.height, 3),
    )


def _furniture(page: Page) -> Counter[str]:
    """The texts of the page's margin boxes, numbers made alike, whichever side they are on (a left
    and a right page may swap the number and the running line)."""
    return Counter(
        DIGITS.sub("#", " ".join(_texts(child)))
        for child in page._page_box.children
        if isinstance(child, wboxes.MarginBox)
    )


def _content(pages: list[Page]) -> tuple[Counter[str], Counter[str], set[tuple[object, ...]]]:
    """What the pages' content (their margin boxes aside) draws, however it is cut into lines and
    pages: every character (spaces and hyphens aside), every image (by its source: a fixed logo
    repeated on each page counts), and each element's colours (a style that depends on the element's
    place among its siblings, such as ``:nth-of-type``, may differ in a trial)."""
    characters: Counter[str] = Counter()
    images: Counter[str] = Counter()
    styles: set[tuple[object, ...]] = set()
    for page in pages:
        for child in page._page_box.children:
            if isinstance(child, wboxes.MarginBox):
                continue
            characters.update(IGNORED.sub("", "".join(_texts(child))))
            for box in child.descendants(placeholders=True):
                element = getattr(box, "element", None)
                if isinstance(box, wboxes.ReplacedBox):
                    images[str(element.get("src") if element is not None else box.element_tag)] += 1
                if element is not None and hasattr(box, "style"):
                    styles.add((box.element_tag, box.style["color"], box.style["background_color"]))
    return characters, images, styles


def signature(pages: list[Page]) -> str:
    """A digest of what ``pages`` draw (:func:`_content`: characters, images, colours), however it is cut
    into lines and pages: the same for a brief's pages wherever a move put its figure, different when
    what precedes the brief changed what they draw (a number counted across the issue)."""
    characters, images, styles = _content(pages)
    drawn = [sorted(characters.items()), sorted(images.items()), sorted(repr(style) for style in styles)]
    return hashlib.sha256(json.dumps(drawn).encode()).hexdigest()


def _texts(box: wboxes.Box) -> Iterator[str]:
    """The text of every text box in ``box``, absolutely placed ones too, in order."""
    for descendant in box.descendants(placeholders=True):
        if isinstance(descendant, wboxes.TextBox):
            yield descendant.text
