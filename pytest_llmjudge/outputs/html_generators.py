"""Generator runs in the HTML report, built from the JSON report's `generator_runs` (no pytest).

An overview row and a bar chart of every generator run (hallucination rate with its interval,
relevancy), then per run: the generator, its sampling, the judge and the dataset; the metrics
with their intervals and gates; the comparison with the baseline generator; and the answers the
judge flagged (inconsistent with their context, or unscored) with the question, an excerpt of
the context and the judge's reason. Every text from a dataset or a model is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from pytest_llmjudge.outputs import html_parts as parts
from pytest_llmjudge.outputs.formatting import (
    answer_label,
    clip,
    generator_run_name,
    number,
    plural,
    with_ci,
)

if TYPE_CHECKING:
    from pytest_llmjudge.evaluation.results import RunResult

METRIC_LABELS = {
    "hallucination_rate": "hallucination rate",
    "hallucination_rate_corrected": "hallucination rate, corrected for the judge's errors",
    "faithfulness": "faithfulness",
    "relevancy": "relevancy",
    "coverage": "coverage",
    "answer_words": "words per answer",
    "answer_tokens": "tokens per answer",
}
CHART_METRICS = {"hallucination_rate": "hallucination rate", "relevancy": "relevancy"}
CHART_CAPTION = (
    "Share of answers the judge found inconsistent with their context, with its 95% Wilson "
    "interval, and relevancy to the question (when rated)."
)
CONTEXT_EXCERPT = 600  # characters of a flagged answer's context shown


def add_contexts(runs: Sequence[dict[str, Any]], results: Sequence[RunResult]) -> None:
    """Add its case's context to each flagged answer of the report's generator runs."""
    for run, result in zip(runs, results, strict=True):
        contexts = {case.id: case.context for case, _, _ in result.answered()}
        for answer in run["answers"]:
            if answer.get("consistent") != 1 and answer.get("case") in contexts:
                answer["context"] = contexts[answer["case"]]


def counts(runs: Sequence[Mapping[str, Any]]) -> str:
    """'2 generator runs, 40 answers judged' for the report's first line."""
    answers = sum(len(r.get("answers") or []) for r in runs)
    return f"{plural(len(runs), 'generator run')}, {plural(answers, 'answer')} judged"


def sections(report: Mapping[str, Any]) -> Iterator[str]:
    """The report's generator part: overview, chart, a section per run, skipped runs."""
    runs = list(report.get("generator_runs") or [])
    skipped = list(report.get("generator_skipped") or [])
    if runs:
        yield "<h2>Generators</h2>"
        yield from _overview(runs)
        yield parts.chart_svg(_charted(runs), _labels(runs), CHART_METRICS, CHART_CAPTION)
    for index, run in enumerate(runs):
        yield from _section(run, index)
    if skipped:
        yield "<h2>Skipped generator runs</h2><ul>"
        for s in skipped:
            yield (
                f"<li>generator <b>{escape(str(s.get('generator')))}</b> at "
                f"{escape(str(s.get('point')))} on {escape(str(s.get('dataset')))}: "
                f"{escape(str(s.get('reason')))}</li>"
            )
        yield "</ul>"


def _rated(m: Mapping[str, Any]) -> bool:
    return bool(m.get("relevancy_n"))


