"""The rules between issues of a content tree, and the people and themes the site indexes."""

from __future__ import annotations

from pathlib import Path

import pytest

from research_news.exceptions import display_path
from research_news.series import people, themes
from research_news.validate import Checker, load_content

from .conftest import SAMPLE_ROOT, copy_fixture, run_cli

FIRST = "2024-01-first"
SECOND = "2024-03-second"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of tests/fixtures/series-clean (two issues, three briefs); problems name
    their files relative to the working folder, set to the copy's parent."""
    monkeypatch.chdir(tmp_path)
    return copy_fixture("series-clean", tmp_path)


def problems(root: Path) -> list[str]:
    checker = Checker()
    checker.check_path(root)
    return [
        f"{display_path(p.path)}:{p.line}:{p.column}: {p.severity}: {p.message}" + (f" ({p.hint})" if p.hint else "")
        for p in sorted(checker.problems)
    ]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def contents(root: Path) -> list:
    return [load_content(folder) for folder in sorted(root.glob("*/")) if (folder / "issue.yaml").is_file()]


def test_the_fixture_is_clean(tree: Path) -> None:
    assert problems(tree) == []


def test_two_issues_with_one_number_is_an_error_at_the_second(tree: Path) -> None:
    edit(tree / SECOND / "issue.yaml", "number: 2", "number: 1")
    assert problems(tree) == [
        "series-clean/2024-03-second/issue.yaml:1:9: error: number: issue 1 is also the number of "
        "series-clean/2024-01-first/issue.yaml:1:9 (give each issue its own number: the next one after the last issue)"
    ]


def test_two_issue_folders_with_one_name_is_an_error(tree: Path) -> None:
    """Folders in two places of the tree, named alike but for case: one address on the web."""
    (tree / "2025").mkdir()
    (tree / SECOND).rename(tree / "2025" / FIRST.upper().replace("FIRST", "First"))
    found = problems(tree)
    assert found == [
        'series-clean/2025/2024-01-First/issue.yaml:1:1: error: the issue folder "2024-01-First" has the name '
        "of series-clean/2024-01-first, and the folder names every output file and web address of its issue "
        "(rename one of the two folders, e.g. with the issue's date and theme: 2024-06-open-science)"
    ]


def test_a_brief_listed_by_two_issues_is_an_error_at_the_second_listing(tree: Path) -> None:
    edit(
        tree / SECOND / "issue.yaml",
        "      - briefs/audits.yaml\n",
        "      - briefs/audits.yaml\n      - ../2024-01-first/briefs/sharing-data.yaml\n",
    )
    assert problems(tree) == [
        "series-clean/2024-03-second/issue.yaml:8:9: error: sections[0].briefs[2]: this brief is already in "
        "issue 1 (series-clean/2024-01-first/issue.yaml:6:9) (a brief belongs to one issue; to publish a new "
        "version, copy it into this issue's briefs/)"
    ]


def test_an_issue_dated_before_the_one_numbered_before_it_is_an_error_at_its_date(tree: Path) -> None:
    edit(tree / SECOND / "issue.yaml", "date: 2024-03-12", "date: 2023-12-01")
    assert problems(tree) == [
        "series-clean/2024-03-second/issue.yaml:2:7: error: date: issue 2 is dated 2023-12-01, before issue 1 "
        "(2024-01-15, series-clean/2024-01-first/issue.yaml:2:7) (issues are numbered in the order they come "
        "out: correct the date or the number)"
    ]


def test_issues_of_one_day_are_in_order(tree: Path) -> None:
    edit(tree / SECOND / "issue.yaml", "date: 2024-03-12", "date: 2024-01-15")
    assert problems(tree) == []


