"""The print edition: the layout's ``print/`` templates rendered to HTML, then WeasyPrint to PDF.

Python only picks the template and hands it the edition; pages, type, colours and
running footers live in ``layouts/<name>/print/``. Everything WeasyPrint reads goes
through :class:`~research_news.urls.SafeFetcher`, whose refusals come back as warning
:class:`~research_news.exceptions.Problem` s located at the file that named the
resource (the figure's ``src`` in its brief, when an SVG figure named it).

Offprints (one PDF per brief) are cut from the issue's own layout: a brief's pages, as
printed in the issue (its page numbers, the running foot naming the publication and the
issue, the figures where pagination put them), written as a PDF of their own with the
brief's title, authors, language and outline. One layout serves the issue and all its
offprints: WeasyPrint's layout is the costliest step of a build, and an offprint laid out
on its own would differ from the pages it reprints.
"""

from __future__ import annotations

import atexit
import copy
import functools
import json
import math
import os
import shutil
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weasyprint import HTML
from weasyprint.document import Document, Page
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import path2url

from ..assemble import BriefView, Edition, Image
from ..exceptions import Problem, ResearchNewsError
from ..glyphs import box_problems, drawn_as_boxes
from ..locate import position_of
from ..sections import require_templates
from ..tree import ISSUE_FILE, PUBLICATION_FILE
from ..uptodate import Digests, files_under, key_of
from ..urls import Refusal, SafeFetcher, file_url_path, normal_url, svg_references
from ..write import WriteFailed, write_bytes
from . import forked, heap, lines, weasyprint_fixes
from .pagination import Arrangement, Decision, Placement, arrange, move_notes
from .theme import palette

if TYPE_CHECKING:
    from ..cache import Memo

ISSUE_TEMPLATE = "issue.html.j2"
TRIAL_TEMPLATE = "trial.html.j2"
DEFAULT_VARIANT = "pdf/ua-1"


@dataclass
class RenderedPdf:
    """A rendered PDF, its page count, and what the editor should hear about it (warnings):
    resources the fetcher refused, characters drawn as empty boxes, briefs whose last page
    holds only a few lines."""

    data: bytes
    pages: int
    warnings: list[Problem] = field(default_factory=list)
    read: set[Path] = field(default_factory=set)  # the local files WeasyPrint asked for (for the cache)


# --- the issue -------------------------------------------------------------------------


def render_pdf(edition: Edition, *, variant: str | None = DEFAULT_VARIANT, pad_to: int | None = None) -> RenderedPdf:
    """The print edition of ``edition`` as PDF bytes (tagged, with outline and metadata).

    Figures and quotes that would leave a hole in a page are placed where they leave the
    least (render/pagination.py); a note says what moved. With ``pad_to``, pages for notes
    before the back page make the page count a multiple of it (a stapled booklet: 4).
    """
    issue = render_print(edition, variant=variant, pad_to=pad_to).issue
    assert issue is not None
    return issue


@dataclass
class Printed:
    """What one layout of the print edition gave: the issue's PDF (``None`` when it was not asked
    for) and the offprints cut from its pages, by brief slug."""

    issue: RenderedPdf | None
    offprints: dict[str, RenderedPdf] = field(default_factory=dict)


def render_print(
    edition: Edition,
    *,
    variant: str | None = DEFAULT_VARIANT,
    pad_to: int | None = None,
    issue: bool = True,
    offprints: list[str] | tuple[str, ...] = (),
    memo: Memo | None = None,
) -> Printed:
    """Lay the print edition out once; write the issue's PDF (when ``issue``) and the offprint of each
    brief of ``offprints`` (slugs) from that one layout. Each PDF carries the layout's warnings.
    ``memo`` keeps pagination's decisions between builds (see :class:`Memo`)."""
    for slug in offprints:  # an unknown slug fails before the layout
        _brief(edition, slug)
    ahead = _WrittenAhead(edition, variant, issue, offprints)
    with heap.frozen_until_done():  # the layout lives until its last PDF is written (see heap.py)
        try:
            layout = PrintLayout(edition, variant, pad_to, memo, while_trying=ahead.start)
            raw = ahead.taken(layout)
        finally:
            ahead.cancel()
        if raw is not None:  # the first layout stood: its PDFs were written while the trials ran
            written = ([layout.issue(raw[0])] if issue else []) + [
                layout.offprint(slug, pdf) for slug, pdf in zip(offprints, raw[issue:], strict=True)
            ]
        else:
            jobs = [(layout.pages(), layout.issue)] if issue else []
            jobs += [(layout.pages(slug), functools.partial(layout.offprint, slug)) for slug in offprints]
            written = forked.in_two(jobs)  # the last PDFs by a forked copy of this process, on the other core
    return Printed(written[0] if issue else None, dict(zip(offprints, written[issue:], strict=True)))


