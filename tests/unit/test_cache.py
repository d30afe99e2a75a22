"""The SQLite response cache: keys, round trips, WAL mode and two processes writing at once."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_llmjudge.calls.cache import FILE_NAME, CachedResponse, ResponseCache, request_key

IDENTITY = {
    "backend": "mistral",
    "server": "https://api.mistral.ai",
    "model": "mistral-small-latest",
    "messages": [{"role": "user", "content": "Document: ..."}],
    "temperature": 0.0,
    "max_tokens": 256,
}


def test_key_is_stable_and_ignores_dict_order() -> None:
    reordered = dict(reversed(list(IDENTITY.items())))
    assert request_key(IDENTITY) == request_key(reordered)
    assert len(request_key(IDENTITY)) == 64


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("backend", "other"),
        ("server", "http://127.0.0.1:8000"),
        ("model", "mistral-large-latest"),
        ("messages", [{"role": "user", "content": "Document: !"}]),
        ("temperature", 0.2),
        ("max_tokens", 128),
    ],
)
def test_every_part_of_the_request_changes_the_key(field: str, value: object) -> None:
    assert request_key({**IDENTITY, field: value}) != request_key(IDENTITY)


def test_round_trip_overwrite_and_presence(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c")
    key = request_key(IDENTITY)
    assert cache.get(key) is None
    cache.put(key, "mistral", "m", CachedResponse('{"consistency": 1}', 42))
    assert cache.get(key) == CachedResponse('{"consistency": 1}', 42)
    cache.put(key, "mistral", "m", CachedResponse('{"consistency": 0}', None))
    assert cache.get(key) == CachedResponse('{"consistency": 0}', None)
    assert cache.present([key, "missing", key]) == {key}
    assert len(cache) == 1
    cache.close()
    reopened = ResponseCache(tmp_path / "c")  # written to disk, not held in memory
    assert reopened.get(key) == CachedResponse('{"consistency": 0}', None)
    assert (tmp_path / "c" / ".gitignore").read_text().splitlines()[-1] == "*"
    with sqlite3.connect(tmp_path / "c" / FILE_NAME) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened.close()


def test_secrets_are_scrubbed_from_stored_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-cache-secret-123456")
    cache = ResponseCache(tmp_path)
    cache.put("k", "mistral", "m", CachedResponse("echo sk-cache-secret-123456", 1))
    cache.close()
    assert b"sk-cache-secret-123456" not in (tmp_path / FILE_NAME).read_bytes()


WRITER = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    from pytest_llmjudge.calls.cache import CachedResponse, ResponseCache

    folder, name, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    (folder / f"ready-{name}").touch()
    while not (folder / "go").exists():  # both start writing together
        time.sleep(0.01)
    cache = ResponseCache(folder)
    for i in range(n):
        cache.put(f"{name}-{i}", "mistral", "m", CachedResponse(f"answer {name} {i}", i))
        assert cache.get(f"{name}-{i}") is not None
    cache.close()
    """
)


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    n = 300
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name, str(n)])
        for name in ("a", "b")
    ]
    while not all((tmp_path / f"ready-{name}").exists() for name in "ab"):
        assert all(w.poll() is None for w in writers)
        time.sleep(0.01)
    (tmp_path / "go").touch()
    assert [w.wait(timeout=120) for w in writers] == [0, 0]

    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = dict(db.execute("SELECT key, text FROM responses").fetchall())
    assert len(rows) == 2 * n
    assert all(rows[f"{name}-{i}"] == f"answer {name} {i}" for name in "ab" for i in range(n))


