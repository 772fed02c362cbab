"""The editions a build can make, by name: what ``build`` loops over and ``--only`` chooses from.

The built-in ones are the print PDF (``pdf``), its ``offprints`` (one PDF per brief, made
when asked for), the ``web`` edition and the ``email`` (HTML, plain text and the .eml
message). Other packages add theirs through the entry-point group
``research_news.editions``, each entry naming an object with the :class:`EditionRenderer`
attributes (or a class making one)::

    [project.entry-points."research_news.editions"]
    json = "my_package.json_edition:JsonEdition"

A renderer only renders, in memory: it returns the files to write as :class:`Output`s, and
the build writes them, atomically, with every other edition's (see build.py), recording
them in the output manifest under the edition's name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from . import plugins
from .exceptions import Problem, ResearchNewsError
from .sections import NAME

if TYPE_CHECKING:
    from .assemble import Edition

GROUP = "research_news.editions"
"""The entry-point group other packages register editions in."""


@dataclass
class Output:
    """One file to write: where, and either its bytes or a file to copy; ``edition`` says which
    edition it belongs to, for the manifest (the build fills it in with the renderer's name)."""

    path: Path
    data: bytes | None = None
    copy_of: Path | None = None
    note: str = ""
    edition: str = ""

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.copy_of.stat().st_size  # type: ignore[union-attr]


@dataclass
class Rendered:
    """What an edition made: its files, the warnings it noticed, and (for a paged edition) its pages."""

    outputs: list[Output] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    pages: int | None = None
    read: set[Path] = field(default_factory=set)  # files read besides the content and layout (cache.py)


@dataclass
class Options:
    """What a renderer may use besides the edition: where files go (``out_dir`` is build/<slug>/, or
    build/<slug>/<lang>/ for the edition in a language the issue is translated into),
    the build's choices, and what the editions rendered before it in this build made."""

    out_dir: Path
    pdf_variant: str | None = "pdf/ua-1"
    attach_pdf: bool = False
    pad_to: int | None = None  # the print edition's page count, a multiple of this (notes pages added)
    rendered: dict[str, Rendered] = field(default_factory=dict)
    memo: Any = None  # where pagination's decisions are kept between builds (cache.Memo), or None


@runtime_checkable
class EditionRenderer(Protocol):
    """An edition a build can make.

    ``title`` names it in progress lines and messages ("the web edition"); ``help`` is one
    line for ``--help``; ``by_default`` says whether a build without ``--only`` makes it;
    ``missing`` lists the publication settings it needs and the publication lacks (a build
    without ``--only`` then skips it with a warning, unless the edition sets ``checked = True``
    because ``check`` already warns about those settings); ``render`` makes its files.
    """

    title: str
    help: str
    by_default: bool

    def missing(self, edition: Edition) -> list[str]: ...

    def render(self, edition: Edition, options: Options) -> Rendered: ...


class _BuiltIn:
    by_default = True

    def missing(self, edition: Edition) -> list[str]:
        return []


class PrintEdition(_BuiltIn):
    title, help = "the print edition", "the print PDF"

    def render(self, edition: Edition, options: Options) -> Rendered:
        return self.render_with_offprints(edition, options, [])[0]

    def render_with_offprints(
        self, edition: Edition, options: Options, slugs: list[str]
    ) -> tuple[Rendered, dict[str, Rendered]]:
        """The print PDF, and the offprints of the briefs ``slugs`` cut from the same layout."""
        from .render.pdf import render_print  # WeasyPrint is slow to import: only when a PDF is wanted

        printed = render_print(
            edition, variant=options.pdf_variant, pad_to=options.pad_to, offprints=slugs, memo=options.memo
        )
        pdf = printed.issue
        assert pdf is not None
        return (
            Rendered(
                [Output(options.out_dir / edition.pdf_name, pdf.data, note=f"{pdf.pages} pages")],
                list(pdf.warnings),
                pdf.pages,
                pdf.read,
            ),
            {slug: _offprint(options, slug, one) for slug, one in printed.offprints.items()},
        )


class Offprints(_BuiltIn):
    title, help = "the offprints", "one PDF per brief, its pages as printed in the issue (also --offprints)"
    by_default = False

    def render(self, edition: Edition, options: Options) -> Rendered:
        rendered = Rendered()
        for one in self.render_some(edition, options, [brief.slug for brief in edition.briefs]).values():
            rendered.outputs.extend(one.outputs)
            rendered.warnings.extend(one.warnings)
            rendered.read |= one.read
        return rendered

    def render_some(self, edition: Edition, options: Options, slugs: list[str]) -> dict[str, Rendered]:
        """The offprints of the briefs ``slugs`` only (the build reuses the others'), cut from one layout
        of the issue; when the build also renders the print PDF it cuts them from that one instead
        (:func:`render_pieces`)."""
        from .render.pdf import render_offprints

        return {
            slug: _offprint(options, slug, pdf)
            for slug, pdf in render_offprints(
                edition, variant=options.pdf_variant, pad_to=options.pad_to, slugs=slugs, memo=options.memo
            ).items()
        }

    @staticmethod
    def path(options: Options, slug: str) -> Path:
        return options.out_dir / "offprints" / f"{slug}.pdf"


def _offprint(options: Options, slug: str, pdf) -> Rendered:
    """An offprint as an edition's piece: its file, the layout's warnings, what WeasyPrint read."""
    return Rendered(
        [Output(Offprints.path(options, slug), pdf.data, note=f"{pdf.pages} pages")], list(pdf.warnings), read=pdf.read
    )


Piece = tuple[str, str]
"""One thing a build renders and caches on its own: ``(edition, piece)``, the piece being the edition's
name for a whole edition (``("pdf", "pdf")``) or a brief's slug for an offprint (``("offprints", slug)``)."""


def render_pieces(edition: Edition, options: Options, pieces: list[Piece]) -> dict[Piece, Rendered]:
    """The built-in editions' ``pieces`` of ``edition``, rendered. The print PDF and the offprints share
    one layout of the issue: asked for together, the issue is laid out once for all of them."""
    done: dict[Piece, Rendered] = {}
    slugs = [piece for name, piece in pieces if name == "offprints"]
    if ("pdf", "pdf") in pieces:
        done["pdf", "pdf"], offprints = PRINT.render_with_offprints(edition, options, slugs)
    elif slugs:
        offprints = OFFPRINTS.render_some(edition, options, slugs)
    else:
        offprints = {}
    done.update((("offprints", slug), one) for slug, one in offprints.items())
    for name, piece in pieces:
        if name not in ("pdf", "offprints"):
            done[name, piece] = BUILT_IN[name].render(edition, options)
    return done


class WebEdition(_BuiltIn):
    title, help = "the web edition", "index.html and its assets"

    def render(self, edition: Edition, options: Options) -> Rendered:
        from .render.web import render_web

        web = render_web(edition)
        out = options.out_dir
        return Rendered(
            [
                Output(out / "index.html", web.html.encode("utf-8")),
                *(Output(out / relative, copy_of=source) for relative, source in web.files.items()),
                *(Output(out / relative, data) for relative, data in web.data.items()),
            ]
        )


class EmailEdition(_BuiltIn):
    title, help = "the email edition", "email.html, email.txt and the .eml message"

    checked = True  # the content check warns when the publication lacks these (Publication.email_edition_lacks)

    def missing(self, edition: Edition) -> list[str]:
        return [
            name
            for name, value in (
                ("web_base_url", edition.publication.web_base_url),
                ("email.from", edition.publication.email_from),
            )
            if not value
        ]

    def render(self, edition: Edition, options: Options) -> Rendered:
        from .message import PROVISIONAL_MARKER, address_marker, build_message
        from .render.email import editorial_checks, render_email
        from .render.text import render_text

        # Rendered with a provisional marker, whose hash is the real one: see message.py.
        html, text = render_email(edition, PROVISIONAL_MARKER), render_text(edition, PROVISIONAL_MARKER)
        marker = address_marker(html, text)
        if PROVISIONAL_MARKER in html + text:  # it stands for the reader's address somewhere
            html, text = render_email(edition, marker), render_text(edition, marker)
        message = build_message(edition, html, text, _attached_pdf(edition, options), marker)
        out = options.out_dir
        return Rendered(
            [
                Output(out / name, data)
                for name, data in (
                    ("email.html", html.encode("utf-8")),
                    ("email.txt", text.encode("utf-8")),
                    (f"{edition.slug}.eml", message.as_bytes()),
                )
            ],
            editorial_checks(edition, html),
        )


def _attached_pdf(edition: Edition, options: Options) -> bytes | None:
    """The print PDF this build made, when the message is to carry it (the build makes it first)."""
    if not options.attach_pdf:
        return None
    return next(output.data for output in options.rendered["pdf"].outputs if output.path.name == edition.pdf_name)


PRINT, OFFPRINTS = PrintEdition(), Offprints()

BUILT_IN: dict[str, EditionRenderer] = {
    "pdf": PRINT,
    "offprints": OFFPRINTS,
    "web": WebEdition(),
    "email": EmailEdition(),
}
"""In the order a build makes them: the email may attach the PDF rendered before it."""


@functools.cache
def registered() -> dict[str, EditionRenderer]:
    """Every edition by name: the built-in ones, then those installed packages register."""
    editions = dict(BUILT_IN)
    for entry in plugins.installed(GROUP):
        where = f"the edition {entry.name!r} ({entry.value}, entry point group {GROUP})"
        if entry.name in editions:
            raise ResearchNewsError(f"{where}: an edition {entry.name!r} is already registered")
        if not NAME.fullmatch(entry.name):
            raise ResearchNewsError(f"{where}: name it with lower-case letters, digits and underscores")
        editions[entry.name] = _load(entry, where)
    return editions


def _load(entry: EntryPoint, where: str) -> EditionRenderer:
    """The renderer an entry point names (an instance, or a class made with no arguments)."""
    found = plugins.load(entry, where)
    try:
        renderer = found() if isinstance(found, type) else found
    except Exception as error:  # third-party code: whatever it raises, say whose it is
        raise ResearchNewsError(f"{where} could not be made: {type(error).__name__}: {error}") from None
    if not isinstance(renderer, EditionRenderer):
        lacking = [name for name in ("title", "help", "by_default", "missing", "render") if not hasattr(renderer, name)]
        raise ResearchNewsError(f"{where} is not an edition renderer: it has no {', '.join(lacking)}")
    return renderer


def names() -> tuple[str, ...]:
    """What ``--only`` can name."""
    return tuple(registered())


def unknown(wanted: tuple[str, ...] | list[str]) -> list[str]:
    """The names in ``wanted`` that are no registered edition."""
    return [name for name in wanted if name not in registered()]


def choices_message(wanted: tuple[str, ...] | list[str] | str) -> str:
    """The usage error for ``--only`` naming something else than editions."""
    written = wanted if isinstance(wanted, str) else ",".join(wanted)
    return f"--only takes {', '.join(names())} (comma-separated); got {written!r}"


def reset() -> None:
    """Forget the registry, so that packages installed since (or a test's entry points) are read again."""
    registered.cache_clear()
