"""The committed fine-tune registry records the evals' fine-tune for both data set-ups (with
../shared/data beside the repository and without it), so `pytest evals/` on a fresh clone
reuses it and leaves llmjudge-finetunes.json unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_llmjudge.finetune.tuner import FineTuner
from pytest_llmjudge.settings import FineTuneSettings

ROOT = Path(__file__).resolve().parents[2]
OWN_TRAIN = ROOT / "data" / "news-train.jsonl"
FIB_TRAIN = ROOT.parent / "shared" / "data" / "fib-train.jsonl"
NEWS_WEIGHT = 10.0  # evals/conftest.py's local_ft recipe


def recorded() -> set[str]:
    data = json.loads((ROOT / "llmjudge-finetunes.json").read_text(encoding="utf-8"))
    return set(data["finetunes"])


def planned(train: list[tuple[Path, float]], tmp_path: Path) -> str:
    tuner = FineTuner(FineTuneSettings(), tmp_path / "artifacts", ROOT)
    return tuner.plan("local_ft", "local", None, train, None, {}, None).fingerprint


def test_the_recipe_without_shared_data_is_recorded(tmp_path: Path) -> None:
    assert planned([(OWN_TRAIN, NEWS_WEIGHT)], tmp_path) in recorded()


def test_the_recipe_with_shared_data_is_recorded(tmp_path: Path) -> None:
    if not FIB_TRAIN.exists():
        pytest.skip(f"{FIB_TRAIN} not found: ../shared/data is not beside the repository")
    assert planned([(FIB_TRAIN, 1.0), (OWN_TRAIN, NEWS_WEIGHT)], tmp_path) in recorded()
