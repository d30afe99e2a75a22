"""The HTML leaderboard of one dataset's judges (from the report's `leaderboard` entry)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from html import escape
from typing import Any

from pytest_llmjudge.scoring.gating import with_interval


def leaderboard_table(board: Mapping[str, Any]) -> Iterator[str]:
    """The ranking with groups, then every pair: discordant cases, p-values, told apart."""
    metric = escape(str(board["metric"]))
    correction = "Holm-corrected" if board["correction"] == "holm" else "uncorrected"
    yield f"<h2>Leaderboard on {escape(str(board['dataset']))}</h2>"
    yield (
        f'<p class="muted">Ranked on {metric}. Every pair compared on the cases both judged '
        f"(exact McNemar, {correction} p-values, alpha {board['alpha']:g}); judges of one group "
        "cannot be told apart from the group's first.</p>"
    )
    yield f"<table><tr><th>rank</th><th>group</th><th>judge</th><th>{metric} [95% CI]</th></tr>"
    for s in board["standings"]:
        interval = tuple(s["interval"]) if s["interval"] else None
        yield (
            f'<tr><td class="num">{s["rank"]}</td><td>{escape(s["group"])}</td>'
            f"<td>{escape(s['judge'])}</td>"
            f'<td class="num">{with_interval(s["value"], interval)}</td></tr>'
        )
    yield "</table>"
    yield (
        "<table><tr><th>pair</th><th>cases</th><th>only the first right</th>"
        "<th>only the second right</th><th>p</th><th>p adjusted</th><th>told apart</th></tr>"
    )
    for p in board["pairs"]:
        yield (
            f"<tr><td>{escape(p['first'])} vs {escape(p['second'])}</td>"
            f'<td class="num">{p["cases"]}</td><td class="num">{p["only_first"]}</td>'
            f'<td class="num">{p["only_second"]}</td><td class="num">{p["p_value"]:.3g}</td>'
            f'<td class="num">{p["p_adjusted"]:.3g}</td>'
            f"<td>{'yes' if p['distinct'] else 'no'}</td></tr>"
        )
    yield "</table>"
