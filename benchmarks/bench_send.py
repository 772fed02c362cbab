"""`research-news send` to a long list: the CSV check and --dry-run on 50,000 readers, and a
real send to a loopback relay, each timed with its peak memory (max RSS of the process).

Run with `.venv/bin/python benchmarks/bench_send.py [--readers 50000] [--send 2000]`.
Memory should not grow with the list beyond the list itself: the send holds one personalised
message at a time, so sending 4× as many messages should leave peak RSS about where it was.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

ISSUE = REPO / "issues" / "2023-01-data-and-society"


def run(command: list[str], cwd: Path, expect: str = "", **env: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of ``command`` in a fresh process, which must print ``expect``."""
    script = (
        "import resource, runpy, sys; sys.argv = ['research-news', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('research_news', run_name='__main__')\n"
        "finally:\n    print(f'MAXRSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}', file=sys.stderr)"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **env},
    )
    elapsed = time.perf_counter() - started
    rss = [line for line in done.stderr.splitlines() if line.startswith("MAXRSS ")]
    if done.returncode != 0 or not rss or expect not in done.stdout:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed, int(rss[0].split()[1]) / 1024  # Linux reports KB


RELAY = """
import sys, time
sys.path.insert(0, sys.argv[1])
from tests.smtp_server import SmtpServer
with SmtpServer() as relay:
    print(relay.url, flush=True)
    while True:
        time.sleep(3600)
"""


@contextlib.contextmanager
def relay_process() -> Iterator[str]:
    """The tests' loopback relay in a process of its own, as a real relay is: its memory and its
    share of the GIL are not the sender's. Yields its URL."""
    relay = subprocess.Popen([sys.executable, "-c", RELAY, str(REPO)], stdout=subprocess.PIPE, text=True)
    try:
        assert relay.stdout is not None
        yield relay.stdout.readline().strip()
    finally:
        relay.kill()
        relay.wait()


def readers(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email,name,language\n")
        for i in range(count):
            handle.write(f'reader{i:06d}+news@example.org,"Reader {i}, Example",en\n')
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readers", type=int, default=50_000)
    parser.add_argument("--send", type=int, default=2_000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shutil.copytree(REPO / "issues", work / "issues")
        issue = Path("issues") / ISSUE.name
        run(["build", str(issue), "--only", "email", "--quiet"], work)
        big = readers(work / "big.csv", args.readers)
        seconds, mb = run(["send", str(issue), "-r", str(big), "--test-to", "me@example.org", "--dry-run"], work)
        print(f"check {args.readers:,} rows (send --test-to --dry-run): {seconds:.2f} s, peak RSS {mb:.0f} MB")
        seconds, mb = run(["send", str(issue), "-r", str(big), "--dry-run"], work)
        print(f"send --dry-run to {args.readers:,} readers: {seconds:.2f} s, peak RSS {mb:.0f} MB")
        for count in (args.send // 4, args.send):
            shutil.rmtree(work / "build" / ISSUE.name / "send.db", ignore_errors=True)
            for leftover in (work / "build" / ISSUE.name).glob("send.*"):
                leftover.unlink()
            with relay_process() as url:
                seconds, mb = run(
                    ["send", str(issue), "-r", str(readers(work / "some.csv", count)), "--yes", "--rate", "1000000/s"],
                    work,
                    expect=f"Sent {count} now",  # every message accepted by the relay
                    RESEARCH_NEWS_SMTP_URL=url,
                )
            print(
                f"send to {count:,} readers via a loopback relay: {seconds:.2f} s "
                f"({count / seconds:.0f} messages/s), peak RSS {mb:.0f} MB"
            )


if __name__ == "__main__":
    main()