class _WrittenAhead:
    """The PDFs of the print edition's first layout, written by a forked child (render/forked.py) while
    pagination's trials run: most trials find nothing better (the sample issue 2023-03's one does), and
    the first layout then stands, so its PDFs are the bytes this process would have written after the
    trials. Taken only when the layout made is that first layout, and its fetcher has neither read nor
    been refused anything since (a splice the issue then turned down adds its trials' to it, which the
    PDFs' warnings and the cache's list of files read would miss); otherwise the child is killed."""

    def __init__(self, edition: Edition, variant: str | None, issue: bool, offprints: list[str] | tuple[str, ...]):
        self.edition, self.variant, self.issue, self.offprints = edition, variant, issue, offprints
        self.first: _LaidOut | None = None
        self.fetched: tuple[int, frozenset[Path]] = (0, frozenset())
        self.child: forked.Ahead[RenderedPdf] | None = None

    def start(self, first: _LaidOut) -> None:
        """(Before the first trial) have a child write the issue and the offprints of ``first``."""
        self.first, self.fetched = first, _fetched(first)
        jobs = [functools.partial(_write, self.edition, first, self.variant)] if self.issue else []
        jobs += [functools.partial(_offprint_pdf, self.edition, first, self.variant, slug) for slug in self.offprints]
        self.child = forked.Ahead(jobs)

    def taken(self, layout: PrintLayout) -> list[RenderedPdf] | None:
        """The PDFs written ahead, when ``layout`` is the first layout as it was; None otherwise."""
        if self.child is None or layout.laid_out is not self.first or _fetched(layout.laid_out) != self.fetched:
            return None
        return self.child.taken()

    def cancel(self) -> None:
        if self.child is not None:
            self.child.cancel()


class PrintLayout:
    """The print edition laid out once, as printed (pagination's moves, ``pad_to``'s notes pages), from
    which the issue's PDF and any brief's offprint are written when asked for (the preview keeps one
    per version of the content, and writes the offprint of the brief the reader opens)."""

    def __init__(
        self,
        edition: Edition,
        variant: str | None = DEFAULT_VARIANT,
        pad_to: int | None = None,
        memo: Memo | None = None,
        while_trying: Callable[[_LaidOut], None] | None = None,
    ) -> None:
        self.edition, self.variant = edition, variant
        self.laid_out, self.warnings = _issue_layout(edition, variant, pad_to, memo, while_trying)

    def pages(self, slug: str | None = None) -> int:
        """How many pages the issue has, or the brief ``slug`` spans in it."""
        pages = self.laid_out.document.pages
        return len(pages) if slug is None else sum(_brief(self.edition, slug).id in page.anchors for page in pages)

    def issue(self, written: RenderedPdf | None = None) -> RenderedPdf:
        """The issue's PDF, with what the editor should hear about its pages (``written``: the PDF
        of this layout, written elsewhere, to which the warnings are added)."""
        rendered = written or _write(self.edition, self.laid_out, self.variant)
        rendered.warnings.extend(self.warnings)
        return rendered

    def offprint(self, slug: str, written: RenderedPdf | None = None) -> RenderedPdf:
        """The offprint of the brief ``slug``: its pages cut from this layout (with the same warnings;
        ``written``: as :meth:`issue`'s)."""
        brief = _brief(self.edition, slug)
        rendered = written or _offprint_pdf(self.edition, self.laid_out, self.variant, slug)
        rendered.warnings.extend(self.warnings)
        rendered.warnings.extend(shared_pages(self.edition, self.laid_out.document.pages, brief))
        return rendered


def _fetched(laid_out: _LaidOut) -> tuple[int, frozenset[Path]]:
    """What ``laid_out``'s fetcher has been refused (how many) and has read, as it stands."""
    return len(laid_out.fetcher.refused), frozenset(laid_out.fetcher.read)


def _offprint_pdf(edition: Edition, laid_out: _LaidOut, variant: str | None, slug: str) -> RenderedPdf:
    """The offprint of the brief ``slug`` cut from ``laid_out``, with the warnings its writing gave."""
    return _write(edition, _cut(edition, laid_out, _brief(edition, slug)), variant)


