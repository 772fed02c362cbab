"""The README's screenshot of the preview page: ``.venv/bin/python -m tests.serve_docs`` writes docs/serve.png.

The sample issue previewed by `research-news serve`, on the email tab: the email at 600 and
375 px side by side, as a writer sees it while editing.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from research_news.serve.server import PreviewServer
from tests.browser import REPO, _shrink, chromium

SAMPLE = REPO / "issues"


def serve_screenshot(target: Path = REPO / "docs" / "serve.png") -> Path:
    with tempfile.TemporaryDirectory() as temporary:
        tree = Path(temporary) / "issues"
        shutil.copytree(SAMPLE, tree)
        server = PreviewServer(tree / "2023-01-data-and-society", port=0)
        with server.in_thread() as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
            page.goto(url + "p/2023-01-data-and-society/#email")
            for frame in ("iframe.email", "iframe.web"):
                page.frame_locator(frame).first.locator("img").first.wait_for(state="attached")
            page.wait_for_timeout(500)
            page.screenshot(path=str(target))
    return _shrink(target)


if __name__ == "__main__":
    path = serve_screenshot()
    print(f"{path.relative_to(REPO)}: {path.stat().st_size // 1024} KB")
