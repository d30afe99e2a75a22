"""BatchProgress: counting, throttled live redraws, the final line (a fake clock, no sleeping)."""

from __future__ import annotations

import pytest

from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.outputs.progress import BatchProgress, format_duration, format_rate

SCORED = Verdict(prediction=1, reason="ok")
UNSCORED = Verdict.unscored("model output is not JSON")
CACHED = Verdict(prediction=0, cached=True)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(total: int = 10, live: bool = True, interval_s: float = 0.1):  # type: ignore[no-untyped-def]
    clock = Clock()
    drawn: list[str] = []
    final: list[str] = []
    progress = BatchProgress(
        "mistral",
        "news",
        total,
        final=final.append,
        live=drawn.append if live else None,
        interval_s=interval_s,
        clock=clock,
    )
    return progress, clock, drawn, final


def test_live_redraws_are_throttled() -> None:
    progress, clock, drawn, _ = make(total=100)
    assert drawn == ["llmjudge: judge mistral on news: 0/100, 0 unscored"]  # drawn at the start
    for _ in range(50):  # 50 verdicts within 49 ms: one redraw
        clock.now += 0.001
        progress.update(SCORED)
    assert len(drawn) == 2
    clock.now += 0.2
    progress.update(SCORED)
    assert len(drawn) == 3
    assert progress.done == 51


def test_live_line_has_rate_unscored_and_eta() -> None:
    progress, clock, drawn, _ = make(total=10)
    clock.now += 2.0
    progress.update(SCORED)
    progress.update(UNSCORED)  # same instant: counted, not drawn
    assert drawn[-1] == "llmjudge: judge mistral on news: 1/10, 0.5/s, 0 unscored, ETA 18 s"
    clock.now += 2.0
    progress.update(SCORED)
    assert drawn[-1] == "llmjudge: judge mistral on news: 3/10, 0.75/s, 1 unscored, ETA 9.3 s"


def test_final_line_once_with_counts() -> None:
    progress, clock, _, final = make(total=3)
    for verdict in (SCORED, UNSCORED, CACHED):
        progress.update(verdict)
    clock.now += 1.5
    progress.close()
    progress.close()
    assert final == [
        "llmjudge: judge mistral on news: 3 cases in 1.5 s (2.0/s), 1 unscored, 1 cached"
    ]


def test_without_live_nothing_is_drawn_until_the_end() -> None:
    progress, clock, drawn, final = make(total=2, live=False)
    progress.update(SCORED)
    clock.now += 0.5
    progress.update(SCORED)
    assert drawn == [] and final == []
    progress.close()
    assert final == ["llmjudge: judge mistral on news: 2 cases in 0.5 s (4.0/s), 0 unscored"]


def test_one_case_is_singular() -> None:
    progress, clock, _, final = make(total=1, live=False)
    progress.update(SCORED)
    clock.now += 0.25
    progress.close()
    assert final[0].startswith("llmjudge: judge mistral on news: 1 case in 0.2 s")


@pytest.mark.parametrize(
    ("rate", "shown"), [(31.4, "31/s"), (4.24, "4.2/s"), (0.354, "0.35/s"), (1234.0, "1234/s")]
)
def test_format_rate(rate: float, shown: str) -> None:
    assert format_rate(rate) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.44, "0.4 s"), (12.4, "12 s"), (185, "3 min 05 s"), (3725, "1 h 02 min")],
)
def test_format_duration(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown
