"""The print edition laid out in a process forked as ``build`` starts, which imports WeasyPrint and
the print pipeline meanwhile.

The process that lays an issue out must have imported WeasyPrint and the print pipeline (half a
second, one module after the other) and hold the assembled issue (reading, checking and assembling
it: a tenth of a second after research-news's own modules load). Done in one process, the two add
up before the first page is laid out. Modules cannot move between processes, but an assembled issue
can (pickled, in about a millisecond): so the command's process forks this one as it starts
(launch.py), before parsing the command line, and it imports on the other core while the command's
process loads, checks and assembles the issue; the build then gives it the print job
(build.py, through :class:`~research_news.render.forked.Early`) and renders the web and email
editions itself while it waits for the PDFs.

Measured on the sample issue 2023-03 (2 cores): the first layout starts about 0.2 s sooner, a
sixth of the build.

Started only for ``build``, on Linux with two cores or more, and not with ``--jobs 1`` or for an
``--only`` without a PDF; whatever it is not given (a build found up to date, an error, ``--help``)
it drops when the command's process exits. A failure in it (a crash, an import that failed, an
issue that cannot be pickled) costs only time: the build lays the issue out itself, and reports
what went wrong there as it always did.
"""

from __future__ import annotations

import atexit
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .assemble import Edition
    from .editions import Options, Piece
    from .render.forked import Early

_STARTED: list[tuple[int, Early]] = []  # (the pid of the process that started it, it)


def start(argv: list[str]) -> None:
    """Fork the print process, when ``argv`` is a ``build`` that lays an issue out and it can help."""
    if not wanted(argv):
        return
    from .render import forked

    if not forked._can_fork():
        return
    early = forked.Early(_prepare)
    if early.started:
        _STARTED.append((os.getpid(), early))
        atexit.register(early.cancel)  # given nothing, or the command failed: stopped, waited for


def taken() -> Early | None:
    """The print process started in this process, for the build to give its print job to (once)."""
    while _STARTED:
        pid, early = _STARTED.pop()
        if pid == os.getpid():
            return early
    return None


def wanted(argv: list[str]) -> bool:
    """Whether ``argv`` is a ``build`` whose print edition a print process could lay out: not
    ``--jobs 1``, ``--help``, nor an ``--only`` without ``pdf`` or ``offprints`` (unless ``--offprints`` or
    ``--attach-pdf``). What this cannot tell (an option of ``build``'s it does not know) it counts as
    wanted: a print process not used costs only the other core's time."""
    from .launch import FLAGS, VALUED

    if not argv or argv[0] != "build":
        return False
    only: tuple[str, ...] | None = None
    flags: set[str] = set()
    arguments = iter(argv[1:])
    for argument in arguments:
        if argument == "--":
            break
        name, equals, value = argument.partition("=")
        if argument in ("--help", "-h"):
            return False
        flags.add(FLAGS.get(argument, ""))
        if name in VALUED and not equals:
            value = next(arguments, "")
        elif not (name in VALUED and name.startswith("--")):
            if argument[:2] in ("-j", "-o") and len(argument) > 2 and not argument.startswith("--"):
                name, value = argument[:2], argument[2:]  # -j1: click's short option with its value
            else:
                continue
        if VALUED.get(name) == "jobs" and value.strip().isdigit() and int(value) == 1:  # as click reads it
            return False
        if VALUED.get(name) == "only":
            only = tuple(part.strip() for part in value.split(","))
    return lays_out_print(only, "offprints" in flags, "attach_pdf" in flags)


def lays_out_print(only: tuple[str, ...] | None, offprints: bool, attach_pdf: bool) -> bool:
    """Whether a build with these choices lays the print edition out (``only``: the editions named by
    ``--only``, or None for every one)."""
    return only is None or bool({"pdf", "offprints"} & set(only)) or offprints or attach_pdf


def render(edition: Edition, options: Options, pieces: list[Piece], beside: tuple[int, ...]) -> Any:
    """(In the print process) the print job's pieces, as the build's own process renders them, or the
    user-visible error it raised, as data (see parallel.reported). ``beside``: the build's workers,
    which take a core when the print process thinks of forking a writer of its own."""
    from . import editions as registry
    from . import parallel
    from .render import forked

    with forked.permitted(True, beside):
        return parallel.reported(registry.render_pieces, edition, options, pieces)


def _prepare() -> None:
    """(In the print process) import what laying out and writing the print edition takes, WeasyPrint
    first (see weasyprint_import.py), then what the assembled issue is made of, to unpickle it."""
    import weasyprint  # noqa: F401

    from . import assemble, cache, editions, parallel  # noqa: F401
    from .render import pagination, pdf  # noqa: F401
