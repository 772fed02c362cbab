"""Do no work twice: what a build rendered, kept with the inputs it was made from.

The cache of ``build/<slug>/`` lives beside it, in ``build/.research-news-cache/<slug>/``
(hidden, and outside the issue's folder: never published with it, never listed in its
manifest, so never removed as stale). ``build --force`` ignores
it (and refills it). Deleting the folder is always safe. ``research-news site`` keeps its
issues' cover thumbnails and share cards there too, as entries of their own (site.py).

**Two levels.**

- The *build record* (``build.json``) says what the last build wrote, from which files. A
  build whose arguments are those of the record, whose issue and layout folders hold the same
  files, and whose every recorded input still has the same bytes, has nothing to do: when the
  files on disk are still those it wrote, the build says so and stops, without assembling the
  issue or loading WeasyPrint. The recorded inputs are every file the last build read: each file
  of the issue folder and of every layout folder of the chain (templates, CSS, fonts, labels,
  manifests), ``publication.yaml``, the images, and whatever WeasyPrint fetched (an SVG's own
  images, a font a stylesheet names), or looked for and did not find.
- An *entry* per edition (``pdf``, ``web``, ``email``) and per offprint (``offprints/<slug>``) is
  reused when its key matches and the files it read still have the bytes they had. The key
  hashes the code (research-news' version and a hash of its own source and built-in layout,
  so an edited checkout never serves stale output; the versions of the libraries that render),
  the options that affect the edition, the layout chain's files, ``publication.yaml`` and the
  content it shows: every YAML file and image of the issue. An offprint is cut from the issue's
  layout (its pages and page numbers depend on every brief before it), so its key is the print
  edition's, with its brief's slug: a changed brief lays the issue out again and cuts every
  offprint from that one layout, which costs a fraction of a second each. Editions that packages add are never cached: their inputs
  are unknown.

**Never trusted.** Rendered files are stored by the SHA-256 of their bytes and checked against
it when read; an index that cannot be read, is of another format or names bytes that are not
there is a miss, and the edition is rendered again. Every file of the cache is written to a
temporary file and renamed into place, under the issue's build lock (manifest.py), so two
builds of the same tree never see half an entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .editions import Output, Rendered
from .manifest import build_lock
from .tree import PUBLICATION_FILE
from .uptodate import (  # the light part, which an up-to-date build uses alone
    CACHE_FOLDER,
    FORMAT,
    RECORD,
    Digests,
    build_arguments,
    build_record,
    code_fingerprint,
    files_under,
    key_of,
    read_record,
    record_inputs,
    up_to_date,
    watched_files,
)
from .uptodate import problem_from_json as _problem_from_json
from .uptodate import problem_to_json as _problem_to_json
from .write import WriteFailed, write_bytes

if TYPE_CHECKING:
    from .assemble import Edition
    from .checker import Content
    from .editions import EditionRenderer, Options
    from .layout import Layout

__all__ = [
    "CACHE_FOLDER",
    "FORMAT",
    "Digests",
    "build_arguments",
    "build_record",
    "code_fingerprint",
    "files_under",
    "key_of",
    "up_to_date",
    "watched_files",
]

CACHED_EDITIONS = frozenset({"pdf", "offprints", "web", "email"})
"""The built-in editions, whose inputs are known; others are rendered on every build."""


# --- what is stored ----------------------------------------------------------------------


@dataclass
class Stored:
    """One cache entry, as JSON: the key, the files the edition read besides those in the key
    (path → digest), its outputs (relative to build/<slug>/; bytes by digest, or a file to copy),
    its warnings and pages."""

    key: str
    read: dict[str, str | None] = field(default_factory=dict)
    outputs: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    pages: int | None = None


class Cache:
    """The cache of build/<slug>/: entries looked up while rendering, written together at the end."""

    def __init__(self, out_dir: Path, digests: Digests, *, enabled: bool = True):
        self.out_dir = out_dir
        self.folder = out_dir.parent / CACHE_FOLDER / out_dir.name
        self.digests = digests
        self.enabled = enabled  # False: --force, every lookup misses (the entries are still written)
        self._pending: dict[str, Stored] = {}
        self._blobs: dict[str, bytes] = {}
        self._read: dict[str, dict[str, str | None]] = {}  # slot → what its edition read, reused or rendered

    def read_of(self, slot: str) -> set[Path]:
        """The files beyond its key that the edition in ``slot`` read (copied images, fetched fonts…)."""
        return {Path(path) for path in self._read.get(slot, {})}

    # entries

    def _entry_path(self, slot: str) -> Path:
        return self.folder / "entries" / f"{hashlib.sha256(slot.encode()).hexdigest()[:32]}.json"

    def _blob_path(self, digest: str) -> Path:
        return self.folder / "blobs" / digest

    def load(self, slot: str, key: str) -> Rendered | None:
        """The edition (or offprint) stored under ``slot`` if it was made from ``key`` and the files it
        read are unchanged; ``None`` otherwise (and for anything unreadable, foreign or tampered with)."""
        if not self.enabled:
            return None
        stored = _read_entry(self._entry_path(slot))
        if stored is None or stored.key != key or not self.digests.unchanged(stored.read):
            return None
        rendered = Rendered(pages=stored.pages)
        try:
            for output in stored.outputs:
                path = self.out_dir / output["path"]
                if not path.resolve().is_relative_to(self.out_dir.resolve()):
                    return None
                if "copy_of" in output:
                    rendered.outputs.append(Output(path, copy_of=Path(output["copy_of"]), note=output["note"]))
                    continue
                data = self._blob(output["sha256"])
                if data is None:
                    return None
                rendered.outputs.append(Output(path, data, note=output["note"]))
            rendered.warnings = [_problem_from_json(problem) for problem in stored.warnings]
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        self._read[slot] = stored.read
        return rendered

    def _blob(self, digest: str) -> bytes | None:
        try:
            data = self._blob_path(str(digest)).read_bytes()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == digest else None

    def store(self, slot: str, key: str, rendered: Rendered, read: Iterable[Path] = ()) -> None:
        """Keep ``rendered`` under ``slot`` (written by :meth:`save`), with the files it read beyond the key."""
        outputs = []
        extra = set(read) | {problem.path for problem in rendered.warnings}  # a warning's line must not go stale
        for output in rendered.outputs:
            entry = {"path": output.path.relative_to(self.out_dir).as_posix(), "note": output.note}
            if output.data is not None:
                digest = hashlib.sha256(output.data).hexdigest()
                self._blobs[digest] = output.data
                entry["sha256"] = digest
            else:
                entry["copy_of"] = str(output.copy_of)
                extra.add(output.copy_of)  # type: ignore[arg-type]
            outputs.append(entry)
        self._pending[slot] = stored = Stored(
            key,
            self.digests.of_all(sorted(extra, key=str)),
            outputs,
            [_problem_to_json(problem) for problem in rendered.warnings],
            rendered.pages,
        )
        self._read[slot] = stored.read

    def save(self, record: dict | None = None) -> None:
        """Write the pending entries (and the build record), each atomically, under the build lock.

        A cache that cannot be written is only a slower next build: never a failed one.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with build_lock(self.out_dir):  # the issue's: its builds take turns writing its cache too
                for digest, data in self._blobs.items():
                    if self._blob(digest) is None:
                        write_bytes(self._blob_path(digest), data)
                for slot, stored in self._pending.items():
                    write_bytes(self._entry_path(slot), _entry_bytes(stored))
                if record is not None:
                    write_bytes(self.folder / RECORD, json.dumps({"format": FORMAT, **record}).encode())
                self._prune()
        except (OSError, WriteFailed):
            pass  # the outputs are written; an unwritten cache only makes the next build render again

    def _prune(self) -> None:
        """Remove stored bytes no entry names any more (an old PDF, a deleted brief's offprint)."""
        wanted: set[str | None] = set()
        for path in (self.folder / "entries").glob("*.json"):
            stored = _read_entry(path)
            if stored is not None:
                wanted.update(output.get("sha256") for output in stored.outputs)
        for blob in (self.folder / "blobs").glob("*"):
            if blob.name not in wanted:
                blob.unlink(missing_ok=True)

    # the build record

    def record(self) -> dict | None:
        """The last build's record, if readable and of this format."""
        return read_record(self.folder) if self.enabled else None


