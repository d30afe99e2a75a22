"""Baselines: record with --snapshot-update, compare without it, gate regressions and promotions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# 30 cases with alternating targets; the recorded baseline judge is wrong on c1..c10.
TARGETS = [i % 2 for i in range(1, 31)]
SNAPSHOT = Path("__snapshots__", "test_eval", "test_eval[scripted-baseline].json")


def wrong_on(*numbers: int) -> dict[str, int]:
    """Scripted answers that are wrong on the given case numbers (right everywhere else)."""
    return {f"c{i}": 1 - (i % 2) for i in numbers}


BASELINE = wrong_on(*range(1, 11))
WORSE = wrong_on(*range(1, 21))  # also breaks c11..c20: 10 broken, 0 fixed, p = 2/1024
BETTER = {}  # fixes c1..c10: 10 fixed, 0 broken


@pytest.fixture
def recorded(project):  # type: ignore[no-untyped-def]
    """A project whose scripted judge's baseline is recorded."""
    project.cases(project.make_rows(TARGETS))
    project.scripted(answers=BASELINE, extra=", baseline=True")
    result = project.pytester.runpytest("--snapshot-update")
    result.assert_outcomes(passed=21, xfailed=10)
    assert result.ret == 0
    return project


def test_update_records_a_readable_json_snapshot(recorded, pytester: pytest.Pytester) -> None:
    data = json.loads((pytester.path / SNAPSHOT).read_text())
    assert data["baseline"] == "scripted" and data["dataset"] == "cases"
    assert [c["id"] for c in data["cases"]] == [f"c{i}" for i in range(1, 31)]
    assert data["cases"][0] == {
        "correct": False,
        "digest": data["cases"][0]["digest"],  # the case's content, 16 hex digits
        "id": "c1",
        "prediction": 0,
        "reason": "",
        "target": 1,
    }
    assert len(data["cases"][0]["digest"]) == 16
    assert set(data["fingerprint"]) == {
        "dataset",
        "prompt",
        "model",
        "sampling",
        "backend",
        "finetune",
        "id",
    }
    assert data["metrics"]["accuracy"] == pytest.approx(20 / 30)
    assert data["metrics"]["f1_ci"][0] < data["metrics"]["f1"] < data["metrics"]["f1_ci"][1]


def test_unchanged_judge_has_no_significant_difference(recorded, pytester) -> None:  # type: ignore[no-untyped-def]
    result = pytester.runpytest("--llmjudge-report", "report.json")
    result.assert_outcomes(passed=21, xfailed=10)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "scripted*cases*30*vs scripted: no significant difference ok",
            "judge scripted on cases vs baseline 'scripted': no significant difference: 0 fixed, "
            "0 broken of 30 paired cases, exact McNemar p = 1 >= alpha 0.05",
        ]
    )
    comparison = recorded.report()["runs"][0]["comparison"]
    assert comparison["verdict"] == "no significant difference"
    assert (comparison["fixed"], comparison["broken"], comparison["p_value"]) == ([], [], 1.0)


@pytest.mark.parametrize("plugin_args", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_worse_judge_fails_the_regression_gate(
    recorded, pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    recorded.scripted(answers=WORSE, extra=", baseline=True")
    result = pytester.runpytest(*plugin_args, "--llmjudge-report", "report.json")
    result.assert_outcomes(passed=10, xfailed=20, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*vs scripted: worse FAILED",
            "judge scripted on cases vs baseline 'scripted': worse: 0 fixed, 10 broken of 30 "
            "paired cases, exact McNemar p = 0.001953 < alpha 0.05",
            "  broken c11 (target 1): baseline said 1; candidate said 0",
            "FAILED baseline gate: judge scripted on cases: significantly worse than the "
            "baseline: 10 broken vs 0 fixed*",
            "FAILED test_eval.py::test_eval[[]scripted-baseline[]]*",
        ]
    )
    report = recorded.report()
    run = report["runs"][0]
    assert report["passed"] is False and run["passed"] is False
    comparison = run["comparison"]
    assert comparison["verdict"] == "worse"
    assert comparison["broken"] == [f"c{i}" for i in range(11, 21)]
    assert comparison["p_value"] == pytest.approx(2 / 1024)
    assert comparison["deltas"]["accuracy"] == pytest.approx(-10 / 30)
    # the snapshot is a baseline, not an expectation: comparing never rewrites it
    assert json.loads((pytester.path / SNAPSHOT).read_text())["metrics"]["accuracy"] == (
        pytest.approx(20 / 30)
    )


def test_better_judge_passes_the_promotion_gate(recorded, pytester) -> None:  # type: ignore[no-untyped-def]
    recorded.scripted(answers=BETTER, extra=", baseline=True")
    result = pytester.runpytest("--llmjudge-require-better")
    result.assert_outcomes(passed=31)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*vs scripted: better ok", "  fixed c1 (target 1)*"])


def test_promotion_gate_from_the_marker_fails_without_improvement(recorded, pytester) -> None:  # type: ignore[no-untyped-def]
    recorded.scripted(answers=BASELINE, extra=", baseline=True, require_better=True")
    result = pytester.runpytest()
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["FAILED baseline gate: judge scripted on cases: promotion gate: not significantly*"]
    )


