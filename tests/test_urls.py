"""The fetcher is the only door: what it serves, what it refuses, and that refusing reads nothing."""

from __future__ import annotations

import base64
import http.server
import os
import shutil
import threading
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, path2url

from research_news.urls import RefusedURL, SafeFetcher, svg_references

from .conftest import FIXTURES, run_cli
from .pdf_tree import decoded_texts

PNG = (FIXTURES / "minimal" / "2024-05-minimal" / "images" / "chart.png").read_bytes()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A content tree with one image, one YAML file, and a secret beside (outside) it."""
    root = tmp_path / "tree"
    (root / "images").mkdir(parents=True)
    (root / "images" / "chart.png").write_bytes(PNG)
    (root / "images" / "with space.png").write_bytes(PNG)
    (root / "publication.yaml").write_text("name: Tree\n")
    (tmp_path / "secret.png").write_bytes(PNG)
    return root


@pytest.fixture
def http_server():
    """A real HTTP server on loopback that records every request it gets (it must get none)."""
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args):  # keep test output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the fetcher on its own -----------------------------------------------------------


def test_serves_an_image_inside_the_tree(tree: Path):
    fetcher = SafeFetcher([tree])
    response = fetcher(path2url(tree / "images" / "chart.png"))
    assert response.read() == PNG
    assert response.content_type == "image/png"
    assert fetcher.refused == []


def test_serves_percent_encoded_names(tree: Path):
    response = SafeFetcher([tree])(path2url(tree / "images" / "with space.png"))
    assert response.read() == PNG


@pytest.mark.parametrize(
    "url, reason",
    [
        ("file:///etc/passwd", "outside the content tree"),
        ("http://127.0.0.1:9/x.png", "network"),
        ("https://example.org/x.png", "network"),
        ("ftp://example.org/x.png", "network"),
        ("gopher://example.org/x", "network"),
        ("file://otherhost/share/x.png", "another host"),
    ],
)
def test_refuses_and_records(tree: Path, url: str, reason: str):
    fetcher = SafeFetcher([tree])
    with pytest.raises(RefusedURL):
        fetcher(url)
    assert [r.url for r in fetcher.refused] == [url]
    assert reason in fetcher.refused[0].reason


def test_refuses_files_beside_the_tree_and_traversal(tree: Path):
    fetcher = SafeFetcher([tree])
    for url in (
        path2url(tree.parent / "secret.png"),
        path2url(tree / "images") + "/../../secret.png",
        path2url(tree / "images") + "/%2e%2e/%2e%2e/secret.png",
    ):
        with pytest.raises(RefusedURL):
            fetcher(url)
    assert len(fetcher.refused) == 3


def test_refuses_a_symlink_that_leads_out_of_the_tree(tree: Path):
    link = tree / "images" / "innocent.png"
    os.symlink(tree.parent / "secret.png", link)
    fetcher = SafeFetcher([tree])
    with pytest.raises(RefusedURL):
        fetcher(path2url(link))
    assert "outside" in fetcher.refused[0].reason


def test_refuses_what_no_document_embeds(tree: Path):
    fetcher = SafeFetcher([tree])
    with pytest.raises(RefusedURL):
        fetcher(path2url(tree / "publication.yaml"))
    assert "not an image" in fetcher.refused[0].reason


def test_refuses_missing_files_and_folders(tree: Path):
    fetcher = SafeFetcher([tree])
    for url in (path2url(tree / "images" / "nope.png"), path2url(tree / "images")):
        with pytest.raises(RefusedURL):
            fetcher(url)
    assert [r.reason for r in fetcher.refused] == ["no such file", "not a regular file"]


def test_serves_inline_data_urls(tree: Path):
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert SafeFetcher([tree])(url).read() == PNG


def test_a_refusal_is_not_fatal(tree: Path):
    """WeasyPrint stops rendering on FatalURLFetchingError only; a refusal must skip the resource."""
    assert not issubclass(RefusedURL, FatalURLFetchingError)
    fetcher = SafeFetcher([tree])
    html = '<html lang="en"><p>kept</p><img src="file:///etc/passwd" alt="x"><img src="chart.png" alt="y"></html>'
    document = HTML(string=html, base_url=path2url(tree / "images") + "/", url_fetcher=fetcher).render()
    assert len(document.pages) == 1
    assert [r.url for r in fetcher.refused] == ["file:///etc/passwd"]


def test_stylesheets_and_fonts_go_through_the_door_too(tree: Path, http_server):
    port, requests = http_server
    fetcher = SafeFetcher([tree])
    html = f"""<html lang="en"><head>
      <link rel="stylesheet" href="file:///etc/hostname">
      <style>
        @import url("http://127.0.0.1:{port}/remote.css");
        @font-face {{ font-family: Remote; src: url("http://127.0.0.1:{port}/remote.ttf"); }}
        p {{ font-family: Remote; background: url("http://127.0.0.1:{port}/bg.png"); }}
      </style></head><body><p>text</p></body></html>"""
    HTML(string=html, base_url=path2url(tree) + "/", url_fetcher=fetcher).write_pdf()
    refused = {r.url for r in fetcher.refused}
    assert "file:///etc/hostname" in refused
    assert f"http://127.0.0.1:{port}/remote.css" in refused
    assert f"http://127.0.0.1:{port}/remote.ttf" in refused
    assert requests == []


def test_svg_references_resolve_like_weasyprint(tmp_path: Path):
    svg = tmp_path / "images" / "figure.svg"
    svg.parent.mkdir()
    svg.write_text("""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
      <style>@font-face { src: url('http://h/f.ttf') }</style>
      <image href="a.png"/><image xlink:href="../b.png"/><use href="#local"/>
      <rect style="fill: url(http://h/p.png)"/></svg>""")
    assert svg_references(svg) == {
        path2url(tmp_path / "images" / "a.png"),
        path2url(tmp_path / "b.png"),
        "http://h/f.ttf",
        "http://h/p.png",
    }


# --- a whole build with a hostile figure ------------------------------------------------


HOSTILE_FIGURE = (FIXTURES / "hostile-figure.svg").read_text()


@pytest.fixture
def hostile_tree(tmp_path: Path, http_server) -> Path:
    """The hostile issue, whose figure will be swapped for one naming a file outside the tree,
    /etc/passwd and two URLs on a server that must receive nothing."""
    root = tmp_path / "print-hostile"
    shutil.copytree(FIXTURES / "print-hostile", root)
    (tmp_path / "outside.png").write_bytes(PNG)  # exists, so only the rule can refuse it
    return root / "2024-06-hostile"


def test_check_refuses_a_figure_that_names_anything_outside_itself(hostile_tree: Path, http_server, tmp_path: Path):
    """The SVG rule is check's: the build stops before rendering, at the figure's `src` line."""
    port, requests = http_server
    (hostile_tree / "images" / "figure.svg").write_text(HOSTILE_FIGURE.replace("HTTP_PORT", str(port)))

    result = run_cli("build", hostile_tree, "--out", tmp_path / "build")

    assert result.exit_code == 1, result.stderr
    assert 'attack.yaml:14:10: figures[0].src: "../images/figure.svg" names' in result.stderr, result.stderr
    assert "outside the figure" in result.stderr
    assert requests == [] and not (tmp_path / "build").exists()


def test_a_figure_changed_after_check_is_refused_whole_by_the_pdf(hostile_tree: Path, http_server, tmp_path: Path):
    """The fetcher applies the same rule to every SVG it serves: the PDF is built without the
    figure, nothing outside the tree or on the network is read, and the warning gives check's reason."""
    from research_news.assemble import assemble
    from research_news.images import svg_problem
    from research_news.render.pdf import render_pdf
    from research_news.validate import load_content

    port, requests = http_server
    edition = assemble(load_content(hostile_tree))  # checked with the plain figure
    hostile = HOSTILE_FIGURE.replace("HTTP_PORT", str(port))
    (hostile_tree / "images" / "figure.svg").write_text(hostile)

    rendered = render_pdf(edition)

    assert requests == []
    assert not [text for text in decoded_texts(PdfReader(BytesIO(rendered.data))) if "root:x:0:0" in text]
    [warning] = rendered.warnings
    assert warning.path.name == "attack.yaml" and (warning.line, warning.column) == (14, 10)
    reason = svg_problem(hostile.encode())[0]
    assert warning.message == f"2024-06-hostile/images/figure.svg was not loaded: the SVG {reason}"


