"""The build command: what it writes, what it refuses, and that failures write nothing."""

from __future__ import annotations

from pathlib import Path

from .conftest import run_cli


def outputs(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_content_errors_stop_the_build_before_anything_is_written(minimal_issue: Path, tmp_path: Path) -> None:
    brief = minimal_issue / "briefs" / "one.yaml"
    brief.write_text(brief.read_text().replace("ada@example.org", "ada at example"))
    result = run_cli("build", minimal_issue, "--out", tmp_path / "build")
    assert result.exit_code == 1
    assert "one.yaml:6:12: authors[0].email" in result.stderr
    assert "nothing was written" in result.stderr
    assert not (tmp_path / "build").exists()


def test_usage_errors_exit_two(minimal_issue: Path, tmp_path: Path) -> None:
    assert run_cli("build", tmp_path / "nowhere").exit_code == 2
    assert run_cli("build", minimal_issue, "--only", "fax").exit_code == 2
    assert run_cli("build", minimal_issue, "--pdf-variant", "pdf/x-1").exit_code == 2


def test_without_email_settings_the_email_is_skipped_with_a_warning(minimal_tree: Path, tmp_path: Path) -> None:
    (minimal_tree / "publication.yaml").write_text("name: Minimal Chair\n")
    out = tmp_path / "build"
    result = run_cli("build", minimal_tree / "2024-05-minimal", "--out", out, "--only", "web,email")
    assert result.exit_code == 1 and "web_base_url" in result.stderr  # asked for by name: an error
    assert not out.exists()
    result = run_cli("build", minimal_tree / "2024-05-minimal", "--out", out, "--pdf-variant", "none")
    assert result.exit_code == 0, result.stderr
    assert "the email edition was not built: publication.yaml has no web_base_url and no email.from" in result.stderr
    written = outputs(out / "2024-05-minimal")
    assert {"2024-05-minimal.pdf", "index.html"} <= written
    assert not {"email.html", "email.txt", "2024-05-minimal.eml"} & written


def test_web_and_email_editions_with_a_summary(minimal_issue: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = run_cli("build", minimal_issue, "--out", out, "--only", "web,email")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Built {out}/2024-05-minimal/: ")
    assert {"index.html", "email.html", "email.txt", "2024-05-minimal.eml",
            "assets/2024-05-minimal/images/chart.png"} <= outputs(out / "2024-05-minimal")
