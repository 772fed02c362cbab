"""weasyprint_import.py: WeasyPrint imported without compiling and linking test programs, loading the
same libraries; and WeasyPrint's import still searching that way (else the module is not needed)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the search it skips is Linux's")

RECORD = """
import ctypes.util, json, subprocess, sys

ran, asked = [], []


class Recording(subprocess.Popen):
    def __init__(self, args, *more, **options):
        ran.append([str(arg) for arg in args] if not isinstance(args, (str, bytes)) else [str(args)])
        super().__init__(args, *more, **options)


subprocess.Popen = Recording
find_library = ctypes.util.find_library


def libraries():
    names = ("gobject", "pango", "harfbuzz", "fontconfig")
    return sorted({part for line in open("/proc/self/maps") for part in line.split() if any(n in part for n in names)})
"""

REPORT = """
weasyprint = sys.modules["weasyprint"]
print(json.dumps({
    "ran": [command[0].rsplit("/", 1)[-1] for command in ran],
    "asked": asked,
    "libraries": libraries(),
    "restored": ctypes.util.find_library is find_library,
    "finders": [type(finder).__module__ for finder in sys.meta_path],
    "loaders": sorted({type(weasyprint.__loader__).__name__, type(weasyprint.__spec__.loader).__name__}),
}))
"""


def _run(code: str) -> dict:
    """What the script ``code`` (which imports WeasyPrint) did, as REPORT prints it; ``printed``: the lines
    it printed before the report."""
    script = textwrap.dedent(RECORD) + textwrap.dedent(code) + textwrap.dedent(REPORT)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    *printed, report = done.stdout.splitlines()
    return {**json.loads(report), "printed": printed}


def test_weasyprint_loads_the_same_libraries_without_compiling_or_linking():
    plain = _run("import weasyprint\n")
    quick = _run("import research_news\nimport weasyprint\n")
    assert quick["libraries"] == plain["libraries"]
    assert any("libpango" in library for library in quick["libraries"])
    assert not {"gcc", "cc", "ld"} & set(quick["ran"]), quick["ran"]
    assert quick["ran"] == ["ldconfig"]  # the linker's cache, read once
    assert len(quick["ran"]) < len(plain["ran"])
    assert quick["restored"]  # find_library is Python's own again once WeasyPrint is imported
    assert quick["loaders"] == plain["loaders"] == ["SourceFileLoader"]  # WeasyPrint keeps its own loader
    # The finder stays in sys.meta_path, answering nothing: removing it while another thread walks the
    # list (the build imports WeasyPrint on a thread) could make that thread skip the next finder.
    assert "research_news.weasyprint_import" in quick["finders"]
    assert quick["printed"] == plain["printed"] == []


def test_weasyprint_still_searches_names_that_do_not_load():
    """The day WeasyPrint tries the platform's own names first (or cffi stops asking find_library), this
    fails: weasyprint_import.py is then not needed."""
    asked = _run(
        """
        def recording(name):
            asked.append(name)
            return find_library(name)

        ctypes.util.find_library = recording
        import weasyprint
        ctypes.util.find_library = find_library
        """
    )
    assert asked["asked"]  # names that do not load, which find_library then searches for


def test_a_library_not_loaded_with_the_cache_alone_is_searched_as_python_does():
    """When WeasyPrint fails to load a library while find_library answers from the cache alone, it is
    imported again with Python's own search, and works."""
    done = _run(
        """
        import cffi

        dlopen = cffi.FFI.dlopen
        failed = []


        def refusing(self, name, *more):
            if ctypes.util.find_library is not find_library:  # while the cache alone is asked: refuse
                failed.append(name)
                raise OSError(f"refused {name}")
            return dlopen(self, name, *more)


        cffi.FFI.dlopen = refusing
        import research_news
        import weasyprint

        pdf = weasyprint.HTML(string="<p>Loaded again.</p>").write_pdf()
        assert pdf.startswith(b"%PDF") and failed, failed
        cffi.FFI.dlopen = dlopen
        """
    )
    assert done["restored"]
    assert any("libpango" in library for library in done["libraries"])
    assert done["printed"] == []  # not WeasyPrint's "could not import some external libraries"


def test_the_linker_cache_is_read_as_python_reads_it():
    """weasyprint_import's find_library gives, from one listing, what Python's first step gives (which runs
    ldconfig for each name): for WeasyPrint's names, and names it has not."""
    import ctypes.util

    from research_news import weasyprint_import

    python_reads = ctypes.util._findSoname_ldconfig  # type: ignore[attr-defined]
    ours = weasyprint_import._from_linker_cache(weasyprint_import._linker_cache())
    names = ["gobject-2.0", "pango-1.0", "harfbuzz", "harfbuzz-subset", "fontconfig", "pangoft2-1.0", "c", "m"]
    names += ["libgobject-2.0-0", "harfbuzz-vector", "no-such-library", "pango-1.0.dylib", "c++", "a.b*c"]
    answers = {name: ours(name) for name in names}
    assert answers == {name: python_reads(name) for name in names}
    assert answers["pango-1.0"] == "libpango-1.0.so.0" and answers["no-such-library"] is None
