"""The pieces of the HTML report that judge and generator runs share (no pytest).

The style sheet, pass/fail badges, a metrics table with intervals and gates, a gate cell, the
comparison with a baseline, a line of facts and the grouped bar chart. html.py assembles the
document and the judge runs' sections from them, html_generators.py the generator runs'.
Every text from a dataset or a model goes through `escape`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from html import escape
from typing import Any

from pytest_llmjudge.outputs.formatting import clip, interval, limit, shown, with_ci
from pytest_llmjudge.scoring.cost import dollars
from pytest_llmjudge.wording import plural

MAX_ROWS = 200  # mismatched cases or flagged answers listed per run; the rest are counted
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
table.cases col.question { width: 15%; } table.cases col.context { width: 25%; }
table.cases col.answer { width: 21%; }
.text { max-height: 11em; overflow: auto; white-space: pre-wrap; font-size: 13px; }
.overview td:first-child { white-space: nowrap; }
svg text { font-family: inherit; }
figure { margin: 8px 0 0; }
figcaption { color: var(--muted); font-size: 13px; }
"""


def badge(passed: bool) -> str:
    """A passed / failed badge (headings)."""
    return (
        '<span class="badge ok">passed</span>'
        if passed
        else '<span class="badge bad">failed</span>'
    )


def state(passed: Any) -> str:
    """passed / failed in colour (table cells)."""
    return '<span class="ok">passed</span>' if passed else '<span class="bad">failed</span>'


def text(value: Any) -> str:
    """A dataset's or model's text in a scrolling cell."""
    return f'<div class="text">{escape(str(value))}</div>'


def facts(pairs: Sequence[tuple[str, Any]]) -> str:
    """A muted line of `name: value` facts, the empty ones left out."""
    shown_pairs = (f"{name}: <code>{escape(str(v))}</code>" for name, v in pairs if v)
    return '<p class="muted">' + " · ".join(shown_pairs) + "</p>"


def cost_fact(cost: Mapping[str, Any] | None) -> str | None:
    """A run's cost for its facts line: dollars spent, tokens, per case and correct verdict."""
    if not cost:
        return None
    spent = cost.get("spent")
    parts = ["cost unknown" if spent is None else f"{dollars(spent)} spent"]
    if cost.get("tokens") is not None:
        parts.append(f"{cost['tokens']:,} tokens")
    if cost.get("correct") is not None and cost.get("spent") is not None:
        parts.append(f"{dollars(cost.get('per_case'))} per case")
        parts.append(f"{dollars(cost.get('per_correct_verdict'))} per correct verdict")
    return ", ".join(parts)


def rows_left(total: int) -> Iterator[str]:
    """The note under a table cut to MAX_ROWS of `total` rows."""
    if total > MAX_ROWS:
        yield f'<p class="muted">{total - MAX_ROWS} more in the JSON report.</p>'


def unscored_note(metrics: Mapping[str, Any], noun: str, counted_as: str) -> str:
    """'2 unscored answers counted as hallucinations.', '... excluded.', or '' when none."""
    unscored = metrics.get("unscored") or 0
    if not unscored:
        return ""
    policy = metrics.get("unscored_policy", "wrong")
    return f"{plural(unscored, f'unscored {noun}')} " + (
        "excluded." if policy == "exclude" else f"counted as {counted_as}."
    )


def gate_cell(gate: Mapping[str, Any]) -> str:
    """'>= 0.9 (on the lower bound): ok' of one gate of a report's `thresholds`."""
    css, word = ("ok", "ok") if gate.get("passed") else ("bad", "FAILED")
    basis = gate.get("basis")
    on = f" (on the {escape(str(basis))})" if basis and basis != "point" else ""
    return (
        f"{escape(str(gate.get('op')))} {escape(limit(gate))}{on}: "
        f'<span class="{css}">{word}</span>'
    )


def metrics_table(run: Mapping[str, Any], labels: Mapping[str, str]) -> Iterator[str]:
    """A run's metrics (those of `labels`, then any other gated one) with their 95% intervals
    and the gates on each."""
    m = run.get("metrics") or {}
    yield "<div><h3>Metrics</h3><table><tr><th>metric</th><th>value</th>"
    yield "<th>95% interval</th><th>gate</th></tr>"
    gates: dict[str, list[Mapping[str, Any]]] = {}
    for gate in run.get("thresholds") or []:
        if not gate.get("slice"):  # a slice's gates are in its row of the slices table
            gates.setdefault(str(gate.get("metric")), []).append(gate)
    for name in [*labels, *(g for g in gates if g not in labels)]:
        value = m.get(name)
        if name not in m or not (value is None or isinstance(value, int | float)):
            continue  # an undefined metric (None) shows as n/a
        bounds = interval(m, name)
        shown_ci = f"[{bounds[0]:.3f}, {bounds[1]:.3f}]" if bounds else ""
        yield (
            f"<tr><td>{escape(labels.get(name, name))}</td>"
            f'<td class="num">{shown(value)}</td><td class="num">{shown_ci}</td>'
            f"<td>{'<br>'.join(gate_cell(g) for g in gates.get(name, []))}</td></tr>"
        )
    yield "</table></div>"


CONSISTENCY_LABELS = {"flaky": "flaky cases", "self_consistency": "self-consistency"}


