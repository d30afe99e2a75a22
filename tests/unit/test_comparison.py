"""Paired comparison against a baseline: fixed synthetic verdicts whose statistics are known."""

from __future__ import annotations

import argparse
import math
from fractions import Fraction

import pytest

from pytest_llmjudge.scoring.comparison import (
    CaseMismatchError,
    PairedCase,
    compare,
    comparison_lines,
)
from pytest_llmjudge.scoring.thresholds import Tolerance, merge_tolerances, parse_tolerance


def binomial_two_sided(fixed: int, broken: int) -> float:
    """Exact two-sided McNemar p-value written out from the binomial distribution, Bin(n, 1/2):
    twice the probability of a split at least as uneven as the observed one, capped at 1."""
    n = fixed + broken
    k = min(fixed, broken)
    tail = Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2**n)
    return float(min(Fraction(1), 2 * tail))


def sides(
    n: int, base_wrong: set[int], cand_wrong: set[int], unscored: set[int] = frozenset()
) -> tuple[list[PairedCase], list[PairedCase]]:
    """n cases c1..cn with alternating targets; each side is wrong on the given case numbers
    (the candidate gives no answer on `unscored`)."""
    base, cand = [], []
    for i in range(1, n + 1):
        target = i % 2
        base.append(PairedCase(f"c{i}", target, 1 - target if i in base_wrong else target, f"b{i}"))
        if i in unscored:
            prediction = None
        else:
            prediction = 1 - target if i in cand_wrong else target
        cand.append(PairedCase(f"c{i}", target, prediction, f"k{i}"))
    return base, cand


def run(base, cand, **kwargs):  # type: ignore[no-untyped-def]
    return compare(base, cand, baseline_label="prod", candidate_label="cand", **kwargs)


class TestMcNemarOnDiscordantPairs:
    @pytest.mark.parametrize(
        ("fixed", "broken"),
        [(0, 0), (1, 0), (3, 1), (1, 9), (9, 1), (0, 6), (12, 4), (20, 35)],
    )
    def test_p_value_is_the_exact_binomial_value(self, fixed: int, broken: int) -> None:
        n = 2 * (fixed + broken) + 10
        # the baseline is wrong on cases 1..fixed, the candidate on the next `broken` cases
        base, cand = sides(n, set(range(1, fixed + 1)), set(range(fixed + 1, fixed + broken + 1)))
        result = run(base, cand)
        assert [c.id for c in result.fixed] == [f"c{i}" for i in range(1, fixed + 1)]
        assert len(result.broken) == broken
        assert result.p_value == pytest.approx(binomial_two_sided(fixed, broken), rel=1e-12)

    def test_concordant_pairs_do_not_count(self) -> None:
        # both wrong on c1..c5 (concordant), candidate breaks c6..c7 only
        base, cand = sides(20, set(range(1, 6)), set(range(1, 8)))
        result = run(base, cand)
        assert (len(result.fixed), len(result.broken)) == (0, 2)
        assert result.p_value == pytest.approx(0.5)  # 2 * (1/4)

    def test_fixed_and_broken_carry_both_reasons(self) -> None:
        base, cand = sides(6, {1}, {2})
        result = run(base, cand)
        (fixed,) = result.fixed
        (broken,) = result.broken
        assert (fixed.id, fixed.target, fixed.baseline_prediction, fixed.candidate_prediction) == (
            "c1",
            1,
            0,
            1,
        )
        assert (fixed.baseline_reason, fixed.candidate_reason) == ("b1", "k1")
        assert (broken.id, broken.baseline_reason, broken.candidate_reason) == ("c2", "b2", "k2")


