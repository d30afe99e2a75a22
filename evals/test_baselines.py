"""The offline judge against its stored baseline on FIB val-dev: a regression gate.

The baseline (evals/__snapshots__/test_baselines/) holds the local judge's verdict on every case
and its metrics. A change that makes the judge significantly worse (exact McNemar test) fails
the suite; re-record it on purpose after changing the judge:

    pytest evals/test_baselines.py --snapshot-update

It runs only where ../shared/data/fib-val-dev.jsonl exists (where the local judge is also
trained on FIB), so the recorded model and the compared one are trained on the same data.
"""

from pathlib import Path

import pytest

from pytest_llmjudge import Dataset

FIB_DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "fib-val-dev.jsonl"


@pytest.mark.llmjudge(
    dataset=Dataset(path=FIB_DEV, name="fib-val-dev", optional=True),
    judges=["local"],
    baseline=True,
)
def test_fib_baseline(llmjudge_result):
    llmjudge_result.check()
