"""Is there anything to build? The build record, read before anything heavy is loaded.

A successful build writes its *record* (``build.json`` in its cache folder, see cache.py): what it
was asked for (:func:`build_arguments`, with the code), the layout chain, every file it read with its
SHA-256 (or as absent), the files it wrote with theirs, and its warnings. Before loading anything,
``build`` asks :func:`unchanged` whether that record still holds; when it does, the build is up to
date, prints the recorded warnings and stops: without importing what checking content, laying out
or rendering needs (pydantic, ruamel.yaml, jinja2, markdown-it, WeasyPrint), so it takes a few
hundredths of a second.

It may only say so when a full build would write the same files and print the same warnings, so the
record also holds what the content check derives from the file system besides the bytes of the files
it reads (``inputs``, made by cache.content_inputs):

- where it was run from (the working folder and the issue folder as written, which the warnings'
  paths depend on) and where the issue folder leads (its resolved path, which names the outputs);
- every path the check looked at to find things, with what it found there (a file, a folder and
  where it leads, or nothing): ``publication.yaml`` in each folder from the issue's up to the content
  tree's top (one appearing in between moves the tree), and every folder a layout name of the chain
  may mean (an override appearing in ``layouts/`` changes the chain);
- the files of each folder holding a brief outside the issue's folder (a translation appearing
  beside it is a change), with their bytes;
- the content check's warnings, replayed as they were (``--strict`` fails on them as a full build does);
- the installed packages: each folder of ``sys.path``'s package metadata (names, versions, entry
  points), and whether any package added editions or section types: a build that used such a plugin
  is never answered here (its code is not in the record), a plugin installed since is a change.

Anything unreadable, of another format or different, and any error, means "not known to be up to
date": the full build then runs, exactly as without this module. ``--force`` never asks.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__
from .exceptions import ContentError, Problem

CACHE_FOLDER = ".research-news-cache"
"""In build/, beside the issues' folders: build/.research-news-cache/<slug>/."""

FORMAT = 2
"""Bumped whenever what the cache holds changes shape: an older cache is then a miss."""

RECORD = "build.json"
"""The build record, in the issue's cache folder."""

CODE_MEMO = "code.json"
"""The code fingerprint, with the sizes and times of the files it hashed (see :func:`remembered_code`)."""

LIBRARIES = ("weasyprint", "pydyf", "tinycss2", "jinja2", "markdown-it-py", "css-inline", "ruamel.yaml", "babel")
"""Libraries whose version can change what an edition looks like."""

_PACKAGE = Path(__file__).resolve().parent

_RECORD_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OSError, RuntimeError)
"""What a record not as written (or a file system that changed under us) raises: never trusted."""


# --- hashing --------------------------------------------------------------------------------


