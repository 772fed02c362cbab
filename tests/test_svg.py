"""The SVG rule (images.svg_problem): a figure is one self-contained drawing.

Each hostile case is something a browser would load or run if a reader opened the
figure from the web edition (or an archive of it); each benign case is what drawing
programs and plotting libraries really write. Cases go through ``image_problem``, the
function ``check`` calls, so what passes here is what every edition publishes.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image as PILImage

from research_news.images import image_problem

from .conftest import FIXTURES

SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{}</svg>'
PNG = (FIXTURES / "minimal" / "2024-05-minimal" / "images" / "chart.png").read_bytes()


def png_data_url(data: bytes = PNG, kind: str = "image/png") -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def huge_png() -> bytes:
    """A real PNG claiming 60 million pixels, small on disk (one colour compresses to nothing)."""
    buffer = io.BytesIO()
    PILImage.new("1", (10_000, 6_000)).save(buffer, "PNG")
    return buffer.getvalue()


HOSTILE = {
    # references out of the file, in every place SVG and CSS allow one
    "css url() in a style attribute": SVG.format('<rect style="fill: url(http://tracker.example/p.png)"/>'),
    "css url() in a presentation attribute": SVG.format('<rect fill="url(https://x.example/g.svg#g)"/>'),
    "css url() spelled with escapes": SVG.format(r'<rect style="fill: \75 rl(http://x.example/p.png)"/>'),
    "css url() with a character reference": SVG.format('<rect style="fill: url&#40;http://x.example/p)"/>'),
    "@import in <style>": SVG.format("<style>@import url(http://x.example/s.css);</style>"),
    "@import of a string": SVG.format('<style>@import "s.css";</style>'),
    "@font-face src in <style>": SVG.format('<style>@font-face { font-family: F; src: url("f.ttf") }</style>'),
    "image-set() string": SVG.format('<style>rect { fill: -webkit-image-set("a.png" 1x) }</style>'),
    "<style> in CDATA": SVG.format("<style><![CDATA[ rect { fill: url('http://x.example/p') } ]]></style>"),
    "elements inside <style>": SVG.format("<style>@imp<g/>ort url(x.css);</style>"),
    "<image> of a local file": SVG.format('<image xlink:href="file:///etc/passwd" width="9" height="9"/>'),
    "<image> of a sibling file": SVG.format('<image href="inside.png" width="9" height="9"/>'),
    "<image> of a web address": SVG.format('<image href="https://x.example/a.png"/>'),
    "<use> of another document": SVG.format('<use href="other.svg#x"/>'),
    "<feImage> of a web address": SVG.format('<filter id="f"><feImage href="http://x.example/a.png"/></filter>'),
    "<pattern> inheriting another file": SVG.format('<pattern xlink:href="pats.svg#p"/>'),
    "<script> with a source": SVG.format('<script href="https://x.example/s.js"/>'),
    "an odd xlink prefix": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:zz="http://www.w3.org/1999/xlink">'
    '<image zz:href="http://x.example/a.png"/></svg>',
    "an href in an unknown namespace": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:q="urn:q">'
    '<image q:href="http://x.example/a.png"/></svg>',
    "an svg prefix and a default namespace elsewhere": '<s:svg xmlns:s="http://www.w3.org/2000/svg">'
    '<s:image href="//x.example/a.png"/></s:svg>',
    "a relative link": SVG.format('<a href="page.html"><text>x</text></a>'),
    "a fragment after blanks is still a path": SVG.format('<use href=" x.svg#a"/>'),
    "an animation that rewrites a link": SVG.format('<a href="#a"><set attributeName="href" to="#b"/></a>'),
    "an animation of xlink:href": SVG.format(
        '<image href="#a"><animate attributeName="xlink:href" values="http://x.example/a.png"/></image>'
    ),
    "xml:base": SVG.format('<g xml:base="http://x.example/"><use href="#a"/></g>'),
    "a data: SVG inside an SVG": SVG.format('<image href="data:image/svg+xml,&lt;svg/&gt;"/>'),
    "a data: HTML page": SVG.format('<image href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"/>'),
    "a data: PNG that is no PNG": SVG.format(f'<image href="{png_data_url(b"<svg/>")}"/>'),
    "a data: PNG bomb": SVG.format(f'<image href="{png_data_url(huge_png())}"/>'),
    "a data: URL on a <use>": SVG.format(f'<use href="{png_data_url()}"/>'),
    "an external DTD": '<!DOCTYPE svg SYSTEM "http://x.example/evil.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>',
    # scripts
    "a javascript: link": SVG.format('<a href="javascript:alert(1)"><text>x</text></a>'),
    "a javascript: link in odd case and blanks": SVG.format('<a href=" JaVaScRiPt:alert(1)"><text>x</text></a>'),
    "a javascript: link split by a tab": SVG.format('<a xlink:href="java&#9;script:alert(1)"><text>x</text></a>'),
    "a vbscript: link": SVG.format('<a href="VBScript:msgbox(1)"><text>x</text></a>'),
    "an event handler": SVG.format('<rect onclick="alert(1)"/>'),
    "an event handler in upper case": SVG.format('<rect ONMOUSEOVER="alert(1)"/>'),
    "an event handler in a namespace": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:e="urn:e"><rect e:onload="x()"/></svg>',
    "<script>": SVG.format("<script>alert(1)</script>"),
    "<script> in a prefixed namespace": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:s="http://www.w3.org/2000/svg">'
    "<s:script>alert(1)</s:script></svg>",
    "<foreignObject>": SVG.format("<foreignObject><p>hi</p></foreignObject>"),
    "an HTML element outside foreignObject": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:h="http://www.w3.org/1999/xhtml">'
    '<h:iframe src="https://x.example/"/></svg>',
    "an HTML style element": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:h="http://www.w3.org/1999/xhtml">'
    "<h:style>@import url(x.css)</h:style></svg>",
    "XInclude": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xi="http://www.w3.org/2001/XInclude">'
    '<xi:include href="/etc/passwd" parse="text"/></svg>',
    "<handler> (SVG Tiny)": SVG.format('<handler type="application/ecmascript">alert(1)</handler>'),
    # the document itself
    "an entity declaration": '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
    "a billion laughs": '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg">&c;</svg>',
    "an external entity": '<!DOCTYPE svg [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    '<svg xmlns="http://www.w3.org/2000/svg">&e;</svg>',
    "an xml-stylesheet instruction": '<?xml-stylesheet href="x.css"?><svg xmlns="http://www.w3.org/2000/svg"/>',
    "an XSLT stylesheet instruction in upper case": '<?XML-STYLESHEET type="text/xsl" href="x.xsl"?>'
    '<svg xmlns="http://www.w3.org/2000/svg"/>',
    "an HTML page named .svg": '<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>',
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_svg_is_refused(tmp_path: Path, name: str) -> None:
    figure = tmp_path / "figure.svg"
    figure.write_text(HOSTILE[name])
    problem = image_problem(figure)
    assert problem is not None, name
    what, hint = problem
    assert what and hint and "\n" not in what


BENIGN = {
    "internal references, gradients, markers and clips": SVG.format(
        '<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient>'
        '<radialGradient id="r" href="#g"/><clipPath id="c"><rect width="5" height="5"/></clipPath>'
        '<marker id="m"><path d="M0 0L5 5"/></marker><symbol id="s"><circle r="2"/></symbol></defs>'
        '<rect fill="url(#g)" clip-path="url(#c)" style="stroke: url( \'#r\' ); filter: url(#f)"/>'
        '<path marker-end="url(#m)" d="M0 0 L10 10"/><use xlink:href="#s"/><use href="#s" x="4"/>'
        "<style>rect { fill: url(#g) } @media print { path { stroke: black } }</style>"
    ),
    "a link to a web page and a mail address": SVG.format(
        '<a href="https://example.org/data"><text>data</text></a>'
        '<a xlink:href="mailto:ada@example.org"><text>mail</text></a>'
    ),
    "an embedded PNG and JPEG": SVG.format(
        f'<image href="{png_data_url()}" width="9" height="9"/>'
        f'<image xlink:href="{png_data_url(kind="IMAGE/PNG")}"/>'
        f'<filter id="f"><feImage href="{png_data_url()}"/></filter>'
    ),
    "matplotlib's doctype and metadata": (
        '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n  "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        '<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="460pt" height="345pt" viewBox="0 0 460 345" '
        'xmlns="http://www.w3.org/2000/svg" version="1.1"><metadata><rdf:RDF '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:cc="http://creativecommons.org/ns#" '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><cc:Work><dc:type '
        'rdf:resource="http://purl.org/dc/dcmitype/StillImage"/></cc:Work></rdf:RDF></metadata>'
        '<defs><style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}</style></defs>'
        '<g id="figure_1"><path d="M 0 345 L 460 345" style="fill: #ffffff"/></g></svg>'
    ),
    "Inkscape's own namespaces": (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
        'xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" '
        'sodipodi:docname="chart.svg" inkscape:export-filename="/home/ada/chart.png">'
        '<sodipodi:namedview pagecolor="#ffffff" inkscape:zoom="1"/><g inkscape:label="Layer 1" '
        'inkscape:groupmode="layer"><rect width="4" height="4" style="fill:#000;stroke:none"/></g></svg>'
    ),
    "a text that mentions javascript and url(": SVG.format("<text>javascript is not run; url(x) is text</text>"),
    "a title with an href-like word": SVG.format("<title>the href attribute</title><desc>onload</desc>"),
}


@pytest.mark.parametrize("name", BENIGN)
def test_plain_drawings_pass(tmp_path: Path, name: str) -> None:
    figure = tmp_path / "figure.svg"
    figure.write_text(BENIGN[name])
    assert image_problem(figure) is None


def test_a_refusal_says_what_and_where_in_plain_words(tmp_path: Path) -> None:
    figure = tmp_path / "figure.svg"
    figure.write_text(HOSTILE["<image> of a local file"])
    what, hint = image_problem(figure)
    assert what == 'names "file:///etc/passwd" (in <image>), which is outside the figure'
    assert "self-contained" in hint and "embed" in hint.lower()