def _issue_layout(
    edition: Edition,
    variant: str | None,
    pad_to: int | None,
    memo: Memo | None = None,
    while_trying: Callable[[_LaidOut], None] | None = None,
) -> tuple[_LaidOut, list[Problem]]:
    """The print edition laid out as it is printed (pagination's moves, ``pad_to``'s notes pages), and
    what the editor should hear about its pages: what moved, briefs ending on a nearly empty page."""
    decisions = _Decisions(edition, memo) if memo else None
    with lines.remembered():  # the trials and any layout again break the same lines (see lines.py)
        laid_out, moves = arrange(
            edition,
            lambda arrangement: _lay_out(edition, ISSUE_TEMPLATE, arrangement, variant),
            lambda arrangement, briefs: _lay_out(_only(edition, briefs), TRIAL_TEMPLATE, arrangement, variant),
            decisions,
            _spliced,
            while_trying,
        )
        missing = -len(laid_out.document.pages) % pad_to if pad_to else 0
        if missing:
            laid_out = _lay_out(edition, ISSUE_TEMPLATE, laid_out.arrangement, variant, notes_pages=missing)
    if decisions:
        decisions.forget_the_rest()
    return laid_out, [*move_notes(edition, moves), *short_last_pages(edition, laid_out.document.pages)]


class _Decisions:
    """Pagination's decision for a brief that left a hole, kept in one entry per brief (a file of the
    memo's folder, or an entry of its ``kept`` dict), named by a key of the memo's base and the brief's
    own HTML as a trial lays it out: a brief whose content, layout and code did not change is laid out
    as decided, and not tried again (a brief's choice depends on it alone, see pagination.arrange). An
    entry that cannot be read or is not as written is no decision; one that cannot be written is not kept."""

    def __init__(self, edition: Edition, memo: Memo) -> None:
        self.edition, self.memo = edition, memo
        # The HTML names an image, not its size: a taller figure under the same name fits differently.
        self.base = key_of(
            memo.base, Digests().of_all(sorted({image.source for image in edition.images} | _svg_named(edition)))
        )
        self._names: dict[str, str] = {}  # by brief: known() and remember() ask for the same one

    def _name(self, brief: BriefView) -> str:
        if brief.id not in self._names:
            html = render_html(_only(self.edition, [brief]), TRIAL_TEMPLATE)
            self._names[brief.id] = f"{key_of(self.base, html)}.json"
        return self._names[brief.id]

    def forget_the_rest(self) -> None:
        """Remove the decisions this layout did not use: those of briefs the content no longer has."""
        used = set(self._names.values())
        if self.memo.folder is None:
            for name in [name for name in self.memo.kept if name not in used]:
                del self.memo.kept[name]
            return
        try:
            for path in self.memo.folder.glob("*.json"):
                if path.name not in used:
                    path.unlink(missing_ok=True)
        except OSError:  # a cache: what is left is only never used
            pass

    def known(self, brief: BriefView) -> Decision | None:
        if not self.memo.read:
            return None
        name = self._name(brief)
        try:
            text = self.memo.kept[name] if self.memo.folder is None else (self.memo.folder / name).read_text("utf-8")
            return _decision(json.loads(text))
        except (OSError, KeyError, ValueError, TypeError, RecursionError):  # none kept, or not as kept
            return None  # (RecursionError: "[[[[…" nested deep)

    def remember(self, brief: BriefView, decision: Decision) -> None:
        text = json.dumps({"format": MEMO_FORMAT, **asdict(decision)}, sort_keys=True)
        if self.memo.folder is None:
            self.memo.kept[self._name(brief)] = text
            return
        try:
            self.memo.folder.mkdir(parents=True, exist_ok=True)
            write_bytes(self.memo.folder / self._name(brief), text.encode())
        except (OSError, WriteFailed):  # a cache: the next build decides again
            pass


MEMO_FORMAT = 3
"""The shape of a kept decision; a file of another shape is no decision."""


