"""The response cache: every model answer stored on disk as it arrives (SQLite in WAL mode).

Inside an event loop, rows go to a writer thread, which commits whatever has queued up in one
transaction: a commit per answer on the loop itself cost ~0.4 ms of CPU (WAL pages written for
each, and now and then a checkpoint's fsync) and held up the requests the loop sends. A call
`await`s `store` until its row is committed, so a killed run loses at most the calls in flight.

A response is keyed by what determines it (backend, server, model, rendered messages, sampling
parameters), never by the API key. The raw model output and its token count are stored, not the
parsed verdict, so that a fix to output parsing applies to cached answers too. Several processes
(pytest-xdist workers, two runs at once) may read and write the same file: WAL mode lets readers
run beside one writer and the busy timeout makes writers wait their turn.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_llmjudge.secrets import redact

FILE_NAME = "responses.sqlite3"
BUSY_TIMEOUT_S = 60.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    text TEXT,
    tokens INTEGER,
    created REAL NOT NULL,
    probability REAL
)
"""
# a cache written before answers had a probability gets the column (NULL in its old rows)
_ADD_PROBABILITY = "ALTER TABLE responses ADD COLUMN probability REAL"


def _add_column(db: sqlite3.Connection) -> None:
    try:
        db.execute(_ADD_PROBABILITY)
    except sqlite3.OperationalError as exc:  # another process (an xdist worker) added it first
        if "duplicate column" not in str(exc):
            raise


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
        probability: P(label 1) from the answer's log-probabilities, when it had them.
    """

    text: str | None
    tokens: int | None
    probability: float | None = None


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a cancelled call does not wait
            future.set_result(None)


class ResponseCache:
    """A SQLite file of model responses, safe to share between processes and threads."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / FILE_NAME
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # the connection: one query or transaction at a time
        self._prefetched: dict[str, CachedResponse] = {}  # read ahead by prefetch(), used once
        self._absent: set[str] = set()  # looked up by prefetch() and not stored: get() -> None
        self._rows_lock = threading.Lock()  # the two row queues below
        self._pending: dict[str, tuple[Any, ...]] = {}  # put, not taken by a commit yet
        self._writing: dict[str, tuple[Any, ...]] = {}  # taken by the commit in progress
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._wake = threading.Event()  # rows are queued
        self._stop = threading.Event()  # close() wants the writer gone
        self._writer: threading.Thread | None = None
        self.unstored = 0  # answers a failed commit could not store
        self.unstored_error: str | None = None  # the last such failure

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
                columns = {row[1] for row in db.execute("PRAGMA table_info(responses)")}
                if "probability" not in columns:
                    _add_column(db)
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
            self._commit_locked()
            for key, text, tokens, probability in self._rows(
                "key, text, tokens, probability", wanted
            ):
                self._prefetched[key] = CachedResponse(text, tokens, probability)
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
        with self._rows_lock:
            queued = self._pending.get(key) or self._writing.get(key)
        if queued is not None:
            return CachedResponse(queued[3], queued[4], queued[6])
        with self._lock:
            row = (
                self._connect()
                .execute("SELECT text, tokens, probability FROM responses WHERE key = ?", (key,))
                .fetchone()
            )
        return CachedResponse(row[0], row[1], row[2]) if row else None

    def present(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` have a stored response."""
        with self._lock:
            self._commit_locked()
            return {row[0] for row in self._rows("key", list(dict.fromkeys(keys)))}

    def _rows(self, columns: str, keys: list[str]) -> Iterator[tuple[Any, ...]]:
        """`columns` of the stored rows of `keys`, one query per 500 keys (hold the lock)."""
        db = self._connect()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            yield from db.execute(f"SELECT {columns} FROM responses WHERE key IN ({marks})", chunk)

    def put(self, key: str, backend: str, model: str, response: CachedResponse) -> None:
        """Store (or overwrite) a response: committed before this returns, except inside a
        running event loop, where it is queued for the writer thread (see `store`)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._queue(key, backend, model, response, loop)
        if loop is None:
            self.commit()

    async def store(self, key: str, backend: str, model: str, response: CachedResponse) -> None:
        """Store a response from a coroutine: the writer thread commits it with whatever else
        has queued up while the loop goes on; returns once it is committed (or counted in
        `unstored`)."""
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[None] = loop.create_future()
        self._queue(key, backend, model, response, loop, committed)
        await committed

    def _queue(
        self,
        key: str,
        backend: str,
        model: str,
        response: CachedResponse,
        loop: asyncio.AbstractEventLoop | None,
        committed: asyncio.Future[None] | None = None,
    ) -> None:
        """Queue a row; inside `loop`, wake the writer when the loop's pass ends (once for the
        rows of a pass); `committed` is resolved once the row is committed."""
        self._prefetched.pop(key, None)
        self._absent.discard(key)
        text = redact(response.text) if response.text is not None else None
        with self._rows_lock:
            wake = loop is not None and not self._pending  # the first row since the last take
            row = (key, backend, model, text, response.tokens, time.time(), response.probability)
            self._pending[key] = row
            if loop is not None and committed is not None:
                self._waiters.append((loop, committed))
            if wake and self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_behind, name="llmjudge-cache-writer", daemon=True
                )
                self._writer.start()
        if loop is not None and wake:
            loop.call_soon(self._wake.set)

    def _write_behind(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return  # close() commits what is left
            self.commit()

    def commit(self) -> None:
        """Commit the rows queued and not committed yet, in one transaction. A failure (a disk
        that is full, a file locked past the busy timeout) is counted in `unstored`, not raised:
        the answers themselves were delivered."""
        with self._lock:
            self._commit_locked()

    def _commit_locked(self) -> None:
        # rows are taken under the connection's lock, so two commits never reorder a key's rows
        with self._rows_lock:
            self._writing, self._pending = self._pending, {}
            waiters, self._waiters = self._waiters, []
        if self._writing:
            self._write(list(self._writing.values()))
        with self._rows_lock:
            self._writing = {}
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for loop, future in waiters:
            by_loop.setdefault(loop, []).append(future)
        for loop, futures in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, futures)
            except RuntimeError:  # that loop is closed: nobody waits any more
                pass

    def _write(self, rows: list[tuple[Any, ...]]) -> None:
        try:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT OR REPLACE INTO responses "
                    "(key, backend, model, text, tokens, created, probability) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            self.unstored += len(rows)
            self.unstored_error = redact(f"{type(exc).__name__}: {exc}")

    def __len__(self) -> int:
        with self._lock:
            self._commit_locked()
            row = self._connect().execute("SELECT COUNT(*) FROM responses").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Stop the writer, commit what is left and close the connection (it reopens on use)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            self._stop.set()
            self._wake.set()
            writer.join()
            self._stop.clear()
        with self._lock:
            self._commit_locked()
            db, self._db = self._db, None
            self._prefetched.clear()
            self._absent.clear()
        if db is not None:
            db.close()
