"""The plugin runs its batches on a loop of its own: it works with pytest-asyncio in strict
and auto mode, beside a user's async tests, and without pytest-asyncio at all.

Runs that pass `-p asyncio` use a subprocess: in-process, pytest would try to assertion-rewrite
the stdlib `asyncio` module (already imported by this process) and warn about it."""

from __future__ import annotations

import importlib.util

import pytest

needs_pytest_asyncio = pytest.mark.skipif(
    importlib.util.find_spec("pytest_asyncio") is None,
    reason="pytest-asyncio is not installed (pip install -e '.[asyncio]')",
)

JUDGE_MODULE = """
import asyncio
import pytest
from pytest_llmjudge import Judge

async def async_judge(case):
    await asyncio.sleep(0.01)
    return case.target

@pytest.mark.llmjudge(dataset="cases.jsonl",
                      judges=[Judge(name="aj", backend="function", function=async_judge)])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""

STRICT_USER_TESTS = """
import asyncio
import pytest

@pytest.mark.asyncio
async def test_users_own_async_test():
    await asyncio.sleep(0)
    assert asyncio.get_running_loop().is_running()
"""

AUTO_USER_TESTS = """
import asyncio
import pytest

async def test_users_unmarked_async_test():
    await asyncio.sleep(0)

@pytest.mark.llmjudge(dataset="cases.jsonl",
                      judges=[__import__("pytest_llmjudge").Judge(
                          name="sj", backend="function", function=lambda case: case.target)])
async def test_async_eval(llmjudge_result):
    await asyncio.sleep(0)
    llmjudge_result.check()
"""


@pytest.fixture
def setup(project, pytester: pytest.Pytester):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0, 1]))
    pytester.makepyfile(test_judged=JUDGE_MODULE)
    return project


@needs_pytest_asyncio
def test_strict_mode_beside_a_users_async_test(setup, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=STRICT_USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "asyncio", "--asyncio-mode=strict")
    result.stdout.fnmatch_lines(["asyncio: mode=*STRICT*"])
    result.assert_outcomes(passed=4)
    assert result.ret == 0


@needs_pytest_asyncio
def test_auto_mode_with_async_tests_and_an_async_eval_test(
    setup, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_user=AUTO_USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "asyncio", "--asyncio-mode=auto", "-v")
    result.stdout.fnmatch_lines(["asyncio: mode=*AUTO*"])
    result.stdout.fnmatch_lines(["*test_async_eval[[]sj-c2] PASSED*"])
    result.assert_outcomes(passed=7)  # 3 judged + 1 user test + 3 async judged
    assert result.ret == 0


@needs_pytest_asyncio
def test_auto_mode_from_ini(setup, pytester: pytest.Pytester) -> None:
    setup.ini("asyncio_mode = auto\n")
    pytester.makepyfile(test_user=AUTO_USER_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=7)


def test_without_pytest_asyncio(setup, pytester: pytest.Pytester) -> None:
    setup.ini(asyncio=False)  # the asyncio ini key would be unknown (and a warning) without it
    result = pytester.runpytest("-p", "no:asyncio", "--llmjudge-report", "report.json")
    assert "asyncio: mode" not in result.stdout.str()
    result.assert_outcomes(passed=3)
    assert setup.report()["runs"][0]["metrics"]["accuracy"] == 1.0


@needs_pytest_asyncio
def test_two_eval_tests_then_a_second_session_in_one_process(
    setup, pytester: pytest.Pytester
) -> None:
    # two eval tests in one session, then a second session in the same process
    pytester.makepyfile(test_again=JUDGE_MODULE.replace("def test_eval", "def test_eval_again"))
    setup.ini("asyncio_mode = auto\n")
    first = pytester.runpytest()
    first.assert_outcomes(passed=6)
    second = pytester.runpytest()
    second.assert_outcomes(passed=6)
