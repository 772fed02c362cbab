"""render/lines.py: a line WeasyPrint broke once in a print job is not broken again, and the PDFs are
the same bytes as without the memo."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import weasyprint
from weasyprint.text import line_break

from research_news.assemble import assemble
from research_news.render import lines
from research_news.render import pdf as pdf_module
from research_news.validate import load_content

from .conftest import SAMPLE_ROOT

HOLED_ISSUE = SAMPLE_ROOT / "2023-03-advertising-and-democracy"  # a brief with a hole: one trial layout

WEASYPRINT = Path(weasyprint.__file__).parent


class _Style(dict):
    """A computed style as WeasyPrint's line breaking sees it: properties, and the fonts."""

    def __init__(self, fonts: object, **changed: object) -> None:
        super().__init__(dict.fromkeys(lines.TEXT_PROPERTIES, "normal"), font_size=12.0, lang="en")
        self.update(changed)
        self.font_config = fonts


class _Layout:
    """A layout done with, as WeasyPrint hands it back: plain attributes, no Pango object."""

    def __init__(self, text: str) -> None:
        self.text = text


@pytest.fixture
def breaker():
    """A wrapped stand-in for ``split_first_line`` and the questions it was really asked."""
    asked: list[tuple[str, float]] = []

    def split_first_line(text, style, context, max_width, justification_spacing, is_line_start=True, minimum=False):
        asked.append((text, max_width))
        return _Layout(text), len(text), None, 10.0, 12.0, 9.0

    return lines._remembering(split_first_line), asked


def test_the_same_question_is_answered_once_per_print_job_with_a_layout_of_its_own(breaker):
    wrapped, asked = breaker
    fonts, style = object(), None
    style = _Style(fonts)
    with lines.remembered():
        first = wrapped("Some words", style, None, 100.0, 0)
        again = wrapped("Some words", _Style(fonts), None, 100.0, 0)  # another element, the same style
        assert asked == [("Some words", 100.0)]
        assert again[1:] == first[1:] and again[0] is not first[0] and again[0].text == "Some words"
    wrapped("Some words", style, None, 100.0, 0)  # the job is over: the memo is gone
    assert len(asked) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"text": "Other words"},
        {"max_width": 90.0},
        {"justification_spacing": 1.5},
        {"is_line_start": False},
        {"minimum": True},
        {"fonts": "other"},
        *({"style": {name: "changed"}} for name in lines.TEXT_PROPERTIES),
    ],
)
def test_a_question_that_differs_in_anything_line_breaking_reads_is_asked_again(breaker, change):
    wrapped, asked = breaker
    fonts = object()
    question = {"text": "Some words", "max_width": 100.0, "justification_spacing": 0, "is_line_start": True}
    with lines.remembered():
        wrapped(*_arguments(question, fonts, {}))
        other_fonts = object() if change.get("fonts") else fonts
        wrapped(*_arguments({**question, **change}, other_fonts, change.get("style", {})))
    assert len(asked) == 2


def _arguments(question: dict, fonts: object, style: dict) -> tuple:
    return (
        question["text"],
        _Style(fonts, **style),
        None,
        question["max_width"],
        question["justification_spacing"],
        question["is_line_start"],
        question.get("minimum", False),
    )


def test_a_style_changed_in_place_is_a_new_question(breaker):
    wrapped, asked = breaker
    style = _Style(object())
    with lines.remembered():
        wrapped("Some words", style, None, 100.0, 0)
        style["font_size"] = 20.0  # WeasyPrint sets ::first-line properties on a copy it then changes
        wrapped("Some words", style, None, 100.0, 0)
    assert len(asked) == 2


def test_sets_and_lists_are_compared_by_their_members(breaker):
    wrapped, asked = breaker
    fonts = object()
    with lines.remembered():
        wrapped("Some words", _Style(fonts, font_family=["Serif"], text_decoration_line={"underline"}), None, 100.0, 0)
        wrapped("Some words", _Style(fonts, font_family=["Serif"], text_decoration_line={"underline"}), None, 100.0, 0)
        wrapped("Some words", _Style(fonts, font_family=["Sans"], text_decoration_line={"underline"}), None, 100.0, 0)
        wrapped("Some words", _Style(fonts, font_family=["Serif"], text_decoration_line={"overline"}), None, 100.0, 0)
        wrapped("Some words", _Style(fonts, font_family=("Serif",), text_decoration_line={"underline"}), None, 100.0, 0)
    assert len(asked) == 4  # the second is the first again; a tuple is not taken for a list


class _Calc:
    """A value compared by identity (tinycss2's nodes: a ``calc()`` whose text would hide its arguments)."""

    def __repr__(self) -> str:
        return "<FunctionBlock calc( … )>"