@functools.cache
def code_fingerprint() -> str:
    """A hash of research-news' version, its own files (code, templates, built-in layout) and the
    versions of the libraries that render: what makes a checkout edited since the last build a miss."""
    from importlib import metadata  # not on the up-to-date path: remembered_code answers there

    digest = hashlib.sha256(f"research-news {__version__} cache {FORMAT}\n".encode())
    for path in _package_files():
        digest.update(f"{path.relative_to(_PACKAGE).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for library in LIBRARIES:
        try:
            digest.update(f"{library} {metadata.version(library)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library} absent\n".encode())
    return digest.hexdigest()


def _package_files() -> list[Path]:
    """research-news' own files (code, templates, built-in layout), sorted; not the compiled bytecode."""
    found: list[Path] = []
    for base, folders, names in os.walk(_PACKAGE):
        folders[:] = sorted(folder for folder in folders if folder != "__pycache__")
        found.extend(Path(base) / name for name in names)
    return sorted(found)


def _stat(path: Path) -> list[int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return [found.st_size, found.st_mtime_ns, found.st_ino]


def remembered_code(folder: Path) -> str:
    """:func:`code_fingerprint`, hashed again only when one of research-news' files or the installed
    packages (:func:`installed_packages`, which the libraries' versions are part of) differ in size or
    time from when it was last hashed; remembered in ``folder`` (a cache folder). Hashing every file
    takes longer than the whole up-to-date check."""
    stats = key_of(__version__, FORMAT, _package_stats(), installed_packages())
    memo = folder / CODE_MEMO
    try:
        known = json.loads(memo.read_bytes())
        if isinstance(known, dict) and known.get("stats") == stats and isinstance(known.get("code"), str):
            return known["code"]
    except (OSError, ValueError, RecursionError):  # RecursionError: nested too deep
        pass
    code = code_fingerprint()
    from .write import WriteFailed, write_bytes  # atomic: a concurrent build reads the old memo or the new

    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes(memo, json.dumps({"stats": stats, "code": code}).encode())
    except (OSError, WriteFailed):  # an unwritten memo is only a slower next build
        pass
    return code


@functools.cache
def _package_stats() -> list[list[object]]:
    """The path, size and time of each of research-news' files: what :func:`remembered_code` compares
    with its memo. Once per process, like :func:`code_fingerprint` itself (a site checks one memo per issue)."""
    return [[str(path), _stat(path)] for path in _package_files()]


@functools.cache
def installed_packages() -> str:
    """A hash of what is installed where Python looks for packages: for each folder of ``sys.path``,
    its packages' metadata folders (their names carry the versions) and the size and time of each one's
    ``METADATA`` and ``entry_points.txt`` (where plugins are declared), and the ``.pth`` files."""
    found: list[object] = [sys.version, sys.prefix]
    for place in sys.path:
        try:
            names = sorted(os.listdir(place or "."))
        except OSError:
            continue
        for name in names:
            entry = Path(place or ".") / name
            if name.endswith((".dist-info", ".egg-info")):
                found.append([place, name, _stat(entry / "METADATA"), _stat(entry / "entry_points.txt")])
            elif name.endswith((".pth", ".egg-link")):
                found.append([place, name, _stat(entry)])
    return key_of(*found)


def key_of(*parts: object) -> str:
    """A SHA-256 over ``parts`` (strings, bytes, or JSON-able values), each one delimited."""
    digest = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode()
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


class Digests:
    """The SHA-256 of files, each read once per build; ``None`` for a file that is not there (or not readable)."""

    def __init__(self) -> None:
        self._known: dict[Path, str | None] = {}

    def of(self, path: Path) -> str | None:
        path = Path(path)
        if path not in self._known:
            try:
                self._known[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:  # absent, a folder, unreadable: rendering would not have read it either
                self._known[path] = None
        return self._known[path]

    def of_all(self, paths: Iterable[Path]) -> dict[str, str | None]:
        return {str(path): self.of(path) for path in paths}

    def unchanged(self, recorded: dict[str, str | None]) -> bool:
        """Whether every file of ``recorded`` (path → digest) still has those bytes (or is still absent)."""
        return all(self.of(Path(path)) == digest for path, digest in recorded.items())


def files_under(folders: Iterable[Path], leaving_out: Path | None = None) -> list[Path]:
    """Every file below ``folders`` (sorted), except those under ``leaving_out`` (the build's own folder)."""
    found: list[Path] = []
    skip = leaving_out.resolve() if leaving_out is not None else None
    for folder in folders:
        for base, directories, names in os.walk(folder):
            if skip is not None and Path(base).resolve() == skip:
                directories.clear()
                continue
            directories.sort()
            found.extend(Path(base) / name for name in sorted(names))
    return found


def probe(path: Path) -> str | None:
    """What the content check finds at ``path``: a file or a folder and where it leads, or nothing."""
    if path.is_file():
        return f"file {path.resolve()}"
    if path.is_dir():
        return f"folder {path.resolve()}"
    return "other" if os.path.lexists(path) else None


# --- problems as stored ---------------------------------------------------------------------


def problem_to_json(problem: Problem) -> dict:
    return {**asdict(problem), "path": str(problem.path)}


def problem_from_json(data: dict) -> Problem:
    return Problem(
        Path(data["path"]),
        int(data["line"]),
        int(data["column"]),
        str(data["message"]),
        data.get("hint"),
        str(data.get("severity", "warning")),
    )


def stop_if_strict(problems: list[Problem], strict: bool) -> None:
    """With ``--strict``, every warning (not the notes) is an error: nothing is written."""
    warnings = [problem for problem in problems if problem.severity == "warning"]
    if strict and warnings:
        raise ContentError([warning.as_error() for warning in warnings])


# --- the build record -----------------------------------------------------------------------


def cache_folder(out_dir: Path) -> Path:
    """The cache of ``build/<slug>/``: ``build/.research-news-cache/<slug>/``."""
    return out_dir.parent / CACHE_FOLDER / out_dir.name


def read_record(folder: Path) -> dict | None:
    """The last build's record in cache folder ``folder``, if readable and of this format."""
    try:
        data = json.loads((folder / RECORD).read_bytes())
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested too deep to be ours
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def build_arguments(
    only: Iterable[str] | None,
    offprints: bool,
    pdf_variant: str | None,
    attach_pdf: bool,
    pad_to: int | None,
    code: str | None = None,
) -> str:
    """The key of a build's arguments, with the code (``code``: :func:`code_fingerprint` when not given):
    a build asked for something else, or made by other code, is never up to date."""
    arguments = key_of(
        code or code_fingerprint(), sorted(set(only)) if only is not None else None, offprints, pdf_variant, attach_pdf
    )
    return key_of(arguments, pad_to)


def watched_files(issue_dir: Path, layout_folders: list[Path], out_dir: Path) -> list[Path]:
    """The files whose set the record compares: a file added to the issue or a layout is a change."""
    return files_under([issue_dir, *layout_folders], leaving_out=out_dir)


def up_to_date(
    record: dict | None,
    out_dir: Path,
    digests: Digests,
    arguments: str,
    layout_folders: list[Path],
    watched: list[Path],
    replaced: Collection[str] = (),
) -> dict | None:
    """``record`` (the last build's, :func:`read_record`) when that build had these ``arguments`` (hashed
    with the code), the same layout chain, the same ``watched`` files, every file it read unchanged, and
    its outputs in ``out_dir`` (but those ``replaced``, see cache.unchanged_build) are still on disk as
    it wrote them; else ``None``. Its warnings come back as problems."""
    from .manifest import Manifest

    try:
        if (
            record is None
            or record["arguments"] != arguments
            or record["layout"] != [str(folder) for folder in layout_folders]
            or any(str(path) not in record["read"] for path in watched)
            or not digests.unchanged(record["read"])
            or any(
                digests.of(out_dir / rel) != digest for rel, digest in record["outputs"].items() if rel not in replaced
            )
        ):
            return None
        manifest = Manifest.read(out_dir)
        written = {name: set(files) for name, files in record["written"].items()}
        if manifest.stale or manifest.rebuilt(written).editions != manifest.editions:
            return None
        return {**record, "warnings": [problem_from_json(problem) for problem in record["warnings"]]}
    except _RECORD_ERRORS:  # a record not as written: never trusted
        return None


def build_record(
    out_dir: Path, digests: Digests, arguments: str, layout_folders: list[Path], read: set[Path], result, inputs: dict
) -> dict:
    """What :func:`up_to_date` and :func:`unchanged` compare next time, for a build (a BuildResult) that
    read ``read``, of content whose ``inputs`` are those cache.content_inputs found."""
    written: dict[str, list[str]] = {name: [] for name in result.editions}
    files: dict[str, str | None] = {}
    for output in result.outputs:
        relative = output.path.relative_to(out_dir).as_posix()
        written.setdefault(output.edition, []).append(relative)
        if output.data is not None:
            files[relative] = hashlib.sha256(output.data).hexdigest()
        else:
            files[relative] = digests.of(output.copy_of)
    return {
        "arguments": arguments,
        "layout": [str(folder) for folder in layout_folders],
        "read": digests.of_all(sorted(read, key=str)),
        "outputs": files,
        "written": written,
        "warnings": [problem_to_json(problem) for problem in result.warnings],
        "pages": result.pages,
        "inputs": inputs,
    }


def record_inputs(
    issue_dir: Path,
    probed: Iterable[Path],
    folders: Iterable[Path],
    checked: list[Problem],
    plugins: bool,
    digests: Digests,
) -> dict:
    """The record's ``inputs``: what :func:`unchanged` compares besides the files a build read (see the
    module's docstring). ``probed``: the paths the content check looked at to find things; ``folders``:
    those whose every file counts; ``checked``: the content check's warnings; ``plugins``: whether a
    package added editions or section types."""
    return {
        "cwd": os.getcwd(),
        "issue_dir": str(issue_dir),
        "resolved": str(issue_dir.resolve()),
        "installed": installed_packages(),
        "plugins": plugins,
        "probed": {str(path): probe(path) for path in sorted(set(probed), key=str)},
        "folders": {str(folder): digests.of_all(_files_in(folder)) for folder in sorted(set(folders), key=str)},
        "checked": [problem_to_json(problem) for problem in checked],
    }


def _files_in(folder: Path) -> list[Path]:
    """The files directly in ``folder`` (none when it is gone), sorted."""
    try:
        return sorted(path for path in folder.iterdir() if path.is_file())
    except OSError:
        return []


def inputs_unchanged(inputs: dict, issue_dir: Path, digests: Digests) -> bool:
    """Whether a content check of ``issue_dir`` now would find what the one recorded in ``inputs`` found."""
    return (
        inputs["cwd"] == os.getcwd()
        and inputs["issue_dir"] == str(issue_dir)
        and inputs["resolved"] == str(issue_dir.resolve())
        and inputs["plugins"] is False
        and inputs["installed"] == installed_packages()
        and all(probe(Path(path)) == found for path, found in inputs["probed"].items())
        and all(
            [str(path) for path in _files_in(Path(folder))] == sorted(files) and digests.unchanged(files)
            for folder, files in inputs["folders"].items()
        )
    )


def up_to_date_line(out_dir: Path) -> str:
    """What ``build`` prints last when it had nothing to do."""
    return f"Up to date: {out_dir}/ (nothing changed since the last build)"


@dataclass
class Unchanged:
    """A build with nothing to do: the record of the last one, and the warnings to print again
    (the content check's, then the editions')."""

    out_dir: Path
    record: dict
    warnings: list[Problem] = field(default_factory=list)
    up_to_date: bool = True


def unchanged(
    issue_dir: Path,
    out: Path,
    *,
    only: tuple[str, ...] | None = None,
    offprints: bool = False,
    pdf_variant: str | None = "pdf/ua-1",
    attach_pdf: bool = False,
    pad_to: int | None = None,
    strict: bool = False,
    replaced: Collection[str] = (),
    digests: Digests | None = None,
    code: str | None = None,
) -> Unchanged | None:
    """The build of ``issue_dir`` into ``out/<slug>/`` with these options, when the last one had them and
    nothing it depends on changed since (see the module's docstring); ``None`` when a full build must
    decide. With ``strict``, the recorded warnings are errors, as in a full build. ``replaced`` names
    outputs the caller rewrites after the build (see :func:`up_to_date`); ``digests`` may be shared
    by the checks of several issues (the site's), so that the files they share are read once, and
    ``code`` the code's fingerprint (the site remembers it in its own cache folder, not in each issue's)."""
    try:
        out_dir = out / issue_dir.resolve().name
        folder = cache_folder(out_dir)
        record = read_record(folder)
        digests = digests or Digests()
        if record is None or not inputs_unchanged(record["inputs"], issue_dir, digests):
            return None
        arguments = build_arguments(only, offprints, pdf_variant, attach_pdf, pad_to, code or remembered_code(folder))
        layout_folders = [Path(folder) for folder in record["layout"]]
        watched = watched_files(issue_dir, layout_folders, out_dir)
        found = up_to_date(record, out_dir, digests, arguments, layout_folders, watched, replaced)
        if found is None:
            return None
        checked = [problem_from_json(problem) for problem in record["inputs"]["checked"]]
    except _RECORD_ERRORS:
        return None
    result = Unchanged(out_dir, found, list(dict.fromkeys([*checked, *found["warnings"]])))
    stop_if_strict(result.warnings, strict)
    return result
