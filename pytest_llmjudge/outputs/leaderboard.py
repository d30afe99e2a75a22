"""The leaderboards in the terminal: from the report's `leaderboard` entries (their dict form),
so that a stored report prints the same lines."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pytest_llmjudge.scoring.gating import with_interval


def leaderboard_lines(board: Mapping[str, Any]) -> Iterator[str]:
    """A ranked table of one dataset's judges (rank, group, judge, metric with its interval),
    then which pairs are told apart and how many are not."""
    correction = "Holm-corrected" if board["correction"] == "holm" else "uncorrected"
    yield (
        f"leaderboard on {board['dataset']} (ranked on {board['metric']}; pairs: exact McNemar, "
        f"{correction}, alpha {board['alpha']:g}):"
    )
    rows = [("rank", "group", "judge", f"{board['metric']} [95% CI]")]
    for s in board["standings"]:
        interval = tuple(s["interval"]) if s["interval"] else None
        rows.append((str(s["rank"]), s["group"], s["judge"], with_interval(s["value"], interval)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        yield "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
    apart = [p for p in board["pairs"] if p["distinct"]]
    if apart:
        told = ", ".join(f"{p['first']} > {p['second']} (p {_p(p['p_adjusted'])})" for p in apart)
        yield f"  told apart: {told}"
    rest = len(board["pairs"]) - len(apart)
    if rest:
        yield f"  not told apart: {rest} of {len(board['pairs'])} pairs (same group: no evidence)"


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 0.001 else "<0.001"
