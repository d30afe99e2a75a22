"""A self-contained HTML report of an evaluation, built from the JSON report (no pytest).

One file, inline CSS and inline SVG, no scripts and nothing fetched from the network: per run a
metrics table with intervals and gates, a confusion matrix and the mismatched cases (document,
summary, target, verdict, reason), and one bar chart comparing every run's metrics side by side.
Every piece of text from a dataset or a model is HTML-escaped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_llmjudge.calls.secrets import redact

if TYPE_CHECKING:
    from pytest_llmjudge.evaluation.session import EvalSession

CHART_METRICS = ("accuracy", "precision", "recall", "f1")
METRIC_LABELS = {"accuracy": "accuracy", "precision": "precision", "recall": "recall", "f1": "F1"}
TABLE_METRICS = ("accuracy", "precision", "recall", "f1", "coverage")
MAX_CASES = 200  # mismatched cases listed per run; the rest are counted
PALETTE = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5")

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --soft: #f6f8fa;
  --ok: #1a7f37; --bad: #cf222e; }
* { box-sizing: border-box; }
body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
  color: var(--fg); background: var(--bg); margin: 0; padding: 24px 32px; max-width: 1200px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-top: 16px; border-top: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 1px 10px; border-radius: 12px; font-weight: 600;
  font-size: 13px; color: #fff; vertical-align: middle; }
.badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.ok { color: var(--ok); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; }
.badge.ok, .badge.bad { color: #fff; }
.grid { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
table.confusion td { text-align: center; min-width: 84px; font-variant-numeric: tabular-nums; }
table.confusion td.hit { background: #dafbe1; } table.confusion td.miss { background: #ffebe9; }
table.cases { width: 100%; table-layout: fixed; }
table.cases td { word-wrap: break-word; overflow-wrap: anywhere; }
table.cases col.id { width: 9%; } table.cases col.tgt { width: 7%; }
table.cases col.verdict { width: 9%; } table.cases col.reason { width: 21%; }
table.cases col.doc { width: 36%; } table.cases col.sum { width: 18%; }
.text { max-height: 11em; overflow: auto; white-space: pre-wrap; font-size: 13px; }
.overview td:first-child { white-space: nowrap; }
svg text { font-family: inherit; }
figure { margin: 8px 0 0; }
figcaption { color: var(--muted); font-size: 13px; }
"""


def report_with_texts(evals: EvalSession) -> dict[str, Any]:
    """The JSON report with each mismatched case's premise and hypothesis added (for people)."""
    from pytest_llmjudge.outputs.report import report_dict

    report = report_dict(evals)
    for run, result in zip(report["runs"], evals.judge_results, strict=True):
        texts = {case.id: case for case in result.run.cases}
        for entry in run["cases"]:
            case = texts.get(entry["id"])
            if case is not None and not entry.get("correct", True):
                entry["premise"] = case.premise
                entry["hypothesis"] = case.hypothesis
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
    skipped = list(report.get("skipped") or [])
    passed = bool(report.get("passed", all(r.get("passed", True) for r in runs)))
    badge = (
        '<span class="badge ok">passed</span>'
        if passed
        else '<span class="badge bad">failed</span>'
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(title)} {badge}</h1>",
        f'<p class="muted">{_plural(len(runs), "run")}, '
        f"{_plural(sum(len(r.get('cases') or []) for r in runs), 'case')} judged"
        f"{', ' + _plural(len(skipped), 'run') + ' skipped' if skipped else ''}.</p>",
    ]
    if runs:
        parts += _overview(runs)
        parts.append(chart_svg(runs))
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
        state = (
            '<span class="ok">passed</span>'
            if run.get("passed")
            else '<span class="bad">failed</span>'
        )
        yield (
            f'<tr><td><a href="#run-{index}">{escape(str(run.get("judge")))}</a></td>'
            f"<td>{escape(str(run.get('dataset')))}</td>"
            f'<td class="num">{m.get("n", "-")}</td><td class="num">{m.get("unscored", "-")}</td>'
            f'<td class="num">{_with_ci(m, "accuracy")}</td>'
            f'<td class="num">{_with_ci(m, "f1")}</td><td>{state}</td></tr>'
        )
    yield "</table>"