def _decision(data: Any) -> Decision:
    """A decision as kept, checked field by field (a ValueError or TypeError for anything else)."""
    if not isinstance(data, dict) or set(data) != {"format", "item", "part", "page", "blank", "placement", "signature"}:
        raise ValueError("not a decision")
    item, part, page, blank, placement = (data[key] for key in ("item", "part", "page", "blank", "placement"))
    if (
        data["format"] != MEMO_FORMAT
        or not isinstance(data["signature"], str)
        or not isinstance(item, str)
        or not isinstance(part, str)
        or type(page) is not int
        or page < 0
        or type(blank) not in (int, float)
        or not 0 <= blank <= 1
    ):
        raise TypeError("not a decision")
    return Decision(
        item, part, page, float(blank), None if placement is None else _placement(placement), data["signature"]
    )


def _svg_named(edition: Edition) -> set[Path]:
    """The files of the content tree the edition's SVG images name, at any depth (what WeasyPrint may draw
    into them); files outside the tree are never read here, as the fetcher refuses them."""
    root = edition.root.resolve()
    named = (file_url_path(url).resolve() for url in _svg_owners(edition) if url.startswith("file:"))
    return {path for path in named if path.is_relative_to(root) and path.is_file()}


def _placement(data: dict) -> Placement:
    """A placement as kept, checked field by field (a ValueError or TypeError for anything else)."""
    if set(data) != {"part", "blocks", "page_top", "width_mm"}:
        raise ValueError("not a placement")
    part, blocks, page_top, width = data["part"], data["blocks"], data["page_top"], data["width_mm"]
    if (
        not isinstance(part, str)
        or not (blocks is None or type(blocks) is int)
        or type(page_top) is not bool
        or not (width is None or (type(width) in (int, float) and math.isfinite(width)))
    ):
        raise TypeError("not a placement")
    return Placement(part, blocks, page_top, width)


def _only(edition: Edition, briefs: list[BriefView]) -> Edition:
    """``edition`` with only ``briefs`` in its sections (and no listings): what a pagination trial lays out.

    A brief that does not open its section keeps the section's first brief before it: the first
    brief follows the section's title on its page, the others start a page of their own, and a
    trial must set each brief as the issue does, whichever other briefs it tries.
    """
    ids = {brief.id for brief in briefs}
    sections = []
    for section in edition.sections:
        kept = [brief for brief in section.briefs if brief.id in ids]
        if kept and kept[0] is not section.briefs[0]:
            kept.insert(0, section.briefs[0])
        if kept:
            sections.append(replace(section, briefs=kept))
    return replace(edition, sections=sections, extras=[])


def render_html(edition: Edition, template: str = ISSUE_TEMPLATE, **context: Any) -> str:
    """The HTML the print template makes of ``edition`` (also used by the benchmark)."""
    if template == ISSUE_TEMPLATE:  # offprints show no listings
        require_templates(edition.layout, [extra.type for extra in edition.extras], "print")
    env = edition.layout.environment("print")
    env.filters["asset_url"] = asset_url
    env.globals["layout_url"] = lambda relative: layout_url(edition, relative)
    context.setdefault("arrangement", Arrangement())  # figures and quotes after their `after:` part
    context.setdefault("notes_pages", 0)  # build --pad-to
    return env.get_template(template).render(
        edition=edition, publication=edition.publication, labels=edition.labels, theme=palette(edition), **context
    )


def pdf_options(variant: str | None) -> dict[str, Any]:
    """WeasyPrint options: the variant, and tags always (a plain PDF should be accessible too)."""
    return {"pdf_variant": variant, "pdf_tags": True}


def base_url(edition: Edition) -> str:
    """Relative URLs in the HTML resolve inside the issue folder, never in the working folder."""
    return path2url(str(edition.issue_dir) + os.sep)


def html_to_pdf(edition: Edition, html: str, variant: str | None) -> RenderedPdf:
    """Lay out ``html`` and write the PDF; every resource goes through a fresh :class:`SafeFetcher`."""
    return _render(edition, html, variant)[1]


def _render(edition: Edition, html: str, variant: str | None) -> tuple[Document, RenderedPdf]:
    """The laid-out document (its pages say where things fell) and the PDF written from it."""
    laid_out = _laid_out(edition, html, variant)
    return laid_out.document, _write(edition, laid_out, variant)


@dataclass
class _LaidOut:
    """A layout, and what its PDF's warnings need: the HTML, the fetcher's refusals, the characters no font has."""

    html: str
    document: Document
    fetcher: SafeFetcher
    boxes: set[str]
    arrangement: Arrangement = field(default_factory=Arrangement)


