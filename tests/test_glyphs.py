"""Characters no font can draw are reported where they were written; those a system font draws are not."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from research_news.assemble import assemble
from research_news.render.pdf import render_pdf
from research_news.validate import load_content

from .conftest import run_cli


def installed_font_has(character: str) -> bool:
    """Whether fontconfig knows a font with ``character`` (what WeasyPrint falls back to)."""
    listed = subprocess.run(
        ["fc-list", f":charset={ord(character):x}", "family"], capture_output=True, text=True, check=False
    )
    return bool(listed.stdout.strip())


needs_fc_list = pytest.mark.skipif(shutil.which("fc-list") is None, reason="fc-list is not installed")
CJK = "中文"
SNOWMAN = "\u2603"  # in DejaVu Sans, not in the default layout's Source fonts


@needs_fc_list
def test_characters_no_font_has_are_reported_at_their_field(minimal_tree: Path, tmp_path: Path) -> None:
    if any(installed_font_has(ch) for ch in CJK):
        pytest.skip("a CJK font is installed here, so nothing prints as a box")
    brief = minimal_tree / "2024-05-minimal" / "briefs" / "one.yaml"
    text = brief.read_text(encoding="utf-8")
    text = text.replace("title: A short study of small things", f"title: A short study of {CJK} things")
    text = text.replace("  We counted them.\n", f"  We counted them.\n  Then {CJK[1]} again.\n")
    brief.write_text(text, encoding="utf-8")

    result = run_cli("build", minimal_tree / "2024-05-minimal", "--out", tmp_path / "build", "--only", "pdf")

    assert result.exit_code == 0, result.stderr
    boxes = [line for line in result.stderr.splitlines() if "empty box" in line]
    assert len(boxes) == 2, result.stderr
    title, methodology = boxes
    # title: at line 1, column 25 ("title: A short study of " is 24 characters)
    assert "one.yaml:1:25: warning: title: " in title, title
    assert '"中" (U+4E2D) and "文" (U+6587) are in none of the fonts, so the PDF shows them as empty boxes' in title
    assert "RN Serif" in title and "DejaVu" in title and "fonts/ folder" in title
    # methodology: the second line of its block (line 14), where "文" is written after "  Then "
    assert "one.yaml:14:8: warning: methodology: " in methodology, methodology
    assert '"文" (U+6587) is in none of the fonts, so the PDF shows it as an empty box' in methodology


@needs_fc_list
def test_a_character_a_system_font_draws_is_not_reported(minimal_tree: Path) -> None:
    if not installed_font_has(SNOWMAN):
        pytest.skip("no installed font has U+2603 (DejaVu Sans does: fonts-dejavu-core)")
    brief = minimal_tree / "2024-05-minimal" / "briefs" / "one.yaml"
    brief.write_text(
        brief.read_text(encoding="utf-8").replace("small things", f"small {SNOWMAN} things"), encoding="utf-8"
    )

    rendered = render_pdf(assemble(load_content(minimal_tree / "2024-05-minimal")))

    assert not [w for w in rendered.warnings if "empty box" in w.message], rendered.warnings


def font_with(character: str, path: Path) -> None:
    """A tiny TrueType font that draws ``character`` as a square, and a space (Pango shapes the
    spaces around a character with the font that has the character)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    pen = TTGlyphPen(None)
    for point in ((100, 0), (100, 700), (800, 700), (800, 0)):
        (pen.lineTo if point != (100, 0) else pen.moveTo)(point)
    pen.closePath()
    square = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "space", "square"])
    builder.setupCharacterMap({ord(" "): "space", ord(character): "square"})
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "space": TTGlyphPen(None).glyph(), "square": square})
    builder.setupHorizontalMetrics({".notdef": (500, 0), "space": (250, 0), "square": (900, 100)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Test Square", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(str(path))


@needs_fc_list
def test_a_font_added_to_the_layout_draws_what_the_system_cannot(minimal_tree: Path) -> None:
    """What the README says: put the file in the layout's fonts/, declare it with @font-face."""
    from research_news.layout import BUILTIN_LAYOUTS

    character = CJK[0]
    if installed_font_has(character):
        pytest.skip("a CJK font is installed here")
    layout = minimal_tree / "layouts" / "mylayout"
    (layout / "fonts").mkdir(parents=True)
    (layout / "print").mkdir()
    font_with(character, layout / "fonts" / "TestSquare.ttf")
    head = (BUILTIN_LAYOUTS / "default" / "print" / "head.html.j2").read_text(encoding="utf-8")
    declaration = '@font-face { font-family: "RN Square"; src: url("{{ layout_url(\'fonts/TestSquare.ttf\') }}"); }\n'
    (layout / "print" / "head.html.j2").write_text(
        head.replace(":root {", declaration + ":root {", 1), encoding="utf-8"
    )
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text() + "layout: mylayout\n")
    brief = minimal_tree / "2024-05-minimal" / "briefs" / "one.yaml"
    brief.write_text(
        brief.read_text(encoding="utf-8").replace("small things", f"small {character} things"), encoding="utf-8"
    )

    rendered = render_pdf(assemble(load_content(minimal_tree / "2024-05-minimal")))

    # No installed font has it (see the skip), so only the layout's font can have drawn it.
    assert not [w for w in rendered.warnings if "empty box" in w.message], rendered.warnings


def test_boxes_are_located_in_the_content_as_it_was_checked(minimal_tree: Path) -> None:
    """The fields holding the characters are found in the validated documents the edition keeps,
    not by reading the YAML again: a brief deleted after the check still locates its title."""
    from research_news.glyphs import box_problems

    brief = minimal_tree / "2024-05-minimal" / "briefs" / "one.yaml"
    brief.write_text(
        brief.read_text(encoding="utf-8").replace(
            "title: A short study of small things", f"title: A short study of {CJK} things"
        ),
        encoding="utf-8",
    )
    edition = assemble(load_content(minimal_tree / "2024-05-minimal"))
    brief.unlink()

    [problem] = box_problems(edition, set(CJK), "")

    assert (problem.path.name, problem.line, problem.column) == ("one.yaml", 1, 25)
    assert problem.message.startswith("title: ")
