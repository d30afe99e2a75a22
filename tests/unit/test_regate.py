"""Re-gating a saved report with new settings, without calling a model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_llmjudge.__main__ import main as module_main
from pytest_llmjudge.outputs import regate


def cases(n: int, wrong: set[int]) -> list[dict[str, Any]]:
    """Report case entries c1..cn with alternating targets, wrong on the given numbers."""
    out = []
    for i in range(1, n + 1):
        target = i % 2
        prediction = 1 - target if i in wrong else target
        out.append(
            {
                "id": f"c{i}",
                "target": target,
                "prediction": prediction,
                "correct": prediction == target,
                "reason": f"r{i}",
            }
        )
    return out


def report(
    n: int = 100, wrong: set[int] = frozenset(range(1, 5)), judge: str = "cand", **run: Any
) -> dict[str, Any]:
    """A JSON report with one run (as --llmjudge-report writes it; metrics are recomputed)."""
    return {
        "passed": True,
        "runs": [
            {
                "test": "test_eval.py::test_eval",
                "judge": judge,
                "dataset": "news",
                "dataset_path": "news.jsonl",
                "metrics": {"positive": 1, "unscored_policy": "wrong"},
                "thresholds": [],
                "cases": cases(n, set(wrong)),
                **run,
            }
        ],
    }


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_threshold_on_the_point_and_on_the_lower_bound(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    saved = write(tmp_path / "report.json", report())  # accuracy 0.96 on 100 cases
    assert regate.main([str(saved), "--threshold", "accuracy>=0.95"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:5] == ["cand", "news", "100", "0", "0.960"]
    assert "WARNING: judge cand on news: 100 cases cannot show accuracy >= 0.95" in out
    assert out.rstrip().endswith("regate: PASSED (1 run)")

    status = regate.main([str(saved), "--threshold", "accuracy>=0.95", "--gate-on", "lower-bound"])
    assert status == 1
    out = capsys.readouterr().out
    assert "FAILED gate: judge cand on news: accuracy lower bound = 0.902 (point 0.960)" in out
    assert out.rstrip().endswith("regate: FAILED (1 run)")


def test_stored_thresholds_are_kept_unless_dropped(tmp_path: Path) -> None:
    stored = [{"metric": "accuracy", "op": ">=", "value": 0.99, "actual": 0.96, "passed": False}]
    saved = write(tmp_path / "report.json", report(thresholds=stored))
    assert regate.main([str(saved)]) == 1
    assert regate.main([str(saved), "--threshold", "accuracy>=0.9"]) == 0  # replaces it
    assert regate.main([str(saved), "--no-stored-thresholds"]) == 0


def test_compare_with_a_baseline_snapshot(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # the candidate breaks c5..c14 that the baseline got right: 10 broken, 0 fixed
    saved = write(tmp_path / "report.json", report(wrong=set(range(1, 15))))
    snapshot = write(
        tmp_path / "snap.json",
        {"baseline": "prod", "judge": "prod", "dataset": "news", "cases": cases(100, {1, 2, 3, 4})},
    )
    out_report = tmp_path / "new.json"
    status = regate.main([str(saved), "--baseline", str(snapshot), "--output", str(out_report)])
    assert status == 1
    out = capsys.readouterr().out
    assert "judge cand on news vs baseline 'prod': worse: 0 fixed, 10 broken of 100" in out
    assert "  broken c5 (target 1): baseline said 1 (r5); candidate said 0 (r5)" in out
    comparison = json.loads(out_report.read_text())["runs"][0]["comparison"]
    assert comparison["verdict"] == "worse"
    assert comparison["p_value"] == pytest.approx(2 / 1024)
    # p = 0.00195 is not significant at alpha 0.001
    assert regate.main([str(saved), "--baseline", str(snapshot), "--alpha", "0.001"]) == 0


def test_stored_comparison_is_redone_with_new_settings(tmp_path: Path) -> None:
    snapshot = {"baseline": "prod", "judge": "prod", "dataset": "news", "cases": cases(100, set())}
    saved = write(
        tmp_path / "report.json",
        report(wrong={1, 2, 3}, baseline_snapshot=snapshot, comparison={"require_better": False}),
    )
    assert regate.main([str(saved)]) == 0  # 3 broken: p = 0.25
    assert regate.main([str(saved), "--tolerance", "0.02"]) == 1  # accuracy -0.03
    assert regate.main([str(saved), "--tolerance", "f1=0.05"]) == 0
    assert regate.main([str(saved), "--require-better"]) == 1


def test_baseline_from_another_report(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    old = write(tmp_path / "old.json", report(wrong=set(range(1, 21)), judge="prod"))
    new = write(tmp_path / "new.json", report(wrong={1}))
    assert regate.main([str(new), "--baseline", str(old), "--require-better"]) == 0
    assert "vs baseline 'prod': better: 19 fixed, 0 broken" in capsys.readouterr().out


def test_mismatched_baseline_fails_and_says_so(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    saved = write(tmp_path / "report.json", report(n=10))
    snapshot = write(
        tmp_path / "snap.json",
        {"baseline": "prod", "dataset": "news", "cases": cases(12, set())},
    )
    assert regate.main([str(saved), "--baseline", str(snapshot)]) == 1
    out = capsys.readouterr().out
    assert "FAILED baseline: judge cand on news: baseline 'prod' was recorded on other cases" in out
    assert "2 baseline case(s) are not selected now: c11, c12" in out


def test_usage_errors_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as missing:
        regate.main([str(tmp_path / "nope.json")])
    assert missing.value.code == 2
    assert "regate: error: cannot read" in capsys.readouterr().err
    other = write(tmp_path / "other.json", {"hello": 1})
    with pytest.raises(SystemExit) as bad:
        regate.main([str(other)])
    assert bad.value.code == 2
    assert "not a pytest-llmjudge JSON report" in capsys.readouterr().err
    saved = write(tmp_path / "report.json", report())
    runs = [*report(judge="a")["runs"], *report(judge="b")["runs"]]
    two = write(tmp_path / "two.json", {"runs": runs})
    with pytest.raises(SystemExit):
        regate.main([str(saved), "--baseline", str(two)])
    assert "expected one baseline on that dataset, found 2 (a, b)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        regate.main([str(saved), "--alpha", "2"])


def test_module_entry_point(tmp_path: Path) -> None:
    saved = write(tmp_path / "report.json", report())
    done = subprocess.run(
        [sys.executable, "-m", "pytest_llmjudge", "regate", str(saved), "--threshold", "f1>=0.99"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "FAILED gate: judge cand on news: f1 = 0.960, threshold >= 0.99" in done.stdout
    assert module_main(["nope"]) == 2
    assert module_main([]) == 2


def test_an_interrupted_report_stays_failed(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    saved = write(tmp_path / "report.json", {**report(), "interrupted": True, "passed": False})
    out_path = tmp_path / "again.json"
    assert regate.main([str(saved), "--output", str(out_path)]) == 1
    out = capsys.readouterr().out
    assert "FAILED interrupted: the session was interrupted, so it does not pass" in out
    again = json.loads(out_path.read_text())
    assert again["interrupted"] is True and again["passed"] is False