def test_a_refusal_is_located_in_the_brief_as_it_was_checked(hostile_tree: Path, http_server):
    """The warning's line comes from the validated document, not from reading the YAML again:
    a brief edited after the check must not move it (nor a deleted one lose it)."""
    from research_news.assemble import assemble
    from research_news.render.pdf import render_pdf
    from research_news.validate import load_content

    port, _ = http_server
    edition = assemble(load_content(hostile_tree))
    (hostile_tree / "images" / "figure.svg").write_text(HOSTILE_FIGURE.replace("HTTP_PORT", str(port)))
    [brief] = [b.path for b in edition.briefs]
    brief.write_text("# edited after the check\n\n" + brief.read_text())

    [warning] = render_pdf(edition).warnings

    assert warning.path.name == "attack.yaml" and (warning.line, warning.column) == (14, 10)


def test_a_layout_stylesheet_cannot_reach_out_either(minimal_tree: Path, http_server):
    """A publisher's layout is content too: its CSS gets the same door, and refusals point at it."""
    from research_news.assemble import assemble
    from research_news.render.pdf import render_pdf
    from research_news.validate import load_content

    port, requests = http_server
    css = minimal_tree / "layouts" / "mylayout" / "print" / "print.css"
    css.parent.mkdir(parents=True)
    css.write_text(
        f'@import url("http://127.0.0.1:{port}/theme.css");\nbody {{ background: url("file:///etc/passwd"); }}\n'
    )
    publication = minimal_tree / "publication.yaml"
    publication.write_text(publication.read_text() + "layout: mylayout\n")

    rendered = render_pdf(assemble(load_content(minimal_tree / "2024-05-minimal")))

    assert requests == []
    assert rendered.pages >= 1
    refused = {problem.message.split(" names ")[1].split(",")[0]: problem for problem in rendered.warnings}
    assert set(refused) == {f"http://127.0.0.1:{port}/theme.css", "file:///etc/passwd"}
    assert all(problem.path == css and problem.severity == "warning" for problem in refused.values())
