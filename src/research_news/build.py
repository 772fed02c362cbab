"""The build pipeline, top to bottom: load → validate → assemble → render → write.

The editions are those of the registry (editions.py: pdf, offprints, web, email and any a
package adds), made in its order. Everything is rendered in memory first and written only
when every requested edition rendered, each file atomically: a failed or interrupted build leaves the previous
outputs as they were. Once the new outputs are in place, the files an earlier build
wrote that the content no longer makes are removed (see manifest.py). An operating-system
error in any stage (a full disk, a file-size limit, a read-only folder, WeasyPrint's
temporary fonts) is one :class:`~research_news.write.WriteFailed` line, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import cache as caching
from . import editions as registry
from . import parallel, uptodate
from .assemble import Edition, assemble
from .editions import Options, Output
from .exceptions import Problem, ResearchNewsError, UsageError, display_path
from .layout import Layout
from .manifest import MANIFEST_NAME, Manifest, build_lock, remove_stale
from .render import forked
from .translations import in_language, language_name
from .tree import PUBLICATION_FILE
from .validate import Content, load_content
from .write import (
    WRITE_ERRORS,
    Fill,
    WriteFailed,
    bytes_filler,
    copy_filler,
    reason,
    remove_stale_staging,
    replace_all,
    write_bytes,
)


@dataclass
class BuildResult:
    """What a build wrote, what it noticed, and how long it took."""

    out_dir: Path
    outputs: list[Output] = field(default_factory=list)
    editions: list[str] = field(default_factory=list)  # those rendered: their old files are replaced
    warnings: list[Problem] = field(default_factory=list)
    pages: int | None = None
    seconds: float = 0.0
    reused: list[Path] = field(default_factory=list)  # outputs that came from the cache, not rendered again
    up_to_date: bool = False  # nothing had changed since the last build: nothing was rendered or written


Step = Callable[[str], AbstractContextManager[object]]
"""Progress reporting: ``with step("Rendering PDF"): …``."""


def _no_progress(label: str) -> AbstractContextManager[object]:
    return nullcontext()


def build(
    issue_dir: Path,
    out: Path,
    *,
    only: tuple[str, ...] | None = None,
    offprints: bool = False,
    pdf_variant: str | None = "pdf/ua-1",
    attach_pdf: bool = False,
    strict: bool = False,
    pad_to: int | None = None,
    force: bool = False,
    jobs: int | None = None,
    workers: parallel.Workers | None = None,
    before_writing: Callable[[], None] | None = None,
    step: Step = _no_progress,
    printer: forked.Early | None = None,
) -> BuildResult:
    """Build the requested editions of the issue in ``issue_dir`` into ``out/<slug>/``, and those
    of each language it is translated into (an ``issue.<lang>.yaml``) into ``out/<slug>/<lang>/``.

    ``only`` names editions of the registry (editions.py); ``None`` means every edition made
    by default that the publication is set up for: the email edition needs ``web_base_url``
    and ``email.from``, and is skipped with a warning without them. Naming ``email`` in
    ``only`` makes their absence an error instead. ``offprints`` adds the offprints, and
    ``attach_pdf`` the print PDF, which the message then carries. ``pad_to`` makes the print
    edition's page count a multiple of it, with pages for notes before the back page. ``strict``
    makes every warning an error: the build then stops before writing anything (for CI).

    What an earlier build rendered from the same inputs is reused (see cache.py); when nothing
    changed at all, nothing is rendered or written (``result.up_to_date``). ``force`` renders everything.

    The first language's PDF is laid out in this process while ``jobs - 1`` worker processes (``jobs``
    defaults to one per core) render the rest (see parallel.py); ``jobs=1`` renders everything here.
    The files are the same either way.
    Site workers pass ``jobs=1``: they already keep every core busy. ``workers``, a pool the caller
    keeps, takes the place of the build's own (the site sends its pages to the same worker);
    ``before_writing`` is called once everything is rendered, before anything is written: what it
    raises stops the build with every file as it was. ``printer``, the print process the command
    started (print_process.py), lays out the first language's PDF instead of this process, which
    renders the other editions meanwhile; the caller stops it if the build does not give it that job.
    """
    started = time.perf_counter()
    chosen = Choices(only, offprints, pdf_variant, attach_pdf, pad_to)
    if not force and (unchanged := uptodate.unchanged(issue_dir, out, **asdict(chosen), strict=strict)):
        return _unchanged(unchanged.record, unchanged.warnings, unchanged.out_dir, started)
    with step("Checking content"):
        content = load_content(issue_dir)
    out_dir = out / content.issue_dir.resolve().name  # the edition's slug
    cache = caching.Cache(out_dir, caching.Digests(), enabled=not force)
    arguments = caching.build_arguments(only, offprints, pdf_variant, attach_pdf, pad_to)
    layout = Layout(content.root, content.publication.layout)
    watched = caching.watched_files(content.issue_dir, layout.folders, out_dir)
    record = caching.up_to_date(cache.record(), out_dir, cache.digests, arguments, layout.folders, watched)
    if record is not None:
        warnings = list(dict.fromkeys([*content.warnings, *record["warnings"]]))
        _stop_if_strict(warnings, strict)
        return _unchanged(record, warnings, out_dir, started)
    if only is not None and registry.unknown(only):
        raise UsageError(registry.choices_message(only))
    inputs = caching.content_inputs(content, issue_dir, layout, cache.digests)  # before rendering: as checked
    result = BuildResult(out_dir, warnings=list(content.warnings))
    plans = [
        _plan(in_language(content, language), result.out_dir, chosen, cache, step) for language in content.languages
    ]
    with (
        nullcontext(workers) if workers else parallel.Workers(parallel.worker_count(jobs)) as pool,
        forked.permitted(parallel.worker_count(jobs) > 0),  # --jobs 1: no forked writer either
    ):
        read = set(watched) | _render(plans, result, cache, pool, step, printer if pool.count else None)
    result.warnings = list(dict.fromkeys(result.warnings))  # offprints repeat the issue's warnings
    _stop_if_strict(result.warnings, strict)
    if before_writing is not None:
        before_writing()
    with step("Writing files"):
        write_outputs(result.outputs, inside=result.out_dir, editions=result.editions)
    known = set(result.editions) <= caching.CACHED_EDITIONS  # a package's edition: always rendered again
    record = caching.build_record(out_dir, cache.digests, arguments, layout.folders, read, result, inputs)
    cache.save(record if known else None)
    result.seconds = time.perf_counter() - started
    return result


_stop_if_strict = uptodate.stop_if_strict


def _unchanged(record: dict, warnings: list[Problem], out_dir: Path, started: float) -> BuildResult:
    """The result of a build with nothing to do: the files the last one wrote, and ``warnings`` (the
    content check's and the last build's editions')."""
    outputs = [Output(out_dir / relative, copy_of=out_dir / relative) for relative in record["outputs"]]
    return BuildResult(
        out_dir,
        outputs,
        list(record["written"]),
        warnings,
        record.get("pages"),
        time.perf_counter() - started,
        [output.path for output in outputs],
        up_to_date=True,
    )


@dataclass(frozen=True)
class Choices:
    """The command line's choices that every language's editions are built with."""

    only: tuple[str, ...] | None
    offprints: bool
    pdf_variant: str | None
    attach_pdf: bool
    pad_to: int | None


@dataclass
class _Plan:
    """The editions to make of the issue in one language: the edition, the renderers' options, the
    editions' names (in the registry's order) and the warnings choosing them gave."""

    edition: Edition
    options: Options
    names: list[str]
    warnings: list[Problem]
    which: str  # " (French)" in the progress lines of a translation


def _plan(content: Content, out_dir: Path, chosen: Choices, cache: caching.Cache, step: Step) -> _Plan:
    """Assemble ``content`` in its issue's language and choose its editions: the issue's own language
    goes to build/<slug>/, each translation to build/<slug>/<lang>/ (same file names)."""
    translated = content.languages and content.issue.language != content.languages[0]
    which = f" ({language_name(content.issue.language, 'en')})" if translated else ""
    with step(f"Assembling the issue{which}"):
        edition = assemble(content)
    warnings: list[Problem] = []
    wanted = set(chosen.only if chosen.only is not None else _editions_for(edition, warnings))
    wanted |= {"offprints"} if chosen.offprints else set()
    wanted |= {"pdf"} if chosen.attach_pdf else set()
    options = Options(out_dir / edition.folder, chosen.pdf_variant, chosen.attach_pdf, chosen.pad_to)
    options.memo = caching.pagination_memo(edition, options, cache)
    return _Plan(edition, options, [name for name in registry.registered() if name in wanted], warnings, which)


def _render(
    plans: list[_Plan],
    result: BuildResult,
    cache: caching.Cache,
    workers: parallel.Workers,
    step: Step,
    printer: forked.Early | None = None,
) -> set[Path]:
    """Render every plan's editions into ``result`` (from the cache when their inputs are unchanged), in
    the registry's order, language by language. Returns the files the editions read.

    Every cache lookup is made first; the pieces to render are then grouped into jobs (see
    :func:`_jobs`: a language's print PDF and offprints share one layout) and every job but the first
    language's print job goes to the worker processes, while this process lays that one out. A
    package's edition, and the email that attaches the PDF, render here in their turn: they may use
    what the editions before them made (``options.rendered``).

    With a ``printer`` (print_process.py), the first language's print job goes to it instead, and the
    jobs this process would have sent to a worker only to wait for the layout (a one-language build's
    web and email editions) it renders itself meanwhile, before the print edition it then waits for.
    """
    lookups = {
        (number, name): caching.look_up(name, plan.edition, plan.options, cache)
        for number, plan in enumerate(plans)
        for name in plan.names
        if name in caching.CACHED_EDITIONS and not (name == "email" and plan.options.attach_pdf)
    }
    jobs = _jobs(lookups)
    mine = _first_heavy(jobs)
    sent = {job: workers.submit(_piece(plans[job.number], job)) for job in _to_send(jobs, workers.count, printer)}
    printing = mine is not None and printer is not None and _give(printer, plans[mine.number], mine, sent)
    printed, printer = (mine, printer) if printing else (None, None)  # the print process's job, if it took one
    renderers = registry.registered()
    done: dict[tuple[int, str, str], registry.Rendered] = {}
    made: dict[tuple[int, str], caching.Made] = {}
    read: set[Path] = set()
    rendering: tuple[int, str] | None = None
    try:
        for number, name in _order(plans, lookups, printed):
            rendering, plan = (number, name), plans[number]
            plan.options.rendered = _rendered_before(plan, number, name, made)
            renderer = renderers[name]
            with step(f"Rendering {renderer.title}{plan.which}"), _rendering(renderer.title):
                lookup = lookups.get((number, name))
                if lookup is None:
                    made[number, name] = caching.render(name, renderer, plan.edition, plan.options, cache)
                else:
                    fresh = {
                        piece: _fresh(jobs, sent, done, plan, number, name, piece, printer, printed)
                        for piece in lookup.missing
                    }
                    made[number, name] = caching.made_from(lookup, fresh, plan.edition, cache)
    except ResearchNewsError:
        if printer is not None and printed is not None and _comes_after(plans, printed, rendering):
            _raise_print_error(printer)  # in one process, the print edition's error would have come first
        raise
    for number, plan in enumerate(plans):
        plan.options.rendered = _rendered_before(plan, number, None, made)
        result.warnings.extend(plan.warnings)
        read |= {*plan.edition.documents, *(image.source for image in plan.edition.images)}
        for name in plan.names:
            _record(name, made[number, name].rendered, result)
            result.reused.extend(made[number, name].reused)
            read |= made[number, name].read
    return read


def _rendered_before(
    plan: _Plan, number: int, name: str | None, made: dict[tuple[int, str], caching.Made]
) -> dict[str, registry.Rendered]:
    """What ``options.rendered`` holds as edition ``name`` renders (``None``: once all have): the editions
    before it in the registry's order, made already (all of them, for one that renders in its turn),
    in that order, as when they are rendered one after the other."""
    before = plan.names[: plan.names.index(name)] if name is not None else plan.names
    return {other: made[number, other].rendered for other in before if (number, other) in made}


def _comes_after(plans: list[_Plan], printed: _Job, edition: tuple[int, str] | None) -> bool:
    """Whether ``edition`` comes after the first edition of the ``printed`` job in the registry's order,
    language by language (the order of a build in one process)."""
    order = [(number, name) for number, plan in enumerate(plans) for name in plan.names]
    first = next(
        index
        for index, (number, name) in enumerate(order)
        if number == printed.number and any(piece[0] == name for piece in printed.pieces)
    )
    return edition is not None and order.index(edition) > first


def _raise_print_error(printer: forked.Early) -> None:
    """Raise the print process's user-visible error, if its job ended in one (waiting for it)."""
    printed = printer.result()
    if printed is not None:
        parallel.unreported(printed[0])


def _order(
    plans: list[_Plan], lookups: dict[tuple[int, str], caching.Lookup], printed: _Job | None
) -> list[tuple[int, str]]:
    """Each language's editions, in the order to render them: the registry's, except that while the
    print process lays out ``printed``, the editions that neither are part of that job nor render in
    their turn (they may use any edition before them: see :func:`_render`) come first."""
    order = [(number, name) for number, plan in enumerate(plans) for name in plan.names]
    if printed is None:
        return order

    def waits(number: int, name: str) -> bool:
        lookup = lookups.get((number, name))
        return lookup is None or (number == printed.number and any(piece[0] == name for piece in printed.pieces))

    return sorted(order, key=lambda edition: waits(*edition))  # sorted is stable: the registry's order otherwise


def _give(printer: forked.Early, plan: _Plan, job: _Job, sent: dict[_Job, Future]) -> bool:
    """Give the print process ``job``; False when it could not take it (this process then renders it).
    This process and the workers (laying the other languages out) are named so that it does not fork a
    writer while they work."""
    import multiprocessing

    from . import print_process

    workers = [child.pid for child in multiprocessing.active_children() if child.pid] if sent else []
    beside = (os.getpid(), *workers)  # this process renders the web and email editions meanwhile
    return printer.give(print_process.render, plan.edition, plan.options, list(job.pieces), beside)


@dataclass(frozen=True)
class _Job:
    """Pieces of one language's editions rendered together, in one process: ``(edition, piece)`` pairs
    (see editions.render_pieces). ``heavy`` when WeasyPrint lays the issue out for it."""

    number: int  # the plan's (the language's) index
    pieces: tuple[registry.Piece, ...]

    @property
    def heavy(self) -> bool:
        return any(name in ("pdf", "offprints") for name, _ in self.pieces)


def _first_heavy(jobs: list[_Job]) -> _Job | None:
    """The first language's print job: the one this process (or its print process) lays out."""
    return next((job for job in jobs if job.heavy), None)


def _jobs(lookups: dict[tuple[int, str], caching.Lookup]) -> list[_Job]:
    """The pieces to render, as jobs: per language, the print PDF with the offprints (one layout serves
    them all), then each other edition on its own. The print jobs come first: they take longest."""
    jobs: list[_Job] = []
    for number in sorted({number for number, _ in lookups}):
        printed = [
            (name, piece)
            for name in ("pdf", "offprints")
            if (number, name) in lookups
            for piece in lookups[number, name].missing
        ]
        if printed:
            jobs.append(_Job(number, tuple(printed)))
    for (number, name), lookup in lookups.items():
        if name not in ("pdf", "offprints"):
            jobs.extend(_Job(number, ((name, piece),)) for piece in lookup.missing)
    return jobs


def _to_send(jobs: list[_Job], workers: int, printer: forked.Early | None = None) -> list[_Job]:
    """The jobs for the worker processes: all but the first heavy one, which this process renders
    meanwhile. None without a worker, or without a heavy job to render meanwhile: a worker's start
    (importing, reading the issue again) would then cost more than the HTML editions it renders.
    With a ``printer`` laying out the first heavy job, none either unless another job is heavy (a
    translation to lay out): this process renders the light ones while it waits."""
    if workers < 1 or len(jobs) < 2 or not any(job.heavy for job in jobs):
        return []
    mine = next((job for job in jobs if job.heavy), jobs[0])
    others = [job for job in jobs if job is not mine]
    if printer is not None and not any(job.heavy for job in others):
        return []
    return others


def _piece(plan: _Plan, job: _Job) -> parallel.Piece:
    edition, options = plan.edition, plan.options
    return parallel.Piece(
        edition.issue_dir, edition.lang, options.out_dir, job.pieces, options.pdf_variant, options.pad_to, options.memo
    )


def _fresh(
    jobs: list[_Job],
    sent: dict[_Job, Future],
    done: dict[tuple[int, str, str], registry.Rendered],
    plan: _Plan,
    number: int,
    name: str,
    piece: str,
    printer: forked.Early | None = None,
    printed: _Job | None = None,
) -> registry.Rendered:
    """The rendered ``piece`` of edition ``name`` in language ``number``: from the job that has it, which
    a worker rendered or this process renders now (with the other pieces of its job, kept in ``done``).
    A job sent to a worker that has not started it yet is taken back and rendered here: this process,
    done with its own job, would otherwise wait while the worker finishes the one before (a bilingual
    build's worker lays the translation out first). The ``printed`` job, given to ``printer``, comes
    from it; if it failed, this process renders the job itself."""
    if (number, name, piece) not in done:
        job = next(job for job in jobs if job.number == number and (name, piece) in job.pieces)
        if job in sent and sent[job].cancel():
            del sent[job]
        taken = printer.result() if printer is not None and job is printed else None
        if taken is not None:
            got = parallel.unreported(taken[0])
        elif job in sent:
            got = parallel.result_of(sent[job])
        else:
            got = registry.render_pieces(plan.edition, plan.options, list(job.pieces))
        done.update(((number, *key), rendered) for key, rendered in got.items())
    return done[number, name, piece]


def _record(name: str, rendered: registry.Rendered, result: BuildResult) -> None:
    """Add an edition's files (each marked as its own, for the manifest) and warnings to the result."""
    for output in rendered.outputs:
        output.edition = output.edition or name
    result.outputs.extend(rendered.outputs)
    result.warnings.extend(rendered.warnings)
    result.editions.append(name)
    if name == "pdf" and result.pages is None:  # the summary counts the issue's own language's pages
        result.pages = rendered.pages


def _editions_for(edition: Edition, warnings: list[Problem]) -> list[str]:
    """Every edition made by default, less those the publication lacks settings for (with a warning)."""
    chosen = []
    for name, renderer in registry.registered().items():
        if not renderer.by_default:
            continue
        missing = renderer.missing(edition)
        if not missing:
            chosen.append(name)
        elif not getattr(renderer, "checked", False):  # else the content check has said so already
            warnings.append(
                Problem(
                    edition.root / PUBLICATION_FILE,
                    1,
                    1,
                    f"{renderer.title} was not built: publication.yaml has no {' and no '.join(missing)}",
                    "set them to build it",
                    "warning",
                )
            )
    return chosen


@contextlib.contextmanager
def _rendering(what: str) -> Iterator[None]:
    """An OS error while rendering ``what`` as one line: nothing has been written yet.

    Rendering writes only temporary files (WeasyPrint's copies of the fonts, the
    offprint processes' pipes), so a full disk or a file-size limit shows up here
    before any output is touched.
    """
    try:
        yield
    except OSError as error:
        raise WriteFailed(_render_failure(error, what)) from None


def _render_failure(error: OSError, what: str) -> str:
    named = display_path(Path(error.filename)) if isinstance(error.filename, (str, Path)) else None
    if error.errno not in WRITE_ERRORS:  # not a failed write: a read, a process that would not start
        where = f"{named}: " if named else ""
        return f"could not render {what}: {where}{reason(error)}; nothing was written"
    if named:
        return f"could not write {named} while rendering {what}: {reason(error)}; nothing was written"
    return (
        f"could not write a temporary file in {_temporary_folder()} while rendering {what}: {reason(error)}; "
        "set TMPDIR to a folder with room to put them elsewhere; nothing was written"
    )


def _temporary_folder() -> str:
    """Where WeasyPrint and other libraries put their temporary files ($TMPDIR, else /tmp…)."""
    try:
        return tempfile.gettempdir()
    except OSError:  # no usable temporary folder at all
        return "the temporary folder"


def write_outputs(
    outputs: list[Output], inside: Path, editions: list[str] | None = None, *, skip_identical: bool = False
) -> int:
    """Write every output, then remove what the content no longer makes; return how many files were
    written or removed.

    Each output is staged beside its target, then all are renamed (see write.py), with
    the manifest of what ``editions`` wrote; only then are the files those editions
    wrote before and did not write now removed (see manifest.py). All of it under the
    folder's build lock, after removing what a killed build left staged.

    Every target must lie in ``inside`` (build/<slug>/): names come partly from the
    content and the layout, and a ``..`` must never put a file anywhere else.

    ``skip_identical`` leaves alone a file that already has the output's bytes (and the manifest,
    when it lists the same files): its time stamp stays, so a synchronising tool sees nothing new.
    """
    files = _fills(outputs, inside, skip_identical)
    written: dict[str, set[str]] = {name: set() for name in editions or ()}
    for output in outputs:
        written.setdefault(output.edition, set()).add(output.path.relative_to(inside).as_posix())
    try:
        inside.mkdir(parents=True, exist_ok=True)
        with build_lock(inside):
            return _replace_then_prune(files, inside, written, skip_identical)
    except OSError as error:  # making the folder or opening it to lock: the rest reports its own
        raise WriteFailed.from_os_error(error, inside / MANIFEST_NAME, "no file was replaced") from None


def write_ahead(outputs: list[Output], inside: Path) -> int:
    """Write those of ``outputs`` whose files do not hold their bytes yet, each replaced whole; return how
    many were written. For files wanted on disk before the rest of their edition is made (the site's
    pages, which Pagefind reads while the images are drawn): the :func:`write_outputs` that follows,
    with every output, lists them as its edition's and prunes what is stale. Until it does, the
    manifest lists the new ones as files to remove (:func:`_listed_as_stale`), and nothing else."""
    files = _fills(outputs, inside, skip_identical=True)
    if files:
        try:
            inside.mkdir(parents=True, exist_ok=True)
            with build_lock(inside):
                _listed_as_stale(inside, files)
                replace_all(files)
        except OSError as error:  # making the folder or opening it to lock: replace_all reports its own
            raise WriteFailed.from_os_error(error, inside, "no file was replaced") from None
    return len(files)


def _listed_as_stale(inside: Path, files: dict[Path, Fill]) -> None:
    """Add to the manifest's files to remove those of ``files`` no edition owns yet, before they are
    written: the write that follows lists them as its edition's again, and if it never comes (the
    build failed or was stopped), the next build removes them instead of leaving them unlisted."""
    manifest = Manifest.read(inside)
    owned = set().union(*manifest.editions.values())
    new = {path.relative_to(inside).as_posix() for path in files} - owned
    if new:
        manifest.stale |= new
        write_bytes(inside / MANIFEST_NAME, manifest.to_bytes())


def _fills(outputs: list[Output], inside: Path, skip_identical: bool) -> dict[Path, Fill]:
    """What fills each output's file (none for one that holds its bytes, with ``skip_identical``);
    refuses an output outside ``inside``."""
    files = {}
    for output in outputs:
        if not output.path.resolve().is_relative_to(inside.resolve()):
            raise ResearchNewsError(f"refusing to write {output.path}: it is outside {inside}")
        if skip_identical and _already_there(output):
            continue
        if output.data is not None:
            files[output.path] = bytes_filler(output.data)
        elif output.copy_of is not None:
            files[output.path] = copy_filler(output.copy_of)
        else:  # pragma: no cover - an Output is always one or the other
            raise ResearchNewsError(f"nothing to write for {output.path}")
    return files


def _already_there(output: Output) -> bool:
    """Whether ``output``'s file already holds its bytes (a copy's: its source's)."""
    try:
        data = output.data if output.data is not None else output.copy_of.read_bytes()  # type: ignore[union-attr]
        return output.path.is_file() and output.path.stat().st_size == len(data) and output.path.read_bytes() == data
    except OSError:  # unreadable: writing it says what is wrong
        return False


def _replace_then_prune(
    files: dict[Path, Fill], inside: Path, written: dict[str, set[str]], skip_identical: bool
) -> int:
    """Rename the new files and the manifest into place, then remove the files it lists as stale;
    return how many files were written or removed (the manifest not counted)."""
    remove_stale_staging(inside)
    manifest_path = inside / MANIFEST_NAME
    previous = Manifest.read(inside)
    manifest = previous.rebuilt(written)
    if not (skip_identical and not files and manifest == previous):
        replace_all({**files, manifest_path: bytes_filler(manifest.to_bytes())})
    stale = len(manifest.stale)
    if manifest.stale:
        remove_stale(inside, manifest.stale)
        manifest.stale = set()
        write_bytes(manifest_path, manifest.to_bytes())
    return len(files) + stale
