"""Parsing model output into verdicts: accept clear answers, keep everything else as unscored."""

from __future__ import annotations

import pytest

from pytest_llmjudge import Verdict, parse_verdict
from pytest_llmjudge.backends.function import to_verdict


@pytest.mark.parametrize(
    ("text", "prediction"),
    [
        ('{"reason": "all supported", "consistency": 1}', 1),
        ('{"reason": "wrong date", "consistency": 0}', 0),
        ('{"reason": "r", "consistency": "1"}', 1),
        ('{"reason": "r", "consistency": "0"}', 0),
        ('{"reason": "r", "consistency": true}', 1),
        ('{"reason": "r", "consistency": false}', 0),
        ('{"reason": "r", "consistency": 1.0}', 1),
        ('{"reason": "r", "consistency": 0.0}', 0),
        ('{"reason": "r", "consistency": " Consistent "}', 1),
        ('  {"consistency": 1, "reason": "r"}\n', 1),
        ('```json\n{"reason": "r", "consistency": 1}\n```', 1),
        ('```\n{"reason": "r", "consistency": 0}\n```', 0),
        ('```JSON\n{"reason": "r", "consistency": "1"}\n```', 1),
    ],
)
def test_accepted_answers(text: str, prediction: int) -> None:
    verdict = parse_verdict(text)
    assert verdict.prediction == prediction
    assert verdict.scored
    assert verdict.error is None
    assert verdict.reason == "r" or verdict.reason in ("all supported", "wrong date")


def test_reason_is_kept() -> None:
    verdict = parse_verdict('{"reason": "The date is wrong.", "consistency": 0}')
    assert verdict == Verdict(prediction=0, reason="The date is wrong.")


def test_missing_reason_is_empty() -> None:
    assert parse_verdict('{"consistency": 1}').reason == ""


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"reason": "unsure", "consistency": "maybe"}', "'consistency' is 'maybe', not 0 or 1"),
        ('{"reason": "r", "consistency": 2}', "'consistency' is 2, not 0 or 1"),
        ('{"reason": "r", "consistency": 0.5}', "not 0 or 1"),
        ('{"reason": "r", "consistency": null}', "not 0 or 1"),
        ('{"reason": "r", "consistency": [1]}', "not 0 or 1"),
        ('{"reason": "r", "consistency": {"v": 1}}', "not 0 or 1"),
        ('{"reason": "no verdict here"}', "no 'consistency' field"),
        ("[1]", "not a JSON object"),
        ("1", "not a JSON object"),
        ('"consistent"', "not a JSON object"),
        ("The summary is consistent.", "not JSON"),
        ('```json\n{"consistency": \n```', "not JSON"),
    ],
)
def test_unclear_answers_are_unscored_with_raw_kept(text: str, error: str) -> None:
    verdict = parse_verdict(text)
    assert verdict.prediction is None
    assert not verdict.scored
    assert verdict.error is not None and error in verdict.error
    assert verdict.raw == text


@pytest.mark.parametrize("text", [None, "", "   \n"])
def test_empty_output_is_unscored(text: str | None) -> None:
    verdict = parse_verdict(text)
    assert verdict.prediction is None
    assert verdict.error == "empty model output"
    assert verdict.raw == text


def test_unscored_constructor_keeps_cause_and_extras() -> None:
    verdict = Verdict.unscored("timeout", raw="partial", latency_s=1.5)
    assert (verdict.prediction, verdict.error, verdict.raw, verdict.latency_s) == (
        None,
        "timeout",
        "partial",
        1.5,
    )


@pytest.mark.parametrize(
    ("value", "prediction"),
    [
        (1, 1),
        (0, 0),
        (True, 1),
        ({"prediction": 0, "reason": "r"}, 0),
        ('{"consistency": 1, "reason": "r"}', 1),
        (Verdict(prediction=1, reason="given"), 1),
    ],
)
def test_function_judge_return_values(value: object, prediction: int) -> None:
    assert to_verdict(value).prediction == prediction


@pytest.mark.parametrize("value", [2, None, 0.5, ["1"], "maybe"])
def test_function_judge_unusable_return_values_are_unscored(value: object) -> None:
    verdict = to_verdict(value)
    assert verdict.prediction is None
    assert verdict.error
