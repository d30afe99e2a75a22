"""The data each run is logged to W&B Weave with (no pytest, no weave): plain JSON for the child
process that logs it (weave.py).

Each run becomes one `weave.EvaluationLogger`. For a judge run the model is the judge (its model
name, backend and kind as attributes), the dataset is named after the dataset, every case is a
prediction with inputs (id, premise, hypothesis, target) and output (prediction, reason, error),
scored `correct`, and the summary holds accuracy (with its interval), precision, recall and F1,
so judges line up in Weave's compare view. For a generator run the model is the generator at its
sampling point (model name, backend, adapter, temperature, top_p, top_k, max_tokens, samples,
judge), every answer is a prediction with inputs (answer id, case, sample, prompt, context,
reference) and output (answer, the judge's label, reason, error), scored `consistent` (the
judge's label is 1), and the summary holds the hallucination rate (with its interval),
faithfulness, relevancy and answer length.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from pytest_llmjudge.evaluation.results import RunResult
    from pytest_llmjudge.model.gen_run import GenRun
    from pytest_llmjudge.model.runs import JudgeRun
    from pytest_llmjudge.scoring.gen_metrics import GenMetrics
    from pytest_llmjudge.scoring.metrics import Metrics

_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def weave_name(label: str) -> str:
    """A Weave object name for a judge or dataset label."""
    return _NAME.sub("_", label).strip("_") or "unnamed"


def run_payload(result: RunResult) -> dict[str, Any]:
    """One run of either kind as the plain data the logger sends (JSON-serialisable)."""
    if result.kind == "generator":
        return generator_payload(result)
    run, judge, m = cast("JudgeRun", result.run), result.run.judge, cast("Metrics", result.metrics)
    lo, hi = m.accuracy_ci or (None, None)
    return {
        "name": f"{run.key.judge} on {run.key.dataset}",
        "model": {
            "name": weave_name(run.key.judge),
            "judge": run.key.judge,
            "llm": judge.model if judge else None,
            "backend": judge.backend if judge else None,
            "kind": judge.kind if judge else None,
        },
        "dataset": weave_name(run.key.dataset),
        "attributes": {
            "test": run.key.test,
            "judge": run.key.judge,
            "dataset": run.key.dataset,
            "dataset_path": str(run.dataset.path),
            "thresholds": [str(t.threshold) for t in result.thresholds],
            "passed": result.passed,
            "positive": m.positive,
            "unscored_policy": m.unscored_policy,
            "fingerprint": dict(result.fingerprint),
        },
        "predictions": [
            {
                "inputs": {
                    "id": case.id,
                    "premise": case.premise,
                    "hypothesis": case.hypothesis,
                    "target": case.target,
                },
                "output": {
                    "prediction": verdict.prediction,
                    "reason": verdict.reason,
                    "error": verdict.error,
                },
                "correct": verdict.prediction == case.target,
            }
            for case, verdict in result.judged_cases()
        ],
        "scorers": ["correct"],
        "summary": {
            "accuracy": m.accuracy,
            "accuracy_ci_low": lo,
            "accuracy_ci_high": hi,
            "precision": m.precision,
            "recall": m.recall,
            "f1": m.f1,
            "n": m.n,
            "unscored": m.unscored,
            "coverage": m.coverage,
        },
    }


def generator_payload(result: RunResult) -> dict[str, Any]:
    """One generator run as the plain data the logger sends: the generator at its sampling point
    is the model, each answer a prediction scored by the judge's label."""
    run, m = cast("GenRun", result.run), cast("GenMetrics", result.metrics)
    generator, key = run.generator, run.key
    lo, hi = m.hallucination_rate_ci
    summary: dict[str, Any] = {
        "hallucination_rate": m.hallucination_rate,
        "hallucination_rate_ci_low": lo,
        "hallucination_rate_ci_high": hi,
        "faithfulness": m.faithfulness,
        "answer_words": m.answer_words,
        "n": m.n,
        "cases": m.cases,
        "samples": m.samples,
        "unscored": m.unscored,
        "coverage": m.coverage,
    }
    if m.relevancy_n:
        summary["relevancy"] = m.relevancy
    return {
        "name": f"{key.generator} at {key.point} on {key.dataset}",
        "model": {
            "name": weave_name(f"{key.generator}-{key.point}"),
            "generator": key.generator,
            "llm": generator.model if generator else None,
            "backend": generator.backend if generator else None,
            "adapter": str(generator.adapter) if generator and generator.adapter else None,
            **run.sampling.as_dict(run.samples),
            "judge": run.judge.name if run.judge else None,
        },
        "dataset": weave_name(key.dataset),
        "attributes": {
            "test": key.test,
            "generator": key.generator,
            "point": key.point,
            "dataset": key.dataset,
            "dataset_path": str(run.dataset.path),
            "thresholds": [str(t.threshold) for t in result.thresholds],
            "passed": result.passed,
            "unscored_policy": m.unscored_policy,
            "fingerprint": dict(result.fingerprint),
        },
        "predictions": [
            {
                "inputs": {
                    "id": answer.id,
                    "case": case.id,
                    "sample": answer.sample,
                    "prompt": case.prompt,
                    "context": case.context,
                    "reference": case.reference,
                },
                "output": {
                    "answer": answer.text,
                    "label": verdict.prediction if verdict else None,
                    "reason": verdict.reason if verdict else "",
                    "error": answer.cause(verdict),
                },
                "consistent": bool(verdict and verdict.prediction == 1),
            }
            for case, answer, verdict in result.answered()
        ],
        "scorers": ["consistent"],
        "summary": summary,
    }
