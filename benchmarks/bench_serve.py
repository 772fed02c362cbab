"""What a writer waits for with `research-news serve`: from saving a brief to each preview showing it.

Run with `.venv/bin/python benchmarks/bench_serve.py [--runs 5]`.

A warm server previews a copy of the sample issue (uvicorn on loopback, the watcher, the
PDF worker process); an event-stream client listens as the open preview page does. Each
round changes a brief's title on disk and times, from just before the write:

- html: the ``update`` event announcing the rebuilt previews, plus fetching the web page
  and the email and finding the new title in both (what the page's frames then load);
- offprint: the event saying the changed brief's offprint PDF is ready;
- issue: the event saying the whole issue's PDF is ready (rendered after the offprint).

Targets from the issue: html ≤ 0.5 s, offprint ≤ 2 s.
"""

from __future__ import annotations

import argparse
import json
import queue
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

ISSUE = "2023-01-data-and-society"
BRIEF = "data-protection-officer"
TITLE = '"The Data Protection Officer: portrait of a new profession"'


def listen(port: int, events: queue.Queue[tuple[float, dict]]) -> None:
    """Read /events as a browser's EventSource does, putting (arrival time, data) on ``events``."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        buffer = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                for line in block.split(b"\n"):
                    if line.startswith(b"data: {"):
                        events.put((time.perf_counter(), json.loads(line[6:])))


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8")


def one_round(url: str, brief: Path, original: str, events: queue.Queue, number: int) -> dict[str, float]:
    title = f"Round {number}: guardians of the GDPR"
    started = time.perf_counter()
    brief.write_text(original.replace(TITLE, f'"{title}"'), encoding="utf-8")
    times: dict[str, float] = {}
    generation = None
    while len(times) < 3:
        arrived, data = events.get(timeout=60)
        if generation is None and data["ok"] and data["generation"] > 0:
            html = fetch(f"{url}p/{ISSUE}/web/index.html")
            email = fetch(f"{url}p/{ISSUE}/email.html")
            if title not in html or title not in email:
                continue  # an event of an earlier save
            generation = data["generation"]
            times["html"] = time.perf_counter() - started
        if generation is not None:
            for name, what in (("offprint", BRIEF), ("issue", "issue")):
                status = data["pdf"].get(what, {})
                if name not in times and status.get("state") == "ready" and status.get("generation") == generation:
                    times[name] = arrived - started
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from research_news.serve.server import PreviewServer

    with tempfile.TemporaryDirectory() as temporary:
        tree = Path(temporary) / "issues"
        shutil.copytree(REPO / "issues", tree)
        brief = tree / ISSUE / "briefs" / f"{BRIEF}.yaml"
        original = brief.read_text(encoding="utf-8")
        server = PreviewServer(tree / ISSUE, port=0)
        with server.in_thread() as url:
            events: queue.Queue = queue.Queue()
            threading.Thread(target=listen, args=(server.port, events), daemon=True).start()
            urllib.request.urlopen(
                f"{url}p/{ISSUE}/pdf/issue.pdf", timeout=120
            ).read()  # warm: the worker has started and rendered once
            rounds = []
            for number in range(1, args.runs + 1):
                while not events.empty():
                    events.get()
                rounds.append(one_round(url, brief, original, events, number))
                time.sleep(1.0)  # let the worker finish before the next save
            brief.write_text(original, encoding="utf-8")
    print(f"save → preview updated, sample issue, {args.runs} rounds (median, max):")
    for name, label in (
        ("html", "web + email HTML"),
        ("offprint", "changed brief's offprint"),
        ("issue", "whole issue PDF"),
    ):
        values = [r[name] for r in rounds]
        print(f"  {label:26} {statistics.median(values):6.2f} s  {max(values):6.2f} s")


if __name__ == "__main__":
    main()
