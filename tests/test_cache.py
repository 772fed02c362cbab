"""The build cache (cache.py): every input is in the key, nothing untrusted is served, nothing changed = nothing done."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from research_news import cache as caching
from research_news import uptodate
from research_news.build import build
from research_news.layout import BUILTIN_LAYOUTS, forget_labels
from research_news.render.pdf import render_offprint, render_offprints
from research_news.validate import load_content

from .conftest import run_cli

SLUG = "2024-05-minimal"


def files(folder: Path) -> dict[str, bytes]:
    """The files of a build folder, but the email's: its MIME boundaries and address marker are drawn at random."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not (p.name.startswith("email.") or p.suffix == ".eml")
    }


def reused(result) -> set[str]:
    return {path.relative_to(result.out_dir).as_posix() for path in result.reused}


@pytest.fixture
def tree(minimal_tree: Path) -> Path:
    """The minimal tree with two briefs and a layout chain of its own: mine → base → default.

    ``base`` overrides a labels file, a template and a font; ``mine`` overrides another template.
    """
    issue = minimal_tree / SLUG
    shutil.copy(issue / "briefs" / "one.yaml", issue / "briefs" / "two.yaml")
    (issue / "briefs" / "two.yaml").write_text(
        (issue / "briefs" / "two.yaml").read_text().replace("A short study of small things", "A second study")
    )
    issue_yaml = issue / "issue.yaml"
    issue_yaml.write_text(issue_yaml.read_text() + "      - briefs/two.yaml\n")
    layouts = minimal_tree / "layouts"
    default = BUILTIN_LAYOUTS / "default"
    (layouts / "base" / "labels").mkdir(parents=True)
    (layouts / "base" / "print").mkdir()
    (layouts / "base" / "fonts").mkdir()
    (layouts / "base" / "layout.yaml").write_text("name: Base\n")
    (layouts / "base" / "labels" / "en.yaml").write_text("contents: Contents\n")
    shutil.copy(default / "print" / "back.html.j2", layouts / "base" / "print" / "back.html.j2")
    shutil.copy(default / "fonts" / "SourceSerif4-Regular.ttf", layouts / "base" / "fonts")
    (layouts / "mine" / "print").mkdir(parents=True)
    (layouts / "mine" / "layout.yaml").write_text("name: Mine\nextends: base\n")
    shutil.copy(default / "print" / "cover.html.j2", layouts / "mine" / "print" / "cover.html.j2")
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text() + "layout: mine\n")
    return minimal_tree


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def relabel(path: Path, text: str) -> None:
    path.write_text(text)
    forget_labels()  # this process read them already; a new process, or serve, reads them again


def swap_font(tree: Path) -> None:
    shutil.copy(
        BUILTIN_LAYOUTS / "default" / "fonts" / "SourceSerif4-Italic.ttf",
        tree / "layouts/base/fonts/SourceSerif4-Regular.ttf",
    )


def swap_image(tree: Path) -> None:
    images = tree / SLUG / "images"
    shutil.copy(images / "ada.png", images / "chart.png")


CHANGES = {
    "a brief": lambda tree: append(tree / SLUG / "briefs/one.yaml", "subtitle: Now with a subtitle\n"),
    "an image": swap_image,
    "publication.yaml": lambda tree: (tree / "publication.yaml").write_text(
        (tree / "publication.yaml").read_text().replace("Minimal Chair", "Minimal Seat")
    ),
    "issue.yaml": lambda tree: (tree / SLUG / "issue.yaml").write_text(
        (tree / SLUG / "issue.yaml").read_text().replace("A minimal issue", "A changed issue")
    ),
    "a layout template": lambda tree: append(tree / "layouts/mine/print/cover.html.j2", "<p>changed cover</p>\n"),
    "a parent layout's template": lambda tree: append(
        tree / "layouts/base/print/back.html.j2", "<p>changed back</p>\n"
    ),
    "a parent layout's labels": lambda tree: relabel(tree / "layouts/base/labels/en.yaml", "key_findings: Found\n"),
    "a font file": swap_font,
}


@pytest.mark.parametrize("change", CHANGES)
def test_changing_any_input_renders_the_pdf_again_and_changes_it(tree: Path, tmp_path: Path, change: str) -> None:
    out = tmp_path / "build"
    first = build(tree / SLUG, out, only=("pdf",))
    pdf = first.out_dir / f"{SLUG}.pdf"
    before = pdf.read_bytes()
    CHANGES[change](tree)
    second = build(tree / SLUG, out, only=("pdf",))
    assert not second.up_to_date and not second.reused
    assert pdf.read_bytes() != before
    third = build(tree / SLUG, out, only=("pdf",))
    assert third.up_to_date  # and the new inputs are what the cache now holds