def _entry_bytes(stored: Stored) -> bytes:
    return json.dumps({"format": FORMAT, **asdict(stored)}).encode()


def _read_entry(path: Path) -> Stored | None:
    try:
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
            return None
        stored = Stored(**data)
        if not (isinstance(stored.key, str) and isinstance(stored.read, dict) and isinstance(stored.outputs, list)):
            return None
        return stored
    except (OSError, ValueError, TypeError, RecursionError):  # RecursionError: JSON nested too deep
        return None


# --- keys, and rendering through the cache ----------------------------------------------


def layout_files(edition: Edition) -> list[Path]:
    """Every file of every layout folder of the chain (templates, CSS, fonts, labels, manifests)."""
    return files_under(edition.layout.folders)


def _shared_inputs(edition: Edition, digests: Digests) -> list[object]:
    """What every edition depends on: the code, the layout chain (its order too) and its files."""
    return [
        code_fingerprint(),
        [str(folder) for folder in edition.layout.folders],
        digests.of_all(layout_files(edition)),
    ]


def _options_of(name: str, options: Options) -> list[object]:
    """The options that change edition ``name``."""
    if name == "pdf":
        return [options.pdf_variant, options.pad_to]
    if name == "offprints":
        return [options.pdf_variant, options.pad_to]  # cut from the print edition's layout
    if name == "email" and options.attach_pdf:
        pdf = options.rendered["pdf"].outputs
        return [True, [hashlib.sha256(output.data or b"").hexdigest() for output in pdf]]
    return []


