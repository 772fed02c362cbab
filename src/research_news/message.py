"""The ready-to-send ``.eml``: the email edition as one RFC 5322 message.

Built with Python's :mod:`email` package under a strict policy (SMTP line endings, defects
raise, headers read from a file never refolded), so what ``build`` writes is what ``send``
transmits. The message has no ``To``: ``send`` adds one per recipient.

**Headers that are never encoded.** RFC 2047 encoded words (``=?utf-8?q?…?=``) belong only in
text for people: a Subject, a display name. The email package, asked to fold any other
header too long for 78 characters, encodes it anyway, which breaks one-click unsubscribe
(RFC 2369/8058 readers take ``List-Unsubscribe`` literally) and Message-IDs. So every header
in :data:`VERBATIM_HEADERS` is a :class:`VerbatimHeader` in :data:`POLICY`'s header
factory: whoever sets it (``build`` here, ``send`` for each recipient) gets the same
folding, at whitespace already in the value and nowhere else, and a piece too long for one
998-octet line is refused instead of encoded. Mailboxes (From, Reply-To, To) are written by
:func:`mailbox`: a display name that folds into short lines stays a quoted string, any
other (non-ASCII, or a run too long for a line) becomes a row of short encoded words,
which RFC 2047 allows in a display name and mail programs join back together.
:func:`wire_problems` checks the bytes of a whole message against all of this; ``build``
runs it on the ``.eml`` and ``send`` on every message before it goes to the relay.

**Where the reader's address goes.** Only the publication's ``unsubscribe`` setting may name
the reader (``{email}``), and only there is it filled in: never in text that came from
briefs, or any contributor could collect the list by writing ``{email}`` in a link. So
``{email}`` in the setting is rendered as a marker word (``rnaddr`` and 32 hex digits) in the
List-Unsubscribe header and in the footer's unsubscribe link (HTML and plain text alike). Content
cannot contain it; ``{email}`` anywhere else stays as written. ``send`` reads the marker back
from the List-Unsubscribe header (where content never goes) and replaces exactly that word.

The build's marker is :func:`address_marker` of the email as rendered with a provisional
marker: a hash of every word content put in the email, so no content can contain it (it would
have to contain its own SHA-256), and the same for the same content, so unchanged content
builds the same files byte for byte. Renderers called without a marker (previews) use
:data:`ADDRESS_MARKER`, drawn at random when the process starts.

**The same bytes for the same content.** The ``.eml``'s Date is the issue's date, its
Message-ID and MIME boundaries are hashes of its parts (a boundary that is a hash of the text
it separates cannot occur in it); ``send`` sets each reader's own Date and Message-ID.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses

from .assemble import Edition
from .exceptions import ResearchNewsError
from .models import ADDRESS_SLOT, ENCODED_WORD
from .tree import PUBLICATION_FILE

MAX_LINE = 998
"""RFC 5322 2.1.1: octets in a line, CRLF not counted. Relays refuse longer ones."""
FOLD_AT = 78  # RFC 5322's "SHOULD": where lines are folded when they can be

VERBATIM_HEADERS = (
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Id",
    "List-Help",
    "List-Subscribe",
    "List-Post",
    "List-Owner",
    "List-Archive",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Language",
)
"""Headers read by machines, never by people: RFC 2047 forbids encoded words in them."""

ADDRESS_MARKER = f"rnaddr{secrets.token_hex(16)}"
"""Stands for the reader's address where no marker is given (previews; see the module docstring)."""
PROVISIONAL_MARKER = "rnaddr" + "0" * 32
"""What the email is first rendered with, to hash it into the build's marker (:func:`address_marker`)."""
MARKER_SHAPE = re.compile(r"rnaddr[0-9a-f]{32}")
"""What ``send`` looks for in the List-Unsubscribe header of a built message."""


