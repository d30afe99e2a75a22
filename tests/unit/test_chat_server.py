"""ChatServer: the loopback Mistral-protocol server used by tests and benchmarks."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import httpx
import pytest

from pytest_llmjudge import Case, Example, Judge
from pytest_llmjudge.testing import ChatServer, extract_case, noisy_judge, toy_judge

KEY = "sk-server-test-0123456789"
AUTH = {"Authorization": "Bearer k"}
CASE = Case(
    id="c", premise="Alice met Bob in Paris in 2020.", hypothesis="Bob met Alice.", target=1
)


def body(content: str = "hello") -> dict[str, Any]:
    return {
        "model": "stub-model",
        "messages": [{"role": "user", "content": content}],
        "response_format": {"type": "json_object"},
        "temperature": 0.0,
        "max_tokens": 64,
    }


def post(server: ChatServer, key: str | None = KEY, payload: Any = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    with httpx.Client(base_url=server.url, trust_env=False) as client:
        return client.post("/v1/chat/completions", json=payload or body(), headers=headers)


def test_answers_a_chat_completion_and_records_the_request() -> None:
    prompt = Judge(name="j", model="m").messages(CASE)[0]["content"]
    with ChatServer(api_key=KEY) as server:
        response = post(server, payload=body(prompt))

    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion" and data["model"] == "stub-model"
    choice = data["choices"][0]
    assert (choice["index"], choice["finish_reason"], choice["message"]["role"]) == (
        0,
        "stop",
        "assistant",
    )
    assert json.loads(choice["message"]["content"])["consistency"] == 1
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert server.count == 1 and len(server.requests) == 1
    seen = server.requests[0]
    assert seen.body == body(prompt)
    assert seen.auth_present and seen.auth_valid and seen.status == 200
    assert "authorization" not in seen.headers
    assert KEY not in repr(server.requests)


@pytest.mark.parametrize("key", ["sk-wrong-key-000", None], ids=["wrong", "missing"])
def test_401_when_the_bearer_token_differs(key: str | None) -> None:
    with ChatServer(api_key=KEY) as server:
        response = post(server, key=key)

    assert response.status_code == 401
    assert "Unauthorized" in response.json()["message"]
    seen = server.requests[0]
    assert seen.auth_present is (key is not None) and not seen.auth_valid
    assert key is None or key not in repr(server.requests)


def test_any_token_is_valid_without_an_expected_key() -> None:
    with ChatServer() as server:
        assert post(server, key="anything").status_code == 200
        assert post(server, key=None).status_code == 401


def test_rate_429_share_and_retry_after_are_seeded() -> None:
    def statuses() -> list[int]:
        with ChatServer(rate_429=0.3, retry_after=2, seed=7) as server:
            with httpx.Client(base_url=server.url, trust_env=False) as client:
                path, payload = "/v1/chat/completions", body()
                responses = [client.post(path, json=payload, headers=AUTH) for _ in range(200)]
        limited = [r for r in responses if r.status_code == 429]
        assert limited and all(r.headers["retry-after"] == "2" for r in limited)
        return [r.status_code for r in responses]

    first = statuses()
    assert set(first) == {200, 429}
    assert 0.2 < first.count(429) / len(first) < 0.4
    assert statuses() == first


def test_forced_status_and_fail_hook() -> None:
    with ChatServer(fail=lambda index, _body: 503 if index == 1 else None) as server:
        codes = [post(server, key="k").status_code for _ in range(3)]
        server.status = 500
        forced = post(server, key="k")

    assert codes == [200, 503, 200]
    assert forced.status_code == 500 and "forced" in forced.json()["message"]


def test_custom_responder_and_a_failing_one() -> None:
    with ChatServer(responder=lambda messages: f"echo {len(messages)}") as server:
        content = post(server, key="k").json()["choices"][0]["message"]["content"]

    def broken(messages: list[dict[str, Any]]) -> str:
        raise RuntimeError("boom")

    with ChatServer(responder=broken) as server:
        failed = post(server, key="k")

    assert content == "echo 1"
    assert failed.status_code == 500 and "boom" in failed.json()["message"]


def test_bad_requests() -> None:
    with ChatServer() as server, httpx.Client(base_url=server.url, trust_env=False) as client:
        assert client.post("/v1/other", json={}, headers=AUTH).status_code == 404
        assert client.get("/v1/chat/completions", headers=AUTH).status_code == 405
        bad = client.post("/v1/chat/completions", content=b"{not json", headers=AUTH)
        assert bad.status_code == 400


def test_latency_overlaps_concurrent_requests() -> None:
    n, latency = 40, 0.2

    async def burst(url: str) -> float:
        limits = httpx.Limits(max_connections=n)
        async with httpx.AsyncClient(base_url=url, trust_env=False, limits=limits) as client:
            started = time.perf_counter()
            responses = await asyncio.gather(
                *(client.post("/v1/chat/completions", json=body(), headers=AUTH) for _ in range(n))
            )
            elapsed = time.perf_counter() - started
        assert all(r.status_code == 200 for r in responses)
        return elapsed

    with ChatServer(latency=latency) as server:
        sent = time.time()
        elapsed = asyncio.run(burst(server.url))

    assert latency <= elapsed < n * latency / 4  # sequential would take 8 s
    assert sent <= server.first_request_at <= server.last_request_at <= sent + elapsed
    assert server.count == n and server.max_in_flight >= n // 2
    assert server.in_flight == 0


def test_keep_alive_serves_many_requests_on_one_connection() -> None:
    with ChatServer() as server:
        request = (
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
            "Content-Type: application/json\r\nContent-Length: {n}\r\n\r\n{body}"
        )
        payload = json.dumps(body())
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            stream = sock.makefile("rb")
            for _ in range(3):
                sock.sendall(request.format(n=len(payload), body=payload).encode())
                lines = iter(stream.readline, b"\r\n")
                status, *headers = [line.decode().strip() for line in lines]
                length = next(int(h[15:]) for h in headers if h.startswith("Content-Length:"))
                answer = json.loads(stream.read(length))
                assert status == "HTTP/1.1 200 OK" and "Connection: keep-alive" in headers
                assert answer["object"] == "chat.completion"
            stream.close()
        assert server.count == 3


def test_close_frees_the_port_and_is_idempotent() -> None:
    server = ChatServer().start()
    port = server.port
    assert port > 0 and server.url == f"http://127.0.0.1:{port}"
    server.close()
    server.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_start_fails_loudly_on_a_busy_port() -> None:
    with ChatServer() as first, pytest.raises(OSError):
        ChatServer(port=first.port).start()


@pytest.mark.parametrize("kind", ["prompted", "few-shot", "fine-tuned"])
def test_toy_judge_reads_every_builtin_prompt(kind: str) -> None:
    examples = (Example(premise="Zed left Oslo.", hypothesis="Zed left Rome.", target=0),)
    judge = Judge(name="j", kind=kind, model="m", examples=examples if kind == "few-shot" else ())
    good = CASE
    bad = CASE.model_copy(update={"hypothesis": "Alice met Bob in 2021 in Rome."})

    assert extract_case(judge.messages(good)[0]["content"]) == (good.premise, good.hypothesis)
    assert json.loads(toy_judge(judge.messages(good)))["consistency"] == 1
    verdict = json.loads(toy_judge(judge.messages(bad)))
    assert verdict == {"consistency": 0, "reason": "not in the document: 2021, Rome"}


def test_toy_judge_without_a_case_in_the_prompt() -> None:
    assert json.loads(toy_judge([{"role": "user", "content": "hi"}]))["consistency"] == 0


def test_toy_judge_compares_whole_numbers() -> None:
    case = Case(
        id="n", premise="It cost 1,000 euros in 2020.", hypothesis="It cost 1,000 euros.", target=1
    )
    wrong = case.model_copy(update={"hypothesis": "It cost 1,500 euros."})
    judge = Judge(name="j", model="m")

    assert json.loads(toy_judge(judge.messages(case)))["consistency"] == 1
    assert json.loads(toy_judge(judge.messages(wrong)))["reason"] == "not in the document: 1,500"


def test_noisy_judge_flips_and_garbles_a_share_of_the_cases_the_same_way_each_time() -> None:
    judge = Judge(name="j", model="m")
    good = [
        Case(
            id=f"c{i}",
            premise=f"Ann met Bob in Rome in {1900 + i}.",
            hypothesis=f"Ann met Bob in {1900 + i}.",
            target=1,
        )
        for i in range(400)
    ]
    noisy = noisy_judge(flip=0.5, unparsable=0.1, seed=3)
    answers = [noisy(judge.messages(case)) for case in good]

    prose = [a for a in answers if not a.startswith("{")]
    said = [json.loads(a)["consistency"] for a in answers if a.startswith("{")]
    assert 0.05 < len(prose) / len(answers) < 0.15
    assert all(a.startswith("I think the summary is") for a in prose)
    assert 0.4 < said.count(0) / len(said) < 0.6  # toy_judge says 1 to every case
    assert [noisy(judge.messages(case)) for case in good] == answers
    assert noisy_judge(flip=0.0)(judge.messages(good[0])) == toy_judge(judge.messages(good[0]))


def test_rate_5xx_answers_a_seeded_share_with_server_errors() -> None:
    def statuses() -> list[int]:
        with ChatServer(rate_5xx=0.3, seed=5) as server:
            with httpx.Client(base_url=server.url, trust_env=False) as client:
                path, payload = "/v1/chat/completions", body()
                responses = [client.post(path, json=payload, headers=AUTH) for _ in range(200)]
        assert all("retry-after" not in r.headers for r in responses if r.status_code >= 500)
        return [r.status_code for r in responses]

    first = statuses()
    assert set(first) == {200, 500, 502, 503}
    assert 0.2 < sum(s >= 500 for s in first) / len(first) < 0.4
    assert statuses() == first
