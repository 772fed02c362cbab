"""Layouts: the package's own, manifests, layouts that extend layouts, `!parent` templates, labels."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from research_news.assemble import assemble
from research_news.exceptions import ContentError
from research_news.layout import BUILTIN_LAYOUTS, DEFAULT, Layout, LayoutError
from research_news.render.email import render_email
from research_news.render.pdf import render_html
from research_news.render.text import render_text
from research_news.validate import Checker, load_content

from .conftest import REPO


def test_the_default_layout_ships_inside_the_package():
    assert BUILTIN_LAYOUTS == REPO / "src" / "research_news" / "layouts"
    assert (BUILTIN_LAYOUTS / DEFAULT / "layout.yaml").is_file()


def test_the_wheel_carries_every_file_of_the_default_layout(tmp_path: Path):
    """Built from a copy (setuptools writes build/ beside pyproject.toml), offline."""
    source = tmp_path / "source"
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(tmp_path / "wheel"),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = (tmp_path / "wheel").glob("*.whl")
    carried = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("research_news/layouts/")}
    shipped = {
        f"research_news/layouts/{path.relative_to(BUILTIN_LAYOUTS).as_posix()}"
        for path in BUILTIN_LAYOUTS.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert shipped and carried == shipped


def test_the_default_manifest_declares_the_fonts_and_the_email_summary(minimal_tree: Path):
    layout = Layout(minimal_tree)
    assert len(layout.folders) == 1 and layout.folders[0] == (BUILTIN_LAYOUTS / DEFAULT).resolve()
    assert {face.family for face in layout.fonts} == {"RN Serif", "RN Display", "RN Sans"}
    assert all(layout.file(f"fonts/{face.file}") for face in layout.fonts)
    assert layout.email_summary == ("why_it_matters", "key_takeaways")


# --- a publisher's layouts --------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def use_layout(tree: Path, name: str) -> None:
    publication = tree / "publication.yaml"
    publication.write_text(publication.read_text() + f"layout: {name}\n")


def edition_of(tree: Path):
    return assemble(load_content(tree / "2024-05-minimal"))


def problems_of(tree: Path) -> list[str]:
    checker = Checker()
    checker.check_path(tree)
    return [
        f"{p.path.relative_to(tree)}:{p.line}:{p.column}: {p.message}" + (f" ({p.hint})" if p.hint else "")
        for p in checker.problems
        if p.severity == "error"
    ]


def test_an_override_extends_the_template_it_replaces_and_changes_one_block(minimal_tree: Path):
    write(minimal_tree / "layouts/house/layout.yaml", "extends: default\n")
    write(
        minimal_tree / "layouts/house/print/cover.html.j2",
        '{% extends "!parent/print/cover.html.j2" %}\n'
        '{% block masthead %}<div class="house-masthead">{{ publication.name | upper }}</div>{% endblock %}\n',
    )
    use_layout(minimal_tree, "house")
    html = render_html(edition_of(minimal_tree))
    assert '<div class="house-masthead">MINIMAL CHAIR</div>' in html
    assert 'class="cover__masthead"' not in html  # the block replaced
    assert 'class="cover__panel"' in html and 'class="cover__top"' in html  # the others kept


def test_parent_templates_follow_a_chain_of_layouts(minimal_tree: Path):
    """house extends base extends default: each cover adds to the one before it."""
    write(minimal_tree / "layouts/base/layout.yaml", "name: Base\n")
    write(
        minimal_tree / "layouts/base/print/cover.html.j2",
        '{% extends "!parent/print/cover.html.j2" %}\n'
        '{% block panel %}<p class="base-panel">base</p>{{ super() }}{% endblock %}\n',
    )
    write(minimal_tree / "layouts/house/layout.yaml", "extends: base\n")
    write(
        minimal_tree / "layouts/house/print/cover.html.j2",
        '{% extends "!parent/print/cover.html.j2" %}\n'
        '{% block panel %}<p class="house-panel">house</p>{{ super() }}{% endblock %}\n',
    )
    use_layout(minimal_tree, "house")
    edition = edition_of(minimal_tree)
    assert [folder.name for folder in edition.layout.folders] == ["house", "base", "default"]
    html = render_html(edition)
    assert html.index('class="house-panel"') < html.index('class="base-panel"') < html.index('class="cover__panel"')
    assert html.count('class="cover__panel"') == 1


def test_the_default_layout_has_no_parent(minimal_tree: Path):
    write(minimal_tree / "layouts/house/print/cover.html.j2", '{% extends "!parent/print/nothing.html.j2" %}\n')
    use_layout(minimal_tree, "house")
    with pytest.raises(LayoutError, match=re.escape("nothing.html.j2")):
        render_html(edition_of(minimal_tree))


def test_a_layout_extending_an_unknown_layout_or_itself_is_located(minimal_tree: Path):
    write(minimal_tree / "layouts/house/layout.yaml", "name: House\nextends: hous\n")
    use_layout(minimal_tree, "house")
    assert problems_of(minimal_tree) == [
        'layouts/house/layout.yaml:2:10: extends: no layout "hous" '
        "(name a layout in layouts/ beside the issues, or `default`)"
    ]
    write(minimal_tree / "layouts/house/layout.yaml", "extends: base\n")
    write(minimal_tree / "layouts/base/layout.yaml", "extends: house\n")
    assert problems_of(minimal_tree) == [
        'layouts/base/layout.yaml:1:10: extends: "house" leads back to a layout already in the chain '
        "(house → base → house) (name a layout in layouts/ beside the issues, or `default`)"
    ]


def test_a_misspelt_manifest_field_is_located_with_a_suggestion(minimal_tree: Path):
    write(
        minimal_tree / "layouts/house/layout.yaml",
        "extend: default\nfonts:\n  - {family: House, file: ../../secret.ttf, weight: 450}\n",
    )
    use_layout(minimal_tree, "house")
    found = problems_of(minimal_tree)
    assert "layouts/house/layout.yaml:1:1: unknown field `extend` (did you mean `extends`?)" in found
    assert (
        'layouts/house/layout.yaml:3:27: fonts[0].file: "../../secret.ttf" is not a file name: name a file '
        "in the layout's fonts/ folder, without a folder (e.g. MySerif-Regular.ttf)"
    ) in found
    assert any(
        line.startswith("layouts/house/layout.yaml:3:53: fonts[0].weight: the number 450 is not one of 100,")
        for line in found
    ), found


def test_labels_files_are_checked_name_by_name(minimal_tree: Path):
    write(minimal_tree / "layouts/house/layout.yaml", "labels: [partners]\n")
    write(
        minimal_tree / "layouts/house/labels/fr.yaml",
        "key_finding: Résultats\npartners: Partenaires\nmonths: [janvier]\n",
    )
    use_layout(minimal_tree, "house")
    assert problems_of(minimal_tree) == [
        "layouts/house/labels/fr.yaml:1:1: unknown field `key_finding` (did you mean `key_findings`?)",
        "layouts/house/labels/fr.yaml:3:9: months: needs at least 12 items",
    ]
    write(minimal_tree / "layouts/house/labels/fr.yaml", "key_findings: Résultats\npartners: Partenaires\n")
    assert problems_of(minimal_tree) == []
    assert Layout(minimal_tree, "house").labels("fr")["partners"] == "Partenaires"


def test_the_email_summary_is_chosen_by_the_layout_in_both_parts(minimal_tree: Path):
    write(minimal_tree / "layouts/house/layout.yaml", "email:\n  summary: [methodology]\n")
    use_layout(minimal_tree, "house")
    edition = edition_of(minimal_tree)
    text, html = render_text(edition), render_email(edition)
    labels = edition.labels
    for rendered in (text, html):
        assert labels["methodology"] in rendered
        assert labels["why_it_matters"] not in rendered and labels["key_takeaways"] not in rendered


def test_a_layout_adds_and_replaces_font_faces(minimal_tree: Path):
    fonts = BUILTIN_LAYOUTS / DEFAULT / "fonts"
    write(
        minimal_tree / "layouts/house/layout.yaml",
        "fonts:\n  - {family: RN Serif, file: HouseSerif.ttf}\n  - {family: House Mono, file: HouseMono.ttf}\n",
    )
    (minimal_tree / "layouts/house/fonts").mkdir()
    for name in ("HouseSerif.ttf", "HouseMono.ttf"):
        shutil.copy(fonts / "SourceSans3-Regular.ttf", minimal_tree / "layouts/house/fonts" / name)
    use_layout(minimal_tree, "house")
    layout = Layout(minimal_tree, "house")
    regular = [
        face.file for face in layout.fonts if (face.family, face.weight, face.style) == ("RN Serif", 400, "normal")
    ]
    assert regular == ["HouseSerif.ttf"] and "House Mono" in {face.family for face in layout.fonts}
    html = render_html(edition_of(minimal_tree))
    assert "layouts/house/fonts/HouseSerif.ttf" in html and "SourceSerif4-Regular.ttf" not in html


def test_a_manifest_error_stops_check_not_with_a_traceback(minimal_tree: Path):
    write(minimal_tree / "layouts/house/layout.yaml", "fonts: {family: x}\n")
    use_layout(minimal_tree, "house")
    with pytest.raises(ContentError):
        load_content(minimal_tree / "2024-05-minimal")


@pytest.mark.parametrize(
    ("language", "subject", "title"),
    [
        ("en", "Research News #3: A minimal issue", "Research News issue 3: A minimal issue"),
        ("fr", "Research News n°\u00a03\u202f: A minimal issue", "Research News numéro 3\u202f: A minimal issue"),
        ("de", "Research News Nr. 3: A minimal issue", "Research News, Ausgabe 3: A minimal issue"),
    ],
)
def test_subject_and_title_are_spelt_by_the_labels(minimal_tree: Path, language: str, subject: str, title: str):
    issue = minimal_tree / "2024-05-minimal" / "issue.yaml"
    issue.write_text(issue.read_text() + f"language: {language}\n")
    edition = edition_of(minimal_tree)
    assert (edition.subject, edition.title) == (subject, title)
    issue.write_text(issue.read_text().replace("headline: A minimal issue\n", ""))
    assert edition_of(minimal_tree).subject == subject.split(":")[0].rstrip("\u202f")


def test_a_pattern_label_with_an_unknown_placeholder_is_located(minimal_tree: Path):
    write(minimal_tree / "layouts/house/labels/en.yaml", 'subject: "{series} #{numbr}"\n')
    use_layout(minimal_tree, "house")
    assert problems_of(minimal_tree) == [
        "layouts/house/labels/en.yaml:1:10: subject: {numbr} is not one of {series}, {issue}, {number}, {headline}"
    ]


def test_every_shipped_language_has_every_label():
    from research_news.layout_manifest import DATE_LABELS, Labels, read_labels

    files = sorted((BUILTIN_LAYOUTS / DEFAULT / "labels").glob("*.yaml"))
    assert {path.stem for path in files} >= {"en", "fr", "de"}
    for path in files:  # dates come from Babel: the date labels are a layout's overrides
        assert set(read_labels(path)) == set(Labels.model_fields) - set(DATE_LABELS), path.name


def test_the_example_layout_in_the_readme_builds(sample_tree: Path):
    """layouts/harbour (README, "Make your own layout"): a new cover masthead and the layout's colours."""
    from research_news.render.theme import palette

    shutil.copytree(REPO / "layouts" / "harbour", sample_tree / "layouts" / "harbour")
    publication = sample_tree / "publication.yaml"
    text = publication.read_text()
    start = text.index("colors:")
    end = text.index("\n\n", start)
    publication.write_text(text[:start] + text[end + 2 :].replace("layout: default", "layout: harbour"))
    edition = assemble(load_content(sample_tree / "2023-01-data-and-society"))
    assert [folder.name for folder in edition.layout.folders] == ["harbour", "default"]
    assert palette(edition).accent == "#e4572e"
    html = render_html(edition)
    assert '<h1 class="harbour-masthead__series">' in html and ".harbour-masthead {" in html
    assert 'class="cover__panel"' in html and 'class="cover__masthead"' not in html
