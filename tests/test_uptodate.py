"""An up-to-date build told from the record alone (uptodate.py): without loading what checking content
needs, and only when a full build would write the same files and print the same warnings."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from research_news import uptodate
from research_news.build import build
from research_news.exceptions import ContentError
from research_news.tree import PUBLICATION_FILE

from .conftest import run_cli

SLUG = "2024-05-minimal"
WEB = ("web",)  # no WeasyPrint: these builds take a fraction of a second
HEAVY = ("pydantic", "ruamel", "jinja2", "markdown_it", "weasyprint", "babel", "research_news.checker")


@pytest.fixture
def tree(minimal_tree: Path) -> Path:
    """The minimal tree with its issue one folder down (issues/<slug>) and a layout of its own, ``house``."""
    (minimal_tree / "issues").mkdir()
    shutil.move(minimal_tree / SLUG, minimal_tree / "issues" / SLUG)
    (minimal_tree / "layouts" / "house").mkdir(parents=True)
    (minimal_tree / "layouts" / "house" / "layout.yaml").write_text("name: House\n")
    publication = minimal_tree / PUBLICATION_FILE
    publication.write_text(publication.read_text() + "layout: house\n")
    return minimal_tree


def fast(issue: Path, out: Path, **options) -> uptodate.Unchanged | None:
    return uptodate.unchanged(issue, out, only=options.pop("only", WEB), **options)


def test_a_second_build_is_told_without_loading_the_content_check(tree: Path, tmp_path: Path) -> None:
    issue, out = tree / "issues" / SLUG, tmp_path / "build"
    assert run_cli("build", issue, "--out", out, "--only", "web").exit_code == 0
    modules = f"json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r}))"
    cli = (
        "import json, sys; from research_news.cli import main\n"
        f"sys.argv = ['research-news', 'build', {str(issue)!r}, '--out', {str(out)!r}, '--only', 'web', '-q']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print({modules})"
    )
    said = subprocess.run([sys.executable, "-c", cli], capture_output=True, text=True, check=True).stdout
    assert f"Up to date: {out / SLUG}/ (nothing changed since the last build)" in said
    loaded = json.loads(said.splitlines()[-1])
    assert [name for name in loaded if name.split(".")[0] != "pydantic"] == []  # typer coerces options with pydantic
    library = (
        "import json, sys; from pathlib import Path; from research_news import uptodate\n"
        f"found = uptodate.unchanged(Path({str(issue)!r}), Path({str(out)!r}), only=('web',))\n"
        f"print(found is not None, {modules})"
    )
    said = subprocess.run([sys.executable, "-c", library], capture_output=True, text=True, check=True).stdout
    assert said.split() == ["True", "[]"]  # pydantic neither


def _edit_brief(tree: Path) -> None:
    brief = tree / "issues" / SLUG / "briefs" / "one.yaml"
    brief.write_text(brief.read_text().replace("A short study of small things", "A shorter study"))


def _unlisted_brief(tree: Path) -> None:  # a new file of the issue
    briefs = tree / "issues" / SLUG / "briefs"
    shutil.copy(briefs / "one.yaml", briefs / "three.yaml")


def _publication_in_between(tree: Path) -> None:  # issues/ becomes the content tree's top
    (tree / "issues" / PUBLICATION_FILE).write_text((tree / PUBLICATION_FILE).read_text().replace("house", "default"))


def _layout_override(tree: Path) -> None:  # layouts/default now comes between house and the built-in default
    (tree / "layouts" / "default").mkdir()
    (tree / "layouts" / "default" / "layout.yaml").write_text("name: Publisher default\n")


def _edit_layout(tree: Path) -> None:
    (tree / "layouts" / "house" / "layout.yaml").write_text("name: House\ncolors:\n  primary: '#123456'\n")


def _delete_output(tree: Path, out: Path) -> None:
    (out / SLUG / "index.html").unlink()


def _edit_output(tree: Path, out: Path) -> None:
    (out / SLUG / "index.html").write_text("<p>edited by hand</p>")


def _corrupt_record(tree: Path, out: Path) -> None:
    record = out / uptodate.CACHE_FOLDER / SLUG / uptodate.RECORD
    record.write_bytes(record.read_bytes()[:100])


def _foreign_record(tree: Path, out: Path) -> None:
    record = out / uptodate.CACHE_FOLDER / SLUG / uptodate.RECORD
    record.write_text(json.dumps({**json.loads(record.read_text()), "format": "another tool's"}))


def _out_of_tree(changed: Callable[[Path], None]) -> Callable[[Path, Path], None]:
    return lambda tree, out: changed(tree)


CHANGES = {
    "an edited brief": _out_of_tree(_edit_brief),
    "a new brief file": _out_of_tree(_unlisted_brief),
    "a publication.yaml between the issue and the top": _out_of_tree(_publication_in_between),
    "a layout override appearing": _out_of_tree(_layout_override),
    "an edited layout file": _out_of_tree(_edit_layout),
    "a deleted output": _delete_output,
    "an output edited": _edit_output,
    "a truncated record": _corrupt_record,
    "a record of another format": _foreign_record,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_is_not_up_to_date_and_the_next_build_is_right(change, tree: Path, tmp_path: Path) -> None:
    issue, out = tree / "issues" / SLUG, tmp_path / "build"
    build(issue, out, only=WEB)
    assert fast(issue, out) is not None
    change(tree, out)
    assert fast(issue, out) is None
    again = build(issue, out, only=WEB)
    assert not again.up_to_date
    fresh = build(issue, tmp_path / "fresh", only=WEB, force=True)  # what a first build makes of the tree now
    assert [str(w) for w in again.warnings] == [str(w) for w in fresh.warnings]
    assert (out / SLUG / "index.html").read_bytes() == (tmp_path / "fresh" / SLUG / "index.html").read_bytes()
    assert fast(issue, out) is not None  # and the record is whole again


def test_other_options_are_not_up_to_date(tree: Path, tmp_path: Path) -> None:
    issue, out = tree / "issues" / SLUG, tmp_path / "build"
    build(issue, out, only=WEB)
    assert fast(issue, out) is not None
    assert fast(issue, out, only=("web", "email")) is None
    assert fast(issue, out, pad_to=4) is None
    assert fast(issue, out, pdf_variant="pdf/a-3b") is None


def test_the_content_checks_warnings_are_told_again_and_strict_fails_on_them(tree: Path, tmp_path: Path) -> None:
    publication = tree / PUBLICATION_FILE  # no sender: a warning of the content check, not of an edition
    publication.write_text("".join(line for line in publication.read_text().splitlines(True) if "from:" not in line))
    issue, out = tree / "issues" / SLUG, tmp_path / "build"
    first = build(issue, out, only=WEB)
    assert any("the email edition cannot be built" in str(w) for w in first.warnings)
    found = fast(issue, out)
    assert found is not None and [str(w) for w in found.warnings] == [str(w) for w in first.warnings]
    with pytest.raises(ContentError) as raised:
        fast(issue, out, strict=True)
    assert [str(p) for p in raised.value.problems] == [str(w.as_error()) for w in first.warnings]
    before = {path: path.stat().st_mtime_ns for path in (out / SLUG).rglob("*")}
    said = run_cli("build", issue, "--out", out, "--only", "web", "--strict")
    assert said.exit_code == 1 and "nothing was written" in said.stderr
    assert {path: path.stat().st_mtime_ns for path in (out / SLUG).rglob("*")} == before
    again = run_cli("build", issue, "--out", out, "--only", "web")
    assert again.exit_code == 0 and "Up to date" in again.stdout
    assert [line for line in again.stderr.splitlines() if "warning" in line] == [str(w) for w in first.warnings]


def test_force_never_asks_the_record(tree: Path, tmp_path: Path) -> None:
    issue, out = tree / "issues" / SLUG, tmp_path / "build"
    build(issue, out, only=WEB)
    assert not build(issue, out, only=WEB, force=True).up_to_date


def test_a_build_with_a_plugin_installed_is_never_told_from_the_record(tree: Path, tmp_path: Path) -> None:
    issue, out = tree / "issues" / SLUG, tmp_path / "build"
    build(issue, out, only=WEB)
    record = out / uptodate.CACHE_FOLDER / SLUG / uptodate.RECORD
    data = json.loads(record.read_text())
    data["inputs"]["plugins"] = True  # what a build with a package's editions or section types records
    record.write_text(json.dumps(data))
    assert fast(issue, out) is None and build(issue, out, only=WEB).up_to_date  # the full path decides


# --- the console script's own answer (launch.py) ---------------------------------------------


def test_the_console_script_answers_an_unchanged_build_before_loading_the_command_line(
    tree: Path, tmp_path: Path
) -> None:
    """``research-news build`` (and ``python -m research_news``) with nothing changed is answered without
    typer, click, rich or pydantic, printing what the full command prints."""
    issue, out = tree / "issues" / SLUG, tmp_path / "build"
    full = run_cli("build", issue, "--out", out, "--only", "web")
    assert full.exit_code == 0
    again = run_cli("build", issue, "--out", out, "--only", "web")  # the command line's up-to-date answer
    light = ("typer", "click", "rich", "pydantic", *HEAVY)
    modules = f"json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {light!r}))"
    script = (
        "import json, sys; from research_news.launch import main\n"
        f"sys.argv = ['research-news', 'build', {str(issue)!r}, '--out={out}', '--only', 'web']\n"
        "main()\n"
        f"print({modules}, file=sys.stderr)"
    )
    said = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    *shown, loaded = said.stderr.splitlines()
    assert {name.split(".")[0] for name in json.loads(loaded)} == {"rich"}  # the tick line, through the same code
    assert said.stdout == again.stdout and "\n".join(shown) == again.stderr.rstrip("\n")
    quiet = subprocess.run(
        [sys.executable, "-m", "research_news", "build", str(issue), "-o", str(out), "--only=web", "-q"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert quiet.stdout == again.stdout and quiet.stderr == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "ISSUE"],
        ["build", "ISSUE", "--force"],
        ["build", "ISSUE", "--help"],
        ["build", "ISSUE", "--unknown"],
        ["build", "ISSUE", "-qo", "OUT"],
        ["build", "ISSUE", "--out", "OUT", "--out", "OTHER"],  # given twice: click decides
        ["build", "ISSUE", "--out"],
        ["build", "ISSUE", "--only", "--offprints"],
        ["build", "ISSUE", "--only", " , "],
        ["build", "ISSUE", "--pdf-variant", "pdf/x-4"],
        ["build", "ISSUE", "--pad-to", "1"],
        ["build", "ISSUE", "--pad-to", "four"],
        ["build", "ISSUE", "--jobs", "0"],
        ["build", "ISSUE", "ISSUE"],
        ["build", "NOT-AN-ISSUE"],
        ["build", "ISSUE", "-o=OUT"],
        ["build", "ISSUE", "--", "--out"],
    ],
)
def test_anything_but_a_plain_build_goes_to_the_command_line(tree: Path, argv: list[str]) -> None:
    from research_news.launch import build_options

    places = {"ISSUE": str(tree / "issues" / SLUG), "NOT-AN-ISSUE": str(tree / "issues")}
    assert build_options([places.get(word, word) for word in argv]) is None


def test_a_plain_build_is_read_as_the_command_line_reads_it(tree: Path) -> None:
    from research_news.launch import build_options

    issue = tree / "issues" / SLUG
    assert build_options(["build", str(issue)]) == {
        "issue_dir": issue,
        "out": Path("build"),
        "only": None,
        "offprints": False,
        "pdf_variant": "pdf/ua-1",
        "attach_pdf": False,
        "pad_to": None,
        "strict": False,
        "quiet": False,
    }
    argv = ["build", "--out=o", str(issue), "--only", "pdf, web", "--pdf-variant", "none", "--pad-to=4", "-j", "2"]
    read = build_options([*argv, "--offprints", "--attach-pdf", "--strict", "--quiet"])
    assert read is not None
    assert (read["out"], read["only"], read["pdf_variant"], read["pad_to"]) == (Path("o"), ("pdf", "web"), None, 4)
    assert read["offprints"] and read["attach_pdf"] and read["strict"] and read["quiet"]


def test_strict_warnings_on_an_unchanged_build_are_reported_by_the_command_line(tree: Path, tmp_path: Path) -> None:
    """The console script leaves an error to the command line, which words it as for any build."""
    from research_news.launch import _answered

    issue, out = tree / "issues" / SLUG, tmp_path / "build"
    publication = tree / PUBLICATION_FILE  # no sender: a warning of the content check
    publication.write_text("\n".join(line for line in publication.read_text().splitlines() if "from:" not in line))
    built = run_cli("build", issue, "--out", out, "--only", "web")
    assert built.exit_code == 0 and "warning" in built.stderr
    assert not _answered(["build", str(issue), "--out", str(out), "--only", "web", "--strict"])
    assert run_cli("build", issue, "--out", out, "--only", "web", "--strict").exit_code == 1


def test_the_console_script_knows_every_option_of_build() -> None:
    """An option ``build`` gains must be known to launch.py too (else its builds always take the
    command line's slower path); ``--force`` alone is left to the command line on purpose."""
    import typing

    import typer

    from research_news.commands.build import build as build_command
    from research_news.launch import FLAGS, VALUED

    spelled: set[str] = set()
    for name, hint in typing.get_type_hints(build_command, include_extras=True).items():
        info = next((extra for extra in getattr(hint, "__metadata__", ()) if extra), None)
        if isinstance(info, typer.models.OptionInfo):
            names = [info.default, *info.param_decls] if isinstance(info.default, str) else list(info.param_decls)
            spelled |= {name for name in names if isinstance(name, str) and name.startswith("-")}
            if not info.param_decls:
                spelled.add("--" + name.replace("_", "-"))
    assert spelled - {"--force"} == set(VALUED) | set(FLAGS)


def test_a_closed_pipe_ends_the_console_script_without_a_traceback(tree: Path, tmp_path: Path, monkeypatch) -> None:
    from research_news import launch

    issue, out = tree / "issues" / SLUG, tmp_path / "build"
    assert run_cli("build", issue, "--out", out, "--only", "web").exit_code == 0

    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError

        def flush(self) -> None:
            raise BrokenPipeError

    monkeypatch.setattr(sys, "argv", ["research-news", "build", str(issue), "--out", str(out), "--only", "web", "-q"])
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    with pytest.raises(SystemExit) as exited:
        launch.run()  # main() would end this process (pytest's) at exit, with this status
    assert exited.value.code == 1


TORN_DOWN = """
import os, sys
from research_news.launch import main

class FreedAtTeardown:  # a module's object: only the interpreter's teardown frees it
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)  # opened now: the teardown clears names

    def __del__(self, write=os.write):
        write(self.fd, b"freed")

kept = FreedAtTeardown(sys.argv[1])
sys.argv = ["research-news", *sys.argv[2:]]
main()
"""


@pytest.mark.parametrize(
    ("argv", "status", "said"),
    [
        (["check", "ISSUE"], 0, "No problems found"),
        (["check", "BROKEN"], 1, "error"),
        (["build"], 2, "Missing argument"),
    ],
)
def test_the_console_script_exits_with_the_commands_status_and_output_without_the_teardown(
    tree: Path, tmp_path: Path, argv: list[str], status: int, said: str
) -> None:
    """Its work done and its output printed, the command skips freeing every module and object one by
    one (a quarter of a second after a layout): the status and every line printed are the command's."""
    broken = tmp_path / "broken"
    shutil.copytree(tree / "issues" / SLUG, broken)
    (broken / "issue.yaml").write_text("number: [not a number\n")
    places = {"ISSUE": str(tree / "issues" / SLUG), "BROKEN": str(broken)}
    mark = tmp_path / "freed"
    done = subprocess.run(
        [sys.executable, "-c", TORN_DOWN, str(mark), *(places.get(part, part) for part in argv)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == status
    assert said in done.stdout + done.stderr
    assert mark.read_bytes() == b""  # made, never freed
