"""Our own hand-written news cases (data/news-dev.jsonl): every judge kind."""

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"

JUDGES = ["local", "mistral_prompted", "mistral_fewshot", "mistral_finetuned"]


@pytest.mark.llmjudge(
    dataset=DATA / "news-dev.jsonl",
    judges=JUDGES,
    thresholds=[
        "mistral_prompted:accuracy>=0.7",
        "mistral_fewshot:accuracy>=0.7",
        "mistral_finetuned:accuracy>=0.75",
        "local:accuracy>=0.6",
    ],
)
def test_news(llmjudge_result):
    llmjudge_result.check()
