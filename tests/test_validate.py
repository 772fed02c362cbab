"""Validation: each rule reports the exact line and column, in plain words, all at once."""

from __future__ import annotations

import datetime as dt
import re
import struct
import zlib
from pathlib import Path

import pytest

from research_news.assemble import assemble
from research_news.exceptions import ContentError, counted
from research_news.images import image_size
from research_news.layout import BUILTIN_LAYOUTS, format_date
from research_news.models import orcid_checksum_ok
from research_news.validate import Checker, load_content

from .conftest import SAMPLE_ROOT, run_cli

GOOD_BRIEF = """\
title: A study
authors:
  - name: Ada Example
    email: ada@example.org
    photo: ../images/ada.png
why_it_matters: Because.
methodology: Carefully.
key_findings: Many.
key_takeaways:
  - One.
"""


def problems_for(path: Path) -> list[str]:
    checker = Checker()
    checker.check_path(path)
    return [f"{p.line}:{p.column}: {p.message}" + (f" ({p.hint})" if p.hint else "") for p in sorted(checker.problems)]


def brief_problems(issue: Path, text: str) -> list[str]:
    path = issue / "briefs" / "one.yaml"
    path.write_text(text, encoding="utf-8")
    return problems_for(path)


def replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def test_the_sample_content_checks_clean() -> None:
    assert problems_for(SAMPLE_ROOT) == []


def test_the_minimal_fixture_checks_clean(minimal_tree: Path) -> None:
    assert problems_for(minimal_tree) == []


BRIEF_CASES = {
    "missing field points at the mapping": (
        GOOD_BRIEF.replace("methodology: Carefully.\n", ""),
        "1:1: missing required field `methodology`",
    ),
    "misspelt key suggests the right one": (
        GOOD_BRIEF.replace("methodology:", "methodolgy:"),
        "7:1: unknown field `methodolgy` (did you mean `methodology`?)",
    ),
    "number where text is expected": (
        GOOD_BRIEF.replace("title: A study", "title: 2023"),
        "1:8: title: expected text, got the number 2023",
    ),
    "bad email": (
        GOOD_BRIEF.replace("ada@example.org", "ada at example"),
        '4:12: authors[0].email: "ada at example" is not an email address',
    ),
    "orcid checksum": (
        GOOD_BRIEF.replace("    email: ada@example.org\n", "    orcid: 0000-0002-1825-0098\n"),
        '4:12: authors[0].orcid: "0000-0002-1825-0098" is not a valid ORCID iD',
    ),
    "orcid form": (
        GOOD_BRIEF.replace("    email: ada@example.org\n", "    orcid: 1825-0097\n"),
        '4:12: authors[0].orcid: "1825-0097" is not an ORCID iD',
    ),
    "too many takeaways": (
        GOOD_BRIEF.replace("  - One.\n", "".join(f"  - Item {i}.\n" for i in range(7))),
        "10:3: key_takeaways: has 7 items; at most 6 are allowed",
    ),
    "no authors": (
        replace(
            GOOD_BRIEF,
            "authors:\n  - name: Ada Example\n    email: ada@example.org\n    photo: ../images/ada.png\n",
            "authors: []\n",
        ),
        "2:10: authors: needs at least 1 item",
    ),
    "title too long": (
        GOOD_BRIEF.replace("A study", "A" * 151),
        "1:8: title: is 151 characters long; the limit is 150",
    ),
    "javascript link in markdown": (
        GOOD_BRIEF.replace(
            "why_it_matters: Because.", "why_it_matters: |\n  Because.\n  See [this](javascript:alert(1))."
        ),
        '8:14: why_it_matters: the link "javascript:alert(1)" is not allowed',
    ),
    "javascript link in a folded block": (
        GOOD_BRIEF.replace(
            "why_it_matters: Because.",
            "why_it_matters: >\n  Because the study, which is long,\n  matters; see\n  [this](javascript:alert(1)).",
        ),
        '9:10: why_it_matters: the link "javascript:alert(1)" is not allowed',
    ),
    "reference-style javascript link": (
        GOOD_BRIEF.replace(
            "why_it_matters: Because.",
            "why_it_matters: |\n  Because, see [the study][s].\n\n  [s]: javascript:alert(1)",
        ),
        '9:8: why_it_matters: the link "javascript:alert(1)" is not allowed',
    ),
    "link whose href is also written before it": (
        GOOD_BRIEF.replace(
            "why_it_matters: Because.", "why_it_matters: >\n  Never type javascript:x;\n  see [this](javascript:x)."
        ),
        '8:14: why_it_matters: the link "javascript:x" is not allowed',
    ),
    "two reference links to one bad href": (
        GOOD_BRIEF.replace(
            "why_it_matters: Because.",
            "why_it_matters: |\n  See [a][s] [b][t].\n\n  [s]: javascript:x\n  [t]: javascript:x",
        ),
        '10:8: why_it_matters: the link "javascript:x" is not allowed',
    ),  # and 9:8 for [a]
    "data link in a list item": (
        GOOD_BRIEF.replace("  - One.", "  - One [x](data:text/html;base64,PHNjcmlwdD4=)."),
        '10:13: key_takeaways[0]: the link "data:text/html;base64,PHNjcmlwdD4=" is not allowed',
    ),
    "colon in a list item": (
        GOOD_BRIEF.replace("  - One.", "  - Note: voir le rapport"),
        '10:9: key_takeaways[0]: the colon after "Note" made YAML read a field name, so this is a mapping, '
        'not text (put the text in quotes: "Note: voir le rapport", or write | and the text on the lines below',
    ),
    "colon after a space, as French writes it": (
        GOOD_BRIEF + "keywords:\n  - Résultat : 40 %\n",
        '12:14: keywords[0]: the colon after "Résultat" made YAML read a field name',
    ),
    "image inside markdown": (
        GOOD_BRIEF.replace(
            "methodology: Carefully.", "methodology: |\n  Carefully.\n\n  ![chart](../images/chart.png)"
        ),
        "10:3: methodology: images are not allowed inside text",
    ),
    "placement typo": (
        GOOD_BRIEF + "quotes:\n  - text: Hello\n    after: method\n",
        '13:12: quotes[0].after: "method" is not one of why_it_matters, methodology, key_findings, key_takeaways',
    ),
    "figure without alt": (
        GOOD_BRIEF + "figures:\n  - src: ../images/chart.png\n",
        "12:5: missing required field `figures[0].alt`",
    ),
    "absolute image path": (
        GOOD_BRIEF.replace("../images/ada.png", "/etc/passwd"),
        '5:12: authors[0].photo: "/etc/passwd" is an absolute path',
    ),
    "remote image": (
        GOOD_BRIEF.replace("../images/ada.png", "https://example.org/ada.png"),
        '5:12: authors[0].photo: "https://example.org/ada.png" is a URL; nothing is downloaded',
    ),
    "missing image": (
        GOOD_BRIEF.replace("../images/ada.png", "../images/adda.png"),
        '5:12: authors[0].photo: "../images/adda.png" does not exist (did you mean `ada.png`?)',
    ),
    "image climbing out of the tree": (
        GOOD_BRIEF.replace("../images/ada.png", "../../../outside.png"),
        '5:12: authors[0].photo: "../../../outside.png" points outside the content tree',
    ),
    "not an image type": (
        GOOD_BRIEF.replace("../images/ada.png", "../issue.yaml"),
        '5:12: authors[0].photo: "../issue.yaml" is not a png, jpg or svg image file',
    ),
    "line break in a title": (
        GOOD_BRIEF.replace("title: A study", 'title: "A study\\r\\nBcc: x@example.org"'),
        "1:8: title: must be a single line; remove the line break",
    ),
    "template placeholder left": (
        GOOD_BRIEF.replace("title: A study", 'title: "TODO: the title"'),
        "1:9: title: still holds the template's TODO placeholder",
    ),
    "wrong findings type": (
        GOOD_BRIEF.replace("key_findings: Many.", "key_findings: 42"),
        "8:15: key_findings: must be markdown text or a list of markdown items",
    ),
    "bad language code": (GOOD_BRIEF + "language: English\n", '11:11: language: "English" is not a language code'),
}