def edition_key(name: str, edition: Edition, options: Options, digests: Digests) -> str:
    """The key of an issue-wide edition in one language: the code, layout, options, the language, and
    every file of the issue folder (YAML, translations, images) and every other file it validated."""
    return key_of(
        *_shared_inputs(edition, digests),
        name,
        edition.folder,
        edition.lang,
        _options_of(name, options),
        digests.of_all(sorted(edition.documents)),
        digests.of_all(files_under([edition.issue_dir])),  # translations too: they are not documents
        digests.of_all(sorted(image.source for image in edition.images)),
    )


def slot(name: str, edition: Edition) -> str:
    """Where an edition's entry lives: one per language (``pdf``, ``fr/pdf``, ``fr/offprints/<slug>``)."""
    return f"{edition.folder}{name}"


@dataclass(frozen=True)
class Memo:
    """Where pagination's decisions are kept between layouts, under ``base`` (:func:`memo_base`): files
    in ``folder`` for the next build (``build/.research-news-cache/<slug>/pagination/<language>/``), or,
    with no folder, the dict ``kept`` (file name → text) for the next layout in the same process (the
    preview's PDF worker, which writes no file). ``read``: whether earlier decisions may be used (not
    with ``--force``, which still keeps the new ones). render/pdf.py reads and writes them."""

    folder: Path | None
    base: str
    read: bool = True
    kept: dict[str, str] = field(default_factory=dict, compare=False)


def memo_base(edition: Edition, digests: Digests, pdf_variant: str | None) -> str:
    """The key pagination's decisions for ``edition`` are kept under: the code, the layout chain's files
    and the PDF variant (render/pdf.py adds the images')."""
    return key_of(*_shared_inputs(edition, digests), "pagination", pdf_variant)


def pagination_memo(edition: Edition, options: Options, cache: Cache) -> Memo:
    """Where the print edition of ``edition`` keeps pagination's decisions for the next build."""
    return Memo(
        cache.folder / "pagination" / edition.lang,
        memo_base(edition, cache.digests, options.pdf_variant),
        read=cache.enabled,
    )


def offprint_key(edition: Edition, slug: str, options: Options, digests: Digests) -> str:
    """The key of one offprint: the print edition's inputs (it is cut from the issue's layout) and its slug."""
    return key_of(edition_key("offprints", edition, options, digests), slug)


@dataclass
class Made:
    """An edition as the build uses it, whether rendered or reused, and the files it read."""

    rendered: Rendered
    reused: list[Path] = field(default_factory=list)  # outputs that came from the cache
    read: set[Path] = field(default_factory=set)


@dataclass
class Lookup:
    """An edition's cache lookups, made before anything renders: the key of each of its pieces (the
    edition, or one offprint per brief) and what the cache held for it (``None``: to be rendered)."""

    name: str
    keys: dict[str, str] = field(default_factory=dict)  # piece (the edition's name, or a brief's slug) → key
    found: dict[str, Rendered | None] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        """The pieces to render: ``[name]`` for a whole edition, the briefs' slugs for offprints."""
        return [piece for piece, hit in self.found.items() if hit is None]


def look_up(name: str, edition: Edition, options: Options, cache: Cache) -> Lookup:
    """What the cache holds of the built-in edition ``name`` (all of it, some offprints, or nothing)."""
    if name != "offprints":
        key = edition_key(name, edition, options, cache.digests)
        return Lookup(name, {name: key}, {name: cache.load(slot(name, edition), key)})
    lookup = Lookup(name)
    for brief in edition.briefs:
        lookup.keys[brief.slug] = key = offprint_key(edition, brief.slug, options, cache.digests)
        lookup.found[brief.slug] = cache.load(_piece_slot(name, brief.slug, edition), key)
    return lookup