def with_consistency(labels: Mapping[str, str], repeated: bool) -> dict[str, str]:
    """`labels`, and the consistency metrics when the run judged a case more than once."""
    return {**labels, **CONSISTENCY_LABELS} if repeated else dict(labels)


def slices_table(run: Mapping[str, Any], columns: Mapping[str, str]) -> Iterator[str]:
    """The run's metrics per slice (Dataset(slice_by=)), with intervals and each slice's gates."""
    slices = run.get("slices") or {}
    if not slices:
        return
    gates: dict[str, list[Mapping[str, Any]]] = {}
    for gate in run.get("thresholds") or []:
        if gate.get("slice"):
            gates.setdefault(str(gate["slice"]), []).append(gate)
    head = "".join(f"<th>{escape(label)} [95% CI]</th>" for label in columns.values())
    yield f"<h3>Slices</h3><table><tr><th>slice</th><th>n</th><th>unscored</th>{head}"
    yield "<th>gates</th></tr>"
    for name, m in slices.items():
        cells = "".join(f'<td class="num">{with_ci(m, metric)}</td>' for metric in columns)
        shown_gates = "<br>".join(
            f"{escape(str(g.get('metric')))} {gate_cell(g)}" for g in gates.get(name, [])
        )
        yield (
            f'<tr><td>{escape(name)}</td><td class="num">{m.get("n", "-")}</td>'
            f'<td class="num">{m.get("unscored", "-")}</td>{cells}<td>{shown_gates}</td></tr>'
        )
    yield "</table>"


def comparison(
    run: Mapping[str, Any], against: str = "baseline", detail: str = ""
) -> Iterator[str]:
    """A run's verdict against its baseline (`against` names it; `detail` adds a line), or why
    it could not be compared."""
    found = run.get("comparison")
    if isinstance(found, Mapping) and found.get("verdict"):
        css = "ok" if found.get("passed", True) else "bad"
        yield (
            f"<h3>Against {escape(against)} {escape(str(found.get('baseline', '')))}</h3>"
            f'<p><span class="{css}">{escape(str(found["verdict"]))}</span>'
            f"{': ' + escape(str(found['why'])) if found.get('why') else ''}</p>"
        )
        if detail:
            yield f"<p>{escape(detail)}</p>"
    elif run.get("comparison_error"):
        yield f'<h3>Baseline</h3><p class="bad">{escape(str(run["comparison_error"]))}</p>'


def chart_svg(
    runs: Sequence[Mapping[str, Any]],
    names: Sequence[str],
    metrics: Mapping[str, str],
    caption: str,
    width: int = 760,
) -> str:
    """A grouped bar chart: one group per metric (`metrics`: name -> axis label), one bar per
    run (`names`: each run's legend), 95% intervals as whiskers."""
    left, right, top, bottom = 44, 16, 16, 40
    legend_rows = (len(runs) + 2) // 3
    plot_h = 220
    height = top + plot_h + bottom + 22 * legend_rows
    plot_w = width - left - right
    group_w = plot_w / len(metrics)
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
    for g, (metric, axis) in enumerate(metrics.items()):
        x0 = left + g * group_w + (group_w - bar_w * len(runs)) / 2
        for i, (run, name) in enumerate(zip(runs, names, strict=True)):
            m = run.get("metrics") or {}
            point = m.get(metric)
            if not isinstance(point, int | float):
                continue
            value = float(point)
            x = x0 + i * bar_w
            out.append(
                f'<rect x="{x + 2:.1f}" y="{y(value):.1f}" width="{bar_w - 4:.1f}" '
                f'height="{y(0) - y(value):.1f}" fill="{PALETTE[i % len(PALETTE)]}">'
                f"<title>{escape(f'{name}: {axis} {value:.3f}')}</title></rect>"
            )
            bounds = interval(m, metric)
            if bounds is not None:
                cx = x + bar_w / 2
                lo, hi = y(bounds[0]), y(bounds[1])
                out.append(
                    f'<path d="M{cx:.1f} {lo:.1f}V{hi:.1f}M{cx - 4:.1f} {lo:.1f}h8M{cx - 4:.1f} '
                    f'{hi:.1f}h8" stroke="#1f2328" stroke-width="1.2" fill="none"/>'
                )
            if len(runs) <= 4 and y(0) - y(value) > 16:
                out.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{y(0) - 4:.1f}" font-size="10" '
                    f'text-anchor="middle" fill="#fff">{value:.2f}</text>'
                )
        out.append(
            f'<text x="{left + (g + 0.5) * group_w:.1f}" y="{top + plot_h + 18}" font-size="13" '
            f'text-anchor="middle" fill="#1f2328">{escape(axis)}</text>'
        )
    for i, name in enumerate(names):
        row, col = divmod(i, 3)
        lx = left + col * (plot_w / 3)
        ly = top + plot_h + bottom + 4 + row * 22
        out.append(
            f'<rect x="{lx:.1f}" y="{ly:.1f}" width="12" height="12" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{lx + 18:.1f}" y="{ly + 11:.1f}" font-size="12" fill="#1f2328">'
            f"{escape(clip(name, 40))}</text>"
        )
    out.append("</svg>")
    out.append(f"<figcaption>{escape(caption)}</figcaption></figure>")
    return "".join(out)