class TestVerdictAndGates:
    def test_identical_judges(self) -> None:
        base, cand = sides(30, {1, 2, 3}, {1, 2, 3})
        result = run(base, cand)
        assert result.verdict == "no significant difference"
        assert result.p_value == 1.0
        assert result.passed
        assert result.deltas["accuracy"] == 0.0

    def test_significantly_worse_fails_the_regression_gate(self) -> None:
        base, cand = sides(30, set(), set(range(1, 9)))  # 8 broken, 0 fixed: p = 2/256
        result = run(base, cand)
        assert result.p_value == pytest.approx(2 / 256)
        assert result.verdict == "worse"
        assert not result.passed
        assert "significantly worse" in result.failures[0]
        assert result.deltas["accuracy"] == pytest.approx(-8 / 30)

    def test_worse_but_not_significant_passes_without_tolerance(self) -> None:
        base, cand = sides(30, set(), {1, 2, 3, 4})  # p = 2/16 = 0.125
        result = run(base, cand)
        assert result.verdict == "no significant difference"
        assert result.passed
        assert "4 broken" in result.why() and "p = 0.125 >= alpha 0.05" in result.why()

    def test_tolerance_gate_catches_a_drop_that_is_not_significant(self) -> None:
        base, cand = sides(30, set(), {1, 2, 3, 4})  # accuracy 1.0 -> 0.8667
        result = run(base, cand, tolerances=[Tolerance("accuracy", 0.1)])
        assert result.verdict == "no significant difference"
        assert result.failures == (
            "accuracy dropped by 0.133 (1.000 -> 0.867), more than the tolerance 0.1",
        )
        assert run(base, cand, tolerances=[Tolerance("accuracy", 0.15)]).passed

    def test_drop_equal_to_tolerance_passes(self) -> None:
        base, cand = sides(50, set(), {1})  # accuracy drops by exactly 0.02
        assert run(base, cand, tolerances=[Tolerance("accuracy", 0.02)]).passed

    def test_alpha_decides_significance(self) -> None:
        base, cand = sides(30, set(), {1, 2, 3, 4, 5})  # p = 2/32 = 0.0625
        assert run(base, cand, alpha=0.05).verdict == "no significant difference"
        assert run(base, cand, alpha=0.1).verdict == "worse"
        with pytest.raises(ValueError, match="alpha"):
            run(base, cand, alpha=1.5)

    def test_promotion_gate(self) -> None:
        base, cand = sides(30, set(range(1, 9)), set())  # 8 fixed: p = 2/256
        better = run(base, cand, require_better=True)
        assert better.verdict == "better" and better.passed
        base, cand = sides(30, {1, 2}, set())  # 2 fixed: p = 0.5
        same = run(base, cand, require_better=True)
        assert same.verdict == "no significant difference"
        assert not same.passed
        assert same.failures[0].startswith("promotion gate: not significantly better")

    def test_unscored_candidate_answers_are_wrong_or_excluded(self) -> None:
        base, cand = sides(20, set(), set(), unscored={1, 2, 3})
        wrong = run(base, cand)
        assert [c.id for c in wrong.broken] == ["c1", "c2", "c3"]
        assert wrong.deltas["coverage"] == pytest.approx(-3 / 20)
        excluded = run(base, cand, unscored="exclude")
        assert excluded.broken == () and excluded.excluded == 3 and excluded.n == 17

    def test_report_entry(self) -> None:
        base, cand = sides(10, {1}, {2, 4})
        entry = run(base, cand).as_dict()
        assert entry["baseline"] == "prod"
        assert entry["verdict"] == "no significant difference"
        assert entry["fixed"] == ["c1"] and entry["broken"] == ["c2", "c4"]
        assert entry["p_value"] == pytest.approx(1.0)
        assert entry["deltas"]["accuracy"] == pytest.approx(-0.1)
        assert {c["id"] for c in entry["changes"]} == {"c1", "c2", "c4"}

    def test_summary_lines(self) -> None:
        base, cand = sides(30, set(), set(range(1, 9)))
        lines = comparison_lines("cand", "news", run(base, cand), None)
        assert lines[0].startswith("judge cand on news vs baseline 'prod': worse: 0 fixed, 8")
        assert lines[1].startswith("  deltas (candidate - baseline): accuracy -0.267")
        assert "  broken c1 (target 1): baseline said 1 (b1); candidate said 0 (k1)" in lines
        assert lines[-1].startswith("FAILED baseline gate: judge cand on news: significantly")


class TestMismatchedCases:
    def test_missing_and_extra_ids_are_named(self) -> None:
        base, cand = sides(6, set(), set())
        with pytest.raises(CaseMismatchError) as info:
            run(base[:4], cand[2:])  # baseline c1..c4, selected c3..c6
        err = info.value
        assert err.missing == ["c5", "c6"] and err.extra == ["c1", "c2"]
        assert "2 selected case(s) are not in the baseline: c5, c6" in str(err)
        assert "2 baseline case(s) are not selected now: c1, c2" in str(err)
        assert "--snapshot-update" in str(err)

    def test_changed_target_is_a_mismatch(self) -> None:
        base, cand = sides(3, set(), set())
        base[1] = PairedCase("c2", 1, 1)
        with pytest.raises(CaseMismatchError, match=r"1 case\(s\) changed target: c2"):
            run(base, cand)

    def test_long_lists_are_shortened(self) -> None:
        base, cand = sides(30, set(), set())
        with pytest.raises(CaseMismatchError, match=r"c10, \.\.\. \(20 more\)"):
            run([], cand)


class TestTolerances:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("0.02", Tolerance("accuracy", 0.02)), ("f1=0.03", Tolerance("f1", 0.03))],
    )
    def test_parse(self, text: str, expected: Tolerance) -> None:
        assert parse_tolerance(text) == expected

    @pytest.mark.parametrize("bad", ["auc=0.1", "f1=", "-0.1", "f1=2"])
    def test_parse_errors(self, bad: str) -> None:
        with pytest.raises(argparse.ArgumentTypeError, match="invalid tolerance"):
            parse_tolerance(bad)

    def test_later_layers_win(self) -> None:
        merged = merge_tolerances([Tolerance("f1", 0.1)], [Tolerance("f1", 0.02)])
        assert merged == (Tolerance("f1", 0.02),)
