"""The last stage: put bytes on disk without ever leaving a half-written file.

Each output is written to a temporary file in the same folder and renamed over the
target, which is atomic on POSIX: a reader (or a crash) sees the old file or the new
one, never a mix. A build stages every file before it renames any, so a build that
fails while writing (a full disk, a folder where a file should be) replaces nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from .exceptions import ResearchNewsError

Fill = Callable[[Path], None]
"""Writes a file's content to the temporary path it is given."""


class WriteFailed(ResearchNewsError):
    """The file system refused a write (permissions, a full disk, a folder in the way)."""

    @classmethod
    def from_os_error(cls, error: OSError, target: Path, outcome: str = "") -> WriteFailed:
        where = error.filename or target
        return cls(f"could not write {where}: {error.strerror or error}" + (f"; {outcome}" if outcome else ""))


def replace_all(files: dict[Path, Fill]) -> None:
    """Fill a temporary file beside each target, then rename them all over their targets."""
    staged: list[tuple[Path, Path]] = []
    target = Path(".")
    try:
        for target, fill in files.items():
            if target.is_dir():
                raise IsADirectoryError(21, "a folder is in the way", str(target))
            temporary = _temporary_beside(target)
            staged.append((temporary, target))
            fill(temporary)
        for temporary, target in staged:
            os.replace(temporary, target)
    except OSError as error:
        raise WriteFailed.from_os_error(error, target, "no file was replaced") from None
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)


def _temporary_beside(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    os.chmod(name, 0o644)
    return Path(name)


def bytes_filler(data: bytes) -> Fill:
    """A :data:`Fill` that writes ``data`` and flushes it to the disk."""
    def fill(temporary: Path) -> None:
        with open(temporary, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())

    return fill


def copy_filler(source: Path) -> Fill:
    """A :data:`Fill` that copies ``source``."""
    return lambda temporary: shutil.copyfile(source, temporary)


def write_bytes(target: Path, data: bytes) -> None:
    """Atomically write ``data`` to ``target``."""
    replace_all({target: bytes_filler(data)})


def write_text(target: Path, text: str) -> None:
    """Atomically write UTF-8 ``text`` to ``target``."""
    write_bytes(target, text.encode("utf-8"))
