"""pytest-xdist: `-n 2` asks the model once per case and reports exactly what a serial run does."""

from __future__ import annotations

import json
from typing import Any

import pytest

# two judges (two runs) on 30 cases, against the chat_project's loopback server
TWO_JUDGES = """
import pytest
from pytest_llmjudge import Judge

A = Judge(name="a", backend="mistral", model="stub-a")
B = Judge(name="b", backend="mistral", model="stub-b")


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[A, B], thresholds=["accuracy>=0.99"])
def test_eval(llmjudge_result):
    llmjudge_result.check()


def test_other():
    assert True
"""
N = 30


@pytest.fixture
def two_judges(chat_project: Any) -> Any:
    rows = chat_project.make_rows([i % 2 for i in range(N)])
    for i, row in enumerate(rows):  # every third summary names a city the document lacks
        row["hypothesis"] = f"Summary number {i + 1}" + (" in Rome." if i % 3 == 0 else ".")
    chat_project.cases(rows)
    chat_project.pytester.makepyfile(test_eval=TWO_JUDGES)
    return chat_project


def cases_of(report: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {(run["judge"], c["id"]): c for run in report["runs"] for c in run["cases"]}


def strip_timing(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k not in ("latency_s", "cached")}


def test_two_workers_call_the_model_once_per_case(
    two_judges: Any, pytester: pytest.Pytester
) -> None:
    result = pytester.runpytest("-n", "2", "--llmjudge-cache", "off")

    assert two_judges.server.count == 2 * N  # type: ignore[attr-defined]
    bodies = [json.dumps(r.body["messages"]) + r.body["model"] for r in two_judges.server.requests]  # type: ignore[attr-defined]
    assert len(set(bodies)) == 2 * N  # no case asked twice
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] + outcomes.get("xfailed", 0) == 2 * N + 1


def test_two_workers_report_what_a_serial_run_reports(
    two_judges: Any, pytester: pytest.Pytester
) -> None:
    serial = pytester.runpytest("--llmjudge-cache", "off", "--llmjudge-report", "serial.json")
    parallel = pytester.runpytest(
        "-n", "2", "--llmjudge-cache", "off", "--llmjudge-report", "parallel.json"
    )

    one, two = two_judges.report("serial.json"), two_judges.report("parallel.json")
    assert serial.ret == parallel.ret == 1  # the accuracy gate fails in both
    assert len(cases_of(one)) == len(cases_of(two)) == 2 * N
    for key, case in cases_of(one).items():
        assert strip_timing(case) == strip_timing(cases_of(two)[key]), key
    runs = {r["judge"]: r for r in one["runs"]}
    for run in two["runs"]:
        assert run["metrics"] == runs[run["judge"]]["metrics"]
        assert run["passed"] == runs[run["judge"]]["passed"] is False
    assert parallel.stdout.str().count("llmjudge summary") == 1
    assert two_judges.server.count == 4 * N  # type: ignore[attr-defined]


def test_two_workers_share_the_cache(two_judges: Any, pytester: pytest.Pytester) -> None:
    pytester.runpytest("-n", "2")
    assert two_judges.server.count == 2 * N  # type: ignore[attr-defined]

    rerun = pytester.runpytest("-n", "2", "--llmjudge-report", "r.json")

    assert two_judges.server.count == 2 * N  # type: ignore[attr-defined]  # all from the cache
    assert all(c["cached"] for c in cases_of(two_judges.report("r.json")).values())
    assert rerun.ret == 1


def test_one_calls_line_per_run_under_xdist(chat_project, pytester) -> None:  # type: ignore[no-untyped-def]
    result = pytester.runpytest("-n", "2", "-p", "xdist")
    lines = [x for x in result.outlines if x.startswith("judge m on cases:")]
    assert lines == ["judge m on cases: 6 cases, 0 from the cache, 6 requests sent"], lines
    one = pytester.runpytest("-k", "c1")
    assert "judge m on cases: 1 case, 1 from the cache, 0 requests sent" in one.outlines
