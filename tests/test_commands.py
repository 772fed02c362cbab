"""The CLI as a user meets it: exit codes, output formats, schema, templates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from research_news import __version__

from .conftest import run_cli


def break_the_brief(issue: Path) -> Path:
    brief = issue / "briefs" / "one.yaml"
    brief.write_text(brief.read_text().replace("ada@example.org", "ada at example"))
    return brief


def test_clean_content_exits_zero(minimal_tree: Path) -> None:
    result = run_cli("check", minimal_tree)
    assert result.exit_code == 0, result.stdout
    assert "No problems found." in result.stdout


def test_errors_exit_one_with_located_messages(minimal_issue: Path, monkeypatch) -> None:
    monkeypatch.chdir(minimal_issue.parent)
    break_the_brief(minimal_issue)
    result = run_cli("check", "2024-05-minimal")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        '2024-05-minimal/briefs/one.yaml:6:12: authors[0].email: "ada at example" is not an email address'
    )
    assert "1 error, 0 warnings." in result.stdout


def test_a_single_brief_can_be_checked(minimal_issue: Path) -> None:
    brief = break_the_brief(minimal_issue)
    result = run_cli("check", brief)
    assert result.exit_code == 1
    assert "is not an email address" in result.stdout


def test_json_format(minimal_issue: Path) -> None:
    break_the_brief(minimal_issue)
    result = run_cli("check", "--format", "json", minimal_issue)
    [problem] = json.loads(result.stdout)
    assert problem["line"] == 6 and problem["column"] == 12 and problem["severity"] == "error"
    assert problem["path"].endswith("briefs/one.yaml")


def test_github_format(minimal_issue: Path) -> None:
    break_the_brief(minimal_issue)
    result = run_cli("check", "--format", "github", minimal_issue)
    assert re.fullmatch(r"::error file=[^,]*one\.yaml,line=6,col=12::authors\[0\]\.email: .*\n", result.stdout)


def test_missing_path_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli("check", tmp_path / "nope.yaml")
    assert result.exit_code == 1
    assert "nope.yaml:1:1: no such file or folder" in result.stdout


def test_usage_errors_exit_two(minimal_issue: Path) -> None:
    assert run_cli("check").exit_code == 2
    assert run_cli("check", "--format", "xml", minimal_issue).exit_code == 2
    assert run_cli("frobnicate").exit_code == 2


def test_version_and_help() -> None:
    assert run_cli("--version").stdout.strip() == f"research-news {__version__}"
    for command in ([], ["check"], ["build"], ["new"], ["new", "brief"], ["schema"]):
        result = run_cli(*command, "--help")
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_schema_describes_every_field() -> None:
    result = run_cli("schema", "brief")
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"title", "authors", "why_it_matters", "methodology", "key_findings", "key_takeaways"} <= set(
        schema["required"]
    )
    assert schema["additionalProperties"] is False
    publication = json.loads(run_cli("schema", "publication").stdout)
    assert "from" in publication["$defs"]["EmailSettings"]["properties"]


def test_new_brief_fails_check_until_filled_then_passes(minimal_issue: Path) -> None:
    path = minimal_issue / "briefs" / "fresh.yaml"
    assert run_cli("new", "brief", path).exit_code == 0
    result = run_cli("check", path)
    assert result.exit_code == 1
    assert "still holds the template's TODO placeholder" in result.stdout
    filled = re.sub(r'"TODO[^"]*"', '"Filled in"', path.read_text())
    filled = filled.replace("todo@example.org", "ada@example.org")
    filled = re.sub(r"TODO[^\n]*", "Filled in.", filled)
    path.write_text(filled)
    result = run_cli("check", path)
    assert result.exit_code == 0, result.stdout


def test_new_refuses_to_overwrite(minimal_issue: Path) -> None:
    path = minimal_issue / "briefs" / "one.yaml"
    before = path.read_text()
    result = run_cli("new", "brief", path)
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert path.read_text() == before


@pytest.mark.parametrize("date", ["2024-02-30", "soon", "2024-06-20\nevil: 1", "20240620"])
def test_new_issue_refuses_a_date_that_is_not_one(minimal_tree: Path, date: str) -> None:
    result = run_cli("new", "issue", minimal_tree / "2024-06-next", "--date", date)
    assert result.exit_code == 2 and "--date" in result.stderr
    assert not (minimal_tree / "2024-06-next").exists()


def test_new_into_an_impossible_place_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli("new", "brief", blocker / "briefs" / "x.yaml")
    assert result.exit_code == 1 and result.stderr.startswith(f"error: could not write {blocker}")


def test_new_issue_takes_the_next_number(minimal_tree: Path) -> None:
    folder = minimal_tree / "2024-06-next"
    assert run_cli("new", "issue", folder, "--date", "2024-06-20").exit_code == 0
    text = (folder / "issue.yaml").read_text()
    assert "number: 4\n" in text and "date: 2024-06-20" in text
    assert (folder / "briefs" / "first-brief.yaml").is_file() and (folder / "images").is_dir()
    result = run_cli("check", folder)
    assert result.exit_code == 1 and "TODO placeholder" in result.stdout


def test_committed_schemas_are_up_to_date() -> None:
    """issues/schemas/*.json are what editors point at; regenerate with `research-news schema`."""
    from .conftest import SAMPLE_ROOT

    for kind in ("brief", "issue", "publication"):
        committed = (SAMPLE_ROOT / "schemas" / f"{kind}.json").read_text()
        assert committed == run_cli("schema", kind).stdout, (
            f"run: research-news schema {kind} > issues/schemas/{kind}.json"
        )


def test_strict_turns_warnings_into_errors(minimal_tree: Path) -> None:
    """In CI, `check --strict` fails on what a person may choose to let pass."""
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text() + "limits:\n  why_it_matters: 2\n")
    relaxed = run_cli("check", minimal_tree)
    assert relaxed.exit_code == 0 and "0 errors, 1 warning." in relaxed.stdout
    strict = run_cli("check", "--strict", minimal_tree)
    assert strict.exit_code == 1 and "1 error, 0 warnings." in strict.stdout
    assert "warning:" not in strict.stdout


def test_verbose_says_what_was_read_and_quiet_excludes_it(minimal_tree: Path) -> None:
    verbose = run_cli("--verbose", "check", minimal_tree)
    assert verbose.exit_code == 0
    assert re.search(r"DEBUG: read .*briefs/one\.yaml \(\d+ lines\)", verbose.stderr), verbose.stderr
    assert re.search(r"DEBUG: layout default: ", verbose.stderr)
    plain = run_cli("check", minimal_tree)
    assert plain.stderr == ""
    assert run_cli("-v", "-q", "check", minimal_tree).exit_code == 2


def test_new_publication_starts_a_tree_that_new_issue_then_fills(tmp_path: Path) -> None:
    tree = tmp_path / "news"
    result = run_cli("new", "publication", tree, "--language", "fr")
    assert result.exit_code == 0, result.stderr
    assert (tree / "assets").is_dir() and "languages: [fr]" in (tree / "publication.yaml").read_text()
    assert run_cli("new", "publication", tree).exit_code == 2  # never overwritten
    nested = run_cli("new", "publication", tree / "inner")
    assert nested.exit_code == 2 and "inside the publication" in nested.stderr
    assert run_cli("new", "issue", tree / "2025-03-premier-numero").exit_code == 0
    issue = (tree / "2025-03-premier-numero" / "issue.yaml").read_text()
    assert "number: 1\n" in issue and "language: fr " in issue
    assert "date: 2025-03-01 " in issue and "from the folder's name" in issue
    check = run_cli("check", tree)
    assert check.exit_code == 1 and "TODO placeholder" in check.stdout
    assert "not listed" not in check.stdout


def test_new_issue_refuses_outside_a_publication(tmp_path: Path) -> None:
    result = run_cli("new", "issue", tmp_path / "2024-06-lonely")
    assert result.exit_code == 2 and "new publication" in result.stderr
    assert not (tmp_path / "2024-06-lonely").exists()


def test_new_issue_takes_the_language_of_the_issue_before_it(minimal_tree: Path) -> None:
    issue = minimal_tree / "2024-05-minimal" / "issue.yaml"
    issue.write_text(issue.read_text() + "language: fr\n")
    assert run_cli("new", "issue", minimal_tree / "2024-06-12-suite").exit_code == 0
    text = (minimal_tree / "2024-06-12-suite" / "issue.yaml").read_text()
    assert "language: fr " in text and "date: 2024-06-12 " in text and "folder's name" not in text
    assert (
        run_cli("new", "issue", minimal_tree / "2024-07-next", "--language", "de", "--date", "2024-07-02").exit_code
        == 0
    )
    text = (minimal_tree / "2024-07-next" / "issue.yaml").read_text()
    assert "language: de " in text and "date: 2024-07-02" in text
    assert run_cli("new", "issue", minimal_tree / "x", "--language", "French").exit_code == 2


def test_new_brief_in_another_language_says_so_and_is_listed_with_comments_kept(minimal_issue: Path) -> None:
    issue = minimal_issue / "issue.yaml"
    issue.write_text(
        "# The editor's notes stay.\n"
        + issue.read_text().replace("  - title: The only theme\n", "  - title: The only theme   # keep first\n")
    )
    path = minimal_issue / "briefs" / "etude.yaml"
    before = issue.read_text()
    result = run_cli("new", "brief", path, "--language", "fr", "--add-to", "the ONLY theme")
    assert result.exit_code == 0, result.stderr
    assert "listed it under “The only theme”" in result.stdout
    assert "language: fr " in path.read_text()
    text = issue.read_text()
    assert text.startswith("# The editor's notes stay.\n") and "# keep first" in text
    assert "      - briefs/one.yaml\n      - briefs/etude.yaml\n" in text
    assert text.replace("      - briefs/etude.yaml\n", "") == before  # nothing else moved
    assert "not listed" not in run_cli("check", minimal_issue).stdout
    same = minimal_issue / "briefs" / "same.yaml"
    assert run_cli("new", "brief", same, "--language", "en").exit_code == 0
    assert "language:" not in same.read_text()  # the issue's own language is not repeated


def test_new_brief_add_to_an_unknown_section_lists_the_sections(minimal_issue: Path) -> None:
    before = (minimal_issue / "issue.yaml").read_text()
    result = run_cli("new", "brief", minimal_issue / "briefs" / "x.yaml", "--add-to", "Nope")
    assert result.exit_code == 2 and "1. The only theme" in result.stderr
    assert not (minimal_issue / "briefs" / "x.yaml").exists()
    assert (minimal_issue / "issue.yaml").read_text() == before
    assert run_cli("new", "brief", minimal_issue / "briefs" / "x.yaml", "--add-to", "1").exit_code == 0


@pytest.mark.parametrize("command", ["build", "site"])
def test_an_unknown_pdf_variant_is_a_usage_error_before_anything_is_built(command: str, tmp_path: Path):
    issues = Path(__file__).parents[1] / "issues"
    target = issues / "2023-01-data-and-society" if command == "build" else issues
    result = run_cli(command, target, "--out", tmp_path / "out", "--pdf-variant", "pdf/x")
    assert result.exit_code == 2
    assert "--pdf-variant takes pdf/ua-1, pdf/a-3b, pdf/a-3u, pdf/ua-2, none; got 'pdf/x'" in result.stderr
    assert not (tmp_path / "out").exists()