def chart_svg(runs: Sequence[Mapping[str, Any]], width: int = 760) -> str:
    """A grouped bar chart: one group per metric, one bar per run, 95% intervals as whiskers."""
    left, right, top, bottom = 44, 16, 16, 40
    legend_rows = (len(runs) + 2) // 3
    plot_h = 220
    height = top + plot_h + bottom + 22 * legend_rows
    plot_w = width - left - right
    group_w = plot_w / len(CHART_METRICS)
    bar_w = min(36.0, (group_w - 24) / max(1, len(runs)))
    out = [
        f'<figure><svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="metrics of each run">'
    ]

    def y(value: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, value)))

    for tick in range(0, 11, 2):
        value = tick / 10
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="{"#8c959f" if tick == 0 else "#d1d9e0"}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#59636e">{value:.1f}</text>'
        )
    for g, metric in enumerate(CHART_METRICS):
        x0 = left + g * group_w + (group_w - bar_w * len(runs)) / 2
        for i, run in enumerate(runs):
            m = run.get("metrics") or {}
            point = m.get(metric)
            if not isinstance(point, int | float):
                continue
            value = float(point)
            x = x0 + i * bar_w
            color = PALETTE[i % len(PALETTE)]
            label = f"{run_label(run, runs)}: {METRIC_LABELS[metric]} {value:.3f}"
            out.append(
                f'<rect x="{x + 2:.1f}" y="{y(value):.1f}" width="{bar_w - 4:.1f}" '
                f'height="{y(0) - y(value):.1f}" fill="{color}">'
                f"<title>{escape(label)}</title></rect>"
            )
            interval = m.get(f"{metric}_ci")
            if isinstance(interval, list | tuple) and len(interval) == 2:
                cx = x + bar_w / 2
                lo, hi = y(float(interval[0])), y(float(interval[1]))
                out.append(
                    f'<path d="M{cx:.1f} {lo:.1f}V{hi:.1f}M{cx - 4:.1f} {lo:.1f}h8M{cx - 4:.1f} '
                    f'{hi:.1f}h8" stroke="#1f2328" stroke-width="1.2" fill="none"/>'
                )
            if len(runs) <= 4:
                out.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{y(0) - 4:.1f}" font-size="10" '
                    f'text-anchor="middle" fill="#fff">{value:.2f}</text>'
                    if y(0) - y(value) > 16
                    else ""
                )
        out.append(
            f'<text x="{left + (g + 0.5) * group_w:.1f}" y="{top + plot_h + 18}" font-size="13" '
            f'text-anchor="middle" fill="#1f2328">{METRIC_LABELS[metric]}</text>'
        )
    for i, run in enumerate(runs):
        row, col = divmod(i, 3)
        lx = left + col * (plot_w / 3)
        ly = top + plot_h + bottom + 4 + row * 22
        out.append(
            f'<rect x="{lx:.1f}" y="{ly:.1f}" width="12" height="12" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{lx + 18:.1f}" y="{ly + 11:.1f}" font-size="12" fill="#1f2328">'
            f"{escape(_clip(run_label(run, runs), 40))}</text>"
        )
    out.append("</svg>")
    out.append(
        "<figcaption>Point estimates with 95% intervals (Wilson for accuracy, precision and "
        "recall, and on TP / (TP + FP + FN) for F1, when the report has them)."
        "</figcaption></figure>"
    )
    return "".join(out)


