"""The recipients file: every problem reported at once, at its CSV line and column."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research_news.exceptions import ContentError, UsageError
from research_news.recipients import _records, read_recipients


def csv_file(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "subscribers.csv"
    path.write_bytes(text.encode(encoding))
    return path


def problems(path: Path, **options) -> list[tuple[int, int, str]]:
    """(line, column, message) of each problem ``read_recipients`` raises."""
    with pytest.raises(ContentError) as caught:
        read_recipients(path, **options)
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def test_reads_names_languages_and_normalises_domains(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "\ufeffemail,name,language\r\n"
        'ada@example.org,"Lovelace, Ada",en\r\n'
        "\r\n"
        "  zoe@exämple.org ,Zoë O'Brien,fr-CA\r\n"
        "bob@example.org,,\r\n",
    )
    result = read_recipients(path)
    assert [(r.email, r.name, r.language, r.line) for r in result.recipients] == [
        ("ada@example.org", "Lovelace, Ada", "en", 2),
        ("zoe@xn--exmple-cua.org", "Zoë O'Brien", "fr-CA", 4),  # sent as IDNA: every relay takes it
        ("bob@example.org", "", "", 5),
    ]
    assert result.skipped == []


def test_email_column_alone_is_enough_and_header_case_is_free(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "Email\nada@example.org\n")
    assert [r.email for r in read_recipients(path).recipients] == ["ada@example.org"]


def test_every_row_problem_is_reported_at_once_with_line_and_column(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "email,name,language\n"
        "ada@example.org,Ada,en\n"
        "ada at example,Bob,en\n"  # line 3: malformed
        "carol@example.org,Carol,english\n"  # line 4: language
        "ADA@Example.org,Ada again,en\n"  # line 5: duplicate of line 2
        ",Nobody,en\n"  # line 6: no address
        "dan@example.org,Dan,en,extra\n",
    )  # line 7: too many values
    assert problems(path) == [
        (3, 1, '"ada at example" is not an email address: An email address must have an @-sign.'),
        (4, 25, '"english" is not a language tag'),
        (5, 1, "ADA@example.org is listed twice (first on line 2)"),
        (6, 1, "no email address"),
        (7, 24, "this row has 4 values but the header names 3 columns"),
    ]


def test_header_injection_in_a_name_is_refused_where_it_is(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "email,name\n"
        "ada@example.org,Ada\n"
        'eve@example.org,"Eve\r\nBcc: everyone@example.org"\n'
        'mallory@example.org,"Mallory\x00"\n'
        "trent@example.org,Trent\n",
    )
    assert problems(path) == [
        (3, 17, "name contains a line break"),
        (5, 21, "name contains the control character U+0000"),  # line 5: the quoted value spans 3-4
    ]


def test_columns_are_located_after_quoted_values_with_commas(tmp_path: Path) -> None:
    path = csv_file(tmp_path, 'name,email\n"Lovelace, Ada",ada@@example.org\n')
    assert problems(path)[0][:2] == (2, 17)


def test_unknown_and_duplicate_columns_stop_everything(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "email,nmae,email,city\nada@example.org,Ada,x,y\n")
    with pytest.raises(ContentError) as caught:
        read_recipients(path, skip_invalid=True)  # a bad header spoils every row: no skipping
    assert [(p.line, p.column, p.message, p.hint) for p in caught.value.problems] == [
        (1, 7, "unknown column `nmae`", "did you mean `name`?"),
        (1, 12, "the column `email` appears twice", None),
        (1, 18, "unknown column `city`", "the columns are email, name, language"),
    ]


def test_a_missing_header_row_is_explained(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "ada@example.org,Ada\n")
    assert problems(path) == [(1, 1, "the first line must name the columns, not hold an address")]


@pytest.mark.parametrize("text", ["", "\n\n", "email,name\n", "email\n  \n"])
def test_an_empty_list_is_an_error(tmp_path: Path, text: str) -> None:
    [(_, _, message)] = problems(csv_file(tmp_path, text))
    assert message in ("the recipients file is empty", "the recipients file lists nobody")


def test_not_utf8_is_located(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "email,name\nzoe@example.org,Zoë\n", encoding="latin-1")
    assert problems(path) == [(2, 19, "the recipients file is not UTF-8 text")]


def test_malformed_csv_is_located(tmp_path: Path) -> None:
    path = csv_file(tmp_path, 'email,name\nada@example.org,"Ada\n')
    [(line, _, message)] = problems(path)
    assert line == 2 and message.startswith("malformed CSV")


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        read_recipients(tmp_path / "nope.csv")


def test_skip_invalid_keeps_the_good_rows_and_warns_about_the_rest(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "email,name\n"
        "ada@example.org,Ada\n"
        "nope,Bob\n"
        "ADA@example.org,Ada twice\n"
        'eve@example.org,"Eve\nBcc: x@example.org"\n'
        "carol@example.org,Carol\n",
    )
    result = read_recipients(path, skip_invalid=True)
    assert [r.email for r in result.recipients] == ["ada@example.org", "carol@example.org"]
    assert [(w.line, w.severity) for w in result.skipped] == [(3, "warning"), (4, "warning"), (5, "warning")]
    assert str(result.skipped[0]).endswith(
        'subscribers.csv:3:1: warning: skipped: "nope" is not an email address: An email address must have an @-sign.'
    )


def test_skip_invalid_with_nothing_left_is_still_an_error(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "email\nnope\nalso nope\n")
    messages = [message for _, _, message in problems(path, skip_invalid=True)]
    assert messages[-1] == "the recipients file lists nobody"


def test_a_name_that_mail_programs_would_decode_is_refused(tmp_path: Path) -> None:
    """=?utf-8?b?QmNjOiB4QHkuY29t?= decodes to "Bcc: x@y.com": the To line would show another address."""
    path = csv_file(tmp_path, 'email,name\na@example.org,"=?utf-8?b?QmNjOiB4QHkuY29t?="\n')
    assert problems(path) == [
        (2, 15, 'name contains "=?utf-8?b?QmNjOiB4QHkuY29t?=", which mail programs would decode as a hidden header')
    ]


def test_a_bidi_override_in_a_name_is_refused(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "email,name\na@example.org,Ada \u202egro.live\n")
    assert problems(path) == [(2, 15, "name contains the control character U+202E")]


def test_utf16_without_a_byte_order_mark_is_named(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "email\na@example.org\n", encoding="utf-16-le")
    assert problems(path) == [(1, 1, "the recipients file is not UTF-8 text (it looks like UTF-16)")]


# --- Malformed CSV: accepted as written, or located; never a traceback -----------------------


def test_a_quote_inside_a_value_is_kept_as_written(tmp_path: Path) -> None:
    """Only a quote at the start of a value opens a quoted value (RFC 4180, and Excel)."""
    path = csv_file(
        tmp_path, 'email,name,language\nada@example.org,Ada "the" Lovelace,en\nbob@example.org,Bob 5" tall,fr\n'
    )
    assert [(r.email, r.name, r.language) for r in read_recipients(path).recipients] == [
        ("ada@example.org", 'Ada "the" Lovelace', "en"),
        ("bob@example.org", 'Bob 5" tall', "fr"),
    ]


def test_values_after_a_stray_quote_are_located_where_they_are(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path, 'email,name,language\neve@example.org,Eve 5" tall,english\ndan@example.org,Dan 5" tall,en,extra\n'
    )
    assert problems(path) == [
        (2, 29, '"english" is not a language tag'),
        (3, 32, "this row has 4 values but the header names 3 columns"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'email,name\nada@example.org,"Ada" Lovelace\n',
            (2, 22, "malformed CSV: a quoted value goes on after its closing quote"),
        ),
        (
            'email,name\nada@example.org,Ada\nbob@example.org,"Bob\n',
            (3, 17, "malformed CSV: this quoted value is never closed"),
        ),
        ('email,name\nada@example.org,"Ada', (2, 17, "malformed CSV: this quoted value is never closed")),
        (
            'email,name\r\nada@example.org,"Ada\r\nLovelace"x\r\n',
            (3, 10, "malformed CSV: a quoted value goes on after its closing quote"),
        ),
    ],
)
def test_malformed_quoting_is_located(tmp_path: Path, text: str, expected: tuple[int, int, str]) -> None:
    assert problems(csv_file(tmp_path, text)) == [expected]


def test_a_nul_byte_is_a_located_problem(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "email,name\nada@exa\x00mple.org,Ada\n")
    assert problems(path) == [(2, 1, "email contains the control character U+0000")]


def test_utf16_with_a_byte_order_mark_is_named(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "\ufeffemail\na@example.org\n", encoding="utf-16")
    assert problems(path) == [(1, 1, "the recipients file is not UTF-8 text (it looks like UTF-16)")]


@pytest.mark.parametrize("tag", ["en", "pt-BR", "zh-Hant", "EN", "PT-BR", "english", "en-x", "e", "en_GB"])
def test_a_language_tag_follows_the_content_rule_in_any_case(tmp_path: Path, tag: str) -> None:
    """One rule for language tags (models.LANGUAGE_TAG), compared ignoring case: a mailing tool may write EN."""
    from pydantic import TypeAdapter, ValidationError

    from research_news.models import Language

    try:
        TypeAdapter(Language).validate_python(tag.lower())
        expected = True
    except ValidationError:
        expected = False
    path = csv_file(tmp_path, f"email,language\nada@example.org,{tag}\n")
    if expected:
        assert read_recipients(path).recipients[0].language == tag
    else:
        assert problems(path) == [(2, 17, f'"{tag}" is not a language tag')]


# --- Property: the CSV reader reads what csv.reader reads, and knows where each value starts -------

_ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_PLAIN_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=",\r\n"), max_size=12).filter(
    lambda text: not text.startswith('"')
)  # a quote anywhere else is an ordinary character
_BREAK = re.compile(r"\r\n|\r|\n")


class CsvWriter:
    """Writes CSV text, noting the 1-based (line, column) where each value starts."""

    def __init__(self):
        self.text, self.line, self.column = "", 1, 1

    def write(self, written: str) -> None:
        breaks = list(_BREAK.finditer(written))
        if written.startswith("\n") and self.text.endswith("\r"):
            raise ValueError("CR then LF is one line break: callers avoid writing it in two steps")
        self.text += written
        if breaks:
            self.line, self.column = self.line + len(breaks), len(written) - breaks[-1].end() + 1
        else:
            self.column += len(written)

    def line_break(self, kind: str) -> None:
        self.write("\r" if kind.startswith("\n") and self.text.endswith("\r") else kind)


@st.composite
def csv_documents(draw) -> tuple[str, list[list[str]], list[list[tuple[int, int]]]]:
    """CSV text as spreadsheets write it (mixed line endings, quoted values with commas, quotes and line
    breaks, stray quotes in plain values, blank lines), its rows' values, and where each value starts."""
    writer, values, starts = CsvWriter(), [], []
    rows = draw(
        st.lists(
            st.lists(st.tuples(st.booleans(), _ANY_TEXT, _PLAIN_TEXT), min_size=1, max_size=4), min_size=1, max_size=6
        )
    )
    for number, row in enumerate(rows):
        values.append([]), starts.append([])
        for index, (quoted, any_text, plain_text) in enumerate(row):
            if index:
                writer.write(",")
            starts[-1].append((writer.line, writer.column))
            values[-1].append(any_text if quoted else plain_text)
            writer.write('"' + any_text.replace('"', '""') + '"' if quoted else plain_text)
        if number < len(rows) - 1 or draw(st.booleans()):
            writer.line_break(draw(st.sampled_from(["\n", "\r\n", "\r"])))
            if draw(st.integers(0, 5)) == 0:  # a blank line between rows
                writer.line_break(draw(st.sampled_from(["\n", "\r\n", "\r"])))
    return writer.text, values, starts


@settings(max_examples=100)
@given(document=csv_documents())
def test_values_and_positions_agree_with_the_csv_module(document) -> None:
    text, values, starts = document
    records = _records(Path("subscribers.csv"), text)
    kept = [index for index, row in enumerate(values) if any(value.strip() for value in row)]  # blank rows are skipped
    by_csv_module = [row for row in csv.reader(io.StringIO(text, newline="")) if any(value.strip() for value in row)]
    assert [record.values for record in records] == by_csv_module == [values[index] for index in kept], repr(text)
    assert [record.positions for record in records] == [starts[index] for index in kept], repr(text)
