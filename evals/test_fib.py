"""FIB validation rows (../shared/data/fib-val-dev.jsonl, 100 cases); skipped where absent."""

from pathlib import Path

import pytest

from pytest_llmjudge import Dataset

FIB_DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "fib-val-dev.jsonl"

# Gates: the published figures on these rows minus a margin for noise (100 cases: +/-0.09).
# local measured 0.81 here, 0.75 in grouped cross-validation (bench/local_judge.py): 0.70 fails
# a regression of two standard errors.
THRESHOLDS = [
    "local:accuracy>=0.70",
    "mistral_prompted:accuracy>=0.70",
    "mistral_fewshot:accuracy>=0.55",
    "mistral_finetuned:accuracy>=0.75",
]


@pytest.mark.llmjudge(
    dataset=Dataset(path=FIB_DEV, name="fib-val-dev", optional=True),
    judges=["local", "mistral_prompted", "mistral_fewshot", "mistral_finetuned"],
    thresholds=THRESHOLDS,
)
def test_fib(llmjudge_result):
    llmjudge_result.check()