def _charted(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The runs as the chart shows them: relevancy only where it was rated."""
    out = []
    for run in runs:
        m = dict(run.get("metrics") or {})
        if not _rated(m):
            m.pop("relevancy", None)
        out.append({**run, "metrics": m})
    return out


def _labels(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    several = len({r.get("dataset") for r in runs}) > 1
    return [
        f"{r.get('generator')} at {r.get('point')}" + (f" · {r.get('dataset')}" if several else "")
        for r in runs
    ]


def _overview(runs: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    yield '<table class="overview"><tr><th>generator</th><th>sampling</th><th>dataset</th>'
    yield "<th>n</th><th>unscored</th><th>hallucination rate [95% CI]</th><th>faithfulness</th>"
    yield "<th>relevancy</th><th>gates</th></tr>"
    for index, run in enumerate(runs):
        m = run.get("metrics") or {}
        yield (
            f'<tr><td><a href="#generator-run-{index}">{escape(str(run.get("generator")))}</a>'
            f"</td><td>{escape(str(run.get('point')))}</td>"
            f"<td>{escape(str(run.get('dataset')))}</td>"
            f'<td class="num">{m.get("n", "-")}</td><td class="num">{m.get("unscored", "-")}</td>'
            f'<td class="num">{with_ci(m, "hallucination_rate")}</td>'
            f'<td class="num">{number(m.get("faithfulness"))}</td>'
            f'<td class="num">{number(m.get("relevancy")) if _rated(m) else "-"}</td>'
            f"<td>{parts.state(run.get('passed'))}</td></tr>"
        )
    yield "</table>"


SLICE_LABELS = {"hallucination_rate": "hallucination rate", "faithfulness": "faithfulness"}


def _section(run: Mapping[str, Any], index: int) -> Iterator[str]:
    m = run.get("metrics") or {}
    yield (
        f'<h2 id="generator-run-{index}">Generator {escape(generator_run_name(run))} '
        f"{parts.badge(bool(run.get('passed')))}</h2>"
    )
    yield parts.facts(
        [
            ("test", run.get("test")),
            ("model", run.get("model")),
            ("backend", run.get("backend")),
            ("adapter", run.get("adapter")),
            ("judge", run.get("judge")),
            ("relevancy by", run.get("relevancy_by")),
            ("dataset file", run.get("dataset_path")),
            ("cost", parts.cost_fact(run.get("cost"))),
        ]
    )
    sampling = run.get("sampling") or {}
    shown = [f"{k} {v}" for k, v in sampling.items() if k != "samples" and v is not None]
    samples = sampling.get("samples", 1)
    yield (
        f'<p class="muted">sampling: <code>{escape(", ".join(shown))}</code> · '
        f"{escape(plural(samples, 'sample'))} per case</p>"
    )
    labels = {k: v for k, v in METRIC_LABELS.items() if k != "relevancy" or _rated(m)}
    if not m.get("judge_rates"):  # no measured judge errors to correct for
        labels.pop("hallucination_rate_corrected")
    yield '<div class="grid">'
    yield from parts.metrics_table(run, parts.with_consistency(labels, samples > 1))
    yield from _answer_counts(m)
    yield "</div>"
    yield from parts.slices_table(run, SLICE_LABELS)
    rates = (run.get("comparison") or {}).get("hallucination_rate") or {}
    detail = ""
    if rates:
        detail = (
            f"hallucination rate: baseline {number(rates.get('baseline'))}, "
            f"this generator {number(rates.get('candidate'))}"
        )
    yield from parts.comparison(run, "baseline generator", detail)
    yield from _flagged(run)
    for note in run.get("notes") or []:
        yield f'<p class="muted">{escape(str(note))}</p>'


def _answer_counts(m: Mapping[str, Any]) -> Iterator[str]:
    if not isinstance(m.get("n"), int):
        return
    drawn = f" ({m.get('cases')} cases x {m.get('samples')})" if (m.get("samples") or 1) > 1 else ""
    yield "<div><h3>Answers</h3><table><tr><th>answers</th>"
    yield f'<td class="num">{m["n"]}{escape(drawn)}</td></tr>'
    for name, label in (("scored", "judged"), ("unscored", "unscored")):
        yield f'<tr><th>{label}</th><td class="num">{m.get(name, "-")}</td></tr>'
    yield f'<tr><th>hallucinated</th><td class="num">{m.get("hallucinated", "-")}</td></tr>'
    yield "</table>"
    yield f'<p class="muted">{escape(parts.unscored_note(m, "answer", "hallucinations"))}</p></div>'


def _flagged(run: Mapping[str, Any]) -> Iterator[str]:
    flagged = [a for a in run.get("answers") or [] if a.get("consistent") != 1]
    if not flagged:
        yield '<p class="muted">No answer was judged hallucinated or left unscored.</p>'
        return
    yield f"<h3>Answers judged hallucinated and unscored ({len(flagged)})</h3>"
    yield '<table class="cases"><colgroup><col class="id"><col class="verdict">'
    yield '<col class="reason"><col class="question"><col class="context"><col class="answer">'
    yield "</colgroup><tr><th>answer</th><th>label</th><th>reason</th><th>question</th>"
    yield "<th>context (excerpt)</th><th>answer</th></tr>"
    for answer in flagged[: parts.MAX_ROWS]:
        label = answer_label(answer)
        if label == "unscored":
            shown_label = '<span class="bad">unscored</span>'
            reason = answer.get("error") or ""
        else:
            shown_label = escape(label)
            reason = answer.get("reason") or ""
        context = clip(str(answer.get("context", "")), CONTEXT_EXCERPT)
        yield (
            f"<tr><td>{escape(str(answer.get('id')))}</td><td>{shown_label}</td>"
            f"<td>{parts.text(reason)}</td><td>{parts.text(answer.get('prompt', ''))}</td>"
            f"<td>{parts.text(context)}</td><td>{parts.text(answer.get('answer') or '')}</td></tr>"
        )
    yield "</table>"
    yield from parts.rows_left(len(flagged))
