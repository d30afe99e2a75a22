"""The response cache: every model answer stored on disk as it arrives (SQLite in WAL mode).

A response is keyed by what determines it (backend, server, model, rendered messages, sampling
parameters), never by the API key. The raw model output and its token count are stored, not the
parsed verdict, so that a fix to output parsing applies to cached answers too. Several processes
(pytest-xdist workers, two runs at once) may read and write the same file: WAL mode lets readers
run beside one writer and the busy timeout makes writers wait their turn.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .secrets import redact

FILE_NAME = "responses.sqlite3"
BUSY_TIMEOUT_S = 60.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    text TEXT,
    tokens INTEGER,
    created REAL NOT NULL
)
"""


def request_key(identity: Mapping[str, Any]) -> str:
    """The cache key of a request: a SHA-256 of its identity as canonical JSON."""
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedResponse:
    """A stored model answer.

    Attributes:
        text: the raw model output.
        tokens: tokens the call used, when the server reported them.
    """

    text: str | None
    tokens: int | None


class ResponseCache:
    """A SQLite file of model responses, safe to share between processes and threads."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / FILE_NAME
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._prefetched: dict[str, CachedResponse] = {}  # read ahead by prefetch(), used once
        self._absent: set[str] = set()  # looked up by prefetch() and not stored: get() -> None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# responses of pytest-llmjudge, written by every run\n*\n")
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        # Switching a new file to WAL needs an exclusive lock and SQLite answers "database is
        # locked" at once, without its busy handler, while another process (an xdist worker)
        # is doing the same: retry the set-up until the busy timeout.
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None
            )
            try:
                db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")  # committed rows survive a kill
                db.execute(_SCHEMA)
                return db
            except sqlite3.OperationalError as exc:
                db.close()
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def prefetch(self, keys: Iterable[str]) -> int:
        """Read the stored responses of a whole batch in one query per 500 keys; the next get()
        of each answers from memory, a miss included (no query per uncached case). How many
        were found."""
        wanted = list(dict.fromkeys(keys))
        hits = set()
        with self._lock:
            for key, text, tokens in self._rows("key, text, tokens", wanted):
                self._prefetched[key] = CachedResponse(text, tokens)
                hits.add(key)
            self._absent.update(key for key in wanted if key not in hits)
        return len(hits)

    def get(self, key: str) -> CachedResponse | None:
        """The stored response of `key`, or None."""
        hit = self._prefetched.pop(key, None)
        if hit is not None:
            return hit
        if key in self._absent:
            self._absent.discard(key)
            return None
        with self._lock:
            row = (
                self._connect()
                .execute("SELECT text, tokens FROM responses WHERE key = ?", (key,))
                .fetchone()
            )
        return CachedResponse(row[0], row[1]) if row else None

    def present(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` have a stored response."""
        with self._lock:
            return {row[0] for row in self._rows("key", list(dict.fromkeys(keys)))}

    def _rows(self, columns: str, keys: list[str]) -> Iterator[tuple[Any, ...]]:
        """`columns` of the stored rows of `keys`, one query per 500 keys (hold the lock)."""
        db = self._connect()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            yield from db.execute(f"SELECT {columns} FROM responses WHERE key IN ({marks})", chunk)

    def put(self, key: str, backend: str, model: str, response: CachedResponse) -> None:
        """Store (or overwrite) a response; committed before this returns."""
        self._prefetched.pop(key, None)
        self._absent.discard(key)
        text = redact(response.text) if response.text is not None else None
        with self._lock:
            self._connect().execute(
                "INSERT OR REPLACE INTO responses (key, backend, model, text, tokens, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (key, backend, model, text, response.tokens, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            row = self._connect().execute("SELECT COUNT(*) FROM responses").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the database connection (it reopens on the next use)."""
        with self._lock:
            db, self._db = self._db, None
            self._prefetched.clear()
            self._absent.clear()
        if db is not None:
            db.close()
