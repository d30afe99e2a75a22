"""Threshold parsing, scope and the precedence of merged layers."""

from __future__ import annotations

import argparse

import pytest

from pytest_llmjudge.scoring.thresholds import Threshold, merge, parse_threshold, thresholds_from


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("f1>=0.8", Threshold("f1", ">=", 0.8)),
        ("accuracy>0.7", Threshold("accuracy", ">", 0.7)),
        (" recall <= 1 ", Threshold("recall", "<=", 1.0)),
        ("unscored<3", Threshold("unscored", "<", 3.0)),
        ("coverage>=.95", Threshold("coverage", ">=", 0.95)),
        ("local:accuracy>=0.7", Threshold("accuracy", ">=", 0.7, judge="local")),
        ("mistral-small_v2.1:f1 >= 0.5", Threshold("f1", ">=", 0.5, judge="mistral-small_v2.1")),
    ],
)
def test_valid_thresholds(text: str, expected: Threshold) -> None:
    assert parse_threshold(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("f1", "expected e.g."),
        ("f1=0.8", "expected e.g."),
        ("f1>=", "expected e.g."),
        ("f1>=high", "expected e.g."),
        ("f1>=-0.1", "expected e.g."),
        (">=0.8", "expected e.g."),
        ("judge name:f1>=0.8", "expected e.g."),
        ("", "expected e.g."),
        ("auc>=0.8", "unknown metric 'auc'"),
        ("F1>=0.8", "expected e.g."),
    ],
)
def test_invalid_thresholds(text: str, fragment: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as info:
        parse_threshold(text)
    assert fragment in str(info.value)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("text", "actual", "passes"),
    [
        ("f1>=0.8", 0.8, True),
        ("f1>=0.8", 0.79, False),
        ("f1>0.8", 0.8, False),
        ("f1>0.8", 0.81, True),
        ("unscored<=2", 2, True),
        ("unscored<2", 2, False),
    ],
)
def test_check(text: str, actual: float, passes: bool) -> None:
    assert parse_threshold(text).check(actual) is passes


def test_scope() -> None:
    scoped = parse_threshold("local:f1>=0.8")
    assert scoped.applies_to("local")
    assert not scoped.applies_to("mistral")
    unscoped = parse_threshold("f1>=0.8")
    assert unscoped.applies_to("local") and unscoped.applies_to("mistral")


def test_str_round_trips() -> None:
    for text in ("f1>=0.8", "local:accuracy>0.7", "unscored<3"):
        assert str(parse_threshold(text)) == text
        assert parse_threshold(str(parse_threshold(text))) == parse_threshold(text)


def test_thresholds_from_list_mapping_string_and_none() -> None:
    assert thresholds_from(None) == ()
    assert thresholds_from("f1>=0.5") == (Threshold("f1", ">=", 0.5),)
    assert thresholds_from(["f1>=0.5", "j:recall>0.1"]) == (
        Threshold("f1", ">=", 0.5),
        Threshold("recall", ">", 0.1, judge="j"),
    )
    assert thresholds_from({"f1": 0.8, "accuracy": 0.7}) == (
        Threshold("f1", ">=", 0.8),
        Threshold("accuracy", ">=", 0.7),
    )
    with pytest.raises(argparse.ArgumentTypeError):
        thresholds_from({"auc": 0.8})


def test_merge_later_layers_win_on_same_judge_metric_and_side() -> None:
    ini = thresholds_from(["f1>=0.5", "accuracy>=0.6", "unscored<=5"])
    marker = thresholds_from(["f1>=0.7", "a:f1>=0.9"])
    cli = thresholds_from(["f1>0.8"])
    merged = set(merge(ini, marker, cli))
    assert merged == {
        Threshold("f1", ">", 0.8),  # CLI beats marker beats ini (">" and ">=" are one side)
        Threshold("accuracy", ">=", 0.6),  # only in ini: kept
        Threshold("unscored", "<=", 5.0),
        Threshold("f1", ">=", 0.9, judge="a"),  # per-judge scope is its own key
    }


def test_merge_keeps_lower_and_upper_bounds_of_one_metric() -> None:
    merged = merge(thresholds_from(["accuracy>=0.6"]), thresholds_from(["accuracy<=0.99"]))
    assert set(merged) == {Threshold("accuracy", ">=", 0.6), Threshold("accuracy", "<=", 0.99)}


def test_merge_marker_overrides_ini() -> None:
    merged = merge(thresholds_from(["recall>=0.9"]), thresholds_from({"recall": 0.4}))
    assert merged == (Threshold("recall", ">=", 0.4),)
