"""local_judge(validation=, threshold_for=) and llmjudge_finetune(validation=, hyperparameters=
{"threshold_for": ...}) fit the local judge's decision threshold on held-out rows, keep it with
the trained model, show it, and reuse it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import Project

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = """
import pytest
from pytest_llmjudge import local_judge


@pytest.fixture(scope="session")
def fitted():
    return local_judge("fitted", train=["data/train.jsonl"], validation="data/val.jsonl",
                       threshold_for="f1")


@pytest.fixture(scope="session")
def tuned(llmjudge_finetune):
    return llmjudge_finetune("tuned", backend="local", train=["data/train.jsonl"],
                             validation="data/val.jsonl",
                             hyperparameters={"threshold_for": "kappa"})
"""

TEST = """
import pytest


@pytest.mark.llmjudge(dataset="data/val.jsonl", judges=["fitted", "tuned"])
def test_judges(llmjudge_result):
    llmjudge_result.check()
"""


def test_the_threshold_is_fit_kept_shown_and_reused(project: Project) -> None:
    data = project.path / "data"
    data.mkdir()
    shutil.copy(ROOT / "data" / "news-train.jsonl", data / "train.jsonl")
    shutil.copy(ROOT / "data" / "news-dev.jsonl", data / "val.jsonl")
    project.pytester.makeconftest(CONFTEST)
    project.pytester.makepyfile(test_eval=TEST)
    first = project.pytester.runpytest("--llmjudge-report=r.json")
    first.stdout.fnmatch_lines(
        [
            "*local judge 'fitted': trained on 60 rows * decision threshold 0.* fit on val.jsonl "
            "(40 rows) for f1 (f1 0.* there)*"
        ]
    )
    first.stdout.fnmatch_lines(
        ["*llmjudge finetune tuned: decision threshold 0.* fit on val.jsonl (40 rows) for kappa*"]
    )
    artifacts = [json.loads(p.read_text()) for p in (project.path / ".llmjudge").rglob("*.json")]
    fits = sorted(a["threshold_fit"]["metric"] for a in artifacts if a.get("threshold_fit"))
    assert fits == ["f1", "kappa"]
    registry = json.loads((project.path / "llmjudge-finetunes.json").read_text())
    (entry,) = registry["finetunes"].values()
    assert 0 < entry["metrics"]["threshold"] < 1
    # the verdicts follow the fitted threshold
    report = json.loads((project.path / "r.json").read_text())
    threshold = next(
        a["threshold"] for a in artifacts if (a.get("threshold_fit") or {}).get("metric") == "f1"
    )
    run = next(r for r in report["runs"] if r["judge"] == "fitted")
    assert all((c["probability"] >= threshold) == (c["prediction"] == 1) for c in run["cases"])

    again = project.pytester.runpytest()
    again.stdout.fnmatch_lines(["*local judge 'fitted': reused * decision threshold 0.*"])


def test_a_bad_metric_or_a_missing_validation_file_is_an_error_for_its_run(
    project: Project,
) -> None:
    data = project.path / "data"
    data.mkdir()
    shutil.copy(ROOT / "data" / "news-train.jsonl", data / "train.jsonl")
    shutil.copy(ROOT / "data" / "news-dev.jsonl", data / "val.jsonl")
    project.pytester.makeconftest(
        CONFTEST.replace('threshold_for="f1"', 'threshold_for="ece"').replace(
            'validation="data/val.jsonl",\n                             hyperparameters',
            "hyperparameters",
        )
    )
    project.pytester.makepyfile(test_eval=TEST)
    result = project.pytester.runpytest()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*cannot fit a threshold for 'ece'*"])
    result.stdout.fnmatch_lines(["*threshold_for='kappa' needs a validation= file*"])
