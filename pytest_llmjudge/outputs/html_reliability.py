"""The HTML reliability diagram of a judge that gives probabilities (inline SVG, no script)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from html import escape
from typing import Any

from pytest_llmjudge.outputs.formatting import with_ci


def reliability_svg(run: Mapping[str, Any], size: int = 300) -> Iterator[str]:
    """Observed share of consistent cases against the mean probability in each of 10 bins, the
    diagonal of perfect calibration, and each bin's case count; nothing when the run has none."""
    bins: Sequence[Mapping[str, Any]] = run.get("reliability") or ()
    if not bins:
        return
    m = run.get("metrics") or {}
    pad = 36
    plot = size - 2 * pad

    def x(value: float) -> float:
        return pad + plot * value

    def y(value: float) -> float:
        return pad + plot * (1 - value)

    yield "<h3>Calibration</h3>"
    yield (
        f'<p class="muted">Brier {with_ci(m, "brier")}, ECE {with_ci(m, "ece")} over '
        f"{m.get('calibrated', 0)} cases with a probability (10 bins).</p>"
    )
    out = [
        f'<figure><svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" '
        'aria-label="reliability diagram">',
        f'<rect x="{pad}" y="{pad}" width="{plot}" height="{plot}" fill="none" stroke="#8c959f"/>',
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="#d1d9e0" '
        'stroke-dasharray="4 3"/>',
    ]
    for tick in (0.0, 0.5, 1.0):
        out.append(
            f'<text x="{x(tick):.1f}" y="{size - pad + 14}" font-size="10" text-anchor="middle" '
            f'fill="#59636e">{tick:.1f}</text>'
            f'<text x="{pad - 6}" y="{y(tick) + 3:.1f}" font-size="10" text-anchor="end" '
            f'fill="#59636e">{tick:.1f}</text>'
        )
    width = plot / len(bins)
    for b in bins:
        if not b.get("n"):
            continue
        observed = float(b["observed"])
        left = x(float(b["low"]))
        out.append(
            f'<rect x="{left + 1:.1f}" y="{y(observed):.1f}" width="{width - 2:.1f}" '
            f'height="{plot * observed:.1f}" fill="#0969da" fill-opacity="0.55">'
            f"<title>{escape(_bin_title(b))}</title></rect>"
            f'<circle cx="{x(float(b["mean_probability"])):.1f}" cy="{y(observed):.1f}" r="2.5" '
            'fill="#1f2328"/>'
        )
    out.append(
        f'<text x="{size / 2}" y="{size - 6}" font-size="11" text-anchor="middle">'
        "probability of consistent</text>"
        f'<text x="12" y="{size / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {size / 2})">observed share consistent</text>'
    )
    out.append(
        "</svg><figcaption>Reliability diagram: bars at the observed share of each bin, "
        "dots at its mean probability; the dashed diagonal is perfect calibration."
        "</figcaption></figure>"
    )
    yield "".join(out)


def _bin_title(b: Mapping[str, Any]) -> str:
    return (
        f"{b['low']:.1f}-{b['high']:.1f}: {b['n']} cases, mean probability "
        f"{b['mean_probability']:.2f}, observed {b['observed']:.2f}"
    )