@pytest.mark.parametrize("name", BRIEF_CASES)
def test_brief_rule_is_reported_at_the_right_place(minimal_issue: Path, name: str) -> None:
    text, expected = BRIEF_CASES[name]
    found = brief_problems(minimal_issue, text)
    assert any(line.startswith(expected) for line in found), "\n".join(found)


@pytest.mark.parametrize(
    "findings, expected",
    [
        ("\n  - Fine.\n  - Note: voir", ['10:9: key_findings[1]: the colon after "Note" made YAML read a field name']),
        ('" "', ["8:15: key_findings: is empty"]),
    ],
)
def test_findings_are_judged_in_the_form_they_are_written(
    minimal_issue: Path, findings: str, expected: list[str]
) -> None:
    # key_findings is text or a list: a list is not also told it should have been text, nor text a list.
    found = brief_problems(minimal_issue, GOOD_BRIEF.replace("key_findings: Many.", f"key_findings: {findings}"))
    assert (
        len(found) == len(expected)
        and [line[: len(want)] for line, want in zip(found, expected, strict=True)] == expected
    ), found


def test_all_problems_of_a_file_are_reported_at_once(minimal_issue: Path) -> None:
    text = (
        GOOD_BRIEF.replace("ada@example.org", "nope")
        .replace("title: A study", "title: 7")
        .replace("../images/ada.png", "/abs.png")
        .replace("methodology:", "methodolgy:")
    )
    found = brief_problems(minimal_issue, text)
    assert len(found) == 5, found  # bad email, title type, photo path, unknown key, missing methodology


