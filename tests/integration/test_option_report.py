"""--llmjudge-report / llmjudge_report: the JSON report and its agreement with its own cases."""

from __future__ import annotations

import json

import pytest

TARGETS = [1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1]
# c2 -> FN, c4 -> FP, c7 unscored (target 1), c8 unscored (target 0)
ANSWERS = {
    "c2": {"prediction": 0, "reason": "invented name"},
    "c4": 1,
    "c7": "The answer is probably yes.",
    "c8": '{"reason": "hmm", "consistency": "maybe"}',
}


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows(TARGETS))
    project.scripted(answers=ANSWERS, extra=', thresholds=["accuracy>=0.5", "f1>=0.99"]')
    return project


def recompute(cases: list[dict], positive: int = 1, exclude: bool = False) -> dict[str, float]:
    """Metrics from the report's own cases, computed independently of the plugin."""
    tp = fp = tn = fn = 0
    for case in cases:
        target, prediction = case["target"], case["prediction"]
        if prediction is None:
            if exclude:
                continue
            prediction = 1 - target  # unscored counts as a wrong answer
        if prediction == positive:
            tp, fp = (tp + 1, fp) if target == positive else (tp, fp + 1)
        else:
            fn, tn = (fn + 1, tn) if target == positive else (fn, tn + 1)
    counted = tp + fp + tn + fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
        "counted": counted,
        "accuracy": (tp + tn) / counted if counted else 0.0,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }


def test_report_structure(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--llmjudge-report", "out/report.json")
    assert result.ret == 1  # f1>=0.99 fails
    report = setup.report("out/report.json")
    assert set(report) == {"passed", "interrupted", "runs", "skipped", "calls", "leaderboard"}
    assert report["interrupted"] is False
    assert report["calls"] == {"cached": 0, "budget_exhausted": False}
    assert report["passed"] is False
    assert report["skipped"] == []
    [run] = report["runs"]
    assert run["test"] == "test_eval.py::test_eval"
    assert (run["judge"], run["dataset"], run["backend"], run["kind"]) == (
        "scripted",
        "cases",
        "function",
        "prompted",
    )
    assert run["dataset_path"] == str(setup.path / "cases.jsonl")
    assert run["passed"] is False
    assert [(t["metric"], t["op"], t["value"], t["passed"]) for t in run["thresholds"]] == [
        ("accuracy", ">=", 0.5, True),
        ("f1", ">=", 0.99, False),
    ]
    assert [c["id"] for c in run["cases"]] == [f"c{i}" for i in range(1, 12)]
    by_id = {c["id"]: c for c in run["cases"]}
    assert by_id["c2"]["reason"] == "invented name"
    assert by_id["c2"]["correct"] is False and by_id["c1"]["correct"] is True
    assert by_id["c7"]["prediction"] is None
    assert by_id["c7"]["error"] == "model output is not JSON"
    assert by_id["c7"]["raw"] == "The answer is probably yes."
    assert by_id["c8"]["raw"] == ANSWERS["c8"]
    assert by_id["c1"]["raw"] is None and by_id["c1"]["error"] is None
    for case in run["cases"]:
        assert set(case) >= {
            "id",
            "target",
            "prediction",
            "correct",
            "reason",
            "error",
            "latency_s",
        }
        assert case["latency_s"] >= 0


def test_report_aggregates_agree_with_its_cases(setup, pytester: pytest.Pytester) -> None:
    pytester.runpytest("--llmjudge-report", "report.json")
    [run] = setup.report()["runs"]
    metrics, cases = run["metrics"], run["cases"]
    expected = recompute(cases)
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value), key
    assert metrics["n"] == len(cases) == 11
    assert metrics["unscored"] == sum(c["prediction"] is None for c in cases) == 2
    assert metrics["scored"] == 9
    assert metrics["coverage"] == pytest.approx(9 / 11)
    # and by hand: tp=4 (c1 c3 c9 c11), fn=2 (c2, c7 unscored), fp=2 (c4, c8 unscored), tn=3
    assert (metrics["tp"], metrics["fn"], metrics["fp"], metrics["tn"]) == (4, 2, 2, 3)
    assert metrics["accuracy"] == pytest.approx(7 / 11)
    # each threshold's actual value is the reported metric
    for gate in run["thresholds"]:
        assert gate["actual"] == metrics[gate["metric"]]
        assert gate["passed"] is (gate["actual"] >= gate["value"])


def test_report_with_excluded_unscored_and_positive_0(setup, pytester: pytest.Pytester) -> None:
    pytester.runpytest(
        "--llmjudge-report",
        "report.json",
        "--llmjudge-unscored",
        "exclude",
        "--llmjudge-positive",
        "0",
    )
    [run] = setup.report()["runs"]
    metrics = run["metrics"]
    assert metrics["unscored_policy"] == "exclude"
    assert metrics["positive"] == 0
    expected = recompute(run["cases"], positive=0, exclude=True)
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value), key
    assert metrics["counted"] == 9


def test_report_path_from_ini(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_report = reports/eval.json\n")
    pytester.runpytest()
    report = setup.report("reports/eval.json")
    assert report["runs"][0]["metrics"]["n"] == 11


def test_cli_report_path_overrides_ini(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_report = from-ini.json\n")
    pytester.runpytest("--llmjudge-report", "from-cli.json")
    assert (setup.path / "from-cli.json").exists()
    assert not (setup.path / "from-ini.json").exists()


def test_one_run_per_judge_and_dataset(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1, 0]), name="a")
    project.cases(project.make_rows([1, 1, 0]), name="b")
    project.scripted(dataset="a.jsonl", extra=', datasets=["b.jsonl"]')
    assert pytester.runpytest("--llmjudge-report", "report.json").ret == 0
    report = project.report()
    assert report["passed"] is True
    assert [(r["dataset"], r["metrics"]["n"]) for r in report["runs"]] == [("a", 2), ("b", 3)]


def test_no_report_without_the_option(setup, pytester: pytest.Pytester) -> None:
    pytester.runpytest()
    assert not list(setup.path.glob("*.json"))


def test_report_is_valid_json_with_trailing_newline(setup, pytester: pytest.Pytester) -> None:
    pytester.runpytest("--llmjudge-report", "report.json")
    text = (setup.path / "report.json").read_text()
    assert text.endswith("\n")
    json.loads(text)
    assert not (setup.path / "report.json.tmp").exists()
