"""ResponseCache.prefetch: one query for a batch's cached answers, each used once."""

from __future__ import annotations

from pathlib import Path

from pytest_llmjudge.calls.cache import CachedResponse, ResponseCache


def test_prefetch_reads_a_batch_then_get_answers_from_memory(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    for i in range(1200):  # more than one query chunk
        cache.put(f"k{i}", "mistral", "m", CachedResponse(f"text {i}", i))

    found = cache.prefetch([f"k{i}" for i in range(0, 1300, 2)] + ["k0"])

    assert found == 600
    cache._db.execute("DELETE FROM responses")  # type: ignore[union-attr]  # memory answers now
    assert cache.get("k2") == CachedResponse("text 2", 2)
    assert cache.get("k2") is None  # used once: the next get reads the file again
    assert cache.get("k1") is None  # not prefetched, and gone from the file
    cache.close()


def test_put_replaces_a_prefetched_answer(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put("k", "mistral", "m", CachedResponse("old", 1))
    cache.prefetch(["k"])

    cache.put("k", "mistral", "m", CachedResponse("new", 2))

    assert cache.get("k") == CachedResponse("new", 2)
    cache.close()


def test_a_prefetched_miss_answers_without_a_query_once(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    assert cache.prefetch(["gone", "later"]) == 0
    other = ResponseCache(tmp_path)  # another process stores both after the prefetch
    other.put("gone", "mistral", "m", CachedResponse("x", 1))
    other.put("later", "mistral", "m", CachedResponse("y", 2))
    other.close()

    assert cache.get("gone") is None  # known absent at prefetch time: no query
    assert cache.get("gone") == CachedResponse("x", 1)  # used once: the file again
    cache.put("later", "mistral", "m", CachedResponse("z", 3))  # a put forgets the miss
    assert cache.get("later") == CachedResponse("z", 3)
    cache.close()
