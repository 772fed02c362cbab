"""The plain-text email (``email.txt``), written from the content model, never from HTML.

Text-only mail clients, screen readers set to plain text and spam filters all read this
part. The layout's ``email/email.txt.j2`` template arranges it (following the email
edition's order and choices: summary or full text), with the filters defined here: it
wraps at 72 columns (``fill``), underlines headings (``heading``, ``banner``), writes
list items with a hanging indent (``hang``), and turns markdown into words
(``markdown_text``), links becoming ``text [1]`` with the numbered URLs (``notes``)
collected at the end. A table becomes aligned columns, or ``header: value`` lines when
its columns do not fit in 72; a footnote is cited by a superscript number (¹, so it is not
mistaken for a link's ``[1]``) and listed at the end of its brief (``footnote_text``), with
the numbers the other editions give it.

Markdown is converted from its syntax tree (the one markdown-it dialect of markdown.py), so
emphasis becomes plain words and nothing depends on how the HTML happens to be written.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from markdown_it.tree import SyntaxTreeNode

from .. import markdown
from ..assemble import BriefView, Edition
from ..message import ADDRESS_MARKER
from ..sections import require_templates
from ..typography import DEFAULT_QUOTES, Quotes
from .email import email_links

TEMPLATE = "email.txt.j2"
WIDTH = 72
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


@dataclass
class Notes:
    """Numbered link targets, in order of first appearance; a URL written twice keeps its number."""

    urls: list[str] = field(default_factory=list)

    def number(self, url: str) -> int:
        if url not in self.urls:
            self.urls.append(url)
        return self.urls.index(url) + 1


# --- text primitives -----------------------------------------------------------------


def fill(text: str, width: int = WIDTH, first: str = "", rest: str = "") -> str:
    """``text`` wrapped at ``width``; hard line breaks (markdown's trailing backslash) are kept.

    Long words (URLs) are never split, and hyphenated words stay whole so that a wrapped
    line never ends in a hyphen that was not in the text.
    """
    lines = []
    for index, line in enumerate(text.split("\n")):
        # Collapse ASCII whitespace only: a no-break space (French « ») must stay unbreakable.
        words = _SPACES.sub(" ", line).strip()
        lines.append(
            textwrap.fill(
                words,
                width,
                initial_indent=first if index == 0 else rest,
                subsequent_indent=rest,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


def heading(text: str, underline: str, width: int = WIDTH) -> str:
    """``text`` wrapped, then underlined with ``underline`` as long as its longest line; nothing
    when it has no words (a lone ``#`` in markdown)."""
    wrapped = fill(text, width)
    if not wrapped.strip():
        return ""
    return wrapped + "\n" + underline * max(len(line) for line in wrapped.splitlines())


def banner(text: str) -> str:
    """A section title between two full-width rules, so sections stand out from headings."""
    return "\n".join(["=" * WIDTH, fill(text.upper()), "=" * WIDTH])


def hang(marker: str, body: str) -> str:
    """``body`` (already wrapped) behind a list ``marker``, continuation lines indented under the text."""
    pad = " " * len(marker)
    lines = body.splitlines() or [""]
    return "\n".join([marker + lines[0], *[(pad + line) if line else "" for line in lines[1:]]])


# --- markdown → text -----------------------------------------------------------------


def markdown_text(
    source: str | None,
    lang: str,
    notes: Notes,
    width: int = WIDTH,
    quotes: Quotes = DEFAULT_QUOTES,
    footnotes: markdown.Footnotes | None = None,
) -> str:
    """Markdown ``source`` as wrapped plain text, its links numbered in ``notes``; in a brief,
    ``footnotes`` numbers its citations as the HTML editions do."""
    if not source:
        return ""
    md = markdown.parser(lang, quotes)  # the HTML editions' dialect
    tokens = footnotes.parse(source, md, "") if footnotes else md.parse(source)
    return "\n\n".join(_blocks(SyntaxTreeNode(tokens), notes, width))


def footnote_text(note: markdown.Footnote, notes: Notes, width: int = WIDTH) -> str:
    """The text of a brief's footnote, wrapped, its links numbered in ``notes``."""
    return "\n\n".join(_blocks(SyntaxTreeNode(list(note.tokens)), notes, width))


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def superscript(number: int) -> str:
    """``number`` in superscript digits: how the plain text cites a footnote."""
    return str(number).translate(_SUPERSCRIPT)


def _blocks(node: SyntaxTreeNode, notes: Notes, width: int) -> list[str]:
    """The block children of ``node``, each rendered as a string of lines."""
    out: list[str] = []
    for child in node.children:
        kind = child.type
        if kind == "paragraph":
            out.append(fill(_inline(child.children[0], notes), width))
        elif kind == "heading":
            out.append(heading(_inline(child.children[0], notes), "~", width))
            if not out[-1]:
                out.pop()  # a heading without words: no block, not an empty one
        elif kind in ("bullet_list", "ordered_list"):
            out.append(_list(child, notes, width))
        elif kind == "blockquote":
            inner = "\n\n".join(_blocks(child, notes, width - 2))
            out.append("\n".join(("> " + line).rstrip() for line in inner.splitlines()))
        elif kind in ("fence", "code_block"):
            out.append("\n".join("    " + line for line in child.content.rstrip("\n").splitlines()))
        elif kind == "hr":
            out.append("* * *")
        elif kind == "table":
            out.append(_table(child, notes, width))
    return out


def _table(node: SyntaxTreeNode, notes: Notes, width: int) -> str:
    """A table as aligned columns under an underlined header, or, when the columns do not fit
    in ``width``, each row as ``header: value`` lines (a blank line between rows)."""
    rows = [row for group in node.children for row in group.children]  # thead's row, then tbody's
    cells = [[_cell(cell, notes) for cell in row.children] for row in rows]
    # markdown-it's alignment, or the class the HTML renderer turned it into (a footnote's tokens)
    right = [str(cell.attrs.get("style", cell.attrs.get("class", ""))).endswith("right") for cell in rows[0].children]
    sizes = [max(len(row[column]) for row in cells) for column in range(len(right))]
    if sum(sizes) + 2 * (len(sizes) - 1) <= width:
        lines = [_row(cells[0], sizes, right), "  ".join("-" * size for size in sizes)]
        lines += [_row(row, sizes, right) for row in cells[1:]]
        return "\n".join(lines)
    header = cells[0]
    records = []
    for row in cells[1:]:
        lines = [
            fill(f"{name}: {value}" if name else value, width, rest="  ")
            for name, value in zip(header, row, strict=True)
        ]
        records.append("\n".join(lines))
    return "\n\n".join(records)


def _cell(cell: SyntaxTreeNode, notes: Notes) -> str:
    return " ".join(_inline(cell.children[0], notes).split()) if cell.children else ""


def _row(values: list[str], sizes: list[int], right: list[bool]) -> str:
    return "  ".join(
        value.rjust(size) if is_right else value.ljust(size)
        for value, size, is_right in zip(values, sizes, right, strict=True)
    ).rstrip()


def _list(node: SyntaxTreeNode, notes: Notes, width: int) -> str:
    """A list: ``-`` bullets or ``1.`` numbers, hanging indents; loose lists keep blank lines."""
    start = int(node.attrs.get("start", 1)) if node.type == "ordered_list" else 1
    tight = all(p.hidden for item in node.children for p in item.children if p.type == "paragraph")
    separator = "\n" if tight else "\n\n"
    items = []
    for offset, item in enumerate(node.children):
        marker = f"{start + offset}. " if node.type == "ordered_list" else "- "
        body = separator.join(_blocks(item, notes, width - len(marker)))
        items.append(hang(marker, body))
    return separator.join(items)


def _inline(node: SyntaxTreeNode, notes: Notes) -> str:
    """Inline markdown as words: emphasis dropped, links as ``text [n]``."""
    parts: list[str] = []
    for child in node.children:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "footnote_ref":
            parts.append(superscript(child.meta["id"] + 1))
        elif kind == "link":
            href = str(child.attrs.get("href", ""))
            label = _inline(child, notes)
            shown = href.removeprefix("mailto:")
            # An autolink already shows its address; anything else gets a numbered note.
            parts.append(label if label in (href, shown) else f"{label} [{notes.number(href)}]")
        else:  # strong, em, and anything else with children: keep the words
            parts.append(_inline(child, notes))
    return "".join(parts)


# --- the edition -------------------------------------------------------------------------

_BLANK_LINES = re.compile(r"\n{3,}")


def render_text(edition: Edition, marker: str = ADDRESS_MARKER) -> str:
    """The plain-text alternative of the email edition, from the layout's ``email/email.txt.j2``
    (``marker`` where the reader's address goes: see message.py).

    Blocks are separated by one blank line: runs of blank lines collapse into one, so a
    template can end every block with one without counting what came before.
    """
    env = text_environment(edition)
    links = email_links(edition, marker)
    require_templates(edition.layout, [extra.type for extra in edition.extras], "text")
    text = env.get_template(TEMPLATE).render(
        edition=edition,
        labels=edition.labels,
        publication=edition.publication,
        links=links,
        full_text=edition.email_full_text,
        notes=env.globals["notes"],
        width=WIDTH,
    )
    return _BLANK_LINES.sub("\n\n", text).lstrip("\n").rstrip() + "\n"


def text_environment(edition: Edition):
    """The layout's email templates without HTML escaping, with the plain-text filters and a
    fresh ``notes`` for this message's link numbers."""
    env = edition.layout.environment("email", autoescape=False)
    notes = Notes()

    def markdown_filter(
        source: str | None, lang: str | None = None, width: int = WIDTH, brief: BriefView | None = None
    ) -> str:
        lang = lang or edition.lang
        quotes = tuple(edition.layout.labels(lang)["quotes"])
        return markdown_text(source, lang, notes, width, quotes, _footnotes(brief) if brief else None)

    def footnote_filter(note: markdown.Footnote, width: int = WIDTH) -> str:
        return footnote_text(note, notes, width)

    env.filters.update(
        fill=fill,
        heading=heading,
        banner=banner,
        hang=_hang_filter,
        markdown_text=markdown_filter,
        footnote_text=footnote_filter,
        superscript=superscript,
    )
    env.globals["notes"] = notes
    return env


def _footnotes(brief: BriefView) -> markdown.Footnotes:
    """A brief's footnotes with the numbers the assembly gave them, for its plain text."""
    return markdown.Footnotes(brief.slug, numbers={note.label: note.number for note in brief.footnotes})


def _hang_filter(body: str, marker: str) -> str:
    """``hang`` as a filter: ``{{ text | fill(width - 2) | hang("- ") }}``."""
    return hang(marker, body)
