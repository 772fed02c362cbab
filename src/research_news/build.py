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
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from . import cache as caching
from . import editions as registry
from .assemble import Edition, assemble
from .editions import Options, Output
from .exceptions import ContentError, Problem, ResearchNewsError, UsageError, display_path
from .layout import Layout
from .manifest import MANIFEST_NAME, Manifest, build_lock, remove_stale
from .tree import PUBLICATION_FILE
from .validate import load_content
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
    step: Step = _no_progress,
) -> BuildResult:
    """Build the requested editions of the issue in ``issue_dir`` into ``out/<slug>/``.

    ``only`` names editions of the registry (editions.py); ``None`` means every edition made
    by default that the publication is set up for: the email edition needs ``web_base_url``
    and ``email.from``, and is skipped with a warning without them. Naming ``email`` in
    ``only`` makes their absence an error instead. ``offprints`` adds the offprints, and
    ``attach_pdf`` the print PDF, which the message then carries. ``pad_to`` makes the print
    edition's page count a multiple of it, with pages for notes before the back page. ``strict``
    makes every warning an error: the build then stops before writing anything (for CI).

    What an earlier build rendered from the same inputs is reused (see cache.py); when nothing
    changed at all, nothing is rendered or written (``result.up_to_date``). ``force`` renders everything.
    ``jobs`` caps the processes rendering offprints (default: one per core; the site's issue workers
    pass 1, as they already keep every core busy).
    """
    started = time.perf_counter()
    with step("Checking content"):
        content = load_content(issue_dir)
    out_dir = out / content.issue_dir.resolve().name  # the edition's slug
    cache = caching.Cache(out_dir, caching.Digests(), enabled=not force)
    arguments = caching.build_arguments(only, offprints, pdf_variant, attach_pdf, pad_to)
    layout_folders = Layout(content.root, content.publication.layout).folders
    watched = caching.watched_files(content.issue_dir, layout_folders, out_dir)
    record = caching.up_to_date(cache, arguments, layout_folders, watched)
    if record is not None:
        return _unchanged(record, content.warnings, out_dir, strict, started)
    with step("Assembling the issue"):
        edition = assemble(content)
    result = BuildResult(out / edition.slug, warnings=list(content.warnings))
    if only is not None and registry.unknown(only):
        raise UsageError(registry.choices_message(only))
    wanted = set(only if only is not None else _editions_for(edition, result))
    wanted |= {"offprints"} if offprints else set()
    wanted |= {"pdf"} if attach_pdf else set()
    options = Options(result.out_dir, pdf_variant, attach_pdf, pad_to, jobs=jobs)
    read = {*watched, *edition.documents, *(image.source for image in edition.images)}
    for name, renderer in registry.registered().items():
        if name in wanted:
            with step(f"Rendering {renderer.title}"), _rendering(renderer.title):
                made = caching.render(name, renderer, edition, options, cache)
                rendered = options.rendered[name] = made.rendered
            _record(name, rendered, result)
            result.reused.extend(made.reused)
            read |= made.read
    result.warnings = list(dict.fromkeys(result.warnings))  # offprints repeat the issue's warnings
    _stop_if_strict(result.warnings, strict)
    with step("Writing files"):
        write_outputs(result.outputs, inside=result.out_dir, editions=result.editions)
    known = set(result.editions) <= caching.CACHED_EDITIONS  # a package's edition: always rendered again
    cache.save(caching.build_record(cache, arguments, layout_folders, read, result) if known else None)
    result.seconds = time.perf_counter() - started
    return result


def _stop_if_strict(problems: list[Problem], strict: bool) -> None:
    """With ``--strict``, every warning (not the notes) is an error: nothing is written."""
    warnings = [problem for problem in problems if problem.severity == "warning"]
    if strict and warnings:
        raise ContentError([warning.as_error() for warning in warnings])


def _unchanged(record: dict, checked: list[Problem], out_dir: Path, strict: bool, started: float) -> BuildResult:
    """The result of a build with nothing to do: the files the last one wrote, its warnings and the check's."""
    warnings = list(dict.fromkeys([*checked, *record["warnings"]]))
    _stop_if_strict(warnings, strict)
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


def _record(name: str, rendered: registry.Rendered, result: BuildResult) -> None:
    """Add an edition's files (each marked as its own, for the manifest) and warnings to the result."""
    for output in rendered.outputs:
        output.edition = output.edition or name
    result.outputs.extend(rendered.outputs)
    result.warnings.extend(rendered.warnings)
    result.editions.append(name)
    if name == "pdf":
        result.pages = rendered.pages


def _editions_for(edition: Edition, result: BuildResult) -> list[str]:
    """Every edition made by default, less those the publication lacks settings for (with a warning)."""
    chosen = []
    for name, renderer in registry.registered().items():
        if not renderer.by_default:
            continue
        missing = renderer.missing(edition)
        if not missing:
            chosen.append(name)
        elif not getattr(renderer, "checked", False):  # else the content check has said so already
            result.warnings.append(
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
    written: dict[str, set[str]] = {name: set() for name in editions or ()}
    for output in outputs:
        written.setdefault(output.edition, set()).add(output.path.relative_to(inside).as_posix())
    try:
        inside.mkdir(parents=True, exist_ok=True)
        with build_lock(inside):
            return _replace_then_prune(files, inside, written, skip_identical)
    except OSError as error:  # making the folder or opening it to lock: the rest reports its own
        raise WriteFailed.from_os_error(error, inside / MANIFEST_NAME, "no file was replaced") from None


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