def test_values_compared_by_identity_are_never_taken_for_one_another(breaker):
    wrapped, asked = breaker
    fonts = object()
    with lines.remembered():
        wrapped(
            "Some words", _Style(fonts, hyphenate_limit_zone=_Calc(), text_decoration_line={"underline"}), None, 9, 0
        )
        wrapped(
            "Some words", _Style(fonts, hyphenate_limit_zone=_Calc(), text_decoration_line={"underline"}), None, 9, 0
        )
    assert len(asked) == 2


def test_a_value_that_cannot_be_hashed_is_asked_every_time(breaker):
    wrapped, asked = breaker
    style = _Style(object(), font_feature_settings={"liga": 1})
    with lines.remembered():
        for _ in range(2):
            assert wrapped("Some words", style, None, 100.0, 0)[1] == len("Some words")
    assert len(asked) == 2


def test_past_its_budget_the_memo_keeps_nothing_more(breaker, monkeypatch):
    wrapped, asked = breaker
    monkeypatch.setattr(lines, "MAX_REMEMBERED_CHARACTERS", len("Some words"))
    style = _Style(object())
    with lines.remembered():
        for _ in range(2):
            wrapped("Some words", style, None, 100.0, 0)
            wrapped("More words", style, None, 100.0, 0)
    assert asked == [("Some words", 100.0), ("More words", 100.0), ("More words", 100.0)]


def test_nested_blocks_share_one_memo_dropped_when_the_last_ends(breaker):
    wrapped, asked = breaker
    style = _Style(object())
    with lines.remembered():
        with lines.remembered():
            wrapped("Some words", style, None, 100.0, 0)
        wrapped("Some words", style, None, 100.0, 0)
        assert lines._memo
    assert lines._memo is None
    assert len(asked) == 1


def test_line_breaking_reads_no_style_property_the_memo_does_not_compare():
    """When an upgrade of WeasyPrint breaks lines by a property not in TEXT_PROPERTIES, the memo
    could answer a question by a wrong line: this fails, naming it."""
    read: set[str] = set()
    for module in ("text/line_break.py", "text/fonts.py"):
        for node in ast.walk(ast.parse((WEASYPRINT / module).read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, str)
                and "style" in ast.unparse(node.value)
            ):
                read.add(node.slice.value)
    assert "font_size" in read  # the scan finds what it looks for
    assert read <= set(lines.TEXT_PROPERTIES), sorted(read - set(lines.TEXT_PROPERTIES))


def test_line_breaking_uses_nothing_of_the_layout_context():
    """The memo is shared by the layouts of a print job, each with its own layout context: WeasyPrint's
    line breaking must only pass the context along, or keep hyphenation dictionaries in it (a cache by
    language and limits, the same in every context)."""
    source = inspect.getsource(line_break)
    tree = ast.parse(source)
    used = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "context"
        and node.attr != "dictionaries"
    ]
    assert not used, [ast.unparse(node) for node in used]
    assert list(inspect.signature(line_break.split_first_line).parameters) == lines.PARAMETERS


def test_weasyprint_layouts_go_through_the_memo():
    from weasyprint.layout import inline, preferred

    lines.install()
    assert inline.split_first_line.remembers_lines and preferred.split_first_line.remembers_lines
    lines.install()  # idempotent
    assert not getattr(inline.split_first_line.__wrapped__, "remembers_lines", False)


def test_the_pdfs_are_the_same_bytes_with_fewer_lines_broken(monkeypatch):
    """A real print job (the first layout, pagination's trial, the issue and every offprint) with the
    memo and without: the same bytes, and Pango asked far fewer times."""
    edition = assemble(load_content(HOLED_ISSUE))
    slugs = [brief.slug for brief in edition.briefs]
    layouts: list[int] = []
    create_layout = line_break.create_layout

    def counted(*args, **kwargs):
        layouts[-1] += 1
        return create_layout(*args, **kwargs)

    monkeypatch.setattr(line_break, "create_layout", counted)
    printed = {}
    for budget in (0, lines.MAX_REMEMBERED_CHARACTERS):  # 0: nothing kept, every line asked of Pango
        monkeypatch.setattr(lines, "MAX_REMEMBERED_CHARACTERS", budget)
        layouts.append(0)
        printed[budget] = pdf_module.render_print(edition, offprints=slugs)
    without, with_memo = printed.values()
    assert with_memo.issue.data == without.issue.data
    assert all(with_memo.offprints[slug].data == without.offprints[slug].data for slug in slugs)
    assert layouts[1] < layouts[0] / 2, layouts