def _lay_out(
    edition: Edition, template: str, arrangement: Arrangement, variant: str | None, **context: Any
) -> _LaidOut:
    """The edition through ``template`` with figures and quotes where ``arrangement`` puts them, laid out."""
    laid_out = _laid_out(edition, render_html(edition, template, arrangement=arrangement, **context), variant)
    laid_out.arrangement = arrangement
    return laid_out


def _laid_out(edition: Edition, html: str, variant: str | None) -> _LaidOut:
    """``html`` laid out in pages; every resource goes through a fresh :class:`SafeFetcher`."""
    weasyprint_fixes.apply()
    fetcher = SafeFetcher.for_edition(edition)
    heap.before_layout()
    with drawn_as_boxes() as boxes, heap.deferred(), lines.remembered():  # boxes: characters no font has
        document = HTML(string=html, base_url=base_url(edition), url_fetcher=fetcher).render(
            font_config=_font_config(_layout_state(edition)), **pdf_options(variant)
        )
    heap.settled()
    return _LaidOut(html, document, fetcher, set(boxes))


_FONT_CONFIGURATIONS: weakref.WeakSet[FontConfiguration] = weakref.WeakSet()


@atexit.register
def _remove_font_folders() -> None:
    """Remove the folder of fonts of every font configuration still alive. WeasyPrint removes it when
    the configuration is freed, which a process exiting without its teardown (launch.py, parallel.py)
    never does; this handler, registered after theirs, runs before them. (The print process,
    print_process.py, ends with ``os._exit``: its folders are in a temporary folder its parent removes.)"""
    for configuration in list(_FONT_CONFIGURATIONS):
        folder = getattr(configuration, "_folder", None)  # WeasyPrint's: what its __del__ removes
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


@functools.lru_cache(maxsize=4)
def _font_config(layout_state: tuple[object, ...]) -> FontConfiguration:
    """One font configuration per layout in a process: WeasyPrint copies each ``@font-face`` font into
    it once, and Pango keeps its glyphs, for every later layout (pagination's trials, the French
    edition, the next issue of a site). Per layout, so that a font one layout declares is never found
    by another that only names it; per state of its files (:func:`_layout_state`), so that a font
    edited while the preview runs is read again. A font the fetcher refused is tried again each time."""
    return font_configuration()


def font_configuration() -> FontConfiguration:
    """A new font configuration for WeasyPrint, whose folder of fonts is removed at exit if it is still
    alive then (see :func:`_remove_font_folders`)."""
    configuration = FontConfiguration()
    _FONT_CONFIGURATIONS.add(configuration)
    return configuration


def _layout_state(edition: Edition) -> tuple[object, ...]:
    """The layout's folders, and the path, size and modification time of every file in them."""
    state: list[object] = [str(folder) for folder in edition.layout.folders]
    for path in files_under(edition.layout.folders):
        try:
            stat = path.stat()
        except OSError:
            continue
        state.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(state)


def _write(edition: Edition, laid_out: _LaidOut, variant: str | None) -> RenderedPdf:
    """The PDF of a layout, with the warnings its rendering gave."""
    with drawn_as_boxes() as boxes, heap.deferred():
        data = laid_out.document.write_pdf(**pdf_options(variant))
    warnings = refusal_problems(edition, laid_out.fetcher.refused)
    warnings += box_problems(edition, laid_out.boxes | boxes, laid_out.html)
    return RenderedPdf(data, len(laid_out.document.pages), warnings, set(laid_out.fetcher.read))


def _spliced(first: _LaidOut, pages: list[Page], trials: list[Any], arrangement: Arrangement) -> _LaidOut:
    """The first layout of the issue with the pages pagination spliced into it from ``trials`` (which
    read files and may have been refused some, as the issue laid out again would have)."""
    fetcher = first.fetcher
    for trial in trials:
        fetcher.refused.extend(trial.fetcher.refused)
        fetcher.read |= trial.fetcher.read
    boxes = first.boxes.union(*(trial.boxes for trial in trials))
    return _LaidOut(first.html, first.document.copy(pages), fetcher, boxes, arrangement)


def asset_url(image: Image) -> str:
    """The ``file:`` URL of an image in the content tree (the fetcher serves it from there)."""
    return path2url(image.source)


def layout_url(edition: Edition, relative: str) -> str:
    """The ``file:`` URL of a layout file, from the first layout folder that has it."""
    found = edition.layout.file(relative)
    if found is None:
        raise ResearchNewsError(
            f"the layout has no {relative} (looked in {', '.join(map(str, edition.layout.folders))})"
        )
    return path2url(found)


