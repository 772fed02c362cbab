"""How to cite a brief: BibTeX, RIS and CSL-JSON records, for the site's "Cite this brief".

A brief is an article in a periodical (the series), so every format types it so:
``@article`` in BibTeX (``journal`` the series, ``number`` the issue; ``@techreport`` would
need an institution as publisher and drops the issue number reference managers show),
``TY  - JOUR`` in RIS and ``article-journal`` in CSL-JSON. The records are data, not
presentation: each is built here from a :class:`Citation`, with each format's escaping
(BibTeX's special characters, RIS's one-line fields), and a hostile title stays a title.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

PARTICLES = {"de", "del", "della", "der", "di", "du", "da", "dos", "das", "la", "le", "van", "von", "den", "ter", "zu"}
"""Lower-case words that belong to the family name that follows them (``Ludwig van Beethoven``)."""


@dataclass(frozen=True)
class Name:
    """A person's name split as citation formats want it."""

    given: str
    family: str

    @classmethod
    def split(cls, full: str) -> Name:
        """``Christine Balagué`` → (Christine, Balagué); ``Jan van der Berg`` → (Jan, van der Berg).

        Briefs give one ``name``: the last word is the family name, with the lower-case particles
        before it; a single word is a family name alone (an organisation, a mononym).
        """
        words = full.split()
        if len(words) <= 1:
            return cls("", full.strip())
        start = len(words) - 1
        while start > 1 and words[start - 1] in PARTICLES:
            start -= 1
        return cls(" ".join(words[:start]), " ".join(words[start:]))


@dataclass(frozen=True)
class Citation:
    """What every format says about one brief."""

    key: str  # <issue slug>-<brief slug>: unique across the series, ASCII
    title: str
    authors: tuple[str, ...]
    journal: str  # the series
    issue: int
    date: dt.date
    url: str
    pdf_url: str
    language: str
    publisher: str
    abstract: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)


# --- BibTeX ------------------------------------------------------------------------

_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",  # not \^{}: that is a circumflex accent, on nothing
    "~": r"\textasciitilde{}",
}
_BIBTEX_PATTERN = re.compile("|".join(re.escape(char) for char in _BIBTEX_SPECIAL))
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def bibtex_text(text: str) -> str:
    """``text`` as a BibTeX field value: LaTeX's special characters escaped, braces always balanced.

    Unicode is kept as it is (biber and BibTeX with UTF-8 read it); only the characters that
    would end the field, start a command or a comment, or change mode are escaped.
    """
    return _BIBTEX_PATTERN.sub(lambda found: _BIBTEX_SPECIAL[found[0]], " ".join(text.split()))


def _bibtex_name(full: str) -> str:
    name = Name.split(full)
    family, given = bibtex_text(name.family), bibtex_text(name.given)
    # BibTeX splits authors on the word "and" in any case: braces keep a part that has one whole;
    # a single word is braced as well, so that nothing reads it as a given name.
    family = "{" + family + "}" if _AND.search(family) or not given else family
    given = "{" + given + "}" if _AND.search(given) else given
    return f"{family}, {given}" if given else family


_AND = re.compile(r"\band\b", re.IGNORECASE)


def _bibtex_url(url: str) -> str:
    """A URL as BibTeX's ``url`` field holds it: verbatim (the url package, biblatex), so only the
    characters that would unbalance the field are written as the percent-escapes they are equal to."""
    return url.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def bibtex(citation: Citation) -> str:
    """The ``@article`` record of ``citation``."""
    fields = [
        ("author", " and ".join(_bibtex_name(author) for author in citation.authors)),
        ("title", "{" + bibtex_text(citation.title) + "}"),  # inner braces: styles keep its capitals
        ("journal", bibtex_text(citation.journal)),
        ("number", str(citation.issue)),
        ("year", str(citation.date.year)),
        ("month", MONTHS[citation.date.month - 1]),
        ("publisher", bibtex_text(citation.publisher)),
        ("url", _bibtex_url(citation.url)),
        ("language", bibtex_text(citation.language)),
    ]
    if citation.keywords:
        fields.append(("keywords", bibtex_text(", ".join(citation.keywords))))
    lines = [f"@article{{{citation.key},"]
    for name, value in fields:
        lines.append(f"  {name} = {value}," if name == "month" else f"  {name} = {{{value}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- RIS ---------------------------------------------------------------------------


def _ris_text(text: str) -> str:
    """One RIS line's value: RIS has no escaping, so line breaks become spaces."""
    return " ".join(text.split())


def ris(citation: Citation) -> str:
    """The RIS record of ``citation`` (``TY  - JOUR`` … ``ER  -``), CRLF line ends as the format asks."""
    date = citation.date
    lines = [("TY", "JOUR"), ("TI", citation.title)]
    lines += [("AU", _ris_name(author)) for author in citation.authors]
    lines += [
        ("PY", str(date.year)),
        ("DA", f"{date.year:04d}/{date.month:02d}/{date.day:02d}"),
        ("JO", citation.journal),
        ("T2", citation.journal),
        ("IS", str(citation.issue)),
        ("PB", citation.publisher),
        ("LA", citation.language),
        ("UR", citation.url),
        ("L1", citation.pdf_url),
        ("ID", citation.key),
    ]
    lines += [("KW", keyword) for keyword in citation.keywords]
    if citation.abstract:
        lines.append(("AB", citation.abstract))
    body = "".join(f"{tag}  - {_ris_text(value)}\r\n" for tag, value in lines)
    return body + "ER  - \r\n"


def _ris_name(full: str) -> str:
    name = Name.split(full)
    return f"{name.family}, {name.given}" if name.given else name.family


# --- CSL-JSON ------------------------------------------------------------------------


def csl_item(citation: Citation) -> dict:
    """The CSL-JSON item of ``citation`` (what Zotero, Pandoc and citeproc read)."""
    date = citation.date
    item: dict = {
        "id": citation.key,
        "type": "article-journal",
        "title": citation.title,
        "author": [_csl_name(author) for author in citation.authors],
        "issued": {"date-parts": [[date.year, date.month, date.day]]},
        "container-title": citation.journal,
        "issue": str(citation.issue),
        "publisher": citation.publisher,
        "language": citation.language,
        "URL": citation.url,
    }
    if citation.abstract:
        item["abstract"] = citation.abstract
    if citation.keywords:
        item["keyword"] = ", ".join(citation.keywords)
    return item


def _csl_name(full: str) -> dict[str, str]:
    name = Name.split(full)
    return {"family": name.family, "given": name.given} if name.given else {"literal": name.family}


def csl_json(citation: Citation) -> str:
    """A CSL-JSON file: a list holding the one item."""
    return json.dumps([csl_item(citation)], ensure_ascii=False, indent=2) + "\n"


FORMATS = {
    "bib": ("BibTeX", "application/x-bibtex", bibtex),
    "ris": ("RIS", "application/x-research-info-systems", ris),
}
FORMATS["json"] = ("CSL-JSON", "application/vnd.citationstyles.csl+json", csl_json)
"""File extension → (format name shown to readers, media type, writer)."""
