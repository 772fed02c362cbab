"""The plain-text email (``email.txt``), written from the content model, never from HTML.

Text-only mail clients, screen readers set to plain text and spam filters all read this
part. It follows the email edition's order and choices (summary or full text), wraps at
72 columns, underlines headings, writes lists as ``-`` bullets with a hanging indent, and
turns links into ``text [1]`` with the numbered URLs collected at the end.

Markdown is converted from its syntax tree (markdown-it), so emphasis becomes plain words
and nothing depends on how the HTML happens to be written.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from markdown_it.tree import SyntaxTreeNode

from .. import markdown
from ..assemble import BriefView, Edition, FigureView, PartView
from .email import EmailLinks, email_links

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
        lines.append(textwrap.fill(words, width, initial_indent=first if index == 0 else rest,
                                   subsequent_indent=rest, break_long_words=False, break_on_hyphens=False))
    return "\n".join(lines)


def heading(text: str, underline: str, width: int = WIDTH) -> str:
    """``text`` wrapped, then underlined with ``underline`` as long as its longest line."""
    wrapped = fill(text, width)
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


def markdown_text(source: str | None, lang: str, notes: Notes, width: int = WIDTH) -> str:
    """Markdown ``source`` as wrapped plain text, its links numbered in ``notes``."""
    if not source:
        return ""
    tree = SyntaxTreeNode(markdown.parser(lang).parse(source))  # the HTML editions' dialect
    return "\n\n".join(_blocks(tree, notes, width))


def _blocks(node: SyntaxTreeNode, notes: Notes, width: int) -> list[str]:
    """The block children of ``node``, each rendered as a string of lines."""
    out: list[str] = []
    for child in node.children:
        kind = child.type
        if kind == "paragraph":
            out.append(fill(_inline(child.children[0], notes), width))
        elif kind == "heading":
            out.append(heading(_inline(child.children[0], notes), "~", width))
        elif kind in ("bullet_list", "ordered_list"):
            out.append(_list(child, notes, width))
        elif kind == "blockquote":
            inner = "\n\n".join(_blocks(child, notes, width - 2))
            out.append("\n".join(("> " + line).rstrip() for line in inner.splitlines()))
        elif kind in ("fence", "code_block"):
            out.append("\n".join("    " + line for line in child.content.rstrip("\n").splitlines()))
        elif kind == "hr":
            out.append("* * *")
    return out


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


def render_text(edition: Edition) -> str:
    """The plain-text alternative of the email edition."""
    links = email_links(edition)
    labels, publication, notes = edition.labels, edition.publication, Notes()
    blocks: list[str] = [
        fill(f"{publication.name} · {publication.series}".upper()) + "\n"
        + fill(f"{labels['issue']} {edition.number} · {edition.date_label}"),
        heading(edition.headline or publication.series, "="),
    ]
    if publication.tagline:
        blocks.append(fill(publication.tagline))
    colon = labels["colon"]
    blocks.append(f"{labels['view_in_browser']}{colon}\n{links.web}\n\n{labels['download_pdf']}{colon}\n{links.pdf}")
    if edition.editorial_source:
        blocks += [heading(labels["editorial"], "="), markdown_text(edition.editorial_source, edition.lang, notes)]
    blocks += [heading(labels["in_this_issue"], "="), _contents(edition)]
    for section in edition.sections:
        blocks.append(banner(section.title))
        for brief in section.briefs:
            blocks += _brief(edition, brief, links, notes)
    blocks += _listings(edition, notes)
    if notes.urls:
        blocks += [heading(labels["links"], "="),
                   "\n".join(f"[{n}] {url}" for n, url in enumerate(notes.urls, start=1))]
    blocks.append(_footer(edition, links))
    return "\n\n".join(block for block in blocks if block).rstrip() + "\n"


def _contents(edition: Edition) -> str:
    """"In this issue": each section with its briefs and their authors."""
    groups = []
    for section in edition.sections:
        items = [hang("- ", fill(f"{brief.title} ({brief.author_names})", WIDTH - 2)) for brief in section.briefs]
        groups.append("\n".join([fill(section.title), *items]))
    return "\n\n".join(groups)


def _brief(edition: Edition, brief: BriefView, links: EmailLinks, notes: Notes) -> list[str]:
    """A brief as the email shows it: title, authors, the chosen parts, and the link to read on."""
    out = [heading(brief.title, "=")]
    if brief.subtitle:
        out.append(fill(brief.subtitle))
    out.append("\n".join(fill(", ".join(filter(None, [a.name, a.role, a.affiliation])), rest="  ")
                         for a in brief.authors))
    for part in brief.parts:
        if edition.email_full_text or part.key in edition.layout.email_summary:
            out += _part(brief, part, links, notes)
    out.append(f"{brief.labels['read_full_brief']}{brief.labels['colon']}\n{links.brief(brief)}")
    return out


def _part(brief: BriefView, part: PartView, links: EmailLinks, notes: Notes) -> list[str]:
    """A part under its underlined label: text or bullets, then its quotes and figures."""
    out = [heading(part.label, "-")]
    if isinstance(part.source, list):
        out.append("\n".join(hang("- ", markdown_text(item, brief.lang, notes, WIDTH - 2)) for item in part.source))
    else:
        out.append(markdown_text(part.source, brief.lang, notes))
    for quote in part.quotes:
        text = fill(quote.text, WIDTH - 2, first="> ", rest="> ")
        out.append(text + (f"\n> — {quote.source}" if quote.source else ""))
    for figure in part.figures:
        out.append(_figure(brief, figure, links.figure(figure), notes))
    return out


def _figure(brief: BriefView, figure: FigureView, url: str, notes: Notes) -> str:
    """A figure in words: its description (the alt text), caption, credit and where to see it."""
    labels = brief.labels
    colon = labels["colon"]
    lines = [fill(f"[{labels['figure']} {figure.number}{colon} {figure.image.alt}]")]
    if figure.caption_source:
        lines.append(markdown_text(figure.caption_source, brief.lang, notes))
    if figure.credit:
        lines.append(fill(f"{labels['credit']}{colon} {figure.credit}"))
    lines.append(f"{labels['view_figure']}{colon}\n{url}")
    return "\n".join(lines)


def _listings(edition: Edition, notes: Notes) -> list[str]:
    """Events and partner news: meta line, title, address, summary."""
    labels, out = edition.labels, []
    entries = [(labels["events"], [(f"{e.date_label}" + (f" · {e.place}" if e.place else ""), e.title, e.url,
                                    e.summary_source) for e in edition.events]),
               (labels["news"], [(n.source, n.title, n.url, n.summary_source) for n in edition.news])]
    for title, items in entries:
        if not items:
            continue
        out.append(heading(title, "="))
        for meta, name, url, summary in items:
            lines = [fill(meta), fill(name)]
            if url:
                lines.append(url)
            text = "\n".join(lines)
            if summary:
                text += "\n" + markdown_text(summary, edition.lang, notes)
            out.append(text)
    return out


def _footer(edition: Edition, links: EmailLinks) -> str:
    """Who sends this and how to reach them, then the browser, PDF and unsubscribe addresses."""
    labels, publication = edition.labels, edition.publication
    lines = ["-" * WIDTH, fill(f"{publication.name} · {publication.series}")]
    if publication.website:
        lines.append(publication.website)
    for person in edition.contacts:
        lines.append(fill(", ".join(filter(None, [person.name, person.role, person.email])), rest="  "))
    colon = labels["colon"]
    lines += ["", labels["view_in_browser"] + colon, links.web, labels["download_pdf"] + colon, links.pdf]
    if links.unsubscribe:
        lines += [labels["unsubscribe"] + colon, links.unsubscribe]
    return "\n".join(lines)
