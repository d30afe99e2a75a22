"""Rogan-Gladen: a generator's hallucination rate corrected for its judge's errors."""

from __future__ import annotations

import pytest

from pytest_llmjudge.scoring.correction import JudgeRates, rogan_gladen


def test_the_correction_inverts_the_judges_bias() -> None:
    # true rate 0.2, sensitivity 0.8, specificity 0.9: raw = 0.2*0.8 + 0.8*0.1 = 0.24
    found = rogan_gladen(48, 200, JudgeRates(0.8, 0.9, 100, 100))
    assert found.rate == pytest.approx(0.2)
    low, high = found.interval or (0, 0)
    assert low < 0.2 < high


def test_the_judges_own_error_widens_the_interval() -> None:
    exact = rogan_gladen(48, 200, JudgeRates(0.8, 0.9)).interval or (0, 0)
    measured = rogan_gladen(48, 200, JudgeRates(0.8, 0.9, 50, 50)).interval or (0, 0)
    assert measured[1] - measured[0] > exact[1] - exact[0]


def test_a_perfect_judge_changes_nothing_and_a_useless_one_gives_no_rate() -> None:
    assert rogan_gladen(30, 100, JudgeRates(1.0, 1.0)).rate == pytest.approx(0.3)
    useless = rogan_gladen(30, 100, JudgeRates(0.5, 0.5))
    assert (useless.rate, useless.interval) == (None, None)


def test_the_rate_is_clipped_and_its_interval_holds_it() -> None:
    found = rogan_gladen(2, 200, JudgeRates(0.8, 0.9, 100, 100))  # raw below 1 - specificity
    assert found.rate == 0.0
    assert found.interval is not None and found.interval[0] == 0.0 <= found.interval[1]


def test_bad_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="sensitivity must be between 0 and 1"):
        JudgeRates(1.2, 0.9)
