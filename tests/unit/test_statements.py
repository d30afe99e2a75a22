"""Faithfulness as Ragas computes it: statements (sentences), their share supported, the mean."""

from __future__ import annotations

import pytest

from pytest_llmjudge.scoring.gen_metrics import Outcome, compute_gen_metrics
from pytest_llmjudge.scoring.statements import split_statements, statement_share


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It makes turbines. It is in Tallinn!", ["It makes turbines.", "It is in Tallinn!"]),
        ("By Dr. Vaik in 2009. Rated 4.5 MW.", ["By Dr. Vaik in 2009.", "Rated 4.5 MW."]),
        ("He met Bob. Then he left.", ["He met Bob.", "Then he left."]),
        ("It is U.S. based. Yes.", ["It is U.S. based.", "Yes."]),
        ("One line\nanother line", ["One line", "another line"]),
        ("no capital after. so one piece", ["no capital after. so one piece"]),
        ("It said \"Yes.\" Then it left.", ["It said \"Yes.\"", "Then it left."]),
        ("...", ["..."]),
        ("  ", []),
    ],
)  # fmt: skip
def test_split_statements(text: str, expected: list[str]) -> None:
    assert split_statements(text) == expected


def test_statement_share_counts_unscored_as_unsupported_unless_excluded() -> None:
    assert statement_share([1, 0, None, 1], exclude_unscored=False) == 0.5
    assert statement_share([1, 0, None, 1], exclude_unscored=True) == pytest.approx(2 / 3)
    assert statement_share([None], exclude_unscored=True) is None


def test_faithfulness_is_the_mean_share_beside_the_whole_answer_label() -> None:
    outcomes = [
        Outcome(prediction=0, words=8, statements=(1, 0)),  # one of two sentences unsupported
        Outcome(prediction=1, words=4),  # one sentence: its whole-answer label
        Outcome(prediction=1, words=9, statements=(1, 1, 1)),
        Outcome(prediction=None),  # not generated
    ]
    m = compute_gen_metrics(outcomes, cases=4, samples=1)
    assert m.hallucination_rate == 0.5  # whole answers: 1 inconsistent + 1 unscored of 4
    assert m.faithfulness == pytest.approx((0.5 + 1 + 1 + 0) / 4)
    assert m.statements == 6 and m.statements_supported == 5
    lo, hi = m.faithfulness_ci
    assert lo < m.faithfulness < hi
    excluded = compute_gen_metrics(outcomes, cases=4, samples=1, unscored="exclude")
    assert excluded.faithfulness == pytest.approx(2.5 / 3)
    assert compute_gen_metrics([], 0, 1).faithfulness == 0.0