def test_the_code_and_every_option_are_in_the_key(tree: Path, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "build"
    build(tree / SLUG, out, only=("pdf",))
    pdf = out / SLUG / f"{SLUG}.pdf"
    assert build(tree / SLUG, out, only=("pdf",)).up_to_date
    padded = build(tree / SLUG, out, only=("pdf",), pad_to=4)
    assert not padded.up_to_date and not padded.reused and padded.pages % 4 == 0
    padded_pdf = pdf.read_bytes()
    archived = build(tree / SLUG, out, only=("pdf",), pdf_variant="pdf/a-3b", pad_to=4)
    assert not archived.reused and pdf.read_bytes() != padded_pdf
    # another version of research-news (or an edited checkout): nothing is reused
    monkeypatch.setattr(uptodate, "__version__", "99.0")  # where the code fingerprint is made
    caching.code_fingerprint.cache_clear()
    try:
        again = build(tree / SLUG, out, only=("pdf",), pdf_variant="pdf/a-3b", pad_to=4)
    finally:
        monkeypatch.undo()
        caching.code_fingerprint.cache_clear()
    assert not again.up_to_date and not again.reused


def test_nothing_changed_renders_nothing_writes_nothing_and_never_loads_weasyprint(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    first = run_cli("build", tree / SLUG, "--out", out)
    assert first.exit_code == 0, first.output
    before = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in (out / SLUG).rglob("*") if path.is_file()}
    second = run_cli("build", tree / SLUG, "--out", out)
    assert second.exit_code == 0
    assert f"Up to date: {out / SLUG}/ (nothing changed since the last build)" in second.stdout
    after = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in (out / SLUG).rglob("*") if path.is_file()}
    assert after == before
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from research_news.build import build; "
            f"result = build(Path({str(tree / SLUG)!r}), Path({str(out)!r})); "
            "print(result.up_to_date, 'weasyprint' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.split() == ["True", "False"]


def test_warnings_are_still_reported_when_nothing_changed(tree: Path, tmp_path: Path) -> None:
    (tree / "publication.yaml").write_text(
        "\n".join(line for line in (tree / "publication.yaml").read_text().splitlines() if "from:" not in line) + "\n"
    )
    out = tmp_path / "build"
    first = build(tree / SLUG, out)
    assert first.warnings
    second = build(tree / SLUG, out)
    assert second.up_to_date and [str(w) for w in second.warnings] == [str(w) for w in first.warnings]


def test_one_brief_changed_cuts_every_offprint_from_the_new_layout(tree: Path, tmp_path: Path) -> None:
    """Offprints are cut from the issue's layout (their page numbers depend on the briefs before them):
    a changed brief lays the issue out again and every offprint is cut from it; the pages of a brief
    before it did not move, so its offprint is the same bytes."""
    out = tmp_path / "build"
    build(tree / SLUG, out, only=("offprints", "web"))
    offprints = out / SLUG / "offprints"
    one, two = (offprints / "one.pdf").read_bytes(), (offprints / "two.pdf").read_bytes()
    append(tree / SLUG / "briefs/two.yaml", "subtitle: Changed\n")
    result = build(tree / SLUG, out, only=("offprints", "web"))
    assert not {"offprints/one.pdf", "offprints/two.pdf", "index.html"} & set(reused(result))
    assert (offprints / "one.pdf").read_bytes() == one and (offprints / "two.pdf").read_bytes() != two


