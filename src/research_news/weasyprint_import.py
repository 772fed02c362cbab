"""WeasyPrint imported without its slow search for libraries, on Linux.

WeasyPrint loads GObject, Pango, HarfBuzz and fontconfig by trying, for each, the names it has on
every platform, Windows' first (``libgobject-2.0-0``, ``gobject-2.0-0``, ``gobject-2.0``, then
``libgobject-2.0.so.0``...). cffi hands each name that does not load to ``ctypes.util.find_library``,
which on Linux runs ``ldconfig -p`` to read the dynamic linker's cache and, for a name not there,
compiles an empty program with ``gcc`` and then runs ``ld``, looking for a library to link with:
about 50 subprocesses, 0.15 s of the 0.45 s WeasyPrint takes to import (``-X importtime``), paid by
every command that lays out a PDF and by every worker process.

While the ``weasyprint`` package itself is imported, and only then, ``find_library`` answers from the
linker's cache alone, read once: what Python's own first step answers (``_findSoname_ldconfig``, the
same pattern over the same listing; a test compares the two). For WeasyPrint 70 nothing that could
be loaded is lost: the ``gcc`` and ``ld`` steps answer a library's soname, and every soname they
could answer for WeasyPrint's names is one of the names WeasyPrint tries itself, which ``dlopen``
looks for where it always does (``LD_LIBRARY_PATH``, the cache, the default folders); a test checks
that the same libraries are loaded either way. Should WeasyPrint still fail to load a library (a
later WeasyPrint with other names), it is imported again with Python's own search, as it would have
been. Meanwhile ``find_library`` is replaced for the whole process (0.3 s, once); nothing else calls
it then.

:func:`install` (from the package's ``__init__``) puts a finder in ``sys.meta_path``, which steps in
for the first import of ``weasyprint`` only, and answers nothing after that: it is left in the list,
as another thread may be walking it.
"""

from __future__ import annotations

import importlib.machinery
import io
import os
import re
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

# Not importlib.abc (20 ms to import): the package imports this module for every command, and a build
# that is up to date answers in a few hundredths of a second (launch.py). A finder and a loader need
# only their methods.

_ABI_TYPES = {
    "x86_64-64": "libc6,x86-64",
    "ppc64-64": "libc6,64bit",
    "sparc64-64": "libc6,64bit",
    "s390x-64": "libc6,64bit",
    "ia64-64": "libc6,IA-64",
}
"""What ``ldconfig -p`` calls each machine's ABI (as ctypes.util has it)."""


def install() -> None:
    """Have the next import of WeasyPrint search the linker's cache alone (on Linux, once)."""
    if sys.platform.startswith("linux") and "weasyprint" not in sys.modules:
        if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
            sys.meta_path.insert(0, _Finder())


class _Finder:
    """A finder of ``sys.meta_path``: finds ``weasyprint`` as Python's own finders do, the first time it
    is asked, and has :class:`_Loader` run it."""

    def __init__(self) -> None:
        self.used = False

    def find_spec(self, name: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name != "weasyprint" or self.used:
            return None
        self.used = True  # (imports of one module are one at a time: Python holds its lock meanwhile)
        spec = importlib.machinery.PathFinder.find_spec(name)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _Loader(spec.loader)  # type: ignore[assignment]  # a loader by its methods
        return spec


class _Loader:
    """Runs the ``weasyprint`` package as its own loader would, with :func:`_searching_cache_only`;
    then gives the module that loader back, so nothing of this module stays with WeasyPrint."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        try:
            _searching_cache_only(self.loader.exec_module, module)
        except OSError:  # a library not found this way: Python's own search, as WeasyPrint does it
            for name in [name for name in list(sys.modules) if name.startswith("weasyprint.")]:
                sys.modules.pop(name, None)
            self.loader.exec_module(module)
        finally:
            module.__loader__ = self.loader
            if module.__spec__ is not None:
                module.__spec__.loader = self.loader

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, get_source, is_package...
        return getattr(self.loader, name)


def _searching_cache_only(run: Callable[[ModuleType], None], module: ModuleType) -> None:
    """``run(module)`` while ``ctypes.util.find_library`` answers from the dynamic linker's cache alone.
    What is printed meanwhile is held back: printed after, unless the attempt failed (WeasyPrint then
    printed that it could not load a library, which the second attempt may well do)."""
    import ctypes.util

    original, printed = ctypes.util.find_library, sys.stdout
    ctypes.util.find_library = _from_linker_cache(_linker_cache())  # type: ignore[assignment]
    sys.stdout = held = io.StringIO()
    try:
        run(module)
    except BaseException:
        sys.stdout = printed
        raise
    else:
        sys.stdout = printed
        if held.getvalue() and printed is not None:
            printed.write(held.getvalue())
    finally:
        ctypes.util.find_library = original


def _linker_cache() -> bytes:
    """``ldconfig -p``'s listing of the dynamic linker's cache, as ctypes.util reads it; empty without one."""
    import subprocess

    try:
        done = subprocess.run(
            ["/sbin/ldconfig", "-p"],
            stdin=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env={"LC_ALL": "C", "LANG": "C"},
            check=False,
        )
    except OSError:
        return b""
    return done.stdout


def _from_linker_cache(listing: bytes) -> Callable[[str], str | None]:
    """``find_library`` answering as ``ctypes.util._findSoname_ldconfig`` does, from ``listing``."""
    bits = "-32" if sys.maxsize < 2**32 else "-64"
    abi_type = _ABI_TYPES.get(os.uname().machine + bits, "libc6")

    def find_library(name: str) -> str | None:
        found = re.search(os.fsencode(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({abi_type}"), listing)
        return os.fsdecode(found.group(1)) if found else None

    return find_library
