"""Headless Chromium for the web and email tests: serve a build, screenshot it, run axe-core.

Uses Debian's chromium (``apt-get install -y chromium``) through Playwright's Python API,
never a browser downloaded by ``playwright install``. axe-core comes from
``tests/js/node_modules`` (``npm ci --prefix tests/js``). When either is missing the
tests fail with the command to run: a skipped accessibility test is a test nobody runs.

Tests do not launch it themselves: conftest.py's session-scoped ``browser`` fixture launches
one Chromium for the whole run, ``new_page`` opens each page in a fresh context, and every
test using them is marked ``browser`` (``pytest -m "not browser"`` skips them).

Regenerate the README screenshots with ``.venv/bin/python -m tests.browser docs``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import mimetypes
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
NODE_MODULES = REPO / "tests" / "js" / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
CANIEMAIL = NODE_MODULES / "caniemail" / "data" / "caniemail.json"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def require(path: Path, install: str) -> Path:
    """``path``, or fail the test with the command that installs it."""
    if not path.exists():
        pytest.fail(f"{path} is missing; install it with: {install}", pytrace=False)
    return path


def require_chromium() -> Path:
    return require(CHROMIUM, "apt-get install -y chromium (or: make test)")


def require_node_modules(path: Path) -> Path:
    return require(path, "npm ci --prefix tests/js (or: make test)")


@contextlib.contextmanager
def chromium():
    """A headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) for the duration; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def open_page(
    browser,
    url: str,
    width: int,
    *,
    published_at: str | None = None,
    folder: Path | None = None,
    block_images: bool = False,
    dark: bool = False,
):
    """A page at ``url``, ``width`` px wide, with no request leaving the machine.

    The email links its images at ``published_at`` (``web_base_url/<slug>/``); those requests are
    answered from ``folder`` (the build), as if the build were published. ``block_images`` is what
    a reader sees in a mail client that blocks remote images.
    """
    context = browser.new_context(
        viewport={"width": width, "height": 900}, device_scale_factor=1, color_scheme="dark" if dark else "light"
    )
    page = context.new_page()

    def route(request_route):
        request = request_route.request
        if block_images and request.resource_type == "image":
            return request_route.abort()
        if published_at and folder and request.url.startswith(published_at):
            local = folder / unquote(urlsplit(request.url).path[len(urlsplit(published_at).path) :])
            if local.is_file():
                return request_route.fulfill(path=str(local), content_type=mimetypes.guess_type(local.name)[0])
            return request_route.fulfill(status=404)
        if request.url.startswith(("http://127.0.0.1", "file:", "data:", "about:")):
            return request_route.continue_()
        return request_route.abort()  # nothing leaves the machine: links to the world are not fetched

    page.route("**/*", route)
    page.goto(url, wait_until="load")
    # A full-page screenshot never scrolls, so lazy images below the fold would stay blank.
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(img => img.loading = 'eager')")
    page.wait_for_function("Array.from(document.images).every(img => img.complete)", timeout=10_000)
    page.evaluate("Promise.all(Array.from(document.images).map(img => img.decode().catch(() => null)))")
    return page


def screenshot(page, path: Path, *, max_height: int | None = None) -> Path:
    """A PNG of the whole page (or its first ``max_height`` pixels)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if max_height:
        height = page.evaluate("document.documentElement.scrollHeight")
        width = page.viewport_size["width"]
        page.screenshot(
            path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": min(height, max_height)}
        )
    else:
        page.screenshot(path=str(path), full_page=True)
    return path


def run_axe(page, tags: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")) -> list[dict]:
    """axe-core's violations on ``page`` (WCAG 2.1 A/AA and best practices)."""
    require_node_modules(AXE)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        list(tags),
    )
    return result["violations"]


def describe(violations: list[dict]) -> str:
    """axe violations as readable lines: rule, impact, and the first few offending nodes."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


# --- README screenshots ------------------------------------------------------------------


def docs_screenshots(out: Path = REPO / "docs") -> list[Path]:
    """Build the sample issue's web and email editions and screenshot them for the README."""
    import tempfile

    from research_news.build import build

    sample = REPO / "issues" / "2023-01-data-and-society"
    with tempfile.TemporaryDirectory() as temporary:
        result = build(sample, Path(temporary), only=("web", "email"))
        folder = result.out_dir
        from research_news.assemble import assemble
        from research_news.validate import load_content

        published = assemble(load_content(sample)).web_url
        shots = [
            ("index.html", 1024, "web-1024.png"),
            ("index.html", 375, "web-375.png"),
            ("email.html", 1024, "email-1024.png"),
            ("email.html", 375, "email-375.png"),
        ]
        written = []
        with serve(folder) as base, chromium() as browser:
            for name, width, target in shots:
                page = open_page(browser, base + name, width, published_at=published, folder=folder)
                written.append(_shrink(screenshot(page, out / target, max_height=2000)))
                page.context.close()
        return written


def _shrink(path: Path) -> Path:
    """A 256-colour PNG: screenshots of text and flat colours lose nothing visible, and a third of their size."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    return path


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["docs"]:
        for path in docs_screenshots():
            print(f"{path.relative_to(REPO)}: {path.stat().st_size // 1024} KB")
    else:
        sys.exit("usage: python -m tests.browser docs")