def test_image_content_must_match_its_extension(minimal_issue: Path) -> None:
    (minimal_issue / "images" / "fake.png").write_text("<html>not a picture</html>")
    found = brief_problems(minimal_issue, GOOD_BRIEF.replace("ada.png", "fake.png"))
    assert found == [
        '5:12: authors[0].photo: "../images/fake.png" is not really a PNG image '
        "(re-export the image in the format its name says)"
    ]


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        (
            "photo.png",
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
            "is a JPEG, not a PNG as its name says (rename it to end in .jpg, or re-export it as PNG)",
        ),
        (
            "photo.jpg",
            b"\x89PNG\r\n\x1a\n\x00\x00",
            "is a PNG, not a JPEG as its name says (rename it to end in .png, or re-export it as JPEG)",
        ),
        ("photo.png", b"%PDF-1.7\n", "is a PDF, not a PNG as its name says"),
        (
            "photo.jpg",
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
            "is an SVG drawing, not a JPEG",
        ),
    ],
)
def test_an_image_of_another_kind_is_named(minimal_issue: Path, name: str, content: bytes, said: str) -> None:
    (minimal_issue / "images" / name).write_bytes(content)
    [found] = brief_problems(minimal_issue, GOOD_BRIEF.replace("ada.png", name))
    assert found.startswith(f'5:12: authors[0].photo: "../images/{name}" {said}'), found


def png_header(width: int, height: int) -> bytes:
    """A small PNG file claiming ``width`` × ``height`` pixels (its pixel data is a few bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


SVG_SCRIPT = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'
IMAGE_CASES = {
    "decompression bomb": ("chart.png", png_header(100_000, 100_000), "claims more than 50 million pixels"),
    "too many pixels": ("chart.png", png_header(12_000, 12_000), "is 12,000 × 12,000 pixels, more than 50 million"),
    "cut short": ("chart.png", None, "is damaged or cut short"),
    "svg script": ("chart.svg", SVG_SCRIPT, "contains a <script> element"),
    "svg handler": (
        "chart.svg",
        '<svg xmlns="http://www.w3.org/2000/svg"><rect ONLOAD ="x()"/></svg>',
        "contains an event handler",
    ),
    "svg hidden scheme": (
        "chart.svg",
        '<svg><a href="&#106;ava&#x09;script:alert(1)"><text>x</text></a></svg>',
        "contains a javascript: link",
    ),
    "svg foreign object": (
        "chart.svg",
        '<svg xmlns:svg="http://www.w3.org/2000/svg"><svg:foreignObject><iframe/></svg:foreignObject></svg>',
        "contains a <foreignObject> element",
    ),
    "svg script in an entity": (
        "chart.svg",
        '<!DOCTYPE svg [<!ENTITY s "&#60;script&#62;alert(1)&#60;/script&#62;">]>'
        '<svg xmlns="http://www.w3.org/2000/svg">&s;</svg>',
        "definitions of its own",
    ),
    "svg scheme in an entity": (
        "chart.svg",
        '<!DOCTYPE svg [<!ENTITY j "javascript">]><svg><a href="&j;:alert(2)"><text>x</text></a></svg>',
        "definitions of its own",
    ),
    "svg handler after a quoted >": (
        "chart.svg",
        '<svg><g title=">" onclick="alert(3)"/></svg>',
        "contains an event handler",
    ),
    "svg stylesheet instruction": (
        "chart.svg",
        '<?xml-stylesheet type="text/xsl" href="x.xsl"?><svg/>',
        "names a stylesheet",
    ),
    "svg style url": (
        "chart.svg",
        "<svg><style>rect { fill: url(javascript:alert(1)) }</style></svg>",
        "contains a javascript: link",
    ),
    "svg not well formed": ("chart.svg", "<svg><g></svg>", "is not well-formed SVG"),
}


def test_an_svg_may_start_with_a_long_comment(minimal_issue: Path) -> None:
    """Drawing programs put credits before <svg>: the check reads the whole tree, not the first bytes."""
    (minimal_issue / "images" / "chart.svg").write_text(
        f'<!-- {"credits " * 100} -->\n<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"/>'
    )
    brief = (minimal_issue / "briefs" / "one.yaml").read_text().replace("chart.png", "chart.svg")
    assert brief_problems(minimal_issue, brief) == []


@pytest.mark.parametrize("name", IMAGE_CASES)
def test_unsafe_or_broken_images_are_refused(minimal_issue: Path, name: str) -> None:
    file, content, words = IMAGE_CASES[name]
    target = minimal_issue / "images" / file
    if content is None:  # the first 100 bytes of a real PNG
        content = (minimal_issue / "images" / "chart.png").read_bytes()[:100]
    target.write_bytes(content.encode() if isinstance(content, str) else content)
    brief = (minimal_issue / "briefs" / "one.yaml").read_text().replace("chart.png", file)
    found = brief_problems(minimal_issue, brief)
    assert len(found) == 1 and words in found[0], found
    assert re.match(r"\d+:\d+: figures\[0\]\.src: ", found[0]), found


def test_an_svg_with_an_infinite_size_has_no_size(tmp_path: Path) -> None:
    svg = tmp_path / "huge.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1e999 10"></svg>')
    assert image_size(svg) == (None, None)


ISSUE = """\
number: 3
date: 2024-05-14
sections:
  - title: Theme
    briefs:
      - briefs/one.yaml
