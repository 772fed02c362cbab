"""The site's machine-readable files: Atom and JSON Feed 1.1 feeds, and the sitemap.

Every value comes from the content, never from the clock: an entry's id is its brief's
permanent address (issue slug + brief slug), its dates are its issue's date, and the feed's
``updated`` is the latest issue's date. Rebuilding the same content gives the same bytes,
so feed readers see no phantom updates and the build cache sees nothing to redo.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


@dataclass(frozen=True)
class FeedAuthor:
    name: str
    url: str | None = None  # the ORCID record, when given: the person's identity


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed: a brief (or, in the issues feed, an issue)."""

    id: str  # the permanent address: stable across rebuilds
    url: str
    title: str
    date: dt.date
    summary: str
    authors: tuple[FeedAuthor, ...] = ()
    content_html: str = ""  # rendered by the layout's feed template; relative links resolve against ``url``
    tags: tuple[str, ...] = ()
    language: str | None = None
    pdf_url: str | None = None


@dataclass
class Feed:
    title: str
    subtitle: str | None
    home_url: str
    url: str  # this feed's own address
    language: str
    publisher: str
    entries: list[FeedEntry] = field(default_factory=list)
    icon_url: str | None = None

    @property
    def updated(self) -> dt.date:
        return max((entry.date for entry in self.entries), default=dt.date(1970, 1, 1))


def _timestamp(date: dt.date) -> str:
    """RFC 3339 at midnight UTC: the content gives a day, not a time."""
    return f"{date.isoformat()}T00:00:00Z"


def atom(feed: Feed) -> bytes:
    """``feed`` as an Atom 1.0 document (RFC 4287)."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": feed.language})

    def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        element.text = text
        return element

    add(root, "id", feed.url)
    add(root, "title", feed.title)
    if feed.subtitle:
        add(root, "subtitle", feed.subtitle)
    add(root, "updated", _timestamp(feed.updated))
    add(root, "link", rel="self", type="application/atom+xml", href=feed.url)
    add(root, "link", rel="alternate", type="text/html", href=feed.home_url)
    add(add(root, "author"), "name", feed.publisher)
    if feed.icon_url:
        add(root, "icon", feed.icon_url)
    for item in feed.entries:
        entry = add(root, "entry")
        add(entry, "id", item.id)
        add(entry, "title", item.title)
        add(entry, "link", rel="alternate", type="text/html", href=item.url)
        if item.pdf_url:
            add(entry, "link", rel="enclosure", type="application/pdf", href=item.pdf_url)
        add(entry, "published", _timestamp(item.date))
        add(entry, "updated", _timestamp(item.date))
        for person in item.authors:
            author = add(entry, "author")
            add(author, "name", person.name)
            if person.url:
                add(author, "uri", person.url)
        for tag in item.tags:
            add(entry, "category", term=tag)
        add(entry, "summary", item.summary, type="text")
        if item.content_html:
            content = add(entry, "content", item.content_html, type="html")
            content.set("{http://www.w3.org/XML/1998/namespace}base", item.url)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def json_feed(feed: Feed) -> bytes:
    """``feed`` as JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""
    document: dict = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.url,
        "language": feed.language,
        "authors": [{"name": feed.publisher}],
        "items": [_json_item(entry) for entry in feed.entries],
    }
    if feed.subtitle:
        document["description"] = feed.subtitle
    if feed.icon_url:
        document["icon"] = feed.icon_url
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _json_item(entry: FeedEntry) -> dict:
    item: dict = {
        "id": entry.id,
        "url": entry.url,
        "title": entry.title,
        "summary": entry.summary,
        "content_html": entry.content_html or entry.summary,
        "date_published": _timestamp(entry.date),
        "date_modified": _timestamp(entry.date),
        "authors": [{"name": a.name, **({"url": a.url} if a.url else {})} for a in entry.authors],
    }
    if entry.tags:
        item["tags"] = list(entry.tags)
    if entry.language:
        item["language"] = entry.language
    if entry.pdf_url:
        item["attachments"] = [{"url": entry.pdf_url, "mime_type": "application/pdf"}]
    return item


def sitemap(pages: list[tuple[str, dt.date]]) -> bytes:
    """A sitemap (sitemaps.org 0.9) of ``pages``: absolute URL and the date its content last changed."""
    ET.register_namespace("", SITEMAP)
    root = ET.Element(f"{{{SITEMAP}}}urlset")
    for url, changed in pages:
        entry = ET.SubElement(root, f"{{{SITEMAP}}}url")
        ET.SubElement(entry, f"{{{SITEMAP}}}loc").text = url
        ET.SubElement(entry, f"{{{SITEMAP}}}lastmod").text = changed.isoformat()
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
