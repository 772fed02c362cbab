"""WeasyPrint imported without its slow search for libraries, on Linux.

WeasyPrint loads GObject, Pango, HarfBuzz and fontconfig by trying, for each, the names it has on
every platform, Windows' first (``libgobject-2.0-0``, ``gobject-2.0-0``, ``gobject-2.0``, then
``libgobject-2.0.so.0``...). cffi hands each name that does not load to ``ctypes.util.find_library``,
which on Linux asks the dynamic linker's cache (``ldconfig -p``) and, for a name not in it, compiles
an empty program with ``gcc`` and then runs ``ld``, looking for a library to link with: about 50
subprocesses, 0.15 s of the 0.45 s WeasyPrint takes to import (``-X importtime``), paid by every
command that lays out a PDF and by every worker process.

While the ``weasyprint`` package itself is imported, and only then, ``find_library`` here asks the
linker's cache alone. No library that could be loaded is lost: what the ``gcc`` and ``ld`` steps
answer is a library's soname, which ``dlopen`` then looks for where it looks for the sonames WeasyPrint
tries after (``LD_LIBRARY_PATH``, the cache, the default folders). Should WeasyPrint still fail to
load a library, it is imported again with Python's own search, as it would have been.

:func:`install` (from the package's ``__init__``) puts a finder before Python's, which steps in for
the first import of ``weasyprint`` and then removes itself; nothing else is touched.
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Callable
from types import ModuleType

# No contextlib, typing or importlib.abc: the package imports this module for every command, and a
# build that is up to date answers in a few hundredths of a second (launch.py).


def install() -> None:
    """Have the next import of WeasyPrint search the linker's cache alone (on Linux, once)."""
    if sys.platform.startswith("linux") and "weasyprint" not in sys.modules:
        if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
            sys.meta_path.insert(0, _Finder())


class _Finder:
    """A finder of ``sys.meta_path`` that finds ``weasyprint`` as Python's own finders do, and runs its
    module with :func:`_searching_cache_only`, then removes itself."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name != "weasyprint":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            try:
                _searching_cache_only(run, module)
            except OSError:  # a library not found this way: Python's own search, as WeasyPrint does it
                for loaded in [name for name in sys.modules if name.startswith("weasyprint.")]:
                    del sys.modules[loaded]
                run(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]  # this loader loads weasyprint alone
        return spec


def _searching_cache_only(run: Callable[[ModuleType], None], module: ModuleType) -> None:
    """``run(module)`` while ``ctypes.util.find_library`` answers from the dynamic linker's cache alone."""
    import ctypes.util

    original = ctypes.util.find_library
    ctypes.util.find_library = getattr(ctypes.util, "_findSoname_ldconfig", original)  # Python's own first step
    try:
        run(module)
    finally:
        ctypes.util.find_library = original
