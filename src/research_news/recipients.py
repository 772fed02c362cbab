"""The subscriber list: a CSV file with an ``email`` column and optional ``name`` and ``language``.

Every problem in the file is reported at once, each at its CSV line and column, before
anything is sent: a malformed address, the same address twice (case-insensitively), a
name that could smuggle headers into the message (a line break or another control
character), an unknown column, an empty list. ``skip_invalid`` turns the problems of
single rows into warnings and drops those rows; problems of the file as a whole
(encoding, header row, no recipient left) always stop the send.

The CSV is read by :func:`_records`, which finds each value and where it starts in one pass
(a stray quote inside a value is kept as written; a malformed quoted value is a located
error, never a traceback). It is fast enough for lists of tens of thousands
(benchmarks/bench_send.py).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from .exceptions import ContentError, Problem, UsageError
from .models import BIDI_CONTROLS, ENCODED_WORD, LANGUAGE_TAG

COLUMNS = ("email", "name", "language")


@dataclass(frozen=True)
class Recipient:
    """One subscriber, as the relay and the ledger see them."""

    email: str  # the address as sent: domain in ASCII (IDNA), local part as written
    name: str = ""
    language: str = ""
    line: int = 0  # where the row starts in the CSV file, for reports

    @property
    def key(self) -> str:
        """The ledger key: addresses differ only in case are the same mailbox in practice."""
        return self.email.lower()


@dataclass
class RecipientList:
    """The recipients to send to, and the rows dropped with ``skip_invalid`` (as warnings)."""

    path: Path
    recipients: list[Recipient]
    skipped: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    """One CSV record: its values, and the (line, column) where each value starts."""

    values: list[str]
    positions: list[tuple[int, int]]

    @property
    def line(self) -> int:
        return self.positions[0][0]


def read_recipients(path: Path, skip_invalid: bool = False) -> RecipientList:
    """The recipients in ``path``; raises ``ContentError`` listing every problem found."""
    rows = _records(path, _text(path))
    if not rows:
        raise ContentError(
            [
                Problem(
                    path,
                    1,
                    1,
                    "the recipients file is empty",
                    hint="the first line names the columns: email,name,language",
                )
            ]
        )
    header, body = rows[0], rows[1:]
    columns = _check_header(path, header)  # raises: a bad header spoils every row
    recipients: list[Recipient] = []
    row_problems: list[Problem] = []
    first_line: dict[str, int] = {}
    for row in body:
        recipient, problems = _recipient(path, row, columns, first_line)
        row_problems += problems
        if recipient and not problems:
            first_line[recipient.key] = row.line
            recipients.append(recipient)
    if row_problems and not skip_invalid:
        raise ContentError(row_problems)
    if not recipients:
        last = body[-1].line if body else header.line
        hint = "every row was invalid and skipped" if row_problems else "add one address per line"
        nobody = Problem(path, last, 1, "the recipients file lists nobody", hint=hint)
        raise ContentError([*row_problems, nobody])
    warnings = [
        Problem(p.path, p.line, p.column, f"skipped: {p.message}", p.hint, severity="warning")
        for p in sorted(row_problems)
    ]
    return RecipientList(path, recipients, warnings)


def _text(path: Path) -> str:
    """The file's text; UTF-8 only, a byte-order mark (Excel's "CSV UTF-8") tolerated."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"the recipients file {path} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder; --recipients takes a CSV file") from None
    sample = data[:200]
    if sample and max(sample[0::2].count(0), sample[1::2].count(0)) > len(sample) // 4:
        # UTF-16 without a byte-order mark: every other byte of ASCII text is NUL
        raise ContentError(
            [
                Problem(
                    path,
                    1,
                    1,
                    "the recipients file is not UTF-8 text (it looks like UTF-16)",
                    hint="save it as CSV UTF-8",
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise ContentError(
            [Problem(path, line, column, "the recipients file is not UTF-8 text", hint="save it as CSV UTF-8")]
        ) from None


def _records(path: Path, text: str) -> list[_Row]:
    """The non-blank CSV records of ``text``, each with the (line, column) where each value starts.

    One pass reads both, so a value and its position can never disagree (the csv module's
    reader and a separate position count once did, over a stray quote). The rules are RFC 4180's,
    as Excel and LibreOffice write them: a value that *starts* with ``"`` is quoted (``""`` inside
    is one quote, and it may span lines); anywhere else a quote is an ordinary character
    (``Ada "the" Lovelace``). A quoted value left open, or followed by more than a comma or
    the end of the line, is a located error.
    """
    rows: list[_Row] = []
    values: list[str] = []
    positions: list[tuple[int, int]] = []
    line, line_start, index = 1, 0, 0  # the current line, where it starts in ``text``, where we are
    while True:
        where = (line, index - line_start + 1)
        if text.startswith('"', index):
            match = _QUOTED.match(text, index)
            if match is None:
                raise _csv_error(
                    path,
                    *where,
                    "this quoted value is never closed",
                    'end it with a quote; a quote inside is written twice: ""',
                )
            value = match.group(1).replace('""', '"')
            for newline in _NEWLINE.finditer(match.group(1)):
                line, line_start = line + 1, index + 1 + newline.end()
            index = match.end()
            if index < len(text) and text[index] not in ",\r\n":
                raise _csv_error(
                    path,
                    line,
                    index - line_start + 1,
                    "a quoted value goes on after its closing quote",
                    'quote the whole value, writing a quote inside it twice: "Ada ""the"" Lovelace"',
                )
        else:
            match = _PLAIN.match(text, index)
            assert match is not None  # it matches the empty string too
            value, index = match.group(), match.end()
        values.append(value)
        positions.append(where)
        if text.startswith(",", index):
            index += 1
            continue
        if any(value.strip() for value in values):
            rows.append(_Row(values, positions))
        values, positions = [], []
        ending = _NEWLINE.match(text, index)
        if ending is None:  # the end of the text
            return rows
        index = ending.end()
        line, line_start = line + 1, index


_QUOTED = re.compile(r'"((?:[^"]|"")*)"')
_PLAIN = re.compile(r"[^,\r\n]*")
_NEWLINE = re.compile(r"\r\n|\r|\n")  # CRLF, LF or a lone CR each end a line


def _csv_error(path: Path, line: int, column: int, message: str, hint: str) -> ContentError:
    return ContentError([Problem(path, line, column, f"malformed CSV: {message}", hint=hint)])


def _check_header(path: Path, header: _Row) -> dict[str, int]:
    """Column name → index; raises ``ContentError`` when the header row is unusable."""
    if any("@" in name for name in header.values):
        raise ContentError(
            [
                Problem(
                    path,
                    header.line,
                    1,
                    "the first line must name the columns, not hold an address",
                    hint="add a first line: email,name,language",
                )
            ]
        )
    problems: list[Problem] = []
    columns: dict[str, int] = {}
    for index, raw_name in enumerate(header.values):
        name = raw_name.strip().lower()
        line, column = header.positions[index]
        if name in columns:
            problems.append(Problem(path, line, column, f"the column `{name}` appears twice"))
        elif name not in COLUMNS:
            close = difflib.get_close_matches(name, COLUMNS, n=1)
            hint = f"did you mean `{close[0]}`?" if close else f"the columns are {', '.join(COLUMNS)}"
            problems.append(Problem(path, line, column, f"unknown column `{raw_name.strip()}`", hint=hint))
        columns.setdefault(name, index)
    if "email" not in columns and not problems:
        problems.append(
            Problem(
                path,
                header.line,
                1,
                "the first line must name the columns, with one called `email`",
                hint="e.g. email,name,language",
            )
        )
    if problems:
        raise ContentError(problems)
    return columns


def _recipient(
    path: Path, row: _Row, columns: dict[str, int], first_line: dict[str, int]
) -> tuple[Recipient | None, list[Problem]]:
    """The recipient of one row, or the problems that keep it from being one."""
    problems: list[Problem] = []

    def value(name: str) -> str:
        index = columns.get(name)
        return row.values[index] if index is not None and index < len(row.values) else ""

    def problem(name: str, message: str, hint: str | None = None) -> None:
        index = columns[name]
        line, column = row.positions[min(index, len(row.positions) - 1)]
        problems.append(Problem(path, line, column, message, hint=hint))

    if len(row.values) > len(columns):
        line, column = row.positions[len(columns)]
        problems.append(
            Problem(
                path,
                line,
                column,
                f"this row has {len(row.values)} values but the header names {len(columns)} columns",
                hint='quote values holding commas: "Lovelace, Ada"',
            )
        )
    for name in columns:
        if _control_character(value(name)):
            problem(
                name,
                f"{name} contains {_control_character(value(name))}",
                hint="a value must be one line: a line break in a header could add headers "
                "such as Bcc to every message",
            )
    name = value("name").strip(" ")
    if word := ENCODED_WORD.search(name):
        problem(
            "name",
            f'name contains "{word.group()}", which mail programs would decode as a hidden header',
            hint="write the name itself, in any alphabet",
        )
    raw_email = value("email").strip(" ")
    email: str | None = ""  # the address in ASCII (IDN domains in punycode), once valid
    if not raw_email:
        problem("email", "no email address")
    elif not _control_character(raw_email):
        try:
            email = validate_email(raw_email, check_deliverability=False, allow_smtputf8=False).ascii_email
        except EmailNotValidError as error:
            problem("email", f'"{raw_email}" is not an email address: {error}')
    if email and email.lower() in first_line:
        problem(
            "email",
            f"{email} is listed twice (first on line {first_line[email.lower()]})",
            hint="addresses are compared ignoring case",
        )
    language = value("language").strip(" ")
    # The content's rule, in any case: mailing tools often export tags in capitals (EN, PT-BR).
    if language and not _control_character(language) and not LANGUAGE_TAG.fullmatch(language.lower()):
        problem("language", f'"{language}" is not a language tag', hint="e.g. en, fr, pt-BR")
    if problems or not email:
        return None, problems
    return Recipient(email, name, language, row.line), []


# Controls (Unicode category Cc), line and paragraph separators (Zl, Zp), and bidi controls,
# which make a name display other than it reads. One search per value: lists are long.
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")


def _control_character(text: str) -> str | None:
    """A description of the first control or line-separator character in ``text``, if any."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    char = found.group()
    if char in "\r\n":
        return "a line break"
    return f"the control character U+{ord(char):04X}"
