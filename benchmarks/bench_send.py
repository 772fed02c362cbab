"""`research-news send` to a long list: the CSV check and --dry-run on 50,000 readers, and a
real send to a loopback relay, each timed with its peak memory (max RSS of the process).

Run with `.venv/bin/python benchmarks/bench_send.py [--readers 50000] [--send 2000]`.
Memory should not grow with the list beyond the list itself: the send holds one personalised
message at a time, so sending 4× as many messages should leave peak RSS about where it was.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.smtp_server: the loopback relay the tests use
from tests.smtp_server import SmtpServer  # noqa: E402

ISSUE = REPO / "issues" / "2023-01-data-and-society"


def run(command: list[str], cwd: Path, **env: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of ``command`` in a fresh process."""
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
    if done.returncode != 0 or not rss:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed, int(rss[0].split()[1]) / 1024  # Linux reports KB


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
            with SmtpServer() as relay:
                seconds, mb = run(
                    ["send", str(issue), "-r", str(readers(work / "some.csv", count)), "--yes", "--rate", "1000000/s"],
                    work,
                    RESEARCH_NEWS_SMTP_URL=relay.url,
                )
                assert len(relay.messages()) == count
            print(
                f"send to {count:,} readers via a loopback relay: {seconds:.2f} s "
                f"({count / seconds:.0f} messages/s), peak RSS {mb:.0f} MB"
            )


if __name__ == "__main__":
    main()
