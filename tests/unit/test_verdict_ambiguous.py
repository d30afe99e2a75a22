"""Ambiguous model output is unscored with the raw text kept, never guessed at."""

from __future__ import annotations

import pytest

from pytest_llmjudge.model.verdict import parse_verdict


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"consistency": 1} The summary is supported.', "model output is not JSON"),
        ('Answer: {"consistency": 1}', "model output is not JSON"),
        ('{"consistency": 1}\n{"consistency": 0}', "model output is not JSON"),
        ('{"consistency": 1, "consistency": 0}', "model output repeats the key 'consistency'"),
        (
            '{"consistency": 1, "reason": "a", "reason": "b"}',
            "model output repeats the key 'reason'",
        ),
        (
            '```json\n{"consistency": 1}\n```\n```json\n{"consistency": 0}\n```',
            "model output is not JSON",
        ),
        ('{"consistency": NaN}', "'consistency' is nan, not 0 or 1"),
        ('{"consistency": "1 or 0"}', "'consistency' is '1 or 0', not 0 or 1"),
    ],
    ids=[
        "json-then-prose",
        "prose-then-json",
        "two-objects",
        "duplicate-consistency",
        "duplicate-reason",
        "two-fences",
        "nan",
        "both",
    ],
)
def test_ambiguous_output_is_unscored_with_raw(text: str, error: str) -> None:
    verdict = parse_verdict(text)
    assert verdict.prediction is None
    assert verdict.error == error
    assert verdict.raw == text


def test_nested_objects_may_repeat_keys_of_the_outer_one() -> None:
    verdict = parse_verdict('{"consistency": 1, "detail": {"consistency": "n/a"}}')
    assert verdict.prediction == 1