def test_a_deleted_briefs_offprint_is_removed(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    build(tree / SLUG, out, only=("offprints",))
    issue_yaml = tree / SLUG / "issue.yaml"
    issue_yaml.write_text(issue_yaml.read_text().replace("      - briefs/two.yaml\n", ""))
    (tree / SLUG / "briefs/two.yaml").unlink()
    build(tree / SLUG, out, only=("offprints",))
    assert sorted(p.name for p in (out / SLUG / "offprints").iterdir()) == ["one.pdf"]


def cache_files(out: Path) -> list[Path]:
    return [p for p in (out / caching.CACHE_FOLDER / SLUG).rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",  # every stored file cut short
        "corrupt",  # every stored file's bytes replaced
        "foreign",  # another format's JSON
    ],
)
def test_a_damaged_cache_is_never_trusted(tree: Path, tmp_path: Path, damage: str) -> None:
    out = tmp_path / "build"
    build(tree / SLUG, out, only=("pdf", "web"))
    good = files(out / SLUG)
    for path in cache_files(out):
        data = path.read_bytes()
        if damage == "truncated":
            path.write_bytes(data[: len(data) // 2])
        elif damage == "corrupt":
            path.write_bytes(bytes(reversed(data)))
        elif path.suffix == ".json":
            path.write_text(json.dumps({**json.loads(data), "format": 999}))
    (out / SLUG / f"{SLUG}.pdf").unlink()  # something to do: the edition must come from somewhere
    result = build(tree / SLUG, out, only=("pdf", "web"))
    assert not result.reused
    assert files(out / SLUG) == good


def test_a_stored_pdf_tampered_with_is_rendered_again(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    build(tree / SLUG, out, only=("pdf", "web"))
    pdf = out / SLUG / f"{SLUG}.pdf"
    good = pdf.read_bytes()
    blob = next(p for p in cache_files(out) if p.read_bytes() == good)
    middle = len(good) // 2
    blob.write_bytes(good[:middle] + bytes([good[middle] ^ 1]) + good[middle + 1 :])  # one bit flipped
    pdf.unlink()
    result = build(tree / SLUG, out, only=("pdf", "web"))
    assert "index.html" in reused(result) and f"{SLUG}.pdf" not in reused(result)
    assert pdf.read_bytes() == good


def test_force_renders_everything_again(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    build(tree / SLUG, out, only=("pdf", "web"))
    forced = run_cli("build", tree / SLUG, "--out", out, "--only", "pdf,web", "--force")
    assert forced.exit_code == 0 and "Up to date" not in forced.stdout and "reused" not in forced.stdout
    assert build(tree / SLUG, out, only=("pdf", "web"), force=True).reused == []


def test_the_summary_says_what_was_reused(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    build(tree / SLUG, out, only=("pdf", "web"))
    (out / SLUG / "index.html").unlink()
    append(tree / SLUG / "briefs/one.yaml", "subtitle: Now with a subtitle\n")
    build(tree / SLUG, out, only=("pdf", "web"))
    (out / SLUG / "index.html").unlink()  # nothing changed since: every file comes from the cache
    result = run_cli("build", tree / SLUG, "--out", out, "--only", "pdf,web")
    assert result.exit_code == 0
    count = sum(1 for path in (out / SLUG).rglob("*") if path.is_file()) - 1  # not the manifest
    assert f"{count} files (0 rendered, {count} reused)" in result.stdout, result.stdout


def test_the_pdf_is_byte_identical_cold_from_the_cache_and_in_parallel(tree: Path, tmp_path: Path) -> None:
    cold_a = build(tree / SLUG, tmp_path / "a", only=("pdf", "offprints"))
    cold_b = build(tree / SLUG, tmp_path / "b", only=("pdf", "offprints"))
    assert files(cold_a.out_dir) == files(cold_b.out_dir)
    (cold_a.out_dir / f"{SLUG}.pdf").unlink()
    (cold_a.out_dir / "offprints" / "one.pdf").unlink()
    cached = build(tree / SLUG, tmp_path / "a", only=("pdf", "offprints"))
    assert len(cached.reused) == 3
    assert files(cold_a.out_dir) == files(cold_b.out_dir)
    # offprints rendered in parallel processes, and one by one in this one
    from research_news.assemble import assemble

    edition = assemble(load_content(tree / SLUG))
    parallel = render_offprints(edition)
    assert {slug: pdf.data for slug, pdf in parallel.items()} == {
        slug: render_offprint(edition, slug).data for slug in ("one", "two")
    }
    assert parallel["one"].data == (cold_b.out_dir / "offprints" / "one.pdf").read_bytes()


def test_two_builds_of_the_same_tree_at_once_both_succeed(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    command = [sys.executable, "-m", "research_news", "build", str(tree / SLUG), "--out", str(out), "--quiet"]
    builds = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for process in builds:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    reference = build(tree / SLUG, tmp_path / "reference")
    assert files(out / SLUG) == files(reference.out_dir)
    assert build(tree / SLUG, out).up_to_date


def test_json_nested_too_deep_in_any_cache_file_is_a_miss(tmp_path: Path) -> None:
    """A hand-made or damaged file of brackets opened 100,000 deep makes json raise RecursionError, not
    ValueError: every reader of the cache, the record and the manifest treats it as nothing kept."""
    from research_news.manifest import MANIFEST_NAME, Manifest
    from research_news.uptodate import RECORD, read_record

    deep = "[" * 100_000
    (tmp_path / MANIFEST_NAME).write_text(deep)
    (tmp_path / RECORD).write_text(deep)
    (tmp_path / "entry.json").write_text(deep)
    assert Manifest.read(tmp_path).editions == {}
    assert read_record(tmp_path) is None
    assert caching._read_entry(tmp_path / "entry.json") is None
