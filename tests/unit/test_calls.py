"""Reliable model calls through the Mistral backend: retries, halts, cache modes, budget, limits.

A loopback ChatServer answers: its chat route scripted per test (fakes.mistral_api: statuses,
bodies, Retry-After, dropped connections, late answers), or its toy judge.
Backoff sleeps are recorded by a fake sleep, never waited for, and nothing asserts on
wall time.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fakes.mistral_api import HANGUP, Delay, Script, chat_script, reply

from pytest_llmjudge import Case, Judge, Verdict
from pytest_llmjudge.backends.mistral import MistralBackend
from pytest_llmjudge.calls.cache import FILE_NAME
from pytest_llmjudge.calls.loop import judge_batch
from pytest_llmjudge.calls.reliable import NOT_IN_CACHE, CallContext, CallRunner
from pytest_llmjudge.outputs.formatting import calls_line
from pytest_llmjudge.settings import CacheMode, CallSettings, Settings
from pytest_llmjudge.testing import ChatServer

KEY = "sk-calls-0123456789abcdef"
JUDGE = Judge(name="small", model="mistral-small-latest")
OK = json.dumps({"reason": "supported", "consistency": 1})


SERVER: list[ChatServer] = []


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, loopback_env: None) -> Iterator[None]:
    """MISTRAL_SERVER_URL at one server for the whole test (the cache keys name the server)."""
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    with ChatServer() as server:
        monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
        SERVER[:] = [server]
        yield


def cases(n: int) -> list[Case]:
    return [
        Case(id=f"c{i}", premise=f"Document {i}.", hypothesis=f"Summary {i}.", target=1)
        for i in range(n)
    ]


def completion(content: str = OK, tokens: int = 40) -> dict[str, Any]:
    message = {"role": "assistant", "content": content}
    return {
        "id": "cmpl",
        "object": "chat.completion",
        "created": 1,
        "model": JUDGE.model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 10, "total_tokens": tokens},
    }


@dataclass
class Outcome:
    verdicts: dict[str, Verdict]
    sleeps: list[float]
    notes: list[str]
    runner: CallRunner
    context: CallContext = field(repr=False)


def run(
    tmp_path: Path,
    n: int = 1,
    *,
    concurrency: int = 1,
    judge: Judge = JUDGE,
    timeout_s: float = 60.0,
    **calls: Any,
) -> Outcome:
    """Judge n cases through CallRunner with the cache in tmp_path and a recording fake sleep."""
    calls.setdefault("cache_dir", tmp_path / "cache")
    settings = Settings(concurrency=concurrency, timeout_s=timeout_s, calls=CallSettings(**calls))
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0)

    context = CallContext(settings, sleep=fake_sleep)

    async def go() -> tuple[dict[str, Verdict], CallRunner]:
        backend = MistralBackend(judge, settings)
        runner = CallRunner(backend, context, judge.name)
        try:
            verdicts = await judge_batch(backend, cases(n), concurrency, judge_one=runner.judge)
        finally:
            await backend.aclose()
        return verdicts, runner

    verdicts, runner = asyncio.run(go())
    context.close()
    return Outcome(verdicts, sleeps, runner.notes("data"), runner, context)


def rows(tmp_path: Path) -> int:
    path = tmp_path / "cache" / FILE_NAME
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])


@contextmanager
def mock(responses: Sequence[Any]) -> Iterator[Script]:
    """The test's server answering the chat route with `responses` in turn."""
    with chat_script(SERVER[0], responses) as route:
        yield route


def test_429_with_retry_after_then_success(tmp_path: Path) -> None:
    limited = reply(429, json={"message": "slow down"}, headers={"Retry-After": "1"})
    with mock([limited, reply(200, json=completion())]) as route:
        out = run(tmp_path)

    assert out.verdicts["c0"].prediction == 1 and out.verdicts["c0"].error is None
    assert route.call_count == 2
    assert len(out.sleeps) == 1 and 1.0 <= out.sleeps[0] <= 1.1  # Retry-After honoured
    assert out.runner.stats.rate_limited == 1 and out.runner.stats.retries == 1
    assert out.notes == []  # the counts go to the run's one line (outputs.formatting.calls_line)
    counts = out.runner.stats.counts()
    assert calls_line("judge small on data", counts) == (
        "judge small on data: 1 case, 0 from the cache, 2 requests sent (1 retry, 1 answered 429)"
    )