"""

ISSUE_CASES = {
    "impossible date": (
        ISSUE.replace("2024-05-14", "2023-02-30"),
        '2:7: date: "2023-02-30" is not a real date (day is out of range for month)',
    ),
    "date in the wrong form": (
        ISSUE.replace("2024-05-14", "14/05/2024"),
        '2:7: date: "14/05/2024" is not a date; write it as YYYY-MM-DD',
    ),
    "number as text": (
        ISSUE.replace("number: 3", "number: three"),
        '1:9: number: expected a positive whole number, got "three"',
    ),
    "negative number": (
        ISSUE.replace("number: 3", "number: -1"),
        "1:9: number: expected a positive whole number, got the number -1",
    ),
    "no sections": (ISSUE.split("sections:")[0] + "sections: []\n", "3:11: sections: needs at least 1 item"),
    "brief listed twice": (
        ISSUE + "      - briefs/one.yaml\n",
        "7:9: sections[0].briefs[1]: this brief is already listed (a brief appears once per issue; see line 6)",
    ),
    "missing brief": (
        ISSUE.replace("briefs/one.yaml", "briefs/two.yaml"),
        '6:9: sections[0].briefs[0]: "briefs/two.yaml" does not exist',
    ),
    "brief outside the tree": (
        ISSUE.replace("briefs/one.yaml", "../../../../etc/passwd.yaml"),
        '6:9: sections[0].briefs[0]: "../../../../etc/passwd.yaml" points outside the content tree',
    ),
    "header injection in headline": (
        ISSUE + 'headline: "Hello\\r\\nBcc: x@y.org"\n',
        "7:11: headline: must be a single line; remove the line break",
    ),
    "javascript event url": (
        ISSUE + "events:\n  - date: 2024-06-01\n    title: Talk\n    url: javascript:alert(1)\n",
        '10:10: events[0].url: "javascript:alert(1)" is not allowed: links must start with http: or https:',
    ),
    "preheader too long": (
        ISSUE + f"preheader: {'x' * 151}\n",
        "7:12: preheader: is 151 characters long; the limit is 150",
    ),
    "issue file as a brief": (
        ISSUE.replace("briefs/one.yaml", "issue.yaml"),
        '6:9: sections[0].briefs[0]: "issue.yaml" is the issue file, not a brief',
    ),
    "publication file as a brief": (
        ISSUE.replace("briefs/one.yaml", "../publication.yaml"),
        '6:9: sections[0].briefs[0]: "../publication.yaml" is the publication file',
    ),
    "nul in a brief path": (
        ISSUE.replace("briefs/one.yaml", '"briefs/o\\0ne.yaml"'),
        '6:9: sections[0].briefs[0]: "briefs/o\\x00ne.yaml" contains an invisible character',
    ),
    "overlong number": (
        ISSUE.replace("number: 3", "number: " + "9" * 5000),
        '1:9: number: expected a positive whole number, got "99999',
    ),
}


@pytest.mark.parametrize("name", ISSUE_CASES)
def test_issue_rule_is_reported_at_the_right_place(minimal_issue: Path, name: str) -> None:
    text, expected = ISSUE_CASES[name]
    (minimal_issue / "issue.yaml").write_text(text)
    found = problems_for(minimal_issue)
    assert any(line.startswith(expected) for line in found), "\n".join(found)


PUBLICATION_CASES = {
    "colour": ("colors:\n  primary: teal\n", '4:12: colors.primary: "teal" is not a colour; write it as #rrggbb'),
    "unsubscribe scheme": (
        "email:\n  unsubscribe: javascript:alert(1)\n",
        '4:16: email.unsubscribe: "javascript:alert(1)" is not allowed: links must start with mailto: or https:',
    ),
    "sender": ("email:\n  from: not a sender\n", '4:9: email.from: "not a sender" is not one sender'),
    "two senders": (
        "email:\n  from: a@example.org, b@evil.example\n",
        '4:9: email.from: "a@example.org, b@evil.example" is not one sender',
    ),
    "sender with junk": (
        "email:\n  reply_to: <a@example.org> junk\n",
        '4:13: email.reply_to: "<a@example.org> junk" is not one sender',
    ),
    "encoded word": (
        "tagline: Hi =?utf-8?b?QmNjOiB4QHkuY29t?=\n",
        "3:10: tagline: contains =?utf-8?b?QmNjOiB4QHkuY29t?=",
    ),
    "bidi override": ('tagline: "abc\\u202edef"\n', "3:10: tagline: contains an invisible control character"),
    "empty mailto": ("email:\n  unsubscribe: 'mailto:'\n", '4:16: email.unsubscribe: "mailto:" names no address'),
    "tab in url": (
        'website: "https://example.org/\\tx"\n',
        '3:10: website: "https://example.org/\\tx" contains spaces',
    ),
    "missing logo": ("logo: assets/logo.png\n", '3:7: logo: "assets/logo.png" does not exist'),
    "unknown layout": ("layout: fancy\n", '3:9: layout: no layout "fancy"'),
    "layout outside": ("layout: /etc\n", '3:9: layout: "/etc" is outside the content tree and its layouts/ folder'),
    "layout climbing out": ("layout: ../../..\n", '3:9: layout: "../../.." is outside the content tree'),
    "unknown limit": ("limits:\n  why_matters: 100\n", '4:3: limits.why_matters: "why_matters" is not one of'),
}


@pytest.mark.parametrize("name", PUBLICATION_CASES)
def test_publication_rule_is_reported_at_the_right_place(minimal_tree: Path, name: str) -> None:
    extra, expected = PUBLICATION_CASES[name]
    (minimal_tree / "publication.yaml").write_text("name: Chair\nweb_base_url: https://example.org/n\n" + extra)
    found = problems_for(minimal_tree)
    assert any(line.startswith(expected) for line in found), "\n".join(found)


def test_word_limits_are_warnings(minimal_tree: Path) -> None:
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text() + "limits:\n  why_it_matters: 2\n")
    checker = Checker()
    checker.check_path(minimal_tree)
    [warning] = checker.problems
    assert warning.severity == "warning"
    assert (warning.line, warning.column) == (10, 17)
    assert warning.message == "why_it_matters: 4 words; the publication's limit is 2"


def test_every_limit_the_publication_accepts_is_enforced(minimal_tree: Path) -> None:
    """`limits:` accepts exactly the fields it checks: a limit of 1 on each makes each warn."""
    from research_news.models import LIMITED_FIELDS

    publication = minimal_tree / "publication.yaml"
    limits = "".join(f"  {name}: 1\n" for name in LIMITED_FIELDS)
    publication.write_text(publication.read_text() + "about: |\n  A chair that studies data.\n" + "limits:\n" + limits)
    issue = minimal_tree / "2024-05-minimal" / "issue.yaml"
    if "editorial:" not in issue.read_text():
        issue.write_text(issue.read_text() + "editorial: |\n  Welcome to this issue.\n")
    checker = Checker()
    checker.check_path(minimal_tree)
    warned = {
        problem.message.split(":")[0].split(".")[-1].split("]")[-1]
        for problem in checker.problems
        if problem.severity == "warning" and "the publication's limit" in problem.message
    }
    assert warned == set(LIMITED_FIELDS)


def test_a_brief_outside_any_content_tree(tmp_path: Path) -> None:
    path = tmp_path / "lonely.yaml"
    path.write_text(GOOD_BRIEF)
    assert problems_for(path) == [
        "1:1: no publication.yaml in this folder or any folder above it "
        "(content lives in a tree whose top folder holds publication.yaml)"
    ]


def test_a_symlink_out_of_the_tree_is_never_read(minimal_issue: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("private_field: the secret\n")
    (minimal_issue / "briefs" / "stray.yaml").symlink_to(secret)
    found = problems_for(minimal_issue)
    assert any(line.startswith("1:1: this brief is outside the content tree") for line in found), found
    assert not any("private_field" in line for line in found)  # never read, so never echoed


def test_a_value_cannot_forge_a_problem_line(minimal_issue: Path) -> None:
    (minimal_issue / "issue.yaml").write_text(ISSUE.replace("2024-05-14", '"x\\nfake.yaml:1:1: error: \\e]0;title\\a"'))
    checker = Checker()
    checker.check_path(minimal_issue)
    printed = "\n".join(str(p) for p in checker.problems)
    assert "\nfake.yaml" not in printed and "\x1b" not in printed and "\x07" not in printed
    assert "\\nfake.yaml:1:1" in printed  # shown, escaped, inside the one real problem


def test_unlisted_brief_is_checked_and_pointed_out(minimal_issue: Path) -> None:
    (minimal_issue / "briefs" / "stray.yaml").write_text("title: [\n")
    found = problems_for(minimal_issue)
    assert any(line.startswith("1:1: this brief is not listed") for line in found)
    assert any("invalid YAML" in line for line in found)


def test_load_content_raises_with_every_problem(minimal_issue: Path) -> None:
    (minimal_issue / "issue.yaml").write_text(ISSUE.replace("2024-05-14", "2023-02-30"))
    with pytest.raises(ContentError) as error:
        load_content(minimal_issue)
    assert "is not a real date" in str(error.value)


@pytest.mark.parametrize(
    "orcid, valid",
    [
        ("0000-0002-1825-0097", True),
        ("0000-0001-5109-3700", True),
        ("0000-0002-1694-233X", True),
        ("0000-0002-1825-0098", False),
    ],
)
def test_orcid_checksum(orcid: str, valid: bool) -> None:
    assert orcid_checksum_ok(orcid) is valid


def test_language_must_be_one_the_publication_lists(minimal_tree: Path) -> None:
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text() + "languages: [en, fr]\n")
    (minimal_tree / "2024-05-minimal" / "issue.yaml").write_text(ISSUE + "language: de\n")
    found = problems_for(minimal_tree)
    assert found == [
        '7:11: language: "de" is not one of the publication\'s languages (en, fr) '
        "(add it to `languages:` in publication.yaml)"
    ]


def test_missing_web_base_url_is_a_warning(minimal_tree: Path) -> None:
    (minimal_tree / "publication.yaml").write_text("name: Chair\n")
    checker = Checker()
    checker.check_path(minimal_tree)
    [warning] = checker.problems
    assert warning.severity == "warning" and "web_base_url" in warning.message


# --- a layout is code: contained and sandboxed ------------------------------------------


def house_layout(tree: Path) -> Path:
    """A `house` layout beside the issues, chosen in publication.yaml; returns its folder."""
    folder = tree / "layouts" / "house"
    (folder / "web").mkdir(parents=True)
    publication = tree / "publication.yaml"
    publication.write_text(publication.read_text(encoding="utf-8") + "layout: house\n", encoding="utf-8")
    return folder


def build_web(tree: Path, out: Path):
    return run_cli("build", tree / "2024-05-minimal", "--out", out, "--only", "web")


def test_a_layout_file_linking_outside_is_refused(minimal_tree: Path, tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret")
    (house_layout(minimal_tree) / "web" / "web.css").symlink_to(secret)
    result = build_web(minimal_tree, tmp_path / "out")
    assert result.exit_code == 1 and "links to a file outside its layout folder" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_template_linking_outside_is_refused(minimal_tree: Path, tmp_path: Path):
    secret = tmp_path / "secret.j2"
    secret.write_text("the secret")
    folder = house_layout(minimal_tree)
    (folder / "web" / "secret.j2").symlink_to(secret)
    (folder / "web" / "footer.html.j2").write_text('{% include "secret.j2" %}')
    result = build_web(minimal_tree, tmp_path / "out")
    assert result.exit_code == 1 and "links to a file outside its layout folder" in result.stderr
    assert "the secret" not in result.stdout + result.stderr


def test_templates_are_sandboxed(minimal_tree: Path, tmp_path: Path):
    folder = house_layout(minimal_tree)
    (folder / "web" / "footer.html.j2").write_text('{{ cycler.__init__.__globals__.os.popen("id").read() }}')
    result = build_web(minimal_tree, tmp_path / "out")
    assert result.exit_code == 1 and "uid=" not in result.stderr
    assert re.search(r"house/web/footer\.html\.j2:1:1: template error: .*unsafe", result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_a_template_syntax_error_points_at_its_line(minimal_tree: Path, tmp_path: Path):
    folder = house_layout(minimal_tree)
    (folder / "web" / "footer.html.j2").write_text("<footer>\n{% if %}\n</footer>\n")
    result = build_web(minimal_tree, tmp_path / "out")
    assert result.exit_code == 1
    assert re.search(r"footer\.html\.j2:2:1: template error: ", result.stderr), result.stderr


def test_bad_labels_point_at_their_line(minimal_tree: Path, tmp_path: Path):
    folder = house_layout(minimal_tree)
    (folder / "labels").mkdir()
    (folder / "labels" / "en.yaml").write_text("contents: Contents\nabout: [unclosed\n")
    result = build_web(minimal_tree, tmp_path / "out")
    assert result.exit_code == 1 and re.search(r"en\.yaml:\d+:\d+: invalid YAML", result.stderr), result.stderr


def test_the_issue_folder_name_is_a_safe_slug(minimal_tree: Path) -> None:
    issue = (minimal_tree / "2024-05-minimal").rename(minimal_tree / 'bad "<img src=x>"')
    found = problems_for(issue)
    assert any(line.startswith('1:1: the issue folder "bad "<img src=x>"" names the output files') for line in found), (
        found
    )


def test_templates_cannot_open_paths(minimal_tree: Path, tmp_path: Path):
    folder = house_layout(minimal_tree)
    (folder / "web" / "footer.html.j2").write_text('{{ (edition.root / "publication.yaml").read_text() }}')
    result = build_web(minimal_tree, tmp_path / "out")
    assert result.exit_code == 1 and "template error" in result.stderr and "Minimal Chair" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "code, words",
    [
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ('{{ "a" * 10**10 }}', "longer than 1,000,000"),
        ("{% for x in range(10**9) %}{% endfor %}", "range"),
        ('{% include "footer.html.j2" %}', "RecursionError"),
    ],
)
def test_a_failing_template_is_reported_at_its_line(minimal_tree: Path, tmp_path: Path, code: str, words: str):
    folder = house_layout(minimal_tree)
    (folder / "web" / "footer.html.j2").write_text("<footer>\n" + code + "\n</footer>\n")
    result = build_web(minimal_tree, tmp_path / "out")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert re.search(r"footer\.html\.j2:2:1: template error: ", result.stderr) and words in result.stderr, result.stderr


def test_font_names_and_licences_stay_in_the_layout(minimal_tree: Path, tmp_path: Path):
    folder = house_layout(minimal_tree)
    (folder / "web" / "footer.html.j2").write_text('{{ font_url("../../../../evil.sh") }}')
    result = build_web(minimal_tree, tmp_path / "out")
    assert result.exit_code == 1 and "name a file in the layout's fonts/ folder" in result.stderr

    (folder / "web" / "footer.html.j2").unlink()
    fonts = folder / "fonts"
    fonts.mkdir()
    (fonts / "SourceSans3-Semibold.ttf").write_bytes(
        (BUILTIN_LAYOUTS / "default/fonts/SourceSans3-Semibold.ttf").read_bytes()
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret")
    (fonts / "OFL.txt").symlink_to(secret)
    result = build_web(minimal_tree, tmp_path / "out")
    assert result.exit_code == 1 and "links to a file outside its layout folder" in result.stderr
    assert not (tmp_path / "out").exists()


def test_labels_must_be_text_and_twelve_months(minimal_tree: Path, tmp_path: Path):
    folder = house_layout(minimal_tree)
    (folder / "labels").mkdir()
    (folder / "labels" / "en.yaml").write_text("contents: 12\nmonths: 5\n")
    result = build_web(minimal_tree, tmp_path / "out")
    assert result.exit_code == 1
    assert re.search(
        r"en\.yaml:1:11: contents: expected text, got the number 12 \(put the value in quotes\)", result.stderr
    )
    assert re.search(
        r"en\.yaml:2:9: months: expected a list \(lines starting with `- `\), got the number 5", result.stderr
    )


def test_a_date_format_cannot_reach_python_internals():
    labels = {"months": [f"M{n}" for n in range(1, 13)], "date_format": "{day.__class__} {month} {day}, {year}"}
    assert format_date(dt.date(2024, 5, 14), labels) == "{day.__class__} M5 14, 2024"


def test_a_symbolic_link_loop_is_an_error_not_a_traceback(minimal_issue: Path) -> None:
    (minimal_issue / "briefs" / "loop.yaml").symlink_to(minimal_issue / "briefs" / "loop.yaml")
    found = problems_for(minimal_issue)
    assert any("Too many levels of symbolic links" in line for line in found), found


def test_a_file_name_too_long_is_an_error(minimal_issue: Path) -> None:
    brief = (minimal_issue / "briefs" / "one.yaml").read_text().replace("chart.png", "c" * 300 + ".png")
    found = brief_problems(minimal_issue, brief)
    assert len(found) == 1 and "is too long for a file name" in found[0], found


def test_a_file_name_cannot_forge_a_problem_line(minimal_issue: Path) -> None:
    (minimal_issue / "briefs" / "evil\nFAKE.yaml:9:9: forged.yaml").write_text("title: [\n")
    checker = Checker()
    checker.check_path(minimal_issue)
    printed = "\n".join(str(p) for p in checker.problems)
    assert not any(line.startswith("FAKE.yaml") for line in printed.splitlines()), printed
    assert "evil\\nFAKE.yaml" in printed


def test_two_briefs_with_one_slug_are_refused_at_the_second_listing(minimal_issue: Path) -> None:
    """Same file name in two folders (or names equal once transliterated) would share an offprint."""
    briefs = minimal_issue / "briefs"
    for folder, name in (("a", "study.yaml"), ("b", "study.yaml"), ("c", "Étude.yaml"), ("d", "etude.yaml")):
        (briefs / folder).mkdir()
        (briefs / folder / name).write_text((briefs / "one.yaml").read_text())
    (minimal_issue / "issue.yaml").write_text(
        "number: 3\ndate: 2024-05-14\nheadline: A minimal issue\nsections:\n  - title: The only theme\n"
        "    briefs:\n      - briefs/a/study.yaml\n      - briefs/b/study.yaml\n"
        "      - briefs/c/Étude.yaml\n      - briefs/d/etude.yaml\n"
    )
    found = [line for line in problems_for(minimal_issue) if "would be published as" in line]
    assert found == [
        '8:9: sections[0].briefs[1]: "briefs/b/study.yaml" would be published as `study`, like '
        '"briefs/a/study.yaml" on line 7 (offprints/study.pdf, #brief-study) (rename one of the two files: '
        "a brief's file name names its offprint and its place in the web edition)",
        '10:9: sections[0].briefs[3]: "briefs/d/etude.yaml" would be published as `etude`, like '
        '"briefs/c/Étude.yaml" on line 9 (offprints/etude.pdf, #brief-etude) (rename one of the two files: '
        "a brief's file name names its offprint and its place in the web edition)",
    ]


def test_dois_are_accepted_as_people_write_them(minimal_issue: Path) -> None:
    forms = [
        "10.1000/xyz123",
        "doi:10.1000/xyz123",
        "DOI: 10.1000/xyz123",
        "https://doi.org/10.1000/xyz123",
        "http://dx.doi.org/10.1000%2Fxyz123",
        "doi.org/10.1000/xyz123",
    ]
    references = "references:\n" + "".join(f'  - text: Study {n}.\n    doi: "{form}"\n' for n, form in enumerate(forms))
    assert brief_problems(minimal_issue, GOOD_BRIEF + references) == []
    edition = assemble(load_content(minimal_issue))
    assert {ref.doi for ref in edition.briefs[0].references} == {"10.1000/xyz123"}
    assert {ref.url for ref in edition.briefs[0].references} == {"https://doi.org/10.1000/xyz123"}
    wrong = GOOD_BRIEF + "references:\n  - text: Study.\n    doi: https://example.org/10.1000/x\n"
    assert brief_problems(minimal_issue, wrong) == [
        '13:10: references[0].doi: "https://example.org/10.1000/x" is not a DOI; write it like 10.1234/abcd, '
        "doi:10.1234/abcd or https://doi.org/10.1234/abcd"
    ]


def test_check_reports_an_item_folded_into_the_one_above(minimal_issue: Path) -> None:
    text = GOOD_BRIEF.replace("  - One.\n", "  - One.\n   - Two.\n")
    assert brief_problems(minimal_issue, text) == [
        "11:4: this line starts with `- ` but continues the text above: YAML joined it to the previous line "
        "instead of starting a new item (indent it exactly like the other items (same column), or put the "
        "text in quotes if the dash belongs to it)"
    ]


def test_a_language_the_layout_has_no_labels_for_is_a_warning(minimal_issue: Path) -> None:
    issue = minimal_issue / "issue.yaml"
    issue.write_text(issue.read_text() + "language: es\n")
    checker = Checker()
    checker.check_path(minimal_issue)
    [warning] = checker.problems
    assert (warning.path.name, warning.line, warning.column, warning.severity) == ("issue.yaml", 8, 11, "warning")
    assert 'no labels for "es"' in warning.message and "labels/es.yaml" in warning.hint
    issue.write_text(issue.read_text().replace("language: es", "language: de-AT"))
    checker = Checker()
    checker.check_path(minimal_issue)
    assert checker.problems == []  # German labels ship with the default layout


def test_a_missing_publication_is_said_once_not_per_file(sample_tree: Path) -> None:
    (sample_tree / "publication.yaml").unlink()
    issues = counted(len(list(sample_tree.glob("*/issue.yaml"))), "issue")  # the sample has more than one
    found = problems_for(sample_tree)
    assert found == [
        f"1:1: no publication.yaml in this folder or any folder above it, so {issues} below it cannot be "
        "checked (check the folder that holds publication.yaml, or start one here with "
        "`research-news new publication`)"
    ]
    issue = problems_for(sample_tree / "2023-01-data-and-society")
    assert len(issue) == 1 and "no publication.yaml" in issue[0]


def test_a_broken_issue_file_does_not_make_every_brief_unlisted(sample_tree: Path) -> None:
    (sample_tree / "2023-01-data-and-society" / "issue.yaml").write_text("number: [\n")
    found = problems_for(sample_tree)
    assert len(found) == 1 and "invalid YAML" in found[0], found


def test_publication_texts_may_be_given_per_language(minimal_tree: Path) -> None:
    from research_news.assemble import assemble
    from research_news.validate import load_content

    publication = minimal_tree / "publication.yaml"
    text = publication.read_text().replace("tagline: A small tree for tests\n", "")
    text = text.replace("    role: Editor\n", "    role:\n      en: Editor\n      fr: Rédactrice en chef\n")
    publication.write_text(
        text + "languages: [en, fr]\nseries:\n  en: Research News\n  fr: Lettre de la recherche\n"
        "tagline:\n  en: Small and tested\n  fr: Petit et testé\n"
        "about:\n  en: |\n    We [study](https://example.org) things.\n  fr: |\n    Nous étudions.\n"
    )
    assert problems_for(minimal_tree) == []
    issue = minimal_tree / "2024-05-minimal" / "issue.yaml"
    english = assemble(load_content(issue.parent))
    assert (english.publication.series, english.publication.tagline) == ("Research News", "Small and tested")
    assert "study" in english.publication.about_html and english.contacts[0].role == "Editor"
    issue.write_text(issue.read_text() + "language: fr\n")
    french = assemble(load_content(issue.parent))
    assert (french.publication.series, french.publication.tagline) == ("Lettre de la recherche", "Petit et testé")
    assert french.contacts[0].role == "Rédactrice en chef" and french.subject.startswith("Lettre de la recherche n°")
    publication.write_text(
        publication.read_text()
        .replace("  fr: Petit et testé", "  fre: Petit et testé")
        .replace("We [study](https://example.org)", "We [study](javascript:alert(1))")
    )
    found = problems_for(minimal_tree)
    assert any(': tagline.fre: "fre" is not one of the publication\'s languages (en, fr)' in line for line in found), (
        found
    )
    assert any("about.en" in line and "javascript:" in line for line in found), found
