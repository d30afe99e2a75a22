"""Generator runs in the JSON report and the terminal summary (data in, strings out)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_llmjudge.evaluation.results import RunResult
from pytest_llmjudge.evaluation.session import EvalSession
from pytest_llmjudge.model.gen_run import GenRun
from pytest_llmjudge.outputs.formatting import calls_line, number
from pytest_llmjudge.outputs.gates import gate_lines, selection, threshold_cells
from pytest_llmjudge.outputs.gen_onset import onset_lines
from pytest_llmjudge.outputs.slices import slice_lines
from pytest_llmjudge.scoring.comparison import Comparison
from pytest_llmjudge.scoring.gating import with_interval

SLICE_COLUMNS = ("hallucination_rate", "faithfulness", "relevancy")
_HEADER = (
    "generator",
    "sampling",
    "dataset",
    "n",
    "unscored",
    "hallucination [95% CI]",
    "faithfulness",
    "relevancy",
    "words",
    "gates",
)


def hallucination_rates(c: Comparison) -> tuple[float | None, float | None, float | None]:
    """A generator comparison's hallucination rates (baseline, candidate) and their change:
    the share of paired answers the judge found inconsistent (None when none was counted)."""
    before, after = c.baseline_metrics.accuracy, c.candidate_metrics.accuracy
    rates = (None if before is None else 1.0 - before, None if after is None else 1.0 - after)
    delta = None if None in rates else rates[1] - rates[0]  # type: ignore[operator]
    return rates[0], rates[1], delta


def gen_run_dict(result: RunResult) -> dict[str, Any]:
    """One generator run as the JSON report writes it."""
    run = result.run
    assert isinstance(run, GenRun)
    generator, judge = run.generator, run.judge
    comparison = None
    if result.comparison is not None:
        c = result.comparison
        comparison = {
            **c.as_dict(),
            # candidate minus baseline on the generator's own metric
            "hallucination_rate": dict(
                zip(("baseline", "candidate", "delta"), hallucination_rates(c), strict=True)
            ),
        }
    return {
        "test": run.key.test,
        "generator": run.key.generator,
        "backend": generator.backend if generator else None,
        "model": generator.model if generator else None,
        "adapter": str(generator.adapter) if generator and generator.adapter else None,
        "point": run.key.point,
        "sampling": run.sampling.as_dict(run.samples),
        "dataset": run.key.dataset,
        "dataset_path": str(run.dataset.path),
        "judge": judge.name if judge else None,
        "relevancy_by": _relevancy_by(run.relevancy_ref),
        "slice_by": list(run.dataset.slice_by),
        "fingerprint": dict(result.fingerprint),
        "metrics": result.metrics.model_dump(mode="json"),
        "slices": {name: m.model_dump(mode="json") for name, m in result.slices.items()},
        "thresholds": [t.as_dict() for t in result.thresholds],
        "unresolved": [u.message() for u in result.unresolved()],
        "comparison": comparison,
        "comparison_error": result.comparison_error,
        **selection(result),
        "nothing_scored": result.nothing_scored,
        "passed": result.passed,
        # what its answers and their judge verdicts cost (null: no model call)
        "cost": cost.as_dict() if (cost := result.cost) is not None else None,
        "answers": [
            {
                "id": answer.id,
                "case": case.id,
                "slices": list(case.slices),
                "sample": answer.sample,
                "prompt": case.prompt,
                "reference": case.reference,
                "answer": answer.text,
                "consistent": verdict.prediction if verdict else None,
                "reason": verdict.reason if verdict else "",
                "error": answer.cause(verdict),
                "relevancy": run.relevancy.get(answer.id),
                "statements": run.statements.get(answer.id),  # each sentence's label, if split
                "tokens": answer.tokens,
                "cost": answer.cost,
                "judge_cost": verdict.cost if verdict else None,
                "cached": answer.cached,
            }
            for case, answer, verdict in result.answered()
        ],
        "notes": run.notes,
    }


def gen_report(evals: EvalSession) -> dict[str, Any]:
    """The report's generator part: runs, and runs skipped as a whole (nothing when the session
    evaluated no generator)."""
    results, skipped = evals.generator_results, evals.skipped_runs("generator")
    if not results and not skipped:
        return {}
    return {
        "generator_runs": [gen_run_dict(r) for r in results],
        "generator_skipped": [
            {
                "test": run.key.test,
                "generator": run.key.generator,
                "point": run.key.point,
                "dataset": run.key.dataset,
                "reason": run.skipped,
            }
            for run in skipped
        ],
    }


def gen_summary_lines(evals: EvalSession) -> Iterator[str]:
    """One row per (generator, sampling point, dataset), then failed gates, comparisons, notes."""
    results = evals.generator_results
    rows = [_HEADER]
    for r in results:
        m = r.metrics
        cells = threshold_cells(r)
        if r.comparison is not None:
            state = "ok" if r.comparison.passed else "FAILED"
            cells.append(f"vs {r.comparison.baseline}: {r.comparison.verdict} {state}")
        elif r.comparison_error is not None:
            cells.append("comparison FAILED")
        unscored = str(m.unscored) + (" (excluded)" if m.unscored_policy == "exclude" else "")
        rows.append(
            (
                r.run.key.generator,
                r.run.key.point,
                r.run.key.dataset,
                f"{m.n} ({m.cases}x{m.samples})" if m.samples > 1 else str(m.n),
                unscored,
                with_interval(m.hallucination_rate, m.hallucination_rate_ci),
                f"{m.faithfulness:.3f}",
                f"{m.relevancy:.3f}" if m.relevancy_n else "-",
                f"{m.answer_words:.1f}",
                ", ".join(cells) or "-",
            )
        )
    if len(rows) > 1:
        widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            yield "  ".join([*cells, row[-1]]).rstrip()
    yield from onset_lines(results)
    yield from slice_lines(
        results, SLICE_COLUMNS, lambda r: f"{r.run.key.generator} at {r.run.key.point}"
    )
    for r in results:
        where = f"generator {r.run.key.generator} at {r.run.key.point} on {r.run.key.dataset}"
        yield from gate_lines(r, where)
        yield from corrected_lines(r, where)
        for u in r.unresolved():
            yield f"WARNING: {where}: {u.message().replace(' cases', ' answers', 1)}"
        if r.comparison is not None:
            c = r.comparison
            before, after, _ = hallucination_rates(c)
            yield (
                f"{where} vs {c.baseline}: hallucination rate {number(before)} -> "
                f"{number(after)}; "
                f"{c.why()}"
            )
            yield from (f"FAILED comparison: {where}: {failure}" for failure in c.failures)
        elif r.comparison_error is not None:
            yield f"FAILED comparison: {where}: {r.comparison_error}"
    seen: set[str] = set()
    for run in evals.runs.values():  # a judge's note on every run is shown once
        if not isinstance(run, GenRun):
            continue
        for note in [calls_line(w, c) for w, c in run.calls.items()] + run.notes:
            if note not in seen:
                seen.add(note)
                yield note
    for run in evals.skipped_runs("generator"):
        yield (
            f"skipped: generator {run.key.generator} at {run.key.point} on {run.key.dataset}: "
            f"{run.skipped}"
        )


def corrected_lines(r: RunResult, where: str) -> Iterator[str]:
    """A run's hallucination rate corrected for its judge's measured errors, with what it used."""
    m = r.metrics
    rates = getattr(m, "judge_rates", None)
    if not rates:
        return
    ci = m.interval("hallucination_rate_corrected")
    measured = (
        f"sensitivity {rates['sensitivity']:.2f} on {rates['inconsistent']} inconsistent and "
        f"specificity {rates['specificity']:.2f} on {rates['consistent']} consistent cases"
        if rates.get("inconsistent") is not None
        else f"sensitivity {rates['sensitivity']:.2f}, specificity {rates['specificity']:.2f}"
    )
    yield (
        f"{where}: hallucination rate corrected for the judge's errors "
        f"{with_interval(m.value('hallucination_rate_corrected'), ci)} "
        f"(raw over the labelled answers {number(m.inconsistent / m.scored if m.scored else None)}"
        f"; {measured}, {rates['source']})"
    )


def _relevancy_by(ref: Any) -> str | None:
    if ref is None or isinstance(ref, str):
        return ref
    return f"judge {ref.name}"
