"""Our own hand-written news cases (data/news-dev.jsonl, 40 cases): every judge kind."""

from pathlib import Path

import pytest

from pytest_llmjudge import Dataset

DATA = Path(__file__).resolve().parent.parent / "data"

# Gates: 40 cases give a 95% interval of about +/-0.15, so only a clear regression fails them.
# local measured 0.70 here (see bench/local_judge.py).
THRESHOLDS = [
    "local:accuracy>=0.55",
    "local_ft:accuracy>=0.55",
    "mistral_prompted:accuracy>=0.70",
    "mistral_fewshot:accuracy>=0.60",
    "mistral_finetuned:accuracy>=0.70",
]


@pytest.mark.llmjudge(
    # each run's metrics per news section too (slices of 4-8 cases: a view, not a gate)
    dataset=Dataset(path=DATA / "news-dev.jsonl", slice_by="section"),
    judges=["local", "local_ft", "mistral_prompted", "mistral_fewshot", "mistral_finetuned"],
    thresholds=THRESHOLDS,
)
def test_news(llmjudge_result):
    llmjudge_result.check()
