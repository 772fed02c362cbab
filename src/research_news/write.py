"""The last stage: put bytes on disk without ever leaving a half-written file.

Each output is written to a temporary file in the same folder and renamed over the
target, which is atomic on POSIX: a reader (or a crash) sees the old file or the new
one, never a mix. A build stages every file before it renames any, so a build that
fails while writing (a full disk, a folder where a file should be) replaces nothing.

Staged files are named ``.research-news-staged.<random>.<name>.tmp``: hidden, and
recognisable, so that the next build can remove those a killed build left behind
(:func:`remove_stale_staging`) without ever touching a file of the user's.

Every operating-system error becomes one :class:`WriteFailed` line naming the file
that could not be written (never a temporary name, never the source of a copy) and why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from .exceptions import ResearchNewsError, display_path

Fill = Callable[[Path], None]
"""Writes a file's content to the temporary path it is given."""

STAGING_PREFIX = ".research-news-staged."
"""Every staged file's name starts with this; nothing else research-news writes does."""

_STAGED_NAME = re.compile(re.escape(STAGING_PREFIX) + r"[a-z0-9_]{8}\..+\.tmp")
"""A staged file: the prefix, mkstemp's eight random characters, the target's name, ``.tmp``."""

_FIXES = {
    errno.ENOSPC: "free some space and build again",
    errno.EDQUOT: "your disk quota is used up: free some space and build again",
    errno.EFBIG: "a file-size limit, ulimit -f, or the file system refused a file this large",
    errno.EROFS: "the file system is read-only: write somewhere else",
    errno.EACCES: "check the folder's permissions, or write somewhere else",
    errno.EPERM: "check the folder's permissions, or write somewhere else",
}
"""What to do about the errors a full or locked-down disk gives, keyed by errno."""

WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})
"""Errors only a write can cause: a failed read never reports these."""


class WriteFailed(ResearchNewsError):
    """The file system refused a write (permissions, a full disk, a folder in the way)."""

    @classmethod
    def from_os_error(cls, error: OSError, target: Path, outcome: str = "") -> WriteFailed:
        """``target`` could not be written, and why; or the folder on its way, or the file inside it, that
        the error names. Never a staged file's name, nor the source of a copy (``shutil.copyfile``
        puts the source's name on a full disk's error)."""
        named = Path(error.filename) if isinstance(error.filename, (str, Path)) else None
        where = target
        if named is not None and (named in target.parents or target in named.parents):
            where = named  # on its way
        return cls(f"could not write {display_path(where)}: {reason(error)}" + (f"; {outcome}" if outcome else ""))


def reason(error: OSError) -> str:
    """The system's words for ``error``, with what to do about it when that is known."""
    fix = _FIXES.get(error.errno)  # type: ignore[arg-type]
    words = error.strerror or str(error)
    return f"{words} ({fix})" if fix else words


class SourceUnreadable(Exception):
    """A file to copy could not be read: the copy's target is not what failed."""

    def __init__(self, source: Path, error: OSError):
        super().__init__(f"could not read {display_path(source)}: {reason(error)}")


def replace_all(files: dict[Path, Fill]) -> None:
    """Fill a temporary file beside each target, then rename them all over their targets.

    On failure every staged file is removed, and so are the folders made for them.
    """
    staged: list[tuple[Path, Path]] = []
    made: list[Path] = []
    target = Path(".")
    try:
        for target, fill in files.items():
            if target.is_dir():
                raise IsADirectoryError(errno.EISDIR, "a folder is in the way", str(target))
            _make_folders(target.parent, made)
            temporary = _temporary_beside(target)
            staged.append((temporary, target))
            fill(temporary)
        for temporary, target in staged:
            os.replace(temporary, target)
        made.clear()  # they hold the new files now
    except OSError as error:
        raise WriteFailed.from_os_error(error, target, "no file was replaced") from None
    except SourceUnreadable as unreadable:
        raise WriteFailed(f"{unreadable}; no file was replaced") from None
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):  # a file of someone else's in it: it stays
                folder.rmdir()


def _make_folders(folder: Path, made: list[Path]) -> None:
    """Make ``folder`` and its missing parents, adding each to ``made`` as soon as it exists."""
    missing = []
    for candidate in [folder, *folder.parents]:
        if candidate.exists():  # a file in the way: mkdir below says so
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        candidate.mkdir(exist_ok=True)
        made.append(candidate)


def _temporary_beside(target: Path) -> Path:
    handle, name = tempfile.mkstemp(prefix=STAGING_PREFIX, suffix=f".{target.name}.tmp", dir=target.parent)
    os.close(handle)
    os.chmod(name, 0o644)
    return Path(name)


def staged_files(folder: Path) -> Iterator[Path]:
    """The staged files under ``folder``: only names :func:`_temporary_beside` makes."""
    for path in folder.rglob(f"{STAGING_PREFIX}*"):
        if _STAGED_NAME.fullmatch(path.name) and path.is_file() and not path.is_symlink():
            yield path


def remove_stale_staging(folder: Path) -> None:
    """Remove the staged files a killed build left under ``folder``.

    Only call it while holding the folder's build lock (see build.py): a build that is
    still running holds the lock too, so no staged file found then is still wanted.
    """
    for path in staged_files(folder):
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise WriteFailed(
                f"could not remove {display_path(path)}, left by an interrupted build: "
                f"{reason(error)}; no file was replaced"
            ) from None


def bytes_filler(data: bytes) -> Fill:
    """A :data:`Fill` that writes ``data`` and flushes it to the disk."""

    def fill(temporary: Path) -> None:
        with open(temporary, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())

    return fill


def copy_filler(source: Path) -> Fill:
    """A :data:`Fill` that copies ``source`` (images and fonts: small enough to hold in memory).

    Reading and writing are separate steps so that a failure names the right file:
    ``shutil.copyfile`` reports a full disk under the *source's* name.
    """

    def fill(temporary: Path) -> None:
        try:
            data = source.read_bytes()
        except OSError as error:
            raise SourceUnreadable(source, error) from None
        bytes_filler(data)(temporary)

    return fill


def write_bytes(target: Path, data: bytes) -> None:
    """Atomically write ``data`` to ``target``."""
    replace_all({target: bytes_filler(data)})


def write_text(target: Path, text: str) -> None:
    """Atomically write UTF-8 ``text`` to ``target``."""
    write_bytes(target, text.encode("utf-8"))