def _run_section(run: Mapping[str, Any], index: int) -> Iterator[str]:
    m = run.get("metrics") or {}
    state = (
        '<span class="badge ok">passed</span>'
        if run.get("passed")
        else '<span class="badge bad">failed</span>'
    )
    yield (
        f'<h2 id="run-{index}">Judge {escape(str(run.get("judge")))} on '
        f"{escape(str(run.get('dataset')))} {state}</h2>"
    )
    meta = [
        ("test", run.get("test")),
        ("model", run.get("model")),
        ("backend", run.get("backend")),
        ("kind", run.get("kind")),
        ("dataset file", run.get("dataset_path")),
    ]
    yield (
        '<p class="muted">'
        + " · ".join(f"{name}: <code>{escape(str(v))}</code>" for name, v in meta if v)
        + "</p>"
    )
    yield '<div class="grid"><div><h3>Metrics</h3><table><tr><th>metric</th><th>value</th>'
    yield "<th>95% interval</th><th>gate</th></tr>"
    gates: dict[str, list[Mapping[str, Any]]] = {}
    for gate in run.get("thresholds") or []:
        gates.setdefault(str(gate.get("metric")), []).append(gate)
    names = list(TABLE_METRICS) + [g for g in gates if g not in TABLE_METRICS]
    for name in names:
        value = m.get(name)
        if not isinstance(value, int | float):
            continue
        interval = m.get(f"{name}_ci")
        shown_ci = (
            f"[{interval[0]:.3f}, {interval[1]:.3f}]"
            if isinstance(interval, list | tuple) and len(interval) == 2
            else ""
        )
        gate_cells = [_gate(g) for g in gates.get(name, [])]
        yield (
            f"<tr><td>{escape(METRIC_LABELS.get(name, name))}</td>"
            f'<td class="num">{_fmt(value)}</td><td class="num">{shown_ci}</td>'
            f"<td>{'<br>'.join(gate_cells)}</td></tr>"
        )
    yield "</table></div>"
    yield from _confusion(m)
    yield "</div>"
    yield from _comparison(run)
    yield from _mismatches(run)


def _gate(gate: Mapping[str, Any]) -> str:
    limit = gate.get("value")
    shown = f"{limit:g}" if isinstance(limit, int | float) else escape(str(limit))
    css, word = ("ok", "ok") if gate.get("passed") else ("bad", "FAILED")
    basis = gate.get("basis")
    on = f" (on the {escape(str(basis))})" if basis and basis != "point" else ""
    return f'{escape(str(gate.get("op")))} {shown}{on}: <span class="{css}">{word}</span>'


def _confusion(m: Mapping[str, Any]) -> Iterator[str]:
    if not all(isinstance(m.get(k), int) for k in ("tp", "fp", "tn", "fn")):
        return
    positive = m.get("positive", 1)
    negative = 1 - positive if positive in (0, 1) else "other"
    unscored = m.get("unscored") or 0
    policy = m.get("unscored_policy", "wrong")
    note = ""
    if unscored:
        note = f"{_plural(unscored, 'unscored case')} " + (
            "excluded." if policy == "exclude" else "counted as wrong answers."
        )
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


def _comparison(run: Mapping[str, Any]) -> Iterator[str]:
    comparison = run.get("comparison")
    if isinstance(comparison, Mapping) and comparison.get("verdict"):
        css = "ok" if comparison.get("passed", True) else "bad"
        yield (
            f"<h3>Against baseline {escape(str(comparison.get('baseline', '')))}</h3>"
            f'<p><span class="{css}">{escape(str(comparison["verdict"]))}</span>'
            f"{': ' + escape(str(comparison['why'])) if comparison.get('why') else ''}</p>"
        )
    elif run.get("comparison_error"):
        yield f'<h3>Baseline</h3><p class="bad">{escape(str(run["comparison_error"]))}</p>'


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
    for case in wrong[:MAX_CASES]:
        prediction = case.get("prediction")
        if prediction is None:
            verdict = '<span class="bad">unscored</span>'
            reason = case.get("error") or ""
            if case.get("raw"):
                reason = f"{reason}\nraw output: {case['raw']}"
        else:
            verdict = escape(str(prediction))
            reason = case.get("reason") or ""
        yield (
            f'<tr><td>{escape(str(case.get("id")))}</td><td class="num">'
            f"{escape(str(case.get('target')))}</td><td>{verdict}</td>"
            f'<td><div class="text">{escape(str(reason))}</div></td>'
            f'<td><div class="text">{escape(str(case.get("premise", "")))}</div></td>'
            f'<td><div class="text">{escape(str(case.get("hypothesis", "")))}</div></td></tr>'
        )
    yield "</table>"
    if len(wrong) > MAX_CASES:
        yield f'<p class="muted">{len(wrong) - MAX_CASES} more in the JSON report.</p>'


def _with_ci(m: Mapping[str, Any], name: str) -> str:
    value = m.get(name)
    if not isinstance(value, int | float):
        return "-"
    interval = m.get(f"{name}_ci")
    if isinstance(interval, list | tuple) and len(interval) == 2:
        return f"{value:.3f} [{interval[0]:.2f}, {interval[1]:.2f}]"
    return f"{value:.3f}"


def _fmt(value: float) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else f"{value:.3f}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
