"""The console script's entry point: a build with nothing to do is answered before the command line
is parsed; everything else goes to the command line proper (cli.py).

``research-news build ISSUE`` with nothing changed is the command run most often (by a Makefile, a
CI step, an editor's save hook), and its answer, from the build record alone (uptodate.py), takes a
few hundredths of a second; loading typer and click, which convert every argument through pydantic,
takes about three times that. This module recognises the plain forms of that one command (the issue
folder, and the options ``build`` takes, each once), asks :func:`uptodate.unchanged`, and when the
build is up to date prints what ``build`` itself prints then, through the same code. Any other
command, an option it does not know, a value ``build`` would refuse, ``--force``, warnings that
``--strict`` turns into errors, any doubt: ``cli.main`` parses everything, as it always does.
An option ``build`` gains must be added to :data:`VALUED` or :data:`FLAGS` (a test compares them
with commands/build.py); until it is, a build using it is only slower, never wrong.
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path

VALUED = {
    "--out": "out",
    "-o": "out",
    "--only": "only",
    "--pdf-variant": "pdf_variant",
    "--pad-to": "pad_to",
    "--jobs": "jobs",
    "-j": "jobs",
}
"""``build``'s options that take a value (commands/build.py), by each of their spellings."""

FLAGS = {
    "--offprints": "offprints",
    "--attach-pdf": "attach_pdf",
    "--quiet": "quiet",
    "-q": "quiet",
    "--strict": "strict",
}
"""``build``'s switches that an up-to-date build can answer (``--force`` is not one: it always builds)."""


def main() -> None:
    """Console-script entry point (and ``python -m research_news``'s): :func:`run`, after which the process
    exits without the interpreter's teardown (see :class:`_ExitWithoutTeardown`). For the process that
    runs the command and nothing else; code that goes on after the command calls :func:`run`."""
    exiting = _ExitWithoutTeardown()
    atexit.register(exiting)  # the first registered, so the last to run: every other exit handler runs
    try:
        run(print_ahead=True)
    except SystemExit as stop:
        exiting.status = _exit_status(stop.code)
        raise
    else:
        exiting.status = 0


class _ExitWithoutTeardown:
    """The last exit handler: flush the output and end the process with the command's status, skipping
    the interpreter's teardown, which frees every module and object one by one: about 0.25 s after
    a layout, spent after the files are written and the summary printed. A traceback or an
    interrupt (``status`` left ``None``) exits as the interpreter does."""

    status: int | None = None

    def __call__(self) -> None:
        if self.status is not None and flushed():
            os._exit(self.status)


def flushed() -> bool:
    """Flush standard output and error (either may be ``None``: the command ran with it closed); ``False``
    when one cannot be flushed (a closed pipe), which the interpreter then reports, with its own status."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True


def _exit_status(code: object) -> int:
    """The status ``sys.exit(code)`` ends the process with (a message, printed already, is 1)."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def run(*, print_ahead: bool = False) -> None:
    """Answer an unchanged build, or run the command line; ``print_ahead``: a build that lays an issue out
    starts its print process first (print_process.py), for the process that runs the command alone."""
    try:
        answered = _answered(sys.argv[1:])
    except BrokenPipeError:  # `research-news build … | head -c0`: as click does, exit 1 without a traceback
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the interpreter flushes it at exit
        sys.exit(1)
    if not answered:
        if print_ahead:
            from . import print_process

            print_process.start(sys.argv[1:])
        from .cli import main as parse_and_run

        parse_and_run()


def _answered(argv: list[str]) -> bool:
    """Whether ``argv`` is a ``build`` with nothing to do, now answered (printed, exit status 0)."""
    chosen = build_options(argv)
    if chosen is None:
        return False
    from .exceptions import ResearchNewsError
    from .uptodate import unchanged, up_to_date_line

    quiet, issue_dir, out = chosen.pop("quiet"), chosen.pop("issue_dir"), chosen.pop("out")
    try:
        result = unchanged(issue_dir, out, **chosen)
    except ResearchNewsError:  # --strict and a warning: the command line reports it, as for any build
        return False
    if result is None:
        return False
    if not quiet:
        from rich.console import Console

        from .commands.progress import steps

        with steps(Console(stderr=True))("Checking content"):  # what the full path shows before it stops
            pass
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    print(up_to_date_line(result.out_dir))
    return True


def build_options(argv: list[str]) -> dict | None:
    """The options of ``build ISSUE [OPTIONS]`` as ``build`` would take them, when ``argv`` is such a
    command, every option is one ``build`` knows (given once) and every value is one it accepts;
    else ``None``."""
    if not argv or argv[0] != "build":
        return None
    given: dict[str, object] = {}
    folders: list[str] = []
    rest = iter(argv[1:])
    for argument in rest:
        name, equals, written = argument.partition("=")
        value: object
        if argument in FLAGS:
            key, value = FLAGS[argument], True
        elif name in VALUED and name.startswith("--") and equals:
            key, value = VALUED[name], written
        elif argument in VALUED:
            key, following = VALUED[argument], next(rest, None)
            if following is None or following.startswith("-"):
                return None  # how click reads that is click's business
            value = following
        elif argument.startswith("-") and argument != "-":
            return None  # --force, --help, -qo, --: the command line knows
        else:
            folders.append(argument)
            continue
        if key in given:
            return None
        given[key] = value
    if len(folders) != 1:
        return None
    return _accepted(Path(folders[0]), given)


def _accepted(issue_dir: Path, given: dict[str, object]) -> dict | None:
    """``given`` converted as commands/build.py converts it; ``None`` for anything it would refuse."""
    from .commands.progress import PDF_VARIANTS
    from .tree import ISSUE_FILE

    only = None
    if "only" in given:
        only = tuple(part.strip() for part in str(given["only"]).split(",") if part.strip())
        if not only:
            return None
    variant = str(given.get("pdf_variant", "pdf/ua-1"))
    try:
        pad_to = int(str(given["pad_to"])) if "pad_to" in given else None
        jobs = int(str(given["jobs"])) if "jobs" in given else 1
        is_issue = (issue_dir / ISSUE_FILE).is_file()
    except (ValueError, OSError):
        return None
    out = Path(str(given.get("out", "build")))
    if variant not in PDF_VARIANTS or (pad_to is not None and pad_to < 2) or jobs < 1 or not is_issue:
        return None
    if not all(os.access(path, os.R_OK) for path in (issue_dir, out) if os.path.lexists(path)):
        return None  # click refuses a path it cannot read ("… is not readable"): it says so
    return {
        "issue_dir": issue_dir,
        "out": out,
        "only": only,
        "offprints": bool(given.get("offprints")),
        "pdf_variant": None if variant == "none" else variant,
        "attach_pdf": bool(given.get("attach_pdf")),
        "pad_to": pad_to,
        "strict": bool(given.get("strict")),
        "quiet": bool(given.get("quiet")),
    }