def test_a_run_of_5xx_then_success(tmp_path: Path) -> None:
    errors = [reply(status, json={"message": "down"}) for status in (500, 502, 503)]
    with mock([*errors, reply(200, json=completion())]) as route:
        out = run(tmp_path, retries=5)

    assert out.verdicts["c0"].prediction == 1
    assert route.call_count == 4
    assert len(out.sleeps) == 3
    assert [0.25 <= s <= 0.5 for s in out.sleeps[:1]] == [True]  # backoff starts at 0.5 s
    assert 1.0 <= out.sleeps[2] <= 2.0  # and doubles


def test_when_retries_run_out_the_case_is_unscored_with_the_cause(tmp_path: Path) -> None:
    with mock([reply(503, json={"message": "overloaded"})] * 3) as route:
        out = run(tmp_path, retries=3)

    verdict = out.verdicts["c0"]
    assert verdict.prediction is None
    assert verdict.error == 'HTTP 503: {"message":"overloaded"} (gave up after 3 tries)'
    assert route.call_count == 3
    assert rows(tmp_path) == 0  # errors are never cached


def test_connection_errors_and_timeouts_are_retried(tmp_path: Path) -> None:
    answers = [HANGUP, Delay(5, reply(200, json=completion())), reply(200, json=completion())]
    with mock(answers) as route:
        out = run(tmp_path, timeout_s=0.3)

    assert out.verdicts["c0"].prediction == 1
    assert route.call_count == 3 and len(out.sleeps) == 2


def test_a_request_slower_than_the_timeout_is_retried_then_unscored(tmp_path: Path) -> None:
    with mock([Delay(30, reply(200, json=completion()))] * 3) as route:
        out = run(tmp_path, timeout_s=0.5, retries=3)

    verdict = out.verdicts["c0"]
    assert verdict.error == "request timed out after 0.5s (gave up after 3 tries)"
    assert route.call_count == 3 and len(out.sleeps) == 2


def test_a_timeout_on_the_sdk_transport_is_unscored(tmp_path: Path) -> None:
    with ChatServer(latency=5.0) as server:
        judge = JUDGE.model_copy(update={"server_url": server.url})
        out = run(tmp_path, judge=judge, timeout_s=0.2, retries=2)

    verdict = out.verdicts["c0"]
    assert verdict.prediction is None
    assert verdict.error is not None and "timed out" in verdict.error
    assert verdict.error.endswith("(gave up after 2 tries)")
    assert server.count >= 1 and rows(tmp_path) == 0


def test_401_is_reported_once_and_stops_the_judge(tmp_path: Path) -> None:
    with mock([reply(401, json={"message": "Unauthorized"})] * 50) as route:
        out = run(tmp_path, n=20)

    assert route.call_count == 1  # no further request after a permanent auth error
    errors = [out.verdicts[f"c{i}"].error for i in range(20)]
    assert errors[0] == 'HTTP 401: {"message":"Unauthorized"}'
    assert set(errors[1:]) == {
        'not sent: the judge stopped after HTTP 401: {"message":"Unauthorized"}'
    }
    failed = [n for n in out.notes if "401" in n]
    assert failed == [
        'judge small: HTTP 401: {"message":"Unauthorized"}: a permanent error, so no further '
        "requests were sent; 20 cases unscored"
    ]


def test_401_under_concurrency_sends_at_most_one_wave(tmp_path: Path) -> None:
    with mock([reply(401, json={"message": "Unauthorized"})] * 100) as route:
        out = run(tmp_path, n=100, concurrency=8)

    assert route.call_count <= 8
    assert all(v.prediction is None for v in out.verdicts.values())
    assert len([n for n in out.notes if "401" in n]) == 1


def test_422_is_not_retried_and_does_not_stop_the_judge(tmp_path: Path) -> None:
    bad = reply(422, json={"message": "bad request"})
    with mock([bad, reply(200, json=completion())]) as route:
        out = run(tmp_path, n=2)

    assert route.call_count == 2 and out.sleeps == []
    assert sorted(str(v.error) for v in out.verdicts.values()) == [
        'HTTP 422: {"message":"bad request"}',
        "None",
    ]