class VerbatimHeader:
    """A header value kept exactly as given: folded only at its own whitespace, never encoded.

    Mixed into :class:`email.headerregistry.BaseHeader` by the header factory, like the
    email package's own header classes.
    """

    max_count = 1
    name: str  # BaseHeader's

    @classmethod
    def parse(cls, value: str, kwds: dict) -> None:
        kwds["decoded"] = value  # not decoded: "=?utf-8?…" here would be a literal
        kwds["parse_tree"] = None

    def fold(self, *, policy) -> str:
        return fold_verbatim(self.name, str(self), policy.linesep)


_VerbatimHeader = type("_VerbatimHeader", (VerbatimHeader, BaseHeader), {})


def verbatim(name: str, value: str) -> BaseHeader:
    """A header object for ``message[name] = …`` that is written out as :class:`VerbatimHeader`."""
    return _VerbatimHeader(name, value)


def _header_factory() -> HeaderRegistry:
    registry = HeaderRegistry()
    for name in VERBATIM_HEADERS:
        # typeshed wants a BaseHeader subclass, but the registry mixes ``cls`` into its base class
        # itself (email.headerregistry's own UnstructuredHeader, AddressHeader… are plain classes)
        registry.map_to_type(name.lower(), VerbatimHeader)  # type: ignore[arg-type]
    return registry


POLICY = policy.SMTP.clone(
    raise_on_defect=True, cte_type="7bit", refold_source="none", header_factory=_header_factory()
)
"""RFC 5322 with CRLF line endings; a malformed header is an error, never a silent repair; bodies
quoted-printable or base64 so that no relay without 8BITMIME can mangle them; headers parsed from
a file written out as they were; :data:`VERBATIM_HEADERS` never encoded."""

_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c]")
_PIECE = re.compile(r"[ \t]*[^ \t]+")  # a word with the whitespace before it: where folding may go


def fold_verbatim(name: str, value: str, linesep: str = "\r\n") -> str:
    """``name: value`` as header lines, broken only before whitespace already in ``value``.

    Unfolding (removing the line breaks) gives back ``value`` exactly. The first word stays
    on the name's line; later ones start a new line when the current one would pass 78
    characters. A word that cannot fit 998 characters even on a line of its own is refused.
    """
    refuse_line_breaks(name, value)
    if not value.isascii():
        raise ResearchNewsError(
            f"the {name} header must be ASCII, but is {value!r}; percent-encode the other characters (é → %C3%A9)"
        )
    lines = [f"{name}:"]
    for piece in _PIECE.findall(value):
        if len(lines) == 1 and not piece[0].isspace():
            piece = " " + piece  # the customary space after the colon
        if len(lines[-1]) + len(piece) <= (MAX_LINE if len(lines) == 1 and lines[0] == f"{name}:" else FOLD_AT):
            lines[-1] += piece
        elif 1 + len(piece.lstrip(" \t")) <= MAX_LINE:
            lines.append(piece if piece[0].isspace() else " " + piece)
        else:
            raise ResearchNewsError(
                f"the {name} header would hold {piece.strip()[:60]}… ({len(piece.strip())} characters without "
                f"a space), which no header line can: a line holds at most {MAX_LINE - 1}; shorten it"
            )
    return linesep.join(lines) + linesep


def mailbox(name: str, address: str) -> str:
    """``Name <address>`` as a To or From header carries it, folding or encoding the name as needed.

    A quoted ASCII name is kept as it is when each of its words fits a folded line; any
    other name is written as encoded words, which fold anywhere (RFC 2047 section 5).
    """
    if not name:
        return address
    plain = str(Address(display_name=name, addr_spec=address))  # quotes and escapes what needs it
    words = plain.rsplit(" <", 1)[0].split()
    if plain.isascii() and plain.isprintable() and all(len(word) < FOLD_AT for word in words):
        return plain
    return " ".join(encoded_words(name)) + f" <{address}>"


