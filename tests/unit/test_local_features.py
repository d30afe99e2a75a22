"""The local judge's comparison features of issue 19: names beside the wrong words, word pairs
no document sentence holds, short-document interactions, and a chosen decision threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_llmjudge.local import FEATURE_NAMES, load_or_train
from pytest_llmjudge.local.features import SHORT_DOCUMENT_WORDS, compare

DOCUMENT = (
    "The coffee chain Beanhouse has appointed Lydia Marsh as its new chief executive, replacing "
    "co-founder Tom Aldred, who is stepping down after twelve years in charge. Marsh was "
    "previously head of operations at the retailer Northline. Aldred will remain on the board."
)
RIGHT = "Beanhouse chose Lydia Marsh, formerly head of operations at Northline, as chief executive."
SWAPPED = (
    "Beanhouse chose Tom Aldred, formerly head of operations at Northline, as chief executive."
)


def feature(premise: str, hypothesis: str, name: str) -> float:
    return compare(premise, hypothesis).values[FEATURE_NAMES.index(name)]


def test_a_role_swapped_between_two_names_of_the_document_is_far_from_its_name() -> None:
    right = feature(DOCUMENT, RIGHT, "far_neighbour_share")
    swapped = feature(DOCUMENT, SWAPPED, "far_neighbour_share")
    assert right < swapped
    assert feature(DOCUMENT, DOCUMENT.split(". ")[0], "far_neighbour_share") == 0.0


def test_word_pairs_that_no_sentence_holds_together_count() -> None:
    premise = "The council closed the library. The school opened a new gym."
    assert feature(premise, "The council closed the library.", "unpaired_word_share") == 0.0
    mixed = feature(premise, "The council opened a new library.", "unpaired_word_share")
    assert mixed > 0.0


def test_short_documents_switch_on_the_wording_interactions() -> None:
    summary = "The council closed the library and opened a gym."
    short = "The council closed the library. It opened a gym."
    long = short + " Filler words about the weather and the town." * SHORT_DOCUMENT_WORDS
    values = dict(zip(FEATURE_NAMES, compare(short, summary).values, strict=True))
    assert values["short_document"] == 1.0
    assert values["short_x_novel_bigram_share"] == values["novel_bigram_share"]
    long_values = dict(zip(FEATURE_NAMES, compare(long, summary).values, strict=True))
    assert long_values["short_document"] == 0.0
    assert all(v == 0.0 for k, v in long_values.items() if k.startswith("short_x_"))


def test_a_decision_threshold_setting_is_kept_with_the_model(
    tmp_path: Path,
) -> None:
    rows = [
        '{"premise": "Anna Smith won in Leeds.", "hypothesis": "Anna Smith won.", "target": 1}',
        '{"premise": "Anna Smith won in Leeds.", "hypothesis": "Bob Jones won.", "target": 0}',
        '{"premise": "Carl Dunn lost in York.", "hypothesis": "Carl Dunn lost.", "target": 1}',
        '{"premise": "Carl Dunn lost in York.", "hypothesis": "Eve Ford lost.", "target": 0}',
    ]
    train = tmp_path / "train.jsonl"
    train.write_text("\n".join(rows) + "\n")
    default, _ = load_or_train([train], tmp_path / "a", cv_folds=0)
    chosen, info = load_or_train([train], tmp_path / "b", cv_folds=0, decision_threshold=0.7)
    assert default.threshold == 0.5 and chosen.threshold == 0.7
    again, reused = load_or_train([train], tmp_path / "b", cv_folds=0, decision_threshold=0.7)
    assert not reused.retrained and again.threshold == 0.7
    with pytest.raises(ValueError, match="threshold"):
        load_or_train([train], tmp_path / "c", cv_folds=0, decision_threshold=1.0)


def test_local_judge_refuses_a_threshold_beside_validation_or_outside_0_1(tmp_path: Path) -> None:
    from pytest_llmjudge import local_judge
    from pytest_llmjudge.errors import ConfigError

    train = tmp_path / "train.jsonl"
    with pytest.raises(ConfigError, match="not both"):
        local_judge("l", train=[train], validation=train, decision_threshold=0.6)
    with pytest.raises(ConfigError, match="strictly between 0 and 1, got 1.5"):
        local_judge("l", train=[train], decision_threshold=1.5)
    judge = local_judge("l", train=[train], decision_threshold=0.6)
    assert judge.options["settings"] == {"decision_threshold": 0.6}
