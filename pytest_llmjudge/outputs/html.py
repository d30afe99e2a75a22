"""A self-contained HTML report of an evaluation, built from the JSON report (no pytest).

One file, inline CSS and inline SVG, no scripts and nothing fetched from the network: per judge
run a metrics table with intervals and gates, a confusion matrix and the mismatched cases
(document, summary, target, verdict, reason), and one bar chart comparing every judge run's
metrics side by side; then the generator runs (html_generators.py). The pieces both kinds share
are in html_parts.py. Every piece of text from a dataset or a model is HTML-escaped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_llmjudge.outputs import html_generators
from pytest_llmjudge.outputs.formatting import with_ci
from pytest_llmjudge.outputs.html_leaderboard import leaderboard_table
from pytest_llmjudge.outputs.html_parts import (
    CSS,
    MAX_ROWS,
    badge,
    chart_svg,
    comparison,
    cost_fact,
    facts,
    metrics_table,
    rows_left,
    slices_table,
    state,
    text,
    unscored_note,
    with_consistency,
)
from pytest_llmjudge.outputs.html_reliability import reliability_svg
from pytest_llmjudge.secrets import redact
from pytest_llmjudge.wording import plural

if TYPE_CHECKING:
    from pytest_llmjudge.evaluation.session import EvalSession

METRIC_LABELS = {
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "kappa": "Cohen's kappa",
    "mcc": "MCC",
    "balanced_accuracy": "balanced accuracy",
    "specificity": "specificity",
    "npv": "NPV",
    "coverage": "coverage",
    "brier": "Brier score",
    "ece": "ECE (10 bins)",
}
CHART_METRICS = {name: METRIC_LABELS[name] for name in ("accuracy", "precision", "recall", "f1")}
CHART_CAPTION = (
    "Point estimates with 95% intervals (Wilson for accuracy, precision and recall, and on "
    "TP / (TP + FP + FN) for F1, when the report has them)."
)


def report_with_texts(evals: EvalSession) -> dict[str, Any]:
    """The JSON report with each mismatched case's premise and hypothesis, and each flagged
    answer's context, added (for people)."""
    from pytest_llmjudge.outputs.report import report_dict

    report = report_dict(evals)
    for run, result in zip(report["runs"], evals.judge_results, strict=True):
        texts = {case.id: case for case, _ in result.judged_cases()}
        for entry in run["cases"]:
            case = texts.get(entry["id"])
            if case is not None and not entry.get("correct", True):
                entry["premise"] = case.premise
                entry["hypothesis"] = case.hypothesis
    html_generators.add_contexts(report.get("generator_runs") or [], evals.generator_results)
    return report


def write_html(report: Mapping[str, Any], path: Path, title: str = "LLM judge evaluation") -> None:
    """Write the HTML report (secrets scrubbed) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(redact(render_html(report, title)), encoding="utf-8")
    os.replace(tmp, path)


def render_html(report: Mapping[str, Any], title: str = "LLM judge evaluation") -> str:
    """The whole HTML document of a JSON report (see report.report_dict)."""
    runs = list(report.get("runs") or [])
    generator_runs = list(report.get("generator_runs") or [])
    skipped = list(report.get("skipped") or [])
    every = [*runs, *generator_runs]
    passed = bool(report.get("passed", all(r.get("passed", True) for r in every)))
    counts = []
    if runs or not generator_runs:
        cases = sum(len(r.get("cases") or []) for r in runs)
        counts.append(f"{plural(len(runs), 'run')}, {plural(cases, 'case')} judged")
    if generator_runs:
        counts.append(html_generators.counts(generator_runs))
    not_run = len(skipped) + len(report.get("generator_skipped") or [])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(title)} {badge(passed)}</h1>",
        f'<p class="muted">{"; ".join(counts)}'
        f"{', ' + plural(not_run, 'run') + ' skipped' if not_run else ''}.</p>",
    ]
    if runs:
        parts += _overview(runs)
        labels = [run_label(run, runs) for run in runs]
        parts.append(chart_svg(runs, labels, CHART_METRICS, CHART_CAPTION))
    for board in (report.get("leaderboard") or {}).values():
        parts += leaderboard_table(board)
    for index, run in enumerate(runs):
        parts += _run_section(run, index)
    if skipped:
        parts.append("<h2>Skipped runs</h2><ul>")
        parts += [
            f"<li>judge <b>{escape(str(s.get('judge')))}</b> on {escape(str(s.get('dataset')))}: "
            f"{escape(str(s.get('reason')))}</li>"
            for s in skipped
        ]
        parts.append("</ul>")
    parts += html_generators.sections(report)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def run_label(run: Mapping[str, Any], runs: Sequence[Mapping[str, Any]]) -> str:
    """A run's name in the chart: the judge, with the dataset when runs span several."""
    datasets = {r.get("dataset") for r in runs}
    judge = str(run.get("judge"))
    return judge if len(datasets) == 1 else f"{judge} · {run.get('dataset')}"