def test_a_body_that_is_not_a_completion_is_unscored_not_retried_not_cached(
    tmp_path: Path,
) -> None:
    with mock([reply(200, json={"hello": "world"})] * 3) as route:
        out = run(tmp_path)

    verdict = out.verdicts["c0"]
    assert verdict.error is not None and verdict.error.startswith("invalid response (HTTP 200)")
    assert verdict.raw is not None and "hello" in verdict.raw
    assert route.call_count == 1 and rows(tmp_path) == 0


def test_unparseable_output_is_cached_raw_and_reparsed_on_replay(tmp_path: Path) -> None:
    with mock([reply(200, json=completion("I think it is fine."))]):
        first = run(tmp_path)
    assert first.verdicts["c0"].error == "model output is not JSON"
    assert rows(tmp_path) == 1  # a real model answer, even if unusable

    replayed = run(tmp_path, cache="replay")
    verdict = replayed.verdicts["c0"]
    assert (verdict.cached, verdict.raw, verdict.error) == (
        True,
        "I think it is fine.",
        "model output is not JSON",
    )


@pytest.mark.parametrize("mode", ["use", "replay"])
def test_cached_answers_need_no_request(tmp_path: Path, mode: CacheMode) -> None:
    with mock([reply(200, json=completion())] * 2) as route:
        run(tmp_path, n=2)
    assert route.call_count == 2

    with mock([reply(500)] * 10) as route:
        out = run(tmp_path, n=3, cache=mode)  # c0 and c1 are cached, c2 is not

    assert [out.verdicts[f"c{i}"].cached for i in range(3)] == [True, True, False]
    assert [out.verdicts[f"c{i}"].prediction for i in range(2)] == [1, 1]
    assert out.runner.stats.cached == 2
    if mode == "replay":
        assert route.call_count == 0  # never the network
        assert out.verdicts["c2"].error == NOT_IN_CACHE
        assert "judge small on data: 1 case not in the cache (replay)" in out.notes
    else:
        assert route.call_count == 5  # only the uncached case is asked (and retried)


def test_replay_with_an_empty_cache_leaves_every_case_unscored(tmp_path: Path) -> None:
    with mock([]) as route:
        out = run(tmp_path, n=3, cache="replay")
    assert route.call_count == 0
    assert {v.error for v in out.verdicts.values()} == {NOT_IN_CACHE}


def test_refresh_calls_again_and_overwrites(tmp_path: Path) -> None:
    no = json.dumps({"reason": "r", "consistency": 0})
    with mock([reply(200, json=completion())]):
        run(tmp_path)
    with mock([reply(200, json=completion(no))]) as route:
        refreshed = run(tmp_path, cache="refresh")
    assert route.call_count == 1 and refreshed.verdicts["c0"].prediction == 0
    assert not refreshed.verdicts["c0"].cached

    again = run(tmp_path, cache="replay")
    assert again.verdicts["c0"].prediction == 0 and again.verdicts["c0"].cached
    assert rows(tmp_path) == 1


def test_off_neither_reads_nor_writes(tmp_path: Path) -> None:
    with mock([reply(200, json=completion())] * 4) as route:
        run(tmp_path, n=2, cache="off")
        run(tmp_path, n=2, cache="off")
    assert route.call_count == 4
    assert not (tmp_path / "cache").exists()


def test_request_budget_stops_requests(tmp_path: Path) -> None:
    with mock([reply(200, json=completion())] * 10) as route:
        out = run(tmp_path, n=5, max_requests=3)

    assert route.call_count == 3
    errors = [out.verdicts[f"c{i}"].error for i in range(5)]
    assert errors == [
        None,
        None,
        None,
        "request budget of 3 reached",
        "request budget of 3 reached",
    ]
    assert not any("FAILED budget" in n for n in out.notes)  # said once per run, not per batch
    assert out.context.budget.exhausted


def test_retries_count_against_the_request_budget(tmp_path: Path) -> None:
    with mock([reply(503)] * 10) as route:
        out = run(tmp_path, n=1, max_requests=2, retries=5)
    assert route.call_count == 2
    assert out.verdicts["c0"].error == "request budget of 2 reached"


