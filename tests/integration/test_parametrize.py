"""One test item per (judge, case), with stable ids that -k, --deselect and --lf use."""

from __future__ import annotations

import pytest

TWO_JUDGES = """
import pytest
from pytest_llmjudge import Judge

def always_yes(case):
    return 1

def always_no(case):
    return 0

@pytest.mark.llmjudge(
    dataset="cases.jsonl",
    judges=[
        Judge(name="alpha", backend="function", function=always_yes),
        Judge(name="beta", backend="function", function=always_no),
    ],
)
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def test_one_item_per_judge_and_case_with_ids(project, pytester: pytest.Pytester) -> None:
    project.cases(
        [
            {"id": "c1", "premise": "p1", "hypothesis": "h1", "target": 1},
            {"premise": "p2", "hypothesis": "h2", "target": 0},
            {"id": "c3", "premise": "p3", "hypothesis": "h3", "target": 1},
        ]
    )
    pytester.makepyfile(test_pairs=TWO_JUDGES)
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines(
        [
            "*test_pairs.py::test_eval[[]alpha-c1] PASSED*",
            "*test_pairs.py::test_eval[[]alpha-cases:2] XFAIL*",
            "*test_pairs.py::test_eval[[]alpha-c3] PASSED*",
            "*test_pairs.py::test_eval[[]beta-c1] XFAIL*",
            "*test_pairs.py::test_eval[[]beta-cases:2] PASSED*",
            "*test_pairs.py::test_eval[[]beta-c3] XFAIL*",
        ]
    )
    result.assert_outcomes(passed=3, xfailed=3)
    assert result.ret == 0


def test_several_datasets_put_the_dataset_in_the_id(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0]), name="news")
    project.cases(project.make_rows([1]), name="forum")
    project.scripted(extra=', datasets=["forum.jsonl"]', dataset="news.jsonl")
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "test_eval.py::test_eval[[]scripted-news-c1]",
            "test_eval.py::test_eval[[]scripted-news-c2]",
            "test_eval.py::test_eval[[]scripted-forum-c1]",
        ]
    )
    assert "3 tests collected" in result.stdout.str()


def test_mismatch_xfails_with_the_judges_reason(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0]))
    project.scripted(answers={"c1": {"prediction": 0, "reason": "the date is invented"}})
    result = pytester.runpytest("-rx")
    result.stdout.fnmatch_lines(
        [
            "XFAIL test_eval.py::test_eval[[]scripted-c1] - mismatch: target 1, judge 'scripted' "
            "said 0: the date is invented"
        ]
    )
    result.assert_outcomes(passed=1, xfailed=1)


def test_k_selects_one_judge_and_only_it_is_called(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0, 1]))
    pytester.makepyfile(test_pairs=TWO_JUDGES)
    result = pytester.runpytest("-v", "-k", "beta", "--llmjudge-report", "report.json")
    result.assert_outcomes(passed=1, xfailed=2, deselected=3)
    assert "alpha-" not in result.stdout.str()
    runs = project.report()["runs"]
    assert [(r["judge"], r["metrics"]["n"]) for r in runs] == [("beta", 3)]


def test_k_selects_a_case_id(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0, 1, 1]))
    project.scripted()
    result = pytester.runpytest("-v", "-k", "c3")
    result.stdout.fnmatch_lines(["*test_eval[[]scripted-c3] PASSED*"])
    result.assert_outcomes(passed=1, deselected=3)
    assert project.calls() == ["c3"]


def test_k_selects_a_line_based_id(project, pytester: pytest.Pytester) -> None:
    project.cases([{"premise": f"p{i}", "hypothesis": "h", "target": 1} for i in range(3)])
    project.scripted()
    result = pytester.runpytest("-v", "-k", "cases:2")
    result.stdout.fnmatch_lines(["*test_eval[[]scripted-cases:2] PASSED*"])
    result.assert_outcomes(passed=1, deselected=2)
    assert project.calls() == ["cases:2"]


def test_deselect_one_case(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0, 1]))
    project.scripted()
    result = pytester.runpytest(
        "--deselect", "test_eval.py::test_eval[scripted-c2]", "--llmjudge-report", "report.json"
    )
    result.assert_outcomes(passed=2, deselected=1)
    assert sorted(project.calls()) == ["c1", "c3"]
    assert [c["id"] for c in project.report()["runs"][0]["cases"]] == ["c1", "c3"]


def test_last_failed_reruns_only_failed_cases(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0, 1, 0, 1]))
    project.scripted(answers={"c2": 1, "c5": 0})
    first = pytester.runpytest("--llmjudge-strict")
    first.assert_outcomes(passed=3, failed=2)
    assert sorted(project.calls()) == ["c1", "c2", "c3", "c4", "c5"]
    (project.path / "calls.jsonl").unlink()

    again = pytester.runpytest(
        "--llmjudge-strict", "--lf", "-v", "--llmjudge-report", "report.json"
    )
    again.assert_outcomes(failed=2)
    again.stdout.fnmatch_lines(["run-last-failure: rerun previous 2 failures"])
    again.stdout.fnmatch_lines(
        ["*test_eval[[]scripted-c2] FAILED*", "*test_eval[[]scripted-c5] FAILED*"]
    )
    assert sorted(project.calls()) == ["c2", "c5"]
    assert project.report()["runs"][0]["metrics"]["n"] == 2


def test_batch_runs_once_per_judge(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0, 1, 0]))
    project.scripted()
    result = pytester.runpytest()
    result.assert_outcomes(passed=4)
    assert sorted(project.calls()) == ["c1", "c2", "c3", "c4"]  # each case judged exactly once


def test_tests_without_the_marker_are_untouched(project, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "llmjudge summary" not in result.stdout.str()


def test_llmjudge_result_without_a_marker_is_a_collection_error(
    project, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_nomark="def test_x(llmjudge_result):\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*test_x: uses llmjudge_result but has no @pytest.mark.llmjudge*"])


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('"cases.jsonl", judges=[J]', "takes keyword arguments only"),
        ('dataset="cases.jsonl", judges=[J], bogus=1', "unknown argument(s) bogus"),
        ('dataset="cases.jsonl"', "needs judges=[...]"),
        ("judges=[J]", "needs dataset= or datasets="),
        ('dataset="cases.jsonl", judges=[J, J]', "duplicate judge names"),
        (
            'dataset="cases.jsonl", judges=[J], thresholds=["f1>>1"]',
            "thresholds: invalid threshold",
        ),
    ],
)
def test_bad_marker_arguments(
    project, pytester: pytest.Pytester, marker: str, message: str
) -> None:
    project.cases(project.make_rows([1]))
    pytester.makepyfile(
        test_bad=f"""
        import pytest
        from pytest_llmjudge import Judge
        J = Judge(name="j", backend="function", function=lambda case: 1)

        @pytest.mark.llmjudge({marker})
        def test_x(llmjudge_result):
            llmjudge_result.check()
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert message in result.stdout.str()
    assert "Traceback" not in result.stdout.str()