OPENER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pytest_llmjudge.calls.cache import CachedResponse, ResponseCache

    folder, name = Path(sys.argv[1]), sys.argv[2]
    while not (folder.parent / "go").exists():
        time.sleep(0.001)
    ResponseCache(folder).put(name, "mistral", "m", CachedResponse(f"answer {name}", 1))
    """
)


def test_processes_creating_a_new_cache_at_once(tmp_path: Path) -> None:
    """xdist workers open a cache file that does not exist yet at the same moment."""
    folders = [tmp_path / f"cache-{i}" for i in range(6)]
    openers = [
        subprocess.Popen([sys.executable, "-c", OPENER, str(folder), f"w{k}"])
        for folder in folders
        for k in range(4)
    ]
    time.sleep(1.0)  # let every process start and wait for the signal
    (tmp_path / "go").touch()
    assert [p.wait(timeout=120) for p in openers] == [0] * len(openers)
    for folder in folders:
        with sqlite3.connect(folder / FILE_NAME) as db:
            assert sorted(k for (k,) in db.execute("SELECT key FROM responses")) == [
                "w0",
                "w1",
                "w2",
                "w3",
            ]


def test_in_a_loop_put_queues_for_the_writer_thread_which_commits_in_one_go(
    tmp_path: Path,
) -> None:
    cache = ResponseCache(tmp_path)
    statements: list[str] = []
    cache._connect().set_trace_callback(statements.append)
    reader = ResponseCache(tmp_path)  # another process's view of the file

    async def answers() -> CachedResponse | None:
        with cache._lock:  # the file is busy: put() must not wait for it
            for i in range(10):
                cache.put(f"k{i}", "mistral", "m", CachedResponse(f"text {i}", i))
            assert len(reader) == 0  # queued, not in the file yet
            return cache.get("k3")  # but this cache answers from its queue

    assert asyncio.run(answers()) == CachedResponse("text 3", 3)
    cache.close()  # the writer has committed, or close() does

    assert len(reader) == 10
    assert sum(s.startswith("BEGIN") for s in statements) == 1  # one transaction for all ten
    assert sum(s.startswith("INSERT") for s in statements) == 10
    reader.close()


def test_without_a_running_loop_put_commits_at_once(tmp_path: Path) -> None:
    cache, reader = ResponseCache(tmp_path), ResponseCache(tmp_path)
    cache.put("k", "mistral", "m", CachedResponse("text", 1))
    assert reader.get("k") == CachedResponse("text", 1)
    cache.close()
    reader.close()


def test_a_failed_commit_is_counted_not_raised(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / FILE_NAME) as db:  # rows it can read, not write
        db.execute(
            "CREATE TABLE responses (key TEXT PRIMARY KEY, backend TEXT, model TEXT, text TEXT, "
            "tokens INTEGER, created REAL, owner TEXT NOT NULL)"
        )
    db.close()
    cache = ResponseCache(tmp_path)
    cache.put("k1", "mistral", "m", CachedResponse("text", 1))
    cache.put("k2", "mistral", "m", CachedResponse("text", 2))

    assert cache.unstored == 2
    assert cache.unstored_error is not None and "NOT NULL constraint failed" in cache.unstored_error
    cache.close()


def test_store_returns_once_committed_and_one_pass_shares_a_transaction(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    statements: list[str] = []
    cache._connect().set_trace_callback(statements.append)
    reader = ResponseCache(tmp_path)  # another process's view of the file

    async def calls() -> list[int]:
        async def one(i: int) -> int:
            await cache.store(f"k{i}", "mistral", "m", CachedResponse(f"text {i}", i))
            return len(reader)  # committed by the time store returns

        return await asyncio.gather(*(one(i) for i in range(8)))

    seen = asyncio.run(calls())

    assert seen == [8] * 8  # the eight stores of one pass went in together
    assert sum(s.startswith("BEGIN") for s in statements) == 1
    cache.close()
    reader.close()


def test_a_cancelled_store_still_commits_its_row(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)

    async def cancelled() -> None:
        with cache._lock:  # the file is busy, so the store is still waiting when cancelled
            task = asyncio.ensure_future(cache.store("k", "mistral", "m", CachedResponse("t", 1)))
            await asyncio.sleep(0)
            task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled())
    cache.close()

    reopened = ResponseCache(tmp_path)
    assert reopened.get("k") == CachedResponse("t", 1)
    reopened.close()