def test_one_wrong_date_is_one_error(tree: Path) -> None:
    """Issue 1 dated after issues 2 and 3: only the issue that follows it is out of order."""
    third = tree / "2024-06-third"
    (third / "briefs").mkdir(parents=True)
    (third / "issue.yaml").write_text(
        "number: 3\ndate: 2024-06-01\nsections:\n  - title: T\n    briefs: [briefs/x.yaml]\n", encoding="utf-8"
    )
    (third / "briefs" / "x.yaml").write_text(
        (tree / SECOND / "briefs" / "audits.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    edit(tree / FIRST / "issue.yaml", "date: 2024-01-15", "date: 2024-04-01")
    assert [line.split(": error")[0] for line in problems(tree)] == ["series-clean/2024-03-second/issue.yaml:2:7"]


def test_one_orcid_with_two_spellings_is_a_warning_at_the_second_name(tree: Path) -> None:
    edit(tree / SECOND / "briefs" / "audits.yaml", "  - name: Jean Martin\n", "  - name: Jean Martín\n")
    assert problems(tree) == [
        'series-clean/2024-03-second/briefs/audits.yaml:4:11: warning: authors[1].name: "Jean Martín" has the '
        'ORCID iD 0000-0003-0000-0011, which is "Jean Martin" in series-clean/2024-01-first/briefs/'
        'sharing-data.yaml:4:11 (write the name as "Jean Martin" in both briefs (the people pages show one '
        "spelling), or correct the ORCID iD)"
    ]


def test_spaces_in_a_name_are_not_another_spelling(tree: Path) -> None:
    edit(tree / SECOND / "briefs" / "audits.yaml", "  - name: Jean Martin\n", '  - name: "Jean  Martin "\n')
    assert problems(tree) == []


def test_two_orcids_with_one_name_are_homonyms_not_a_problem(tree: Path) -> None:
    """The fixture has two Jean Martins with different ORCID iDs: nothing to report."""
    assert "0000-0003-0000-002X" in (tree / SECOND / "briefs" / "fair-models.yaml").read_text(encoding="utf-8")
    assert problems(tree) == []


def test_series_rules_are_checked_over_a_folder_of_issues_inside_the_tree(tree: Path) -> None:
    (tree / "issues").mkdir()
    for name in (FIRST, SECOND):
        (tree / name).rename(tree / "issues" / name)
    edit(tree / "issues" / SECOND / "issue.yaml", "number: 2", "number: 1")
    assert len(problems(tree / "issues")) == 1


def test_all_series_problems_at_once_on_the_command_line(tree: Path) -> None:
    edit(tree / SECOND / "issue.yaml", "number: 2", "number: 1")
    edit(tree / SECOND / "briefs" / "audits.yaml", "  - name: Jean Martin\n", "  - name: J. Martin\n")
    result = run_cli("check", tree)
    assert result.exit_code == 1
    assert "issue.yaml:1:9: number: issue 1 is also the number of" in result.stdout
    assert 'audits.yaml:4:11: warning: authors[1].name: "J. Martin" has the ORCID iD' in result.stdout
    assert "1 error, 1 warning." in result.stdout


def test_the_sample_series_is_clean() -> None:
    result = run_cli("check", SAMPLE_ROOT)
    assert result.exit_code == 0, result.stdout
    assert result.stdout == "No problems found.\n"


# --- people and themes -------------------------------------------------------------------


def test_people_are_one_per_orcid_and_name_only_authors_join_the_first_orcid_of_their_name(tree: Path) -> None:
    found = {person.slug: person for person in people(contents(tree))}
    assert sorted(found) == ["ada-lovelace", "grace-hopper", "jean-martin", "jean-martin-002x"]
    ada = found["ada-lovelace"]
    # First listed without an ORCID iD, then with one: one person, with the iD.
    assert ada.orcid == "0000-0002-1825-0097"
    assert [(ref.issue_number, ref.slug) for ref in ada.briefs] == [(1, "sharing-data"), (2, "fair-models")]
    assert ada.bio == "Ada studies machines."
    # Homonyms: the first in the series keeps the plain slug, the other takes its iD's last digits.
    assert found["jean-martin"].orcid == "0000-0003-0000-0011"
    assert [ref.slug for ref in found["jean-martin"].briefs] == ["sharing-data", "audits"]
    assert found["jean-martin"].affiliation == "Second University"  # the latest
    assert found["jean-martin-002x"].orcid == "0000-0003-0000-002X"
    assert found["grace-hopper"].orcid is None


def test_people_slugs_stay_when_a_later_issue_adds_a_homonym(tree: Path) -> None:
    before = {person.orcid: person.slug for person in people(contents(tree))}
    third = tree / "2024-06-third"
    (third / "briefs").mkdir(parents=True)
    (third / "issue.yaml").write_text(
        "number: 3\ndate: 2024-06-01\nsections:\n  - title: T\n    briefs: [briefs/x.yaml]\n", encoding="utf-8"
    )
    (third / "briefs" / "x.yaml").write_text(
        "title: X\nauthors:\n  - name: Ada Lovelace\n    orcid: 0000-0003-0000-0038\nwhy_it_matters: a\n"
        "methodology: b\nkey_findings: c\nkey_takeaways: [d]\n",
        encoding="utf-8",
    )
    after = {person.orcid: person.slug for person in people(contents(tree))}
    assert {orcid: after[orcid] for orcid in before} == before
    assert after["0000-0003-0000-0038"] == "ada-lovelace-0038"
    ada = next(person for person in people(contents(tree)) if person.slug == "ada-lovelace")
    assert [ref.slug for ref in ada.briefs] == ["sharing-data", "fair-models"]  # the name-only listing stays


def test_people_do_not_depend_on_the_order_issues_are_given_in(tree: Path) -> None:
    issues = contents(tree)
    assert [p.slug for p in people(issues)] == [p.slug for p in people(reversed(issues))]


def test_themes_group_briefs_by_keyword_ignoring_case_and_spaces(tree: Path) -> None:
    found = {theme.slug: theme for theme in themes(contents(tree))}
    assert sorted(found) == ["ai", "gdpr", "open-science"]
    assert found["open-science"].name == "Open science"  # the first spelling
    assert [ref.slug for ref in found["open-science"].briefs] == ["sharing-data", "fair-models"]
    assert [ref.issue_slug for ref in found["ai"].briefs] == [SECOND, SECOND]


def test_the_sample_series_has_a_person_in_two_issues() -> None:
    issues = contents(SAMPLE_ROOT)
    assert len(issues) >= 2
    across = [person for person in people(issues) if len({ref.issue_slug for ref in person.briefs}) > 1]
    assert across, "an author of the sample issues should appear in two of them"
