"""The ready-to-send ``.eml``: the email edition as one RFC 5322 message.

Built with Python's :mod:`email` package under a strict policy (SMTP line endings, defects
raise), so what ``build`` writes is what ``send`` transmits. The message has no ``To``:
``send`` adds one per recipient, and replaces the literal ``{email}`` placeholder of the
unsubscribe address (header and both bodies) with that recipient's URL-quoted address.
"""

from __future__ import annotations

import re
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid

from .assemble import Edition
from .exceptions import ResearchNewsError

POLICY = policy.SMTP.clone(raise_on_defect=True, cte_type="7bit")
"""RFC 5322 with CRLF line endings; a malformed header is an error, never a silent repair; bodies
quoted-printable or base64 so that no relay without 8BITMIME can mangle them."""

_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c]")


def build_message(edition: Edition, html: str, text: str, pdf: bytes | None = None) -> EmailMessage:
    """The issue as a ``multipart/alternative`` message (text, then HTML), PDF attached when given."""
    publication = edition.publication
    if not publication.email_from:
        raise ResearchNewsError(
            f"the email edition needs a sender: set email.from in {edition.root / 'publication.yaml'} "
            '(e.g. "Research News <news@example.org>"), or build without the email (--only pdf,web)'
        )
    values = headers(edition)  # checked before anything is built
    message = EmailMessage(policy=POLICY)
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    if pdf is not None:
        # add_attachment turns the message into multipart/mixed around the alternative part.
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=edition.pdf_name)
    # Headers last: set_content() drops any Content-* header (Content-Language) set before it.
    for name, value in values.items():
        message[name] = value
    return message


def headers(edition: Edition) -> dict[str, str]:
    """Header name → value, every value checked for line breaks before it goes near a message."""
    publication = edition.publication
    values = {
        "Subject": edition.subject,
        "From": publication.email_from,
        "Reply-To": publication.reply_to,
        "Date": formatdate(localtime=True),
        "Message-ID": make_msgid(domain=sender_domain(publication.email_from or "")),
        "Content-Language": edition.lang,
    }
    unsubscribe = publication.unsubscribe
    if unsubscribe:
        values["List-Unsubscribe"] = f"<{unsubscribe}>"
        if unsubscribe.lower().startswith("https:"):
            # RFC 8058 one-click: mail clients POST to the URL instead of opening it.
            values["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    present = {name: value for name, value in values.items() if value}
    for name, value in present.items():
        refuse_line_breaks(name, value)
    return present


def refuse_line_breaks(name: str, value: str) -> None:
    """A header value with CR or LF could smuggle in headers of its own (``Bcc:``): refuse it.

    ``check`` already rejects line breaks in every single-line field; this is the last line
    of defence for editions assembled some other way.
    """
    if _LINE_BREAK.search(value):
        raise ResearchNewsError(f"the {name} header would contain a line break ({value!r}); "
                                "remove it from the content (research-news check shows where)")


def sender_domain(mailbox: str) -> str | None:
    """The domain of a ``Name <address>`` mailbox, for Message-IDs that look like the sender's own."""
    addresses = getaddresses([mailbox])
    address = addresses[0][1] if addresses else ""
    if "@" not in address:
        return None
    return Address(addr_spec=address).domain
