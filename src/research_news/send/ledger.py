"""The send ledger: one SQLite row per (issue, recipient), each change committed before the next step."""

from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..exceptions import ResearchNewsError
from ..recipients import Recipient

if sys.platform != "win32":  # POSIX: a second send of the same issue is refused while one runs
    import fcntl  # Windows has no fcntl: no lock there; do not run two sends at once

IN_FLIGHT, SENT, DEFERRED, FAILED = "in_flight", "sent", "deferred", "failed"
UNCERTAIN = "uncertain"  # not a ledger state: what an ``in_flight`` row means to a new run


@dataclass(frozen=True)
class Delivery:
    """One ledger row: what the relay last did with the issue for one recipient."""

    address: str
    state: str
    reply: str | None
    attempts: int


_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    issue      TEXT NOT NULL,
    recipient  TEXT NOT NULL,            -- the address in lower case: the key
    address    TEXT NOT NULL,            -- as sent, for reports
    state      TEXT NOT NULL CHECK (state IN ('in_flight', 'sent', 'deferred', 'failed')),
    message_id TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    reply      TEXT,                     -- the relay's last reply
    first_try  TEXT NOT NULL,
    updated    TEXT NOT NULL,
    PRIMARY KEY (issue, recipient)
)
"""


class Ledger:
    """The send ledger of one issue, open for writing; one writer at a time.

    Every method commits before it returns (autocommit, one statement per change), with
    ``synchronous=FULL`` so that a committed row survives even a power cut, not just kill -9.
    """

    def __init__(self, path: Path, issue: str):
        self.path, self.issue = path, issue
        self._lock = _lock(path.with_suffix(".lock"), issue)
        try:
            self._db = _connect(path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except BaseException:
            self._lock.close()
            raise

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()
        self._lock.close()

    def rows(self) -> dict[str, Delivery]:
        return _rows(self._db, self.issue)

    def state(self, recipient: Recipient) -> str | None:
        row = self._db.execute(
            "SELECT state FROM deliveries WHERE issue = ? AND recipient = ?", (self.issue, recipient.key)
        ).fetchone()
        return row[0] if row else None

    def mark_in_flight(self, recipient: Recipient, msgid: str) -> None:
        """Committed before the message leaves: a crash from here on leaves it *uncertain*."""
        self._write(recipient, IN_FLIGHT, None, msgid)

    def record(self, recipient: Recipient, state: str, reply: str, attempt: bool = False) -> None:
        """The relay's answer; ``attempt`` counts a try that ended before the message left."""
        self._write(recipient, state, reply, None, attempt)

    def _write(
        self, recipient: Recipient, state: str, reply: str | None, msgid: str | None, attempt: bool = True
    ) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self._db.execute(
            """INSERT INTO deliveries (issue, recipient, address, state, message_id, attempts, reply,
                                       first_try, updated)
               VALUES (:issue, :key, :address, :state, :msgid, :tries, :reply, :now, :now)
               ON CONFLICT (issue, recipient) DO UPDATE SET
                   address = excluded.address, state = excluded.state, updated = excluded.updated,
                   message_id = coalesce(excluded.message_id, message_id),
                   attempts = attempts + excluded.attempts,
                   reply = CASE WHEN excluded.state = 'in_flight' THEN reply ELSE excluded.reply END""",
            {
                "issue": self.issue,
                "key": recipient.key,
                "address": recipient.email,
                "state": state,
                "msgid": msgid,
                "tries": int(attempt),
                "reply": reply,
                "now": now,
            },
        )


def read_ledger(path: Path, issue: str) -> dict[str, Delivery]:
    """The rows of an existing ledger, for planning and dry runs; creates nothing."""
    if not path.is_file():
        return {}
    db = _connect(path)
    try:
        return _rows(db, issue)
    finally:
        db.close()  # the last connection to close removes the WAL files it created


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=10)  # autocommit: each change commits
    db.execute("PRAGMA synchronous=FULL")
    return db


def _rows(db: sqlite3.Connection, issue: str) -> dict[str, Delivery]:
    try:
        rows = db.execute(
            "SELECT recipient, address, state, reply, attempts FROM deliveries WHERE issue = ?", (issue,)
        ).fetchall()
    except sqlite3.DatabaseError as error:
        raise ResearchNewsError(f"cannot read the send ledger: {error}") from None
    return {key: Delivery(address, state, reply, attempts) for key, address, state, reply, attempts in rows}


def _lock(path: Path, issue: str):
    """An open lock file held for the whole run; the OS releases it if the process dies."""
    handle = path.open("a")
    if sys.platform != "win32":
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ResearchNewsError(
                f"another `research-news send` of {issue} is running ({path} is locked); wait for it to finish"
            ) from None
    return handle
