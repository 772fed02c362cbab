"""What a build owns in ``build/<slug>/``, so that a later build can remove what the content no longer makes.

The folder holds more than outputs: ``send`` keeps its ledger there (``send.db``,
``send.lock``) and an editor may add files of their own. So a build never decides
what to remove by looking at the folder: it keeps a manifest,
``build/<slug>/.research-news-manifest.json``, of the files it wrote, by edition
(``pdf``, ``offprints``, ``web``, ``email``). A build removes a file only when an earlier
build's manifest lists it under an edition this build made again and this build did
not write it again (a deleted brief's offprint, a figure no brief uses any more). An
edition left out with ``--only`` keeps its files.

The manifest is renamed into place with the new outputs, still listing the files
to remove under ``stale``; they are removed only after every new output is in place,
and the manifest is then rewritten without them. A build killed in between leaves
them listed, and the next build removes them.

Builds of the same issue take turns: each holds an exclusive lock on the folder
(``flock`` on the folder itself, released by the system when the process ends, even
on ``kill -9``) while it writes, so one never removes another's files, staged or
published.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .exceptions import display_path
from .write import WriteFailed, reason

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock; do not run two builds of one issue at once
    fcntl = None  # type: ignore[assignment]

MANIFEST_NAME = ".research-news-manifest.json"
_FORMAT = 1


@dataclass
class Manifest:
    """The files (relative POSIX paths) each edition's last build wrote, and those still to remove."""

    editions: dict[str, set[str]] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The manifest in ``folder``; an empty one (owning nothing, so removing nothing) when there is
        none or it is not one research-news wrote."""
        try:
            data = json.loads((folder / MANIFEST_NAME).read_bytes())
        except (OSError, ValueError, RecursionError):  # RecursionError: nested too deep
            return cls()
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return cls()
        editions = data.get("editions")
        editions = editions if isinstance(editions, dict) else {}
        return cls({str(name): _paths(files) for name, files in editions.items()}, _paths(data.get("stale")))

    def rebuilt(self, written: dict[str, set[str]]) -> Manifest:
        """The manifest after a build that wrote ``written`` (edition → files): the editions it made are
        replaced, the others kept, and what those editions had but no edition has now is stale."""
        editions = {**self.editions, **written}
        owned_now = set().union(*editions.values())
        dropped = set().union(*(self.editions.get(name, set()) for name in written))
        return Manifest(editions, (self.stale | dropped) - owned_now)

    def to_bytes(self) -> bytes:
        return (
            json.dumps(
                {
                    "format": _FORMAT,
                    "about": "files research-news wrote here; the next build removes those its content no longer makes",
                    "editions": {name: sorted(files) for name, files in sorted(self.editions.items())},
                    "stale": sorted(self.stale),
                },
                indent=1,
            ).encode("utf-8")
            + b"\n"
        )


def _paths(value: object) -> set[str]:
    """The entries of a manifest list that name a file inside the folder (a hand-edited ``..`` does not)."""
    if not isinstance(value, list):
        return set()
    return {item for item in value if isinstance(item, str) and _inside(item)}


def _inside(relative: str) -> bool:
    path = PurePosixPath(relative)
    return bool(relative) and not path.is_absolute() and ".." not in path.parts and "\\" not in relative


@contextlib.contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """Hold the exclusive build lock of ``folder``; wait while another build of the issue writes."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


def remove_stale(folder: Path, stale: set[str]) -> None:
    """Remove the ``stale`` files of ``folder``, and the folders they leave empty."""
    root = folder.resolve()
    for relative in sorted(stale):
        path = folder / relative
        if not path.resolve().is_relative_to(root) or (path.is_dir() and not path.is_symlink()):
            continue  # a link out of the folder, or a folder the user put in its place: not ours
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise WriteFailed(
                f"could not remove {display_path(path)}, which the content no longer makes: "
                f"{reason(error)}; the new files are in place, and the next build will "
                "try again"
            ) from None
        _remove_empty_parents(path.parent, folder)


def _remove_empty_parents(start: Path, stop: Path) -> None:
    """rmdir ``start`` and its parents up to (not including) ``stop`` while they are empty."""
    for parent in [start, *start.parents]:
        if parent == stop or not parent.is_relative_to(stop):
            return
        try:
            parent.rmdir()
        except OSError:  # not empty (the user's file, another output), or not ours to remove
            return
