"""The leaderboard: ranking, exact McNemar per pair, Holm's correction and the groups."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from pytest_llmjudge.scoring.leaderboard import Entry, holm, leaderboard


def entry(name: str, right: list[bool]) -> Entry:
    """A judge right on the cases marked True (ids c0, c1, ...); accuracy as its value."""
    return Entry(name, sum(right) / len(right), None, {f"c{i}": r for i, r in enumerate(right)})


def test_holm_matches_the_step_down_by_hand() -> None:
    # sorted 0.01, 0.02, 0.03, 0.5 -> 4*0.01, 3*0.02, max(0.06, 2*0.03), max(0.06, 1*0.5)
    assert holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    assert holm([0.4, 0.6]) == [0.8, 0.8]  # monotone: never below an earlier step
    assert holm([0.4, 0.3, 0.9]) == pytest.approx([0.9, 0.9, 0.9])
    assert holm([0.5, 0.7]) == [1.0, 1.0]  # capped at 1
    assert holm([]) == []


def test_each_pair_is_an_exact_mcnemar_on_the_shared_cases() -> None:
    a = entry("a", [True] * 30 + [False] * 10)
    b = entry("b", [True] * 18 + [False] * 12 + [True] * 2 + [False] * 8)
    board = leaderboard("d", [b, a], correct_for_multiplicity=False)
    pair = board.pair("a", "b")
    assert (pair.first, pair.second, pair.cases) == ("a", "b", 40)  # a ranks first
    assert (pair.only_first, pair.only_second) == (12, 2)
    assert pair.p_value == pytest.approx(binomtest(2, 14, 0.5).pvalue)
    assert pair.distinct and pair.p_adjusted == pair.p_value


def test_cases_judged_by_one_judge_only_are_left_out_of_the_pair() -> None:
    a = Entry("a", 1.0, None, {"c1": True, "c2": True, "c3": True})
    b = Entry("b", 0.0, None, {"c2": False, "c3": False, "c4": False})
    pair = leaderboard("d", [a, b]).pair("a", "b")
    assert (pair.cases, pair.only_first, pair.only_second) == (2, 2, 0)


def test_holm_changes_which_judges_are_told_apart_and_so_the_groups() -> None:
    strong = entry("strong", [True] * 100)
    mid = entry("mid", [False] * 6 + [True] * 94)  # 6 discordant with strong: p 0.031
    weak = entry("weak", [False] * 7 + [True] * 93)  # 7 with strong: p 0.016; 1 with mid
    raw = leaderboard("d", [weak, mid, strong], correct_for_multiplicity=False)
    assert raw.pair("strong", "mid").p_value == pytest.approx(2 / 2**6)
    assert raw.groups == {"A": ["strong"], "B": ["mid", "weak"]}
    corrected = leaderboard("d", [weak, mid, strong])
    assert corrected.pair("strong", "weak").p_adjusted == pytest.approx(3 * 2 / 2**7)
    assert corrected.pair("strong", "mid").p_adjusted == pytest.approx(2 * 2 / 2**6)
    assert corrected.groups == {"A": ["strong", "mid"], "B": ["weak"]}
    assert [s.rank for s in corrected.standings] == [1, 2, 3]


def test_undefined_values_rank_last_and_lower_is_better_for_flaky() -> None:
    a, b = Entry("a", None, None, {}), Entry("b", 0.2, (0.1, 0.3), {})
    assert [s.judge for s in leaderboard("d", [a, b], "kappa").standings] == ["b", "a"]
    c = Entry("c", 0.05, None, {})
    assert [s.judge for s in leaderboard("d", [b, c], "flaky").standings] == ["c", "b"]
    with pytest.raises(ValueError, match="cannot rank on 'n'"):
        leaderboard("d", [a, b], "n")