# --- briefs that end with a nearly empty page ------------------------------------------

SHORT_LAST_PAGE = 0.25
"""A brief whose last page is filled less than this is worth a word to the editor."""


def short_last_pages(edition: Edition, pages: list[Page]) -> list[Problem]:
    """A warning for each brief whose last page holds only a few lines.

    Each brief starts on a new page, so a brief that runs a few lines over costs a whole
    page, mostly blank, which is easy to fix in the text and hard to see before printing.
    WeasyPrint records the box of every element with an id on each page it spans: the
    brief's box on its second-to-last page gives the full height of the text area, its box
    on the last page how much of that is used.
    """
    problems = []
    for brief in edition.briefs:
        boxes = [(number, page.anchors[brief.id]) for number, page in enumerate(pages, 1) if brief.id in page.anchors]
        if len(boxes) < 2:
            continue
        (_, full), (last_page, last) = boxes[-2], boxes[-1]
        page_height = full[3] - last[1]
        filled = (last[3] - last[1]) / page_height if page_height > 0 else 1
        if filled < SHORT_LAST_PAGE:
            problems.append(
                Problem(
                    brief.path or edition.issue_dir / ISSUE_FILE,
                    1,
                    1,
                    f'the brief "{brief.title}" ends with a page that is nearly empty: page {last_page} '
                    f"holds only its last few lines ({round(filled * 100)}% of the page)",
                    hint="shorten the text, the biographies or the references a little and the brief "
                    "ends a page earlier",
                    severity="warning",
                )
            )
    return problems


# --- offprints -------------------------------------------------------------------------


def render_offprints(
    edition: Edition,
    *,
    variant: str | None = DEFAULT_VARIANT,
    pad_to: int | None = None,
    slugs: list[str] | None = None,
    memo: Memo | None = None,
) -> dict[str, RenderedPdf]:
    """One PDF per brief (or per brief of ``slugs``), keyed by the brief's slug, cut from one layout
    of the issue (see :func:`render_print`; the issue's own PDF is not written)."""
    slugs = [brief.slug for brief in edition.briefs] if slugs is None else slugs
    return render_print(edition, variant=variant, pad_to=pad_to, issue=False, offprints=slugs, memo=memo).offprints


def render_offprint(edition: Edition, slug: str, *, variant: str | None = DEFAULT_VARIANT) -> RenderedPdf:
    """The offprint of the brief ``slug``: its pages as printed in the issue."""
    return render_offprints(edition, variant=variant, slugs=[slug])[slug]


def _brief(edition: Edition, slug: str) -> BriefView:
    brief = next((b for b in edition.briefs if b.slug == slug), None)
    if brief is None:
        raise ResearchNewsError(f"no brief {slug!r} in this issue")
    return brief


def _cut(edition: Edition, laid_out: _LaidOut, brief: BriefView) -> _LaidOut:
    """The pages ``brief`` spans in the issue's layout, as a document of their own: the brief's
    title, authors and language in its metadata, and an outline that starts at its title."""
    document = laid_out.document
    pages = [page for page in document.pages if brief.id in page.anchors]
    if not pages:  # a layout whose issue template leaves the brief out (or drops its id)
        raise ResearchNewsError(
            f'the offprint of "{brief.title}" could not be cut: the print layout\'s issue template shows no '
            f'element with id="{brief.id}" (brief.html.j2 gives each brief one)'
        )
    first = copy.copy(pages[0])  # a copy: the issue's own page keeps its bookmarks
    top = first.anchors[brief.id][1]
    first.bookmarks = [bookmark for bookmark in first.bookmarks if bookmark[2][1] >= top]  # not the section's
    cut = document.copy([first, *pages[1:]])
    cut.metadata = offprint_metadata(edition, brief, document.metadata)
    return _LaidOut(laid_out.html, cut, laid_out.fetcher, laid_out.boxes, laid_out.arrangement)