def text_header(text: str) -> str:
    """A header for people (Subject) as it is written out: as typed when it is short ASCII words,
    else a row of encoded words holding every character, spaces included.

    Python's own folding splits encoded words at spaces and drops the space (RFC 2047 has
    readers ignore whitespace between encoded words), so "qui décide" arrived as "quidécide".
    Encoding the spaces inside the words, and folding only between them, keeps the text exact.
    """
    if (
        text.isascii()
        and text.isprintable()
        and all(len(word) < FOLD_AT for word in text.split())
        and not ENCODED_WORD.search(text)
    ):
        return text
    return " ".join(encoded_words(text))


def encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 "B" encoded words of at most 64 characters, each of whole characters."""
    chunks = [b""]
    for char in text:
        data = char.encode("utf-8")
        if len(chunks[-1]) + len(data) > 39:  # 39 bytes → 52 base64 characters, + 12 for =?utf-8?b?…?=: with
            # "Subject: " or "Reply-To: " before it, the first line still fits 78 characters
            chunks.append(b"")
        chunks[-1] += data
    return [f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=" for chunk in chunks]


def wire_problems(data: bytes) -> list[str]:
    """What makes ``data`` (a whole message, as sent) unfit for a relay; empty when nothing does.

    Lines at most 998 octets, CRLF only, 7-bit, and no encoded word in a header of
    :data:`VERBATIM_HEADERS`: the promises this module makes, checked on the actual bytes.
    """
    problems = []
    if not data.isascii():
        problems.append("it contains 8-bit bytes")
    if b"\r" in data.replace(b"\r\n", b"") or b"\n" in data.replace(b"\r\n", b""):
        problems.append("it contains a line break that is not CRLF")
    lines = data.split(b"\r\n")
    longest = max(range(len(lines)), key=lambda index: len(lines[index]))
    if len(lines[longest]) > MAX_LINE:
        problems.append(f"line {longest + 1} is {len(lines[longest])} octets long (at most {MAX_LINE})")
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    verbatim_names = {name.lower() for name in VERBATIM_HEADERS}
    for field in re.split(r"\r\n(?![ \t])", head):
        name, _, value = field.partition(":")
        if name.strip().lower() in verbatim_names and ENCODED_WORD.search(value):
            problems.append(f"its {name.strip()} header is encoded ({value.strip()[:60]})")
    return problems


def check_wire(data: bytes, what: str) -> None:
    """Raise when :func:`wire_problems` finds anything in ``data``; ``what`` names the message."""
    problems = wire_problems(data)
    if problems:
        raise ResearchNewsError(
            f"{what} is not fit to send: {'; '.join(problems)}. This is a bug in "
            "research-news; please report it with the publication.yaml settings"
        )


def address_marker(*rendered: str) -> str:
    """The word standing for the reader's address in an email whose parts, rendered with
    :data:`PROVISIONAL_MARKER`, are ``rendered``: a hash of them, which no content can contain."""
    digest = hashlib.sha256("\0".join(rendered).encode("utf-8")).hexdigest()
    return f"rnaddr{digest[:32]}"


def build_message(
    edition: Edition, html: str, text: str, pdf: bytes | None = None, marker: str = ADDRESS_MARKER
) -> EmailMessage:
    """The issue as a ``multipart/alternative`` message (text, then HTML), PDF attached when given;
    ``marker`` where the reader's address goes. The same arguments make the same bytes."""
    publication = edition.publication
    if not publication.email_from:
        raise ResearchNewsError(
            f"the email edition needs a sender: set email.from in {edition.root / PUBLICATION_FILE} "
            '(e.g. "Research News <news@example.org>"), or build without the email (--only pdf,web)'
        )
    values = headers(edition, marker)  # checked before anything is built
    message = EmailMessage(policy=POLICY)
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    if pdf is not None:
        # add_attachment turns the message into multipart/mixed around the alternative part.
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=edition.pdf_name)
    digest = _digest_of(html, text, pdf, values)
    for number, part in enumerate(part for part in message.walk() if part.is_multipart()):
        part.set_boundary(f"{'=' * 15}{digest[:32]}.{number}==")  # the email package's shape, not its chance
    message_id = f"<{digest[:32]}@{sender_domain(publication.email_from) or 'localhost'}>"
    # Headers last: set_content() drops any Content-* header (Content-Language) set before it.
    for name, value in _after(values, "Date", "Message-ID", message_id).items():
        message[name] = verbatim(name, person_header(name, value)) if name in PEOPLE_HEADERS else value
    check_wire(message.as_bytes(), "the built email")
    return message