def test_tolerance_fails_a_drop_that_is_not_significant(recorded, pytester) -> None:  # type: ignore[no-untyped-def]
    # breaks c11..c13 only: p = 0.25, but accuracy drops by 0.1
    recorded.scripted(answers={**BASELINE, **wrong_on(11, 12, 13)}, extra=", baseline=True")
    assert pytester.runpytest().ret == 0
    result = pytester.runpytest("--llmjudge-tolerance", "0.05")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*vs scripted: no significant difference FAILED",
            "FAILED baseline gate: judge scripted on cases: accuracy dropped by 0.100 "
            "(0.667 -> 0.567), more than the tolerance 0.05",
        ]
    )
    recorded.ini("llmjudge_tolerance = f1=0.2\n")
    assert pytester.runpytest().ret == 0
    assert pytester.runpytest("--llmjudge-tolerance", "f1=0.05").ret == 1


def test_alpha_from_ini(recorded, pytester) -> None:  # type: ignore[no-untyped-def]
    # 5 broken: p = 0.0625, significant at 0.1 only
    recorded.scripted(answers={**BASELINE, **wrong_on(*range(11, 16))}, extra=", baseline=True")
    assert pytester.runpytest().ret == 0
    recorded.ini("llmjudge_alpha = 0.1\n")
    result = pytester.runpytest()
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*worse: 0 fixed, 5 broken*p = 0.0625 < alpha 0.1"])


def test_other_cases_than_the_baseline_is_an_error(recorded, pytester) -> None:  # type: ignore[no-untyped-def]
    result = pytester.runpytest("-k", "scripted-c2 or baseline")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*baseline 'scripted' was recorded on other cases than the ones selected now; "
            "19 baseline case(s) are not selected now: c1, c3, c4,*",
            "FAILED baseline: judge scripted on cases: *",
        ]
    )
    assert "vs baseline 'scripted':" not in result.stdout.str()  # nothing was compared


def test_changed_dataset_names_missing_and_extra_ids(recorded, pytester) -> None:  # type: ignore[no-untyped-def]
    rows = recorded.make_rows(TARGETS)
    rows[0]["id"] = "new1"
    recorded.cases(rows)
    result = pytester.runpytest()
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*1 selected case(s) are not in the baseline: new1; 1 baseline case(s) are not "
            "selected now: c1*"
        ]
    )


def test_k_judge_keeps_the_baseline_item(recorded, pytester) -> None:  # type: ignore[no-untyped-def]
    result = pytester.runpytest("-k", "scripted", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["*test_eval[[]scripted-c30[]]", "*test_eval[[]scripted-baseline[]]"]
    )


def test_selecting_only_cases_leaves_the_snapshot_alone(recorded, pytester) -> None:  # type: ignore[no-untyped-def]
    result = pytester.runpytest("-k", "scripted-c2")
    assert result.ret == 0  # no comparison, and syrupy does not call the snapshot unused
    assert "unused" not in result.stdout.str()


def test_missing_baseline_says_how_to_record_it(project, pytester) -> None:  # type: ignore[no-untyped-def]
    project.cases(project.make_rows(TARGETS))
    project.scripted(extra=", baseline=True")
    result = pytester.runpytest()
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*no baseline 'scripted' on cases at __snapshots__/test_eval/"
            "test_eval[[]scripted-baseline[]].json: record it with `pytest --snapshot-update`"
        ]
    )


