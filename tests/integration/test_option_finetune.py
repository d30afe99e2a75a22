"""--llmjudge-finetune / llmjudge_finetune and the llmjudge_finetune fixture, end to end (local)."""

from __future__ import annotations

import json
from typing import Any

import pytest

# The local judge learns that a summary repeating the document's number is consistent.
TRAIN = [
    {
        "id": f"t{i}",
        "premise": f"The council of town {i} approved {i + 3} new parks on Monday.",
        "hypothesis": f"Town {i} approved {i + 3 if i % 2 else i + 11} new parks.",
        "target": i % 2,
    }
    for i in range(1, 21)
]

CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def judge_ft(llmjudge_finetune):
    return llmjudge_finetune(
        "ft-local",
        backend="local",
        train=[("train.jsonl", 2.0)],
        hyperparameters={{"cv_folds": 0}},{extra}
    )
"""

EVAL = """
import pytest


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=["judge_ft"], thresholds=["accuracy>=0.5"])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def build(project: Any, extra: str = "") -> None:
    project.cases(TRAIN, name="train")
    project.cases(TRAIN[:6])
    project.pytester.makeconftest(CONFTEST.format(extra=extra))
    project.pytester.makepyfile(test_eval=EVAL)


def registry(project: Any) -> dict[str, object]:
    document = json.loads((project.path / "llmjudge-finetunes.json").read_text())
    entries: dict[str, object] = document["finetunes"]
    return entries


def test_the_fine_tuned_judge_is_trained_then_evaluated_then_reused(project: Any) -> None:
    build(project)
    result = project.pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "*llmjudge finetune ft-local: training with backend 'local' (fingerprint *)",
            "*llmjudge finetune ft-local: trained local judge on 20 rows*",
            "*llmjudge finetune ft-local: recorded local-lexical in llmjudge-finetunes.json*",
        ]
    )
    (entry,) = registry(project).values()
    assert entry["name"] == "ft-local" and entry["metrics"]["rows"] == 20  # type: ignore[index]

    again = project.pytester.runpytest("-p", "no:cacheprovider", "--llmjudge-finetune=never")
    again.assert_outcomes(passed=6)
    again.stdout.fnmatch_lines(["*llmjudge finetune ft-local: reused local-lexical from *"])
    assert "training with" not in again.stdout.str()


@pytest.mark.parametrize("where", ["cli", "ini"])
def test_never_skips_the_evals_of_a_missing_fine_tune(project: Any, where: str) -> None:
    build(project)
    args = ["-p", "no:cacheprovider", "-rs"]
    if where == "cli":
        args.append("--llmjudge-finetune=never")
    else:
        project.ini("llmjudge_finetune = never\n")
    result = project.pytester.runpytest(*args)
    result.assert_outcomes(skipped=6)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED ?6? *fine-tune 'ft-local' (local, fingerprint *) is not in "
            "llmjudge-finetunes.json and --llmjudge-finetune=never forbids training it"
        ]
    )
    assert result.ret == 0
    assert not (project.path / "llmjudge-finetunes.json").exists()


def test_always_retrains_a_recorded_fine_tune(project: Any) -> None:
    build(project)
    project.pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=6)
    result = project.pytester.runpytest("-p", "no:cacheprovider", "--llmjudge-finetune=always")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*trained local judge on 20 rows*"])
    assert "reused local-lexical" not in result.stdout.str()


def test_the_registry_path_comes_from_ini(project: Any) -> None:
    build(project)
    project.ini("llmjudge_finetune_registry = evals/finetunes.json\n")
    project.pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=6)
    document = json.loads((project.path / "evals" / "finetunes.json").read_text())
    (entry,) = document["finetunes"].values()
    # paths are relative to the registry's folder, so the committed file is portable
    assert entry["inputs"]["train"] == [{"path": "../train.jsonl", "weight": 2.0, "rows": 20}]
    assert entry["artifact"].startswith("../.llmjudge/artifacts/local-judge-")


def test_a_bad_training_row_errors_the_evals_with_file_and_line(project: Any) -> None:
    build(project)
    lines = (project.path / "train.jsonl").read_text().splitlines()
    lines[3] = '{"premise": "x", "hypothesis": "y"}'
    (project.path / "train.jsonl").write_text("\n".join(lines) + "\n")
    result = project.pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=6)
    result.stdout.fnmatch_lines(["*fine-tune 'ft-local': *train.jsonl:4: missing field 'target'*"])


def test_a_bad_policy_in_ini_is_a_usage_error(project: Any) -> None:
    build(project)
    project.ini("llmjudge_finetune = sometimes\n")
    result = project.pytester.runpytest("-p", "no:cacheprovider")
    result.stderr.fnmatch_lines(
        ["*invalid llmjudge_finetune = 'sometimes': expected one of never, missing, always*"]
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_a_bad_policy_on_the_command_line_is_refused(project: Any) -> None:
    build(project)
    result = project.pytester.runpytest("-p", "no:cacheprovider", "--llmjudge-finetune=later")
    result.stderr.fnmatch_lines(["*--llmjudge-finetune: invalid choice: 'later'*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


BASELINE_EVAL = """
import pytest


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=["judge_ft"], baseline=True)
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def test_a_retrained_judge_is_regression_tested_against_its_baseline(project: Any) -> None:
    """The workflow: record a baseline, change the training data, the new fine-tune is gated."""
    pytest.importorskip("syrupy")
    build(project)
    cases = [
        {
            "id": f"e{i}",
            "premise": f"The school of village {i} hired {i + 5} new teachers in May.",
            "hypothesis": f"Village {i} hired {i + 5 if i % 2 else i + 13} new teachers.",
            "target": i % 2,
        }
        for i in range(1, 21)
    ]
    project.cases(cases)
    project.pytester.makepyfile(test_eval=BASELINE_EVAL)
    recorded = project.pytester.runpytest("-p", "no:cacheprovider", "--snapshot-update")
    recorded.assert_outcomes(passed=21)

    same = project.pytester.runpytest("-p", "no:cacheprovider")
    same.assert_outcomes(passed=21)
    same.stdout.fnmatch_lines(["*reused local-lexical*", "*no significant difference*"])

    # Mislabelled training data: a new fingerprint, so a new fine-tune, which the gate catches.
    flipped = [{**row, "target": 1 - row["target"]} for row in TRAIN]
    project.cases(flipped, name="train")
    worse = project.pytester.runpytest("-p", "no:cacheprovider")
    worse.stdout.fnmatch_lines(["*training with backend 'local'*", "*vs judge_ft: worse FAILED"])
    assert worse.ret == pytest.ExitCode.TESTS_FAILED
    assert len(registry(project)) == 2


def test_help_lists_the_option_and_ini_keys(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(
        [
            "*--llmjudge-finetune={never,missing,always}*",
            "*llmjudge_finetune (string)*",
            "*llmjudge_finetune_registry (string)*",
        ]
    )
    assert result.stdout.str().count("llmjudge_finetune_wandb_project") == 1


def test_under_xdist_every_worker_evaluates_the_one_recorded_fine_tune(project: Any) -> None:
    build(project)
    result = project.pytester.runpytest("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=6)
    assert len(registry(project)) == 1
    marker = list((project.path / ".llmjudge" / "artifacts" / "finetune").glob("*.run"))
    assert len(marker) == 1