def shared_pages(edition: Edition, pages: list[Page], brief: BriefView) -> list[Problem]:
    """A warning when the offprint of ``brief`` shows part of another brief: a layout that does not
    start each brief on a new page shares pages between them, and an offprint is its brief's pages."""
    others = [
        other.title
        for other in edition.briefs
        if other is not brief and any(brief.id in page.anchors and other.id in page.anchors for page in pages)
    ]
    if not others:
        return []
    return [
        Problem(
            edition.layout.file("print/print.css") or edition.issue_dir / ISSUE_FILE,
            1,
            1,
            f'the offprint of "{brief.title}" also shows part of '
            + " and ".join(f'"{title}"' for title in others)
            + ": the print layout does not start each brief on a new page, and an offprint is its brief's pages",
            hint="give .brief `break-before: page` in the layout's print CSS, as the default layout does",
            severity="warning",
        )
    ]


def offprint_metadata(edition: Edition, brief: BriefView, issue: Any) -> Any:
    """The issue's PDF metadata (dates, generator) made the brief's: its title, authors, keywords and
    language, and as subject the label "Offprint" with the publication and issue it comes from."""
    metadata = copy.copy(issue)
    metadata.title = brief.title
    metadata.authors = [author.name for author in brief.authors]
    metadata.keywords = list(brief.keywords)
    metadata.lang = brief.lang
    publication = edition.publication
    metadata.description = " · ".join(
        part
        for part in (
            str(brief.labels.get("offprint") or edition.labels.get("offprint") or ""),
            publication.name,
            publication.series,
            f"{edition.labels.get('issue', '')} {edition.number}".strip(),
            edition.date_label,
        )
        if part
    )
    return metadata


# --- refusals as problems ------------------------------------------------------------


def refusal_problems(edition: Edition, refused: list[Refusal]) -> list[Problem]:
    """Each refused URL once, as a warning at the place in the content that led to it."""
    if not refused:
        return []
    owners = _svg_owners(edition)
    problems: list[Problem] = []
    for refusal in dict.fromkeys(refused):
        image = owners.get(normal_url(refusal.url))
        if image:
            path, line, column = _image_location(edition, image)
        else:  # nothing in the content names it: the layout's HTML or CSS does
            path, line, column = edition.layout.file("print/print.css") or edition.issue_dir / ISSUE_FILE, 1, 1
        what = image.rel if image else "the print layout"
        itself = image is not None and normal_url(refusal.url) == normal_url(path2url(image.source))
        problems.append(
            Problem(
                path,
                line,
                column,
                f"{what} was not loaded: {refusal.reason}"
                if itself
                else f"{what} names {refusal.url}, which was not loaded: {refusal.reason}",
                hint="the PDF was built without it; "
                + (
                    "the file changed after it was checked: run `research-news check` again"
                    if itself
                    else "images and fonts may only come from files inside the content tree, never from the network"
                ),
                severity="warning",
            )
        )
    return problems


def _svg_owners(edition: Edition) -> dict[str, Image]:
    """URL → the edition's SVG image that is it or names it (directly, or through SVGs it names)."""
    owners: dict[str, Image] = {}
    for image in edition.images:
        if not image.is_svg:
            continue
        owners[normal_url(path2url(image.source))] = image  # refused itself: changed since `check`
        pending, seen = [image.source], set()
        while pending:
            svg = pending.pop()
            if svg in seen:
                continue
            seen.add(svg)
            for url in svg_references(svg):
                owners.setdefault(url, image)
                if url.startswith("file:") and url.lower().endswith(".svg"):
                    nested = file_url_path(url).resolve()
                    if nested.is_file() and nested.is_relative_to(edition.root.resolve()):
                        pending.append(nested)
    return owners


def _image_location(edition: Edition, image: Image) -> tuple[Path, int, int]:
    """The file, line and column where ``image`` is named: a figure's or photo's brief, or the logo."""
    for brief in edition.briefs:
        for loc in _image_fields(brief, image):
            return (brief.path or edition.issue_dir / ISSUE_FILE, *_position(edition, brief.path, loc))
    publication = edition.root / PUBLICATION_FILE
    return (publication, *_position(edition, publication, ("logo",)))


def _image_fields(brief: BriefView, image: Image):
    """Where in ``brief``'s YAML the image is named, as a field location."""
    for part in brief.parts:
        for figure in part.figures:
            if figure.image.source == image.source:
                yield ("figures", figure.number - 1, "src")
    for index, author in enumerate(brief.authors):
        if author.photo and author.photo.source == image.source:
            yield ("authors", index, "photo")


def _position(edition: Edition, path: Path | None, loc: tuple) -> tuple[int, int]:
    """Where ``loc`` is in the file at ``path``, as it was validated (the file is not read again)."""
    document = edition.document(path)
    return position_of(document.data, loc) if document else (1, 1)