ROLE_MODULE = """
import pytest
from pytest_llmjudge import Judge

def production(case):
    return 1 - case.target if case.id in {wrong_prod!r} else case.target

def candidate(case):
    return 1 - case.target if case.id in {wrong_cand!r} else case.target

@pytest.mark.llmjudge(
    dataset="cases.jsonl",
    judges=[
        Judge(name="prod", backend="function", function=production),
        Judge(name="cand", backend="function", function=candidate),
    ],
    baseline="prod",
)
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def test_candidate_is_compared_with_the_role_baseline(project, pytester) -> None:  # type: ignore[no-untyped-def]
    project.cases(project.make_rows(TARGETS))
    prod_wrong = [f"c{i}" for i in range(1, 11)]
    pytester.makepyfile(
        test_eval=ROLE_MODULE.format(wrong_prod=prod_wrong, wrong_cand=prod_wrong[:2])
    )
    recorded = pytester.runpytest("--snapshot-update")
    # only the judge named like the role records; the candidate is compared with it at once
    assert [p.name for p in (pytester.path / "__snapshots__" / "test_eval").iterdir()] == [
        "test_eval[prod-baseline].json"
    ]
    recorded.stdout.fnmatch_lines(["*cand on cases vs baseline 'prod': better: 8 fixed, 0 broken*"])
    assert recorded.ret == 0
    result = pytester.runpytest("-k", "cand", "--llmjudge-require-better")
    result.assert_outcomes(passed=29, xfailed=2)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*cand on cases vs baseline 'prod': better: 8 fixed, 0 broken of 30*p = 0.007812*"]
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (", baseline=3", "baseline: expected True or a role name, got 3"),
        (", baseline='a b'", "baseline: role name 'a b' must be"),
        (", require_better=True", "require_better=True needs a baseline"),
    ],
)
def test_bad_marker_arguments(project, pytester, extra: str, message: str) -> None:  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0]))
    project.scripted(extra=extra)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([f"*{message}*"])


OPTIONAL_MODULE = """
import pytest
from pytest_llmjudge import Dataset, Judge

JUDGE = Judge(name="scripted", backend="function", function=lambda case: case.target)

@pytest.mark.llmjudge(
    dataset=Dataset(path="cases.jsonl", optional=True), judges=[JUDGE], baseline=True
)
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def test_missing_optional_dataset_keeps_its_baseline(project, pytester) -> None:  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0, 1]))
    pytester.makepyfile(test_eval=OPTIONAL_MODULE)
    assert pytester.runpytest("--snapshot-update").ret == 0
    assert (pytester.path / SNAPSHOT).exists()
    (pytester.path / "cases.jsonl").unlink()
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=2)  # the dataset's item and its baseline item
    assert result.ret == 0  # syrupy does not call the stored baseline unused
    assert pytester.runpytest("--snapshot-update").ret == 0
    assert (pytester.path / SNAPSHOT).exists()  # nor deletes it


def test_disabled_syrupy_is_an_error_that_says_so(recorded, pytester) -> None:  # type: ignore[no-untyped-def]
    result = pytester.runpytest("-p", "no:syrupy")
    result.assert_outcomes(passed=20, xfailed=10, errors=1)
    result.stdout.fnmatch_lines(
        ["*the syrupy plugin is not active (was it disabled with -p no:syrupy?)*"]
    )


def test_an_edited_case_is_refused_and_named(recorded, pytester: pytest.Pytester) -> None:
    rows = recorded.make_rows(TARGETS)
    rows[4]["hypothesis"] = "Summary number 5, rewritten."
    recorded.cases(rows)
    result = pytester.runpytest("--llmjudge-report", "report.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*1 case(s) edited (document or summary): c5*"])
    updated = pytester.runpytest("--snapshot-update")  # re-recording the baseline is allowed
    assert updated.ret == pytest.ExitCode.OK


def test_a_model_or_prompt_change_is_named_in_the_comparison(recorded, pytester) -> None:  # type: ignore[no-untyped-def]
    module = (recorded.path / "test_eval.py").read_text()
    changed = module.replace(
        'backend="function",', 'backend="function", model="v2", temperature=0.7,'
    )
    assert changed != module
    (recorded.path / "test_eval.py").write_text(changed)
    result = pytester.runpytest("--llmjudge-report", "report.json")
    assert result.ret == pytest.ExitCode.OK  # the same verdicts: no significant difference
    result.stdout.fnmatch_lines(
        ["  changed since the baseline: the model: (none) -> v2; the sampling settings"]
    )
    comparison = recorded.report()["runs"][0]["comparison"]
    assert comparison["changed_since_baseline"] == [
        "the model: (none) -> v2",
        "the sampling settings",
    ]
    fingerprint = recorded.report()["runs"][0]["fingerprint"]
    assert fingerprint["model"] == "v2" and len(fingerprint["id"]) == 16
