"""Mistral generators (and a Mistral judge) against a loopback chat server: sampling settings are
sent, answers are cached, replay needs no network, a missing key skips."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_llmjudge.testing import ChatServer, toy_judge

FAKE_KEY = "sk-fake-9a8b7c6d5e4f3210"

MODULE = """
import pytest
from pytest_llmjudge import Generator, Judge

GEN = Generator(name="mgen", backend="mistral", model="stub-writer", max_tokens=40, seed=3)
JUDGE = Judge(name="mjudge", backend="mistral", model="stub-judge")


@pytest.mark.llmjudge_generator(dataset="gen.jsonl", generators=[GEN], judge=JUDGE,
                                sampling={"temperature": [0.3, 1.2], "top_p": [0.8],
                                          "top_k": [40]},
                                thresholds=["hallucination_rate<=0.5"])
def test_gen(llmjudge_answer):
    llmjudge_answer.check()
"""


def respond(messages: list[dict[str, Any]]) -> str:
    """The judge's prompt gets the toy judge; a generation prompt gets an answer that names a
    city the context lacks (Rome) for tower 1 at a temperature the server cannot see, so always."""
    text = "\n".join(str(m.get("content", "")) for m in messages)
    if "You rate whether an answer addresses a question" in text:  # the relevancy prompt
        rome = "Rome" in text.split("Answer:")[-1]
        return json.dumps({"reason": "answers where", "consistency": 0 if rome else 1})
    if "Question:" not in text or "Context:" not in text:
        return toy_judge(messages)
    number = re.search(r"tower number (\d+)", text)
    n = number.group(1) if number else "?"
    return f"Tower number {n} was built in Rome." if n == "1" else f"Tower number {n} was built."


@pytest.fixture
def server(project: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatServer]:
    with ChatServer(api_key=FAKE_KEY, responder=respond) as chat:
        monkeypatch.setenv("MISTRAL_API_KEY", FAKE_KEY)
        monkeypatch.setenv("MISTRAL_SERVER_URL", chat.url)
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
            monkeypatch.delenv(name, raising=False)
        project.cases(
            [
                {
                    "id": f"g{i}",
                    "context": f"Tower number {i} was built in {1900 + i} in Orlen.",
                    "prompt": f"Where was tower number {i} built?",
                }
                for i in range(1, 5)
            ],
            name="gen",
        )
        project.pytester.makepyfile(test_gen=MODULE)
        yield chat


def test_generates_with_the_sampling_settings_then_judges(project: Any, server: ChatServer) -> None:
    result = project.pytester.runpytest("--llmjudge-report", "report.json", "-rx")
    result.assert_outcomes(passed=6, xfailed=2)
    assert result.ret == pytest.ExitCode.OK
    generate = [r.body for r in server.requests if r.body["model"] == "stub-writer"]
    judge = [r.body for r in server.requests if r.body["model"] == "stub-judge"]
    # the server answers alike at both temperatures: the same answer is judged once (cache)
    assert len(generate) == 8 and len(judge) == 4
    assert {(b["temperature"], b["top_p"], b["max_tokens"]) for b in generate} == {
        (0.3, 0.8, 40),
        (1.2, 0.8, 40),
    }
    assert all("response_format" not in b and "top_k" not in b for b in generate)
    assert all(isinstance(b["random_seed"], int) for b in generate)
    assert all(b["response_format"] == {"type": "json_object"} for b in judge)
    result.stdout.fnmatch_lines(
        [
            "mgen*t0.3-p0.8-k40*gen*4*0*0.250*hallucination_rate<=0.5 ok",
            "*the Mistral API has no top_k; top_k=40 is not sent*",
            "*XFAIL*g1*Tower number 1 was built in Rome.*not in the document: Rome*",
        ]
    )
    run = project.report()["generator_runs"][0]
    assert run["backend"] == "mistral" and run["model"] == "stub-writer"
    assert run["metrics"]["answer_words"] == 5.5  # "Tower number 1 was built in Rome." and 3x5
    assert run["metrics"]["answer_tokens"] is None  # Mistral reports the request's total only
    assert FAKE_KEY not in (project.path / "report.json").read_text()


def test_second_run_and_replay_answer_from_the_cache(
    project: Any, server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.pytester.runpytest("--llmjudge-report", "first.json")
    sent = len(server.requests)
    again = project.pytester.runpytest("--llmjudge-report", "second.json")
    assert len(server.requests) == sent  # answers and verdicts both came from the cache
    again.assert_outcomes(passed=6, xfailed=2)
    second = project.report("second.json")["generator_runs"][0]
    assert all(a["cached"] for a in second["answers"])
    first = project.report("first.json")["generator_runs"][0]
    assert second["metrics"] == first["metrics"]
    monkeypatch.delenv("MISTRAL_API_KEY")
    replay = project.pytester.runpytest("--llmjudge-cache", "replay")
    replay.assert_outcomes(passed=6, xfailed=2)
    assert len(server.requests) == sent


def test_missing_key_skips_the_run_with_the_variable_named(
    project: Any, server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY")
    result = project.pytester.runpytest("-rs", "--llmjudge-report", "report.json")
    result.assert_outcomes(skipped=8)
    result.stdout.fnmatch_lines(["*MISTRAL_API_KEY is not set*"])
    assert server.requests == []
    skipped = project.report()["generator_skipped"]
    assert {s["point"] for s in skipped} == {"t0.3-p0.8-k40", "t1.2-p0.8-k40"}


def test_request_budget_leaves_answers_unscored_and_fails_the_session(
    project: Any, server: ChatServer
) -> None:
    # 6 requests: the 4 answers at t0.3 and 2 of their verdicts; the other 2 are unscored, and
    # no answer at t1.2 is written (4 unscored)
    result = project.pytester.runpytest(
        "--llmjudge-max-requests", "6", "--llmjudge-report", "report.json", "-p", "no:randomly"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(  # one line per run, with the answers each left unscored
        [
            "FAILED budget: generator mgen at t0.3-p0.8-k40 on gen: request budget of 6 reached; "
            "2 answers unscored",
            "FAILED budget: generator mgen at t1.2-p0.8-k40 on gen: request budget of 6 reached; "
            "4 answers unscored",
        ]
    )
    report = project.report()
    assert report["passed"] is False and report["calls"]["budget_exhausted"] is True
    unscored = sum(r["metrics"]["unscored"] for r in report["generator_runs"])
    assert unscored == 2 + 4


def test_relevancy_rated_by_the_judge_with_the_relevancy_prompt(
    project: Any, server: ChatServer
) -> None:
    source = (project.path / "test_gen.py").read_text()
    project.pytester.makepyfile(
        test_gen=source.replace("judge=JUDGE,", 'judge=JUDGE, relevancy="judge",')
    )
    project.pytester.runpytest("--llmjudge-report", "report.json")
    rate = [
        r.body
        for r in server.requests
        if "You rate whether an answer addresses" in r.body["messages"][0]["content"]
    ]
    assert len(rate) == 4  # 4 distinct answers (both points answer alike: cached)
    run = project.report()["generator_runs"][0]
    assert run["relevancy_by"] == "judge"
    assert run["metrics"]["relevancy"] == 0.75  # the Rome answer is rated off the question
    assert {a["id"]: a["relevancy"] for a in run["answers"]}["g1#1"] == 0.0


def test_a_generated_answer_over_the_limit_is_unscored_with_its_cause_not_judged(
    project: Any, server: ChatServer
) -> None:
    def long_for_tower_2(messages: list[dict[str, Any]]) -> str:
        answer = respond(messages)
        return answer + " And so on." * 1000 if answer.startswith("Tower number 2 ") else answer

    server.responder = long_for_tower_2
    project.pytester.runpytest(
        "--llmjudge-report", "report.json", "--llmjudge-max-answer-chars", "500"
    )
    report = project.report("report.json")
    answers = [a for run in report["generator_runs"] for a in run["answers"]]
    long = [a for a in answers if a["case"] == "g2"]
    assert len(long) == 2 and all(a["answer"] is None for a in long)
    chars = len("Tower number 2 was built.") + len(" And so on.") * 1000
    cause = f"no answer to judge: answer too long: {chars} characters, limit 500"
    assert {a["error"] for a in long} == {cause}
    judged = [r.body for r in server.requests if r.body["model"] == "stub-judge"]
    assert not any("And so on." in str(body["messages"]) for body in judged)
