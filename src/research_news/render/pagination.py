"""Pages without holes: where figures and pull quotes go, measured on WeasyPrint's page boxes.

WeasyPrint has no page floats: a figure that does not fit at the foot of a page moves to
the next one and leaves the rest of the page blank. A layout editor would let the text
that follows flow before it, put it at the top of the next page, or shrink it a little.
This module does the same, by trial: the print edition is laid out, every page's blank
area measured (:func:`blank_area`), and for each figure or quote that left a hole a few
other arrangements (:class:`Placement`) are laid out and measured; the one with the
smallest holes, never more pages, is kept, and a note says what moved.

An arrangement reaches the templates as :class:`Arrangement`: brief.html.j2 asks it for
the :class:`Segment` s of a brief's columns (runs of the parts' blocks, with the quotes and
figures placed after them). The default arrangement places each figure and quote after the
part its ``after:`` names, as written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Protocol, TypeVar, cast

from markupsafe import Markup
from weasyprint.document import Document, Page
from weasyprint.formatting_structure import boxes as wboxes

from ..assemble import BriefView, Edition, FigureView, PartView, QuoteView
from ..exceptions import Problem
from ..locate import position_of
from ..tree import ISSUE_FILE
from .splice import Replacement, geometry, signature, spliced

PX_PER_MM = 96 / 25.4
STRIP = 2 * PX_PER_MM
"""The width of the vertical strips a page is measured in: narrower than a column gap."""

HOLE = 0.12
"""A page (not a brief's last) more blank than this has a hole worth closing."""

NEAR_TOP = 0.2
"""A figure or quote whose page starts with it (within this fraction of the page) may have left the hole."""

MIN_SCALE = 0.75
"""A figure may shrink to this fraction of its width to fit, and no smaller."""

COLUMN_PARTS_EXCLUDED = ("key_takeaways",)
"""Parts set apart, across the page, after the columns (see brief.html.j2)."""


# --- measuring pages --------------------------------------------------------------------


def blank_area(page: Page) -> float:
    """The fraction of ``page``'s content area left blank below its content, strip by strip.

    The content area is cut into narrow vertical strips; in each, what lies below the lowest
    line, image, rule or tinted box is blank. A column that stops halfway counts half its
    area; the gaps between lines and paragraphs do not count. A page with nothing on it is
    all blank.
    """
    bottoms = content_bottoms(page)
    if not bottoms:
        return 1.0
    top, height = page._page_box.content_box_y(), page._page_box.height
    if height <= 0:
        return 0.0
    return sum(min(1.0, max(0.0, (top + height - bottom) / height)) for bottom in bottoms) / len(bottoms)


def free_height(page: Page) -> float:
    """The height (CSS px) left below the lowest content across the whole width of ``page``."""
    bottoms = content_bottoms(page)
    box = page._page_box
    return max(0.0, box.content_box_y() + box.height - max(bottoms)) if bottoms else box.height


def content_bottoms(page: Page) -> list[float]:
    """The lowest content's bottom in each strip of ``page``'s content area; [] when the page is empty.

    Strips with nothing in them between strips with content are gutters (or side margins
    of a narrower text): they take their neighbours' bottom, so they count as full.
    """
    box = page._page_box
    left, width = box.content_box_x(), box.width
    count = max(1, round(width / STRIP))
    step = width / count
    bottoms: list[float | None] = [None] * count
    for x, right, bottom in _content_boxes(box):
        first, last = max(0, int((x - left) / step)), min(count - 1, int((right - left - 0.01) / step))
        for index in range(first, last + 1):
            current = bottoms[index]
            bottoms[index] = bottom if current is None else max(current, bottom)
    known = [(index, value) for index, value in enumerate(bottoms) if value is not None]
    if not known:
        return []
    return [_nearest(known, index) if value is None else value for index, value in enumerate(bottoms)]


def _nearest(known: list[tuple[int, float]], index: int) -> float:
    """The bottom of the strip with content nearest to ``index`` (the shallower of two equally near)."""
    distance = min(abs(index - at) for at, _ in known)
    return min(value for at, value in known if abs(index - at) == distance)


def _content_boxes(page_box: wboxes.PageBox) -> Iterator[tuple[float, float, float]]:
    """(left, right, bottom) of everything that puts ink on the page, running heads and feet aside."""
    for child in page_box.children:
        if isinstance(child, wboxes.MarginBox):
            continue
        for box in child.descendants(placeholders=True):  # absolutely placed boxes too
            if _inks(box):
                x, y = box.border_box_x(), box.border_box_y()
                yield x, x + box.border_width(), y + box.border_height()


def _inks(box: wboxes.Box) -> bool:
    """Whether ``box`` draws something: a line of text, an image, a background or a border."""
    if isinstance(box, wboxes.LineBox):
        return any(not isinstance(child, wboxes.TextBox) or child.text.strip() for child in box.children)
    if isinstance(box, wboxes.ReplacedBox):
        return True
    if not hasattr(box, "border_top_width") or box.style["visibility"] != "visible":
        return False
    borders = box.border_top_width + box.border_bottom_width + box.border_left_width + box.border_right_width
    return borders > 0 or box.style["background_color"].alpha > 0


# --- arrangements -----------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where a figure or quote goes: after ``blocks`` blocks of the part ``part`` (``None``: after
    the whole part), from the top of a page or not, at most ``width_mm`` wide (figures)."""

    part: str
    blocks: int | None = None
    page_top: bool = False
    width_mm: float | None = None

    @property
    def width(self) -> str | None:
        """The figure's maximum width as CSS (the figure template's inline ``max-width``)."""
        return None if self.width_mm is None else f"{self.width_mm:.1f}mm"


@dataclass
class PlacedFigure:
    figure: FigureView
    placement: Placement


@dataclass
class Run:
    """Some consecutive blocks of a part, or a pull quote between them."""

    blocks: list[Markup] = field(default_factory=list)
    quote: QuoteView | None = None


@dataclass
class Segment:
    """A stretch of one part in the columns (its ``runs``: blocks, and quotes set among them),
    then the figures that follow it across the page.

    ``first`` says whether the segment opens its part (with the part's heading and id);
    the segments after a figure continue it.
    """

    part: PartView
    first: bool
    runs: list[Run] = field(default_factory=list)
    figures: list[PlacedFigure] = field(default_factory=list)


@dataclass(frozen=True)
class Arrangement:
    """Where each moved figure and quote goes, by its id; the others follow their ``after:``."""

    moved: tuple[tuple[str, Placement], ...] = ()

    def placement(self, item_id: str, default_part: str) -> Placement:
        return dict(self.moved).get(item_id) or Placement(default_part)

    def with_placement(self, item_id: str, placement: Placement) -> Arrangement:
        others = tuple((key, value) for key, value in self.moved if key != item_id)
        return Arrangement((*others, (item_id, placement)))

    def segments(self, brief: BriefView) -> list[Segment]:
        """The brief's column parts cut where figures interrupt them, quotes set among their blocks."""
        parts = [part for part in brief.parts if part.key not in COLUMN_PARTS_EXCLUDED]
        keys = [part.key for part in parts]
        placed: dict[str, list[tuple[int | None, QuoteView | PlacedFigure]]] = {key: [] for key in keys}
        for part in parts:
            for quote in part.quotes:
                at = self.placement(quote.id, part.key)
                placed[at.part if at.part in placed else part.key].append((at.blocks, quote))
            for figure in part.figures:
                at = self.placement(figure.id, part.key)
                placed[at.part if at.part in placed else part.key].append((at.blocks, PlacedFigure(figure, at)))
        return [segment for part in parts for segment in _part_segments(part, placed[part.key])]


def _part_segments(part: PartView, placed: list[tuple[int | None, QuoteView | PlacedFigure]]) -> list[Segment]:
    blocks = part_blocks(part)
    after = sorted(placed, key=lambda item: len(blocks) if item[0] is None else min(item[0], len(blocks)))
    segments = [Segment(part, first=True)]
    start = 0
    for blocks_before, item in after:
        end = len(blocks) if blocks_before is None else min(max(blocks_before, 0), len(blocks))
        segment = segments[-1]
        if end > start:
            if segment.figures:  # blocks after a figure: they continue the part below it
                segment = Segment(part, first=False)
                segments.append(segment)
            segment.runs.append(Run(blocks[start:end]))
            start = end
        if isinstance(item, QuoteView):
            if segment.figures:  # the quote comes after a figure: it opens the next run of columns
                segment = Segment(part, first=False)
                segments.append(segment)
            segment.runs.append(Run(quote=item))
        else:
            segment.figures.append(item)
    if start < len(blocks):
        if segments[-1].figures:
            segments.append(Segment(part, first=False))
        segments[-1].runs.append(Run(blocks[start:]))
    return [segment for segment in segments if segment.first or segment.runs or segment.figures]


def part_blocks(part: PartView) -> list[Markup]:
    """The blocks a part's text may be cut between: its list items, or its paragraphs, lists and headings."""
    if part.items is not None:
        return list(part.items)
    return html_blocks(part.html or Markup(""))


def html_blocks(html: Markup) -> list[Markup]:
    """``html`` cut into its top-level elements; the whole of it when it does not cut cleanly."""
    text = str(html)
    splitter = _TopLevel(text)
    splitter.feed(text)
    splitter.close()
    if splitter.failed or splitter.depth:
        return [html] if text.strip() else []
    return [Markup(text[start:end]) for start, end in splitter.spans]


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _TopLevel(HTMLParser):
    """Offsets of each top-level element of a fragment (markdown's output: well formed, escaped)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self.text = text
        self._lines = [0]
        for line in text.split("\n"):  # getpos() counts lines by "\n" only
            self._lines.append(self._lines[-1] + len(line) + 1)
        self.spans: list[tuple[int, int]] = []
        self.depth = 0
        self.failed = False
        self._start = 0

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._lines[line - 1] + column

    def handle_starttag(self, tag, attrs):
        if self.depth == 0:
            self._start = self._offset()
        if tag in VOID:
            if self.depth == 0:
                self.spans.append((self._start, self._start + len(self.get_starttag_text() or "")))
            return
        self.depth += 1

    def handle_startendtag(self, tag, attrs):
        if self.depth == 0:
            start = self._offset()
            self.spans.append((start, start + len(self.get_starttag_text() or "")))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        self.depth -= 1
        if self.depth < 0:
            self.failed = True
        elif self.depth == 0:
            start = self._offset()
            self.spans.append((self._start, self.text.index(">", start) + 1))

    def handle_data(self, data):
        if self.depth == 0 and data.strip():
            self.failed = True  # text outside any element: keep the fragment whole


# --- closing holes ----------------------------------------------------------------------


class LaidOut(Protocol):
    """A layout of the print edition (render/pdf.py's holds what its PDF needs besides)."""

    document: Document


L = TypeVar("L", bound=LaidOut)


@dataclass(frozen=True)
class Hole:
    """Page ``page`` (0-based) of ``brief`` is ``blank`` blank, and ``item`` (a figure or quote,
    from the part ``part``) starts the next page: it did not fit."""

    brief: BriefView
    page: int
    blank: float
    item: FigureView | QuoteView
    part: str


@dataclass(frozen=True)
class Move:
    """What the arrangement did to close a hole, for the editor: where, and the page's blank area
    before and after."""

    hole: Hole
    placement: Placement
    after: float


@dataclass(frozen=True)
class Decision:
    """What pagination decided for a brief that left a hole: the hole (its figure or quote ``item``,
    from the part ``part``, which left the brief's page ``page``, counted from the brief's first
    page, ``blank`` blank) and where the item went (``None``: where it is written, as nothing else
    was better). ``signature``: what the brief's pages drew, as laid out then (with the move); a build
    that keeps the decision lays the issue out from nothing again if they now draw anything else."""

    item: str
    part: str
    page: int
    blank: float
    placement: Placement | None
    signature: str = ""  # what the brief's pages drew as decided (splice.signature): the next build checks it


class Decisions(Protocol):
    """What earlier builds decided for a brief, kept by the caller (render/pdf.py keeps them in the
    build cache, keyed by the brief's content and the layout): a brief that did not change is laid
    out as it was decided, and not tried again."""

    def known(self, brief: BriefView) -> Decision | None:
        """The decision kept for ``brief``; ``None`` when there is none."""
        ...

    def remember(self, brief: BriefView, decision: Decision) -> None: ...


def arrange(
    edition: Edition,
    lay_out: Callable[[Arrangement], L],
    try_out: Callable[[Arrangement, list[BriefView]], LaidOut] | None = None,
    decisions: Decisions | None = None,
    splice: Callable[[L, list[Page], list[LaidOut], Arrangement], L] | None = None,
    before_trials: Callable[[L], None] | None = None,
) -> tuple[L, list[Move]]:
    """The layout of ``edition`` with the smallest holes, and what was moved to get it.

    Each brief starts on a new page, so its pages do not depend on the other briefs: one
    trial layout tries a candidate for every brief with a hole at once, and each brief keeps
    its best. That bounds the work at a few layouts whatever the number of briefs: the
    first, one per kind of candidate (:data:`CANDIDATES`), and the chosen combination. A brief
    keeps a move only if it has no more pages and smaller holes.

    Like a layout editor, a brief's trials stop at the first candidate that closes its hole (the
    page is then at most :data:`HOLE` blank, with no page more): the later candidates are less
    preferred, and the next trial lays out only the briefs still open. Each brief's choice thus
    depends on that brief alone, so ``decisions`` may keep it for the next build, which lays the
    brief out that way from the start and tries only the briefs it knows nothing of (this
    assumes, as the trials do, that a left and a right page have the same text area, as in the
    default layout: a trial does not start a brief on the side the issue does). With
    ``try_out``, a trial lays out only those briefs (the issue's front and back matter and its
    other briefs left out), a fraction of the whole issue; the chosen arrangement is then laid
    out whole, and kept only if every moved brief is better there too (a layout whose briefs
    depend on what precedes them, a left or right page, would otherwise mislead the trials).
    With ``splice`` too, the moved briefs' trial pages take the place of their pages in the
    first layout when they may (render/splice.py), and the issue is not laid out again:
    ``splice`` makes a layout of the first one's and the pages given. A move is kept in ``decisions``
    only when it was spliced in, its trial's pages having stood for the brief's pages in the issue; one
    the issue had to be laid out again for may depend on what precedes the brief (numbers counted
    across the issue, a left or right page), so the next build tries that brief again, as a cold one does.
    ``before_trials`` is called with the first layout before the first trial is laid out (render/pdf.py
    has its PDFs written meanwhile, in case it stands).
    """
    known = _known(edition, decisions)
    start = Arrangement(tuple((kept.item, kept.placement) for kept in known.values() if kept.placement))
    first = lay_out(start)
    if known and not (_one_text_area(edition, first.document) and _as_decided(edition, first.document, known)):
        known, start = {}, Arrangement()  # a brief's side, or what precedes it, may have changed its pages
        first = lay_out(start)
    holes = [hole for hole in find_holes(edition, first.document) if hole.brief.id not in known]
    open_holes = list(holes)
    chosen: dict[str, Placement] = {}
    best = {hole.brief.id: _score(hole.brief, first.document) for hole in holes}
    trials: list[tuple[Arrangement, LaidOut]] = []
    sources: dict[str, LaidOut] = {}  # by brief: the trial that set it as chosen
    for candidate in CANDIDATES:
        placements = {hole.item.id: placed for hole in open_holes if (placed := candidate(hole, first.document))}
        if not placements:
            continue
        arrangement = Arrangement((*start.moved, *placements.items()))  # with the kept moves
        holed = list({hole.brief.id: hole.brief for hole in open_holes if hole.item.id in placements}.values())
        if before_trials and not trials:
            before_trials(first)
        trials.append((arrangement, try_out(arrangement, holed) if try_out else lay_out(arrangement)))
        for hole in open_holes:
            if hole.item.id in placements:
                score = _score(hole.brief, trials[-1][1].document)
                if _better(score, best[hole.brief.id]):
                    best[hole.brief.id] = score
                    chosen[hole.item.id] = placements[hole.item.id]
                    sources[hole.brief.id] = trials[-1][1]
        open_holes = [hole for hole in open_holes if not _closed(hole, chosen, trials[-1], first.document)]
        if not open_holes:
            break
    final: L = first
    moved: list[Hole] = []
    spliced = False
    if chosen:
        arrangement = Arrangement((*start.moved, *chosen.items()))
        final, moved, spliced = _with_moves(
            edition, first, holes, arrangement, chosen, trials, sources, lay_out, try_out, splice
        )
    decided = {hole.brief.id: _decision(hole, first.document, chosen[hole.item.id], final.document) for hole in moved}
    if decisions and (moved or not chosen):  # not when the whole issue turned the moves down: try again next time
        for hole in holes:
            if hole.brief.id not in decided:  # nothing better: the trials decided it, apart from the issue
                decisions.remember(hole.brief, _decision(hole, first.document, None, first.document))
            elif spliced:  # a move is kept only when its trial's pages stood for the brief's pages in the issue
                decisions.remember(hole.brief, decided[hole.brief.id])
    return final, _moves(edition, final, {**known, **decided})


def _one_text_area(edition: Edition, document: Document) -> bool:
    """Whether every page of a brief has its text area in the same place and of the same size (left
    and right pages alike): a brief's pages then do not depend on the side it starts on."""
    ids = {brief.id for brief in edition.briefs}
    return len({geometry(page) for page in document.pages if ids & page.anchors.keys()}) <= 1


def _known(edition: Edition, decisions: Decisions | None) -> dict[str, Decision]:
    """The decisions kept for the edition's briefs, by brief id (one naming a figure or quote the
    brief does not have is none)."""
    known = {}
    for brief in edition.briefs if decisions else ():
        kept = decisions.known(brief)  # type: ignore[union-attr]
        if kept is not None and _item(brief, kept.item) is not None:
            known[brief.id] = kept
    return known


def _with_moves(
    edition: Edition,
    first: L,
    holes: list[Hole],
    arrangement: Arrangement,
    chosen: dict[str, Placement],
    trials: list[tuple[Arrangement, LaidOut]],
    sources: dict[str, LaidOut],
    lay_out: Callable[[Arrangement], L],
    try_out: Callable[[Arrangement, list[BriefView]], LaidOut] | None,
    splice: Callable[[L, list[Page], list[LaidOut], Arrangement], L] | None,
) -> tuple[L, list[Hole], bool]:
    """The layout with the trials' choices (spliced in, or laid out whole), the holes they moved and
    whether it was spliced; the first layout and none when the whole issue does not bear them out."""
    moved = [hole for hole in holes if hole.item.id in chosen]
    final = _spliced(edition, first, moved, arrangement, sources, splice) if try_out and splice else None
    spliced = final is not None
    if final is None:
        same = [laid for tried, laid in trials if not try_out and set(tried.moved) == set(arrangement.moved)]
        final = cast(L, same[0]) if same else lay_out(arrangement)  # without try_out, the trials are lay_out's
    if len(final.document.pages) > len(first.document.pages):  # the briefs were not independent after all
        return first, [], False
    if try_out and not all(_better(_score(h.brief, final.document), _score(h.brief, first.document)) for h in moved):
        return first, [], False  # the trials, laid out apart, did not foresee the whole issue
    return final, moved, spliced


def _decision(hole: Hole, document: Document, placement: Placement | None, laid_out: Document) -> Decision:
    """The decision for ``hole`` (found in ``document``), with what its brief's pages draw in ``laid_out``."""
    page = hole.page - _pages_of(hole.brief, document)[0]
    return Decision(hole.item.id, hole.part, page, hole.blank, placement, _drawn(hole.brief, laid_out))


def _drawn(brief: BriefView, document: Document) -> str:
    """What ``brief``'s pages in ``document`` draw (splice.signature)."""
    return signature([document.pages[number] for number in _pages_of(brief, document)])


def _as_decided(edition: Edition, document: Document, known: dict[str, Decision]) -> bool:
    """Whether every brief with a kept decision draws on its pages in ``document`` what it drew when it was
    decided: what precedes it did not change it (a figure numbered across the issue, say), so the trials
    a build from nothing makes would decide the same."""
    briefs = {brief.id: brief for brief in edition.briefs}
    return all(kept.signature == _drawn(briefs[brief_id], document) for brief_id, kept in known.items())


def _moves(edition: Edition, final: LaidOut, decided: dict[str, Decision]) -> list[Move]:
    """What moved, brief by brief in the issue's order, from the decisions (this build's and those kept
    from an earlier one alike): each hole as it was, on the brief's page where it is now."""
    moves = []
    for brief in edition.briefs:
        kept = decided.get(brief.id)
        if kept is None or kept.placement is None:
            continue
        item, at = _item(brief, kept.item), _pages_of(brief, final.document)
        if item is None or kept.page >= len(at):
            continue
        hole = Hole(brief, at[kept.page], kept.blank, item, kept.part)
        moves.append(Move(hole, kept.placement, blank_area(final.document.pages[hole.page])))
    return moves


def _item(brief: BriefView, item_id: str) -> FigureView | QuoteView | None:
    """The figure or quote of ``brief`` with the id ``item_id``."""
    for part in brief.parts:
        items: list[FigureView | QuoteView] = [*part.quotes, *part.figures]
        for item in items:
            if item.id == item_id:
                return item
    return None


def _spliced(
    edition: Edition,
    first: L,
    moved: list[Hole],
    arrangement: Arrangement,
    sources: dict[str, LaidOut],
    splice: Callable[[L, list[Page], list[LaidOut], Arrangement], L],
) -> L | None:
    """The first layout with each moved brief's pages from the trial that chose its move, or ``None``
    when one of them may not be spliced (render/splice.py says when)."""
    replacements = []
    for hole in moved:
        source = sources[hole.brief.id]
        others = frozenset(brief.id for brief in edition.briefs if brief.id != hole.brief.id)
        replacements.append(
            Replacement(
                _pages_of(hole.brief, first.document), source.document, _pages_of(hole.brief, source.document), others
            )
        )
    pages = spliced(first.document, replacements)
    if pages is None:
        return None
    return splice(first, pages, list({id(source): source for source in sources.values()}.values()), arrangement)


def _closed(hole: Hole, chosen: dict[str, Placement], trial: tuple[Arrangement, LaidOut], first: Document) -> bool:
    """Whether the ``trial`` just laid out is the choice for ``hole`` and closes it: the page of its
    brief that had the hole is now at most :data:`HOLE` blank (with no page more: see _better)."""
    arrangement, laid_out = trial
    if chosen.get(hole.item.id) != dict(arrangement.moved).get(hole.item.id, False):
        return False
    now = _pages_of(hole.brief, laid_out.document)
    at = _pages_of(hole.brief, first).index(hole.page)  # its pages in the trial, where other briefs may lack
    return at < len(now) and blank_area(laid_out.document.pages[now[at]]) <= HOLE


def find_holes(edition: Edition, document: Document) -> list[Hole]:
    """The first hole in each brief a figure or quote left by not fitting: a page, not the
    brief's last, more than :data:`HOLE` blank, whose next page starts with that figure or quote."""
    holes = []
    for brief in edition.briefs:
        pages = _pages_of(brief, document)
        for number in pages[:-1]:
            blank = blank_area(document.pages[number])
            found = _starting(brief, document.pages[number], document.pages[number + 1]) if blank > HOLE else None
            if found:
                holes.append(Hole(brief, number, blank, *found))
                break
    return holes


def _pages_of(brief: BriefView, document: Document) -> list[int]:
    """The (0-based) pages ``brief`` spans."""
    return [number for number, page in enumerate(document.pages) if brief.id in page.anchors]


def _starting(brief: BriefView, page: Page, following: Page) -> tuple[FigureView | QuoteView, str] | None:
    """The figure or quote of ``brief`` (and its part) that starts ``following`` and is not on ``page``."""
    box = following._page_box
    near_top = box.content_box_y() + NEAR_TOP * box.height
    for part in _column_parts(brief):
        items: list[FigureView | QuoteView] = [*part.quotes, *part.figures]
        for item in items:
            starts = item.id in following.anchors and item.id not in page.anchors
            if starts and following.anchors[item.id][1] <= near_top:
                return item, part.key
    return None


def _column_parts(brief: BriefView) -> list[PartView]:
    return [part for part in brief.parts if part.key not in COLUMN_PARTS_EXCLUDED]


def _score(brief: BriefView, document: Document) -> tuple[int, float]:
    """(pages, blank area of every page but the last): the blank after a brief's end is no hole."""
    pages = _pages_of(brief, document)
    return len(pages), sum(blank_area(document.pages[number]) for number in pages[:-1])


MIN_GAIN = 0.02
"""A move must close at least this much of a page's area to be worth it."""


def _better(score: tuple[int, float], than: tuple[int, float]) -> bool:
    pages, holes = score
    return pages < than[0] or (pages == than[0] and holes < than[1] - MIN_GAIN)


# --- the candidates ---------------------------------------------------------------------


def _flow_into_page(hole: Hole, document: Document) -> Placement | None:
    """The text that follows flows before the item, as much as fills the hole; a figure then
    starts the next page (``break-before: page``)."""
    return _after_blocks(hole, _blocks_that_fit(hole, document), page_top=isinstance(hole.item, FigureView))


def _flow_past_page(hole: Hole, document: Document) -> Placement | None:
    """One block more: the text fills the page to its foot and the item follows it on the next."""
    return _after_blocks(hole, _blocks_that_fit(hole, document) + 1)


def _shrink(hole: Hole, document: Document) -> Placement | None:
    """The figure, narrower (so shorter) by as much as it lacked to fit, down to :data:`MIN_SCALE`."""
    if not isinstance(hole.item, FigureView):
        return None
    figure = next(_boxes_with_id(document.pages[hole.page + 1], hole.item.id), None)
    image = next((box for box in figure.descendants() if isinstance(box, wboxes.ReplacedBox)), None) if figure else None
    if figure is None or image is None or image.height <= 0:
        return None
    lacking = figure.margin_height() - free_height(document.pages[hole.page]) + PX_PER_MM  # 1 mm to spare
    scale = (image.height - lacking) / image.height
    if scale < MIN_SCALE:
        return None
    return Placement(hole.part, width_mm=math.floor(image.width * scale / PX_PER_MM * 10) / 10)


CANDIDATES: tuple[Callable[[Hole, Document], Placement | None], ...] = (_flow_into_page, _flow_past_page, _shrink)
"""What a layout editor would try, in order of preference (a tie keeps the earlier)."""


def _after_blocks(hole: Hole, count: int, page_top: bool = False) -> Placement | None:
    """After ``count`` blocks of the text that follows the item's part; ``None`` past the columns' end."""
    parts = _column_parts(hole.brief)
    keys = [part.key for part in parts]
    for part in parts[keys.index(hole.part) + 1 :]:
        blocks = len(part_blocks(part))
        if count <= blocks:
            return Placement(part.key, count, page_top=page_top)
        count -= blocks
    return None


def _blocks_that_fit(hole: Hole, document: Document) -> int:
    """How many blocks of the following text fill the hole (at least one): their heights as set
    in the columns now, against the hole's area counted in column heights."""
    page = document.pages[hole.page]
    heights, column = _following_heights(hole, document)
    if not heights or column <= 0:
        return 1
    room = blank_area(page) * page._page_box.height * page._page_box.width / column
    count, used = 0, 0.0
    for height in heights:
        used += height
        if used > room:
            break
        count += 1
    return max(1, count)


def _following_heights(hole: Hole, document: Document) -> tuple[list[float], float]:
    """The heights of the blocks after the item's part, in order (a part's heading counted with
    its first block), and the width of the column they are set in."""
    parts = _column_parts(hole.brief)
    keys = [part.key for part in parts]
    pages = [document.pages[number] for number in _pages_of(hole.brief, document)]  # its parts are on no other
    heights: list[float] = []
    column = 0.0
    for part in parts[keys.index(hole.part) + 1 :]:
        sizes = [0.0] * len(part_blocks(part))
        for page in pages:
            for section in _boxes_with_id(page, part.id):
                for child in section.children:
                    if child.element_tag == "h3" and sizes:
                        sizes[0] += child.margin_height()
                    for index, block in _blocks_in(child):
                        if index < len(sizes):
                            sizes[index] += block.margin_height()
                            column = column or block.margin_width()
        heights.extend(sizes)
    return heights, column


def _blocks_in(container: wboxes.Box) -> Iterator[tuple[int, wboxes.Box]]:
    """(index among the container's elements, box) for the blocks of a ``prose`` div or a list."""
    element = container.element
    if element is None or not hasattr(container, "children") or container.element_tag not in ("div", "ul"):
        return
    children = list(element)
    for box in container.children:
        if box.element is not element and box.element in children:
            yield children.index(box.element), box


def _boxes_with_id(page: Page, element_id: str) -> Iterator[wboxes.Box]:
    for box in page._page_box.descendants():
        if box.element is not None and getattr(box.element, "get", None) and box.element.get("id") == element_id:
            yield box


# --- what the editor hears --------------------------------------------------------------


def move_notes(edition: Edition, moves: list[Move]) -> list[Problem]:
    """One note per move, at the figure's ``src:`` or the quote's ``text:`` in its brief."""
    notes = []
    for move in moves:
        hole, item = move.hole, move.hole.item
        is_figure = isinstance(item, FigureView)
        what = f"{'figure' if is_figure else 'quote'} {item.number}"
        loc = ("figures", item.number - 1, "src") if is_figure else ("quotes", item.number - 1, "text")
        path = hole.brief.path or edition.issue_dir / ISSUE_FILE
        document = edition.document(hole.brief.path)
        line, column = position_of(document.data, loc) if document else (1, 1)
        notes.append(
            Problem(
                path,
                line,
                column,
                f"{what} did not fit at the foot of page {hole.page + 1}: {_action(move.placement, hole.page)}; "
                f"page {hole.page + 1} blank area {_percent(hole.blank)} → {_percent(move.after)}",
                severity="note",
            )
        )
    return notes


def _action(placement: Placement, page: int) -> str:
    """What was done, in words: ``page`` is the (0-based) page that had the hole."""
    if placement.width_mm is not None:
        return f"it is set {placement.width_mm:g} mm wide and fits"
    count = placement.blocks or 0
    text = "the next paragraph" if count == 1 else f"the next {count} paragraphs"
    if placement.page_top:
        return f"it now starts page {page + 2}, after {text}"
    return f"it now comes after {text}"


def _percent(fraction: float) -> str:
    return f"{round(fraction * 100)}%"