def test_token_budget_stops_requests(tmp_path: Path) -> None:
    with mock([reply(200, json=completion(tokens=400))] * 10) as route:
        out = run(tmp_path, n=5, max_tokens=1000)

    assert route.call_count == 3  # 400 + 400 < 1000 <= 1200
    assert [out.verdicts[f"c{i}"].error for i in (3, 4)] == ["token budget of 1000 reached"] * 2
    assert out.context.budget.tokens == 3 * 400


def test_cached_cases_cost_no_budget(tmp_path: Path) -> None:
    with mock([reply(200, json=completion())] * 3):
        run(tmp_path, n=3)
    with mock([reply(200, json=completion())] * 3) as route:
        out = run(tmp_path, n=4, max_requests=1)
    assert route.call_count == 1
    assert all(v.error is None for v in out.verdicts.values())


def test_a_429_slows_the_whole_batch_down(tmp_path: Path) -> None:
    seen: list[int] = []

    def fail(index: int, body: dict[str, Any]) -> int | None:
        seen.append(server.in_flight)  # requests in the server at this one's answer
        return 429 if index < 16 else None

    with ChatServer(latency=0.05, fail=fail) as server:
        judge = JUDGE.model_copy(update={"server_url": server.url})
        out = run(tmp_path, n=48, concurrency=16, judge=judge)

    statuses = [r.status for r in server.requests]
    assert statuses[:16] == [429] * 16 and statuses[16:] == [200] * 48
    assert all(v.prediction is not None for v in out.verdicts.values())
    assert max(seen[:16]) > 8  # the first wave went out at full concurrency
    assert max(seen[16:24]) <= 9  # after it, the limit was halved to 8
    assert max(seen[16:]) <= 12  # and grew back by about one per window: sqrt(8**2 + 2*48)
    assert out.runner.stats.rate_limited == 16


def test_answers_the_cache_cannot_store_keep_their_verdicts_and_get_a_note(
    tmp_path: Path,
) -> None:
    (tmp_path / "cache").mkdir()
    with sqlite3.connect(tmp_path / "cache" / FILE_NAME) as db:  # readable, not writable
        db.execute(
            "CREATE TABLE responses (key TEXT PRIMARY KEY, backend TEXT, model TEXT, text TEXT, "
            "tokens INTEGER, created REAL, owner TEXT NOT NULL)"
        )
    db.close()
    with mock([reply(200, json=completion()) for _ in range(3)]):
        out = run(tmp_path, 3, concurrency=3)

    assert [v.prediction for v in out.verdicts.values()] == [1, 1, 1]
    assert out.notes[0].startswith(
        "judge small on data: 3 answers could not be stored in the response cache: "
        "IntegrityError: NOT NULL constraint failed: responses.owner"
    )


def test_a_batch_renders_and_hashes_each_request_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    identity = MistralBackend.request_identity

    def counted(self: MistralBackend, case: Case) -> dict[str, Any]:
        seen.append(case.id)
        return identity(self, case)

    monkeypatch.setattr(MistralBackend, "request_identity", counted)
    settings = Settings(calls=CallSettings(cache_dir=tmp_path / "cache"))
    context = CallContext(settings)
    backend = MistralBackend(JUDGE, settings)
    runner = CallRunner(backend, context, JUDGE.name)
    batch = cases(3)

    async def go() -> dict[str, Verdict]:
        try:
            runner.prefetch(batch)  # the batch's cache lookup, then its calls
            return await judge_batch(backend, batch, 2, judge_one=runner.judge)
        finally:
            await backend.aclose()

    with mock([reply(200, json=completion())] * 3):
        verdicts = asyncio.run(go())
    context.close()
    assert [v.prediction for v in verdicts.values()] == [1, 1, 1]
    assert sorted(seen) == ["c0", "c1", "c2"]


def test_an_answer_over_the_limit_is_unscored_and_kept_cut(tmp_path: Path) -> None:
    long = json.dumps({"reason": "y" * 5000, "consistency": 1})
    with mock([reply(200, json=completion(long))]):
        out = run(tmp_path, max_answer_chars=1000)
    verdict = out.verdicts["c0"]
    assert verdict.error == f"answer too long: {len(long)} characters, limit 1000"
    assert verdict.raw == long[:1000] and verdict.tokens == 40
    with sqlite3.connect(tmp_path / "cache" / FILE_NAME) as db:
        [(stored,)] = db.execute("SELECT text FROM responses").fetchall()
    assert len(stored) < 1100  # the cache holds the cut answer, and says so
    replayed = run(tmp_path, cache="replay", max_answer_chars=1000).verdicts["c0"]
    assert replayed.cached and replayed.error == verdict.error and replayed.raw == verdict.raw
    smaller = run(tmp_path, cache="replay", max_answer_chars=500).verdicts["c0"]
    assert smaller.error == verdict.error  # it was cut at 1000: the cause it was stored with


