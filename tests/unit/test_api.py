"""evaluate(): the library API, in a plain process, under a running loop, and against pytest."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_KEY, Project, make_rows

from pytest_llmjudge import ConfigError, EvaluationResult, Judge, evaluate, evaluate_async

# the scripted answers both sides use: c2 and c3 are judged wrongly, c5 is unscored
ANSWERS: dict[str, Any] = {"c2": 1, "c3": 1, "c5": "no verdict here"}


def scripted(case: Any) -> Any:
    return ANSWERS.get(case.id, case.target)


JUDGE = Judge(name="scripted", backend="function", function=scripted)


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in make_rows([1, 0, 0, 1, 1, 0])))
    return path


def test_evaluate_gives_metrics_cases_and_gates(cases: Path) -> None:
    result = evaluate(cases, [JUDGE], thresholds=["accuracy>=0.6"], concurrency=2)
    assert isinstance(result, EvaluationResult)
    [run] = result.runs
    assert (run.judge, run.dataset) == ("scripted", "cases")
    assert run.metrics.n == 6 and run.metrics.unscored == 1
    assert run.metrics.accuracy == pytest.approx(3 / 6)  # unscored counts as wrong
    assert [c.case.id for c in run.cases if not c.correct] == ["c2", "c3", "c5"]
    assert run.cases[4].verdict.prediction is None and run.cases[4].verdict.error
    assert result.passed is False and run.passed is False
    assert result.run("scripted") is run
    assert any(line.startswith("FAILED gate: judge scripted") for line in result.summary())
    report = result.to_report()
    assert report["passed"] is False
    assert report["runs"][0]["metrics"]["accuracy"] == pytest.approx(0.5)


def test_evaluate_passes_when_the_gates_hold(cases: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "report.json"
    result = evaluate(cases, [JUDGE], thresholds={"accuracy": 0.5}, report_path=out)
    assert result.passed is True
    assert json.loads(out.read_text())["runs"][0]["thresholds"][0]["passed"] is True


def test_evaluate_rejects_unknown_settings_and_bad_judges(cases: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting.*concurency.*known: .*concurrency"):
        evaluate(cases, [JUDGE], concurency=3)
    with pytest.raises(ConfigError, match="list of Judge"):
        evaluate(cases, JUDGE)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="duplicate judge names"):
        evaluate(cases, [JUDGE, JUDGE])
    with pytest.raises(ConfigError, match="thresholds"):
        evaluate(cases, [JUDGE], thresholds=["accuracy=>0.5"])


def test_evaluate_inside_a_running_event_loop(cases: Path) -> None:
    """A notebook's cell runs inside a loop: evaluate() and evaluate_async() both work there."""

    async def cell() -> tuple[EvaluationResult, EvaluationResult]:
        blocking = evaluate(cases, [JUDGE])
        awaited = await evaluate_async(cases, [JUDGE])
        return blocking, awaited

    blocking, awaited = asyncio.run(cell())
    assert blocking.runs[0].metrics.accuracy == awaited.runs[0].metrics.accuracy == 0.5


def test_evaluate_runs_without_importing_pytest(cases: Path, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from pytest_llmjudge import Judge, evaluate
        judge = Judge(name="echo", backend="function", function=lambda case: case.target)
        result = evaluate({str(cases)!r}, [judge], thresholds=["accuracy>=1"])
        print(result.passed, result.runs[0].metrics.accuracy,
              "pytest" in sys.modules, "_pytest" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "1.0", "False", "False"]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, loopback_env: None) -> Iterator[Any]:
    from pytest_llmjudge.testing import ChatServer

    with ChatServer(api_key=FAKE_KEY) as srv:
        monkeypatch.setenv("MISTRAL_API_KEY", FAKE_KEY)
        monkeypatch.setenv("MISTRAL_SERVER_URL", srv.url)
        yield srv


def test_evaluate_calls_a_model_server_and_caches(
    cases: Path, tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the cache is .llmjudge/cache under the working directory
    judge = Judge(name="m", backend="mistral", model="stub-model")
    first = evaluate(cases, [judge], concurrency=3)
    assert server.count == 6 and first.runs[0].metrics.scored == 6
    again = evaluate(cases, [judge])
    assert server.count == 6, "the rerun is answered from the response cache"
    assert again.to_report()["calls"]["cached"] == 6
    assert (tmp_path / ".llmjudge" / "cache").is_dir()


def test_evaluate_and_pytest_give_the_same_report(project: Project) -> None:
    """The marker and evaluate() run on one core: the same cases give the same report."""
    project.cases(make_rows([1, 0, 0, 1, 1, 0]))
    project.scripted(ANSWERS, extra=', thresholds=["accuracy>=0.6"]')
    result = project.pytester.runpytest("--llmjudge-report", "report.json")
    assert result.ret == 1
    from_pytest = project.report()
    from_api = evaluate(project.path / "cases.jsonl", [JUDGE], thresholds=["accuracy>=0.6"])
    assert _comparable(from_api.to_report()) == _comparable(from_pytest)


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what names the caller or the clock (the test id, latencies)."""
    report = json.loads(json.dumps(report))
    for run in report["runs"]:
        run.pop("test")
        for case in run["cases"]:
            case.pop("latency_s")
    return report