def _piece_slot(name: str, piece: str, edition: Edition) -> str:
    return slot(f"offprints/{piece}" if name == "offprints" else name, edition)


def made_from(lookup: Lookup, fresh: dict[str, Rendered], edition: Edition, cache: Cache) -> Made:
    """The edition from its pieces, those the cache held and those rendered (``fresh``, by piece, kept)."""
    made = Made(Rendered())
    for piece, key in lookup.keys.items():
        where = _piece_slot(lookup.name, piece, edition)
        one = lookup.found[piece]
        if one is not None:
            made.reused.extend(output.path for output in one.outputs)
        else:
            one = fresh[piece]
            cache.store(where, key, one, one.read)
        made.read |= cache.read_of(where)
        if lookup.name != "offprints":
            made.rendered = one
            continue
        made.rendered.outputs.extend(one.outputs)
        made.rendered.warnings.extend(one.warnings)
    return made


def render(name: str, renderer: EditionRenderer, edition: Edition, options: Options, cache: Cache) -> Made:
    """Edition ``name`` from the cache when its inputs are unchanged, else rendered here (and kept)."""
    if name not in CACHED_EDITIONS:  # a package's edition: its inputs are unknown, so never reused
        return Made(renderer.render(edition, options))
    lookup = look_up(name, edition, options, cache)
    missing = lookup.missing
    if name == "offprints":
        fresh = renderer.render_some(edition, options, missing) if missing else {}  # type: ignore[attr-defined]
    else:
        fresh = {name: renderer.render(edition, options)} if missing else {}
    return made_from(lookup, fresh, edition, cache)


# --- the build record: is there anything to do at all? (uptodate.py) ---------------------


def unchanged_build(
    content: Content, out: Path, arguments: str, digests: Digests, replaced: Collection[str] = ()
) -> dict | None:
    """The record of the last build of ``content`` into ``out/<slug>/`` when that build had ``arguments``
    (:func:`build_arguments`) and nothing changed since: what ``build`` checks first, for a caller that
    wants to know without building (the site, before it starts processes). ``replaced`` names outputs
    (relative to ``out/<slug>/``) the caller itself rewrites after the build, whose bytes are not compared."""
    from .layout import Layout

    out_dir = out / content.issue_dir.resolve().name
    layout_folders = Layout(content.root, content.publication.layout).folders
    watched = watched_files(content.issue_dir, layout_folders, out_dir)
    cache = Cache(out_dir, digests)
    return up_to_date(cache.record(), out_dir, digests, arguments, layout_folders, watched, replaced)


def content_inputs(content: Content, issue_dir: Path, layout: Layout, digests: Digests) -> dict:
    """What the content check of ``issue_dir`` found besides the bytes of the files it read, for the
    record (uptodate.record_inputs): the paths it looked at to find the content tree's top and the
    layouts, the folders of the briefs outside the issue's, its warnings, and whether plugins are installed."""
    from . import editions, plugins, sections
    from .layout import BUILTIN_LAYOUTS, DEFAULT, allowed_layout_places, layout_candidates

    root = content.root
    folders = {path.parent for path in content.documents}
    issue = issue_dir.resolve()
    probed: set[Path] = {root / PUBLICATION_FILE, root, root.parent / "layouts", BUILTIN_LAYOUTS}
    for folder in [issue_dir, *folders]:  # find_root walks up from each file: a publication.yaml between moves the tree
        for start in (folder, folder.resolve()):
            for above in [start, *start.parents]:
                if above.resolve() == root.resolve():
                    break
                probed.add(above / PUBLICATION_FILE)
    names = {
        content.publication.layout,
        DEFAULT,
        *(manifest.extends for manifest in layout.manifests if manifest.extends),
    }
    for name in names:
        probed.update(layout_candidates(root, name))
    probed.update(allowed_layout_places(root))
    found_plugins = bool(plugins.installed(editions.GROUP) or plugins.installed(sections.GROUP))
    return record_inputs(
        issue_dir,
        probed,
        [folder for folder in folders if not folder.is_relative_to(issue)],  # the issue's: watched already
        content.warnings,
        found_plugins,
        digests,
    )
