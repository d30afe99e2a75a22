"""A run's requests start when its cases are collected, unless its items might not ask."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from conftest import FIXTURE_MISTRAL_MODULE

# The run loop starts 0.5 s late, and the first item's set-up is timed (time.time()), so that
# requests sent at the end of collection come before it and requests sent by an item after it.
TIMING = """
import json, time
from pathlib import Path

import pytest

OUT = Path(__file__).with_name("setup.json")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    time.sleep(0.5)


def pytest_runtest_setup(item):
    if not OUT.exists():
        OUT.write_text(json.dumps(time.time()))
"""


SKIPIF = """
import pytest
from pytest_llmjudge import Judge


@pytest.mark.skipif(False, reason="a condition that happens to be false")
@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[Judge(name="m", model="stub-model")])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""

SKIPPED = SKIPIF.replace("skipif(False, ", "skip(")

TWO_DATASETS = """
import pytest
from pytest_llmjudge import Judge


@pytest.mark.llmjudge(datasets=["cases.jsonl", "more.jsonl"],
                      judges=[Judge(name="m", model="stub-model")])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


@pytest.fixture
def timed(chat_project):  # type: ignore[no-untyped-def]
    chat_project.pytester.makeconftest(TIMING)
    return chat_project


def first_setup(project) -> float:  # type: ignore[no-untyped-def]
    at: float = json.loads((project.path / "setup.json").read_text())
    return at


def test_requests_start_before_the_first_item(timed, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest()
    result.assert_outcomes(passed=3, xfailed=3)
    assert timed.server.count == 6
    assert timed.server.first_request_at < first_setup(timed)  # during the late start


def test_every_run_starts_at_the_end_of_collection(timed, pytester: pytest.Pytester) -> None:
    rows = [{**row, "premise": f"Other document {row['id']}."} for row in timed.make_rows([1, 0])]
    timed.cases(rows, name="more")
    pytester.makepyfile(test_eval=TWO_DATASETS)
    first: dict[str, float] = {}

    def seen(index: int, body: dict[str, Any]) -> None:  # each run's first request, when
        run = "more" if "Other document" in str(body["messages"]) else "cases"
        first.setdefault(run, time.time())

    timed.server.fail = seen
    result = pytester.runpytest()
    result.assert_outcomes(passed=4, xfailed=4)
    assert timed.server.count == 8
    assert max(first.values()) < first_setup(timed)


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (["-x"], None),
        (["--maxfail", "3"], None),
        (["--stepwise", "-p", "cacheprovider"], None),
        ([], FIXTURE_MISTRAL_MODULE),
        ([], SKIPIF),
    ],
    ids=["exitfirst", "maxfail", "stepwise", "judge-fixture", "skipif-mark"],
)
def test_a_run_that_may_not_ask_starts_on_its_first_item(
    timed, pytester: pytest.Pytester, args: list[str], module: str | None
) -> None:
    if module is not None:
        pytester.makepyfile(test_eval=module)
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=3, xfailed=3)
    assert timed.server.count == 6
    assert timed.server.first_request_at > first_setup(timed)


@pytest.mark.parametrize(
    "args",
    [["--collect-only"], ["--setup-plan"], ["-k", "no-such-case"]],
    ids=["collect-only", "setup-plan", "deselected"],
)
def test_no_request_when_nothing_runs(timed, pytester: pytest.Pytester, args: list[str]) -> None:
    pytester.runpytest(*args)
    assert timed.server.count == 0


def test_no_request_for_a_skipped_test(timed, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_eval=SKIPPED)
    result = pytester.runpytest()
    result.assert_outcomes(skipped=6)
    assert timed.server.count == 0


def test_no_request_when_a_collection_error_ends_the_session(
    timed, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_broken="def broken(:\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert timed.server.count == 0