def _after(values: dict[str, str], name: str, new: str, value: str) -> dict[str, str]:
    """``values`` with ``new`` right after ``name`` (headers keep their usual order)."""
    ordered = {}
    for key, present in values.items():
        ordered[key] = present
        if key == name:
            ordered[new] = value
    return ordered if new in ordered else {**ordered, new: value}


def _digest_of(html: str, text: str, pdf: bytes | None, values: dict[str, str]) -> str:
    """A SHA-256 of everything in the message: its boundaries and Message-ID are made of it."""
    digest = hashlib.sha256()
    for part in (html.encode(), text.encode(), pdf or b"", repr(sorted(values.items())).encode()):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def headers(edition: Edition, marker: str = ADDRESS_MARKER) -> dict[str, str]:
    """Header name → value, every value checked for line breaks before it goes near a message.

    The Date is the issue's (``send`` sets the day it sends); the Message-ID is made with the
    message (:func:`build_message`), from its parts.
    """
    publication = edition.publication
    values = {
        "Subject": edition.subject,
        "From": publication.email_from,
        "Reply-To": publication.reply_to,
        "Date": format_datetime(dt.datetime.combine(edition.date, dt.time(), tzinfo=dt.UTC)),
        "Content-Language": edition.lang,
    }
    unsubscribe = unsubscribe_url(publication.unsubscribe, marker)
    if unsubscribe:
        values["List-Unsubscribe"] = f"<{unsubscribe}>"
        if unsubscribe.lower().startswith("https:"):
            # RFC 8058 one-click: mail clients POST to the URL instead of opening it.
            values["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    present = {name: value for name, value in values.items() if value}
    for name, value in present.items():
        refuse_line_breaks(name, value)
    return present


def unsubscribe_url(setting: str | None, marker: str = ADDRESS_MARKER) -> str | None:
    """The publication's unsubscribe address with ``marker`` where it says ``{email}``.

    The one place the reader's address is ever filled in; templates show this URL in the footer.
    """
    return ADDRESS_SLOT.sub(marker, setting) if setting else setting


PEOPLE_HEADERS = ("Subject", "From", "Reply-To")
"""Headers people read, written out by this module (never by the email package's folding)."""


def person_header(name: str, value: str) -> str:
    """The value of a header people read, as it is written out: mailboxes by :func:`mailbox`,
    the Subject by :func:`text_header`."""
    return text_header(value) if name == "Subject" else mailbox_header(value)


def mailbox_header(value: str) -> str:
    """A From or Reply-To value (``Name <address>``) rewritten by :func:`mailbox`; else as it is."""
    parsed = getaddresses([value])
    if len(parsed) != 1 or "@" not in parsed[0][1]:
        return value
    return mailbox(*parsed[0])


def refuse_line_breaks(name: str, value: str) -> None:
    """A header value with CR or LF could smuggle in headers of its own (``Bcc:``): refuse it.

    ``check`` already rejects line breaks in every single-line field; this is the last line
    of defence for editions assembled some other way.
    """
    if _LINE_BREAK.search(value):
        raise ResearchNewsError(
            f"the {name} header would contain a line break ({value!r}); "
            "remove it from the content (research-news check shows where)"
        )


def sender_domain(mailbox: str) -> str | None:
    """The domain of a ``Name <address>`` mailbox, for Message-IDs that look like the sender's own."""
    addresses = getaddresses([mailbox])
    address = addresses[0][1] if addresses else ""
    if "@" not in address:
        return None
    return Address(addr_spec=address).domain
