"""The content tree on disk: its fixed file names, finding its top folder, and a cache of file-system answers.

A content tree is the folder holding ``publication.yaml`` and everything below it: issue
folders (each with an ``issue.yaml`` and usually a ``briefs/`` folder), images, layouts.
Nothing outside it is ever read for content.
"""

from __future__ import annotations

import re
from pathlib import Path

PUBLICATION_FILE = "publication.yaml"
ISSUE_FILE = "issue.yaml"

ISSUE_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""The issue folder's name is the slug of every output file and URL."""


def find_root(start: Path) -> Path | None:
    """The content tree holding ``start``: the nearest folder above it with publication.yaml."""
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.parents]:
        if (candidate / PUBLICATION_FILE).is_file():
            return candidate
    return None


class Files:
    """The file system, asked once per path: a thousand briefs share a handful of folders and images."""

    def __init__(self) -> None:
        self._real_paths: dict[Path, Path] = {}
        self._files: dict[Path, bool] = {}

    def resolved(self, path: Path) -> Path:
        """``path`` with symbolic links and ``..`` resolved (made absolute when it cannot be)."""
        if path not in self._real_paths:
            try:
                self._real_paths[path] = path.resolve()
            except (RuntimeError, OSError):  # a symbolic link loop, a name too long: reading it will say so
                self._real_paths[path] = path.absolute()
        return self._real_paths[path]

    def is_file(self, path: Path) -> bool:
        if path not in self._files:
            try:
                self._files[path] = path.is_file()
            except OSError:  # a name too long for the file system
                self._files[path] = False
        return self._files[path]
