"""The web edition: one accessible, responsive ``index.html`` and the assets beside it.

Everything the page shows comes from the :class:`~research_news.assemble.Edition`;
presentation lives in the layout's ``web/`` templates and ``web/web.css``. This module
only decides where each asset goes and how the page names it, so that publishing
``build/<slug>/`` anywhere (or opening it from disk) keeps every link working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..assemble import Edition, Image
from ..exceptions import ResearchNewsError
from .theme import palette

ASSETS = "assets"
STYLESHEET = f"{ASSETS}/web.css"


@dataclass
class WebEdition:
    """The page and the files to copy beside it (destination relative to build/<slug>/ → source)."""

    html: str
    files: dict[str, Path] = field(default_factory=dict)


def render_web(edition: Edition) -> WebEdition:
    """The web edition of ``edition``: ``index.html`` and the assets it links to."""
    files = {image_path(image): image.source for image in edition.images}
    stylesheet = edition.layout.file("web/web.css")
    if stylesheet is None:
        raise ResearchNewsError("the layout has no web/web.css")  # the default layout always has one
    files[STYLESHEET] = stylesheet
    fonts = LayoutFonts(edition)
    env = edition.layout.environment("web")
    env.filters["asset_url"] = image_url
    env.globals["font_url"] = fonts.url
    html = env.get_template("index.html.j2").render(
        edition=edition, labels=edition.labels, publication=edition.publication,
        theme=palette(edition), stylesheet=STYLESHEET,
    )
    files.update(fonts.files)  # known only once the template has asked for them
    return WebEdition(html=html, files=files)


def image_path(image: Image) -> str:
    """Where an image is copied, relative to build/<slug>/ (the email links the same place)."""
    return f"{ASSETS}/{image.rel}"


def image_url(image: Image) -> str:
    """The relative URL of an image from index.html (percent-encoded: file names may have spaces)."""
    return quote(image_path(image))


# --- fonts -------------------------------------------------------------------------


class LayoutFonts:
    """The layout's font files the page asks for, copied unmodified beside it.

    The template names each face it wants (the same files as print, from the layout's
    ``fonts/`` folder) through ``font_url``; a face the layout lacks gives None and the
    template leaves it to the system font stack. The fonts' licence files travel with
    them: the SIL OFL asks for that, and its Reserved Font Name forbids renaming or
    subsetting here, so the files are copied as they are.
    """

    def __init__(self, edition: Edition):
        self.layout = edition.layout
        self.files: dict[str, Path] = {}

    def url(self, name: str) -> str | None:
        source = self.layout.file(f"fonts/{name}")
        if source is None:
            return None
        destination = f"{ASSETS}/fonts/{name}"
        self.files[destination] = source
        for licence in sorted(source.parent.glob("LICENSE*")) + sorted(source.parent.glob("OFL*")):
            self.files[f"{ASSETS}/fonts/{licence.name}"] = licence
        return quote(destination)