def test_a_cut_answer_is_asked_for_again_under_a_limit_it_fits(tmp_path: Path) -> None:
    long = json.dumps({"reason": "y" * 5000, "consistency": 1})
    with mock([reply(200, json=completion(long))] * 2) as route:
        run(tmp_path, max_answer_chars=1000)
        again = run(tmp_path, max_answer_chars=10_000).verdicts["c0"]
    assert route.call_count == 2 and again.prediction == 1 and not again.cached
    shorter = run(tmp_path, cache="replay", max_answer_chars=1000).verdicts["c0"]
    assert shorter.error == f"answer too long: {len(long)} characters, limit 1000"
    assert shorter.raw is not None and len(shorter.raw) == 1000  # stored whole, shown cut


def test_a_server_that_drops_every_connection_is_given_up_at_once(tmp_path: Path) -> None:
    with mock([HANGUP] * 100) as route:
        out = run(tmp_path, n=20, concurrency=2, retries=5)
    errors = [out.verdicts[f"c{i}"].error or "" for i in range(20)]
    assert route.call_count < 10  # not 20 cases x 5 tries
    assert sum(e.startswith("not sent: the judge stopped after ") for e in errors) >= 15
    assert any("connection failures or timeouts in a row" in e for e in errors)
    [note] = [n for n in out.notes if "the server is down" in n]
    assert note.startswith("judge small: ") and note.endswith(" cases unscored")


def with_logprobs(body: dict[str, Any], label: str, p1: float) -> dict[str, Any]:
    """`body` with OpenAI-style log-probabilities: its label token after '"consistency": ',
    P("1") = p1 and P("0") = 1 - p1 among the label's alternatives."""
    import math

    tokens = ['{"', "reason", '":', ' "', "supported", '",', ' "', "consistency", '":', " "]
    alternatives = [
        {"token": "1", "logprob": math.log(p1)},
        {"token": "0", "logprob": math.log(1 - p1)},
    ]
    chosen = next(a for a in alternatives if a["token"] == label)
    content = [{"token": t, "logprob": -0.01, "top_logprobs": []} for t in tokens]
    content.append({**chosen, "top_logprobs": alternatives})
    content.append({"token": "}", "logprob": -0.01, "top_logprobs": []})
    body["choices"][0]["logprobs"] = {"content": content}
    return body


def test_log_probabilities_give_the_verdict_a_probability_kept_in_the_cache(
    tmp_path: Path,
) -> None:
    judge = JUDGE.model_copy(update={"options": {"logprobs": True}})
    with mock([reply(200, json=with_logprobs(completion(), "1", 0.8))]) as route:
        out = run(tmp_path, judge=judge)
    (sent,) = [request.json() for request in route.calls]
    assert (sent["logprobs"], sent["top_logprobs"]) == (True, 5)
    assert out.verdicts["c0"].probability == pytest.approx(0.8)
    with mock([]) as route:
        again = run(tmp_path, judge=judge)
    assert route.call_count == 0 and again.verdicts["c0"].cached
    assert again.verdicts["c0"].probability == pytest.approx(0.8)


def test_no_log_probabilities_no_probability_and_none_asked_by_default(tmp_path: Path) -> None:
    with mock([reply(200, json=completion())]) as route:
        out = run(tmp_path)
    assert "logprobs" not in route.calls[0].json() and out.verdicts["c0"].probability is None


def test_a_cache_from_before_probabilities_is_upgraded_in_place(tmp_path: Path) -> None:
    with mock([reply(200, json=completion())]):
        run(tmp_path)
    path = tmp_path / "cache" / FILE_NAME
    with sqlite3.connect(path) as db:  # back to the old table: no probability column
        db.execute("ALTER TABLE responses DROP COLUMN probability")
    with mock([]) as route:
        again = run(tmp_path)
    assert route.call_count == 0 and again.verdicts["c0"].cached
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(responses)")}
    assert "probability" in columns