def _overview(runs: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    yield '<table class="overview"><tr><th>judge</th><th>dataset</th><th>n</th>'
    yield "<th>unscored</th><th>accuracy [95% CI]</th><th>F1</th><th>gates</th></tr>"
    for index, run in enumerate(runs):
        m = run.get("metrics") or {}
        yield (
            f'<tr><td><a href="#run-{index}">{escape(str(run.get("judge")))}</a></td>'
            f"<td>{escape(str(run.get('dataset')))}</td>"
            f'<td class="num">{m.get("n", "-")}</td><td class="num">{m.get("unscored", "-")}</td>'
            f'<td class="num">{with_ci(m, "accuracy")}</td>'
            f'<td class="num">{with_ci(m, "f1")}</td><td>{state(run.get("passed"))}</td></tr>'
        )
    yield "</table>"


def _run_section(run: Mapping[str, Any], index: int) -> Iterator[str]:
    yield (
        f'<h2 id="run-{index}">Judge {escape(str(run.get("judge")))} on '
        f"{escape(str(run.get('dataset')))} {badge(bool(run.get('passed')))}</h2>"
    )
    yield facts(
        [
            ("test", run.get("test")),
            ("model", run.get("model")),
            ("backend", run.get("backend")),
            ("kind", run.get("kind")),
            ("dataset file", run.get("dataset_path")),
            ("cost", cost_fact(run.get("cost"))),
        ]
    )
    yield '<div class="grid">'
    labels = with_consistency(METRIC_LABELS, (run.get("repeat") or 1) > 1)
    if not (run.get("metrics") or {}).get("calibrated"):  # no probabilities: no calibration
        labels = {k: v for k, v in labels.items() if k not in ("brier", "ece")}
    yield from metrics_table(run, labels)
    yield from _confusion(run.get("metrics") or {})
    yield "</div>"
    yield from slices_table(run, CHART_METRICS)
    yield from reliability_svg(run)
    yield from comparison(run)
    yield from _mismatches(run)


def _confusion(m: Mapping[str, Any]) -> Iterator[str]:
    if not all(isinstance(m.get(k), int) for k in ("tp", "fp", "tn", "fn")):
        return
    positive = m.get("positive", 1)
    negative = 1 - positive if positive in (0, 1) else "other"
    note = unscored_note(m, "case", "wrong answers")
    yield '<div><h3>Confusion matrix</h3><table class="confusion">'
    yield f"<tr><th>target \\ verdict</th><th>{positive}</th><th>{negative}</th></tr>"
    yield (
        f'<tr><th>{positive}</th><td class="hit">{m["tp"]}<br><small>TP</small></td>'
        f'<td class="miss">{m["fn"]}<br><small>FN</small></td></tr>'
    )
    yield (
        f'<tr><th>{negative}</th><td class="miss">{m["fp"]}<br><small>FP</small></td>'
        f'<td class="hit">{m["tn"]}<br><small>TN</small></td></tr>'
    )
    yield "</table>"
    yield f'<p class="muted">positive class {positive}. {escape(note)}</p></div>'


def _mismatches(run: Mapping[str, Any]) -> Iterator[str]:
    wrong = [c for c in run.get("cases") or [] if not c.get("correct", True)]
    if not wrong:
        yield '<p class="muted">No mismatched or unscored cases.</p>'
        return
    yield f"<h3>Mismatched and unscored cases ({len(wrong)})</h3>"
    yield '<table class="cases"><colgroup><col class="id"><col class="tgt"><col class="verdict">'
    yield '<col class="reason"><col class="doc"><col class="sum"></colgroup>'
    yield "<tr><th>case</th><th>target</th><th>verdict</th><th>reason</th><th>document</th>"
    yield "<th>summary</th></tr>"
    for case in wrong[:MAX_ROWS]:
        prediction = case.get("prediction")
        if prediction is None:
            verdict = '<span class="bad">unscored</span>'
            reason = case.get("error") or ""
            if case.get("raw"):
                reason = f"{reason}\nraw output: {case['raw']}"
        else:
            verdict = escape(str(prediction))
            reason = case.get("reason") or ""
        if case.get("agreement") is not None:  # a repeated case: each repetition's verdict
            said = ", ".join("unscored" if v is None else str(v) for v in case["verdicts"])
            reason = f"{reason}\nrepetitions: {said}"
        yield (
            f'<tr><td>{escape(str(case.get("id")))}</td><td class="num">'
            f"{escape(str(case.get('target')))}</td><td>{verdict}</td>"
            f"<td>{text(reason)}</td><td>{text(case.get('premise', ''))}</td>"
            f"<td>{text(case.get('hypothesis', ''))}</td></tr>"
        )
    yield "</table>"
    yield from rows_left(len(wrong))
