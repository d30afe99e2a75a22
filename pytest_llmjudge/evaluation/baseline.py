"""Baselines: a judge role's verdicts and metrics on a dataset, stored as a syrupy JSON snapshot.

`@pytest.mark.llmjudge(..., baseline=True)` compares every judge with its own stored baseline;
`baseline="role"` compares every judge with the baseline of that role (e.g. the production
judge), so a candidate judge is measured against what is deployed. Each run gets one extra test
item, `<judge>-baseline` (`<judge>-<dataset>-baseline` with several datasets), placed after its
cases. With `pytest --snapshot-update` that item records the baseline; without it, it compares.

The snapshot lives next to the test, in `__snapshots__/<test module>/<test>[<role>-baseline].json`:
the role's per-case verdicts (id, content digest, target, prediction, correct, reason), its
fingerprint (model/fingerprint.py) and its metrics, readable
and reviewed in pull requests like code. This module is pure; the syrupy glue is in
plugin/snapshots.py and is imported only when a baseline item runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_llmjudge.model.fingerprint import case_digest, judge_fingerprint
from pytest_llmjudge.model.runs import BaselineSpec, JudgeRun
from pytest_llmjudge.scoring.metrics import compute_metrics
from pytest_llmjudge.settings import Settings

SNAPSHOT_FORMAT = 1


def baseline_spec(
    role: str, judge: str, judges: Sequence[str], require_better: bool, prefix: str
) -> BaselineSpec:
    """The baseline spec of one judge's run under a marker's `baseline=`."""
    records = role == judge or len(judges) == 1
    return BaselineSpec(role, records, require_better, prefix)


def baseline_item_id(judge: str, prefix: str) -> str:
    """The test id of a run's baseline item (kept by `-k <judge>`)."""
    return f"{judge}-{prefix}baseline"


def snapshot_payload(run: JudgeRun, settings: Settings) -> dict[str, Any]:
    """What a baseline snapshot stores: the run's per-case verdicts and its metrics."""
    judged = [(c, run.verdicts[c.id]) for c in run.cases if c.id in run.verdicts]
    metrics = compute_metrics(
        [(c.target, v.prediction) for c, v in judged], settings.positive, settings.unscored
    )
    judge = run.judge
    spec = run.baseline
    return {
        "format": SNAPSHOT_FORMAT,
        "baseline": spec.role if spec else run.key.judge,
        "judge": run.key.judge,
        "model": judge.model if judge else None,
        "dataset": run.key.dataset,
        "fingerprint": judge_fingerprint(judge, [c for c, _ in judged], run.repeat),
        "metrics": metrics.model_dump(mode="json"),
        "cases": [
            {
                "id": case.id,
                "digest": case_digest(case),
                "target": case.target,
                "prediction": verdict.prediction,
                "correct": verdict.prediction == case.target,
                "reason": verdict.reason or verdict.error or "",
            }
            for case, verdict in judged
        ],
    }
