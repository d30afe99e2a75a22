"""The offline local judge: training, predicting, reasons, artifacts and determinism.

Synthetic cases only: each document names a person, a town and amounts; a consistent summary
repeats them, an inconsistent one brings a name, a town or an amount the document lacks.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_llmjudge.errors import DatasetError
from pytest_llmjudge.local import (
    FEATURE_NAMES,
    LocalJudgeModel,
    LocalPrediction,
    TrainingSource,
    load_or_train,
)
from pytest_llmjudge.local.features import Comparison
from pytest_llmjudge.local.model import explain

FIRST = [
    "Alice",
    "Brian",
    "Carla",
    "Dylan",
    "Elena",
    "Fergus",
    "Grace",
    "Hamish",
    "Imogen",
    "Jacob",
]
LAST = [
    "Smith",
    "Patel",
    "Brown",
    "Evans",
    "Wilson",
    "Taylor",
    "Walker",
    "Hughes",
    "Morgan",
    "Price",
]
TOWNS = ["Cardiff", "Leeds", "Bristol", "York", "Dundee", "Swansea", "Derby", "Exeter", "Bangor"]


def _document(rng: random.Random) -> tuple[str, dict[str, str]]:
    facts = {
        "first": rng.choice(FIRST),
        "last": rng.choice(LAST),
        "town": rng.choice(TOWNS),
        "amount": f"£{rng.randint(2, 90)}m",
        "count": str(rng.randint(11, 99)),
    }
    text = (
        "{first} {last} was fined {amount} by a court in {town} on Monday.\n"
        "The court heard that the firm run by {last} had cheated {count} customers.\n"
        "Prosecutors said the scheme ran for several years before it was uncovered.\n"
        "{last} said he would appeal against the ruling."
    ).format(**facts)
    return text, facts


def _summary(facts: dict[str, str], rng: random.Random, consistent: bool) -> str:
    facts = dict(facts)
    if not consistent:
        change = rng.choice(["first", "town", "amount", "count"])
        if change == "first":
            facts["first"] = next(n for n in rng.sample(FIRST, len(FIRST)) if n != facts["first"])
        elif change == "town":
            facts["town"] = next(t for t in rng.sample(TOWNS, len(TOWNS)) if t != facts["town"])
        elif change == "amount":
            facts["amount"] = f"£{int(facts['amount'][1:-1]) + 100}m"
        else:
            facts["count"] = str(int(facts["count"]) + 100)
    template = rng.choice(
        [
            "{first} {last} has been fined {amount} in {town} for cheating {count} customers.",
            "A court in {town} fined {first} {last} {amount} after {count} customers were cheated.",
        ]
    )
    return template.format(**facts)


def _rows(seed: int, documents: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for _ in range(documents):
        premise, facts = _document(rng)
        for target in (1, 0):
            summary = _summary(facts, rng, consistent=bool(target))
            rows.append({"premise": premise, "hypothesis": summary, "target": target})
    return rows


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "train.jsonl", _rows(seed=1, documents=25))


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    return tmp_path / "artifacts"


def _only_artifact(directory: Path) -> Path:
    (path,) = directory.glob("*.json")
    return path


def test_trains_then_judges_held_out_cases(train_file: Path, artifacts: Path) -> None:
    model, info = load_or_train([TrainingSource(train_file)], artifacts)
    assert info.retrained and info.warning is None
    assert info.n_rows == 50 and info.path.is_file() and info.seconds > 0
    assert info.cv_accuracy is not None and info.cv_accuracy >= 0.8

    held_out = _rows(seed=99, documents=10)
    predictions = model.predict_many([(r["premise"], r["hypothesis"]) for r in held_out])
    assert all(isinstance(p, LocalPrediction) and 0.0 <= p.probability <= 1.0 for p in predictions)
    accuracy = sum(p.label == r["target"] for p, r in zip(predictions, held_out, strict=True))
    assert accuracy / len(held_out) >= 0.9


def test_artifact_is_plain_json_with_a_format_marker(train_file: Path, artifacts: Path) -> None:
    _, info = load_or_train([train_file], artifacts)
    document = json.loads(info.path.read_text(encoding="utf-8"))
    assert document["format"] == "pytest-llmjudge/local-judge"
    assert document["fingerprint"] == info.fingerprint
    assert not list(artifacts.glob("*.tmp")), "the temporary file of the atomic write is left over"


def test_reason_names_what_the_document_does_not_support(train_file: Path, artifacts: Path) -> None:
    model, _ = load_or_train([train_file], artifacts)
    premise = (
        "Anna Smith was fined £3m by a court in Leeds on Monday.\nSmith said she would appeal."
    )
    invented = model.predict(premise, "Anna Jones has been fined £5m in Leeds, in 2014.")
    assert invented.label == 0
    assert invented.reason.startswith("unsupported by the document:")
    assert '"Anna Jones"' in invented.reason and '"£5m"' in invented.reason
    assert '"2014"' in invented.reason

    faithful = model.predict(premise, "Anna Smith has been fined £3m by a court in Leeds.")
    assert faithful.label == 1
    assert faithful.reason == "all names and numbers of the summary appear in the document"


def _argues_for(reason: str, label: int) -> bool:
    """Whether a reason argues for ``label``: a consistent verdict never opens with a flaw."""
    flawed = reason.startswith("unsupported by the document:") or ", but " in reason
    if label == 0:
        return flawed
    consistent = reason.startswith("consistent on balance") or (
        reason == "all names and numbers of the summary appear in the document"
    )
    return consistent and not reason.startswith("unsupported")


@pytest.mark.parametrize("threshold", [0.02, 0.5, 0.98])
def test_reason_agrees_with_the_verdict(
    threshold: float, train_file: Path, artifacts: Path
) -> None:
    model, _ = load_or_train([train_file], artifacts)
    model = dataclasses.replace(model, threshold=threshold)
    rows = _rows(seed=77, documents=15)
    premise = "Anna Smith was fined £3m by a court in Leeds.\nSmith said she would appeal."
    pairs = [(r["premise"], r["hypothesis"]) for r in rows] + [
        (premise, "Anna Smith was fined £3m by a court in Leeds."),
        (premise, "Anna Smith died in Leeds on Friday."),
        (premise, "A court in Leeds said Smith would appeal against the £3m fine."),
        (premise, "Something else entirely happened somewhere."),
    ]
    predictions = model.predict_many(pairs)
    if threshold == 0.5:
        assert {p.label for p in predictions} == {0, 1}
    for (_, summary), prediction in zip(pairs, predictions, strict=True):
        assert _argues_for(prediction.reason, prediction.label), (summary, prediction)
        assert prediction.label == int(prediction.probability >= threshold)


def test_explain_argues_for_the_label_it_is_given() -> None:
    flaws = Comparison(
        values=(0.0,) * len(FEATURE_NAMES),
        unsupported=("Anna Jones",),
        flagged_words=("died",),
        unanchored=("fined",),
        best_coverage=0.4,
    )
    clean = dataclasses.replace(flaws, unsupported=(), flagged_words=(), unanchored=())
    for comparison in (flaws, clean, dataclasses.replace(flaws, unsupported=())):
        for label in (0, 1):
            reason = explain(comparison, label, 0.3 if label == 0 else 0.7)
            assert _argues_for(reason, label), (comparison, label, reason)


def test_threshold_moves_the_label(train_file: Path, artifacts: Path) -> None:
    model, _ = load_or_train([train_file], artifacts)
    premise, summary = "Anna Smith was fined £3m in Leeds.", "Anna Smith was fined £3m in Leeds."
    strict = dataclasses.replace(model, threshold=0.999999)
    assert model.predict(premise, summary).label == 1
    assert strict.predict(premise, summary).label == 0
    with pytest.raises(ValueError, match="threshold"):
        dataclasses.replace(model, threshold=1.5)


def test_second_call_reuses_the_artifact(train_file: Path, artifacts: Path) -> None:
    first, trained = load_or_train([(train_file, 1.0)], artifacts)
    second, loaded = load_or_train([TrainingSource(train_file, 1.0)], artifacts)
    assert not loaded.retrained and loaded.warning is None
    assert loaded.fingerprint == trained.fingerprint and loaded.path == trained.path
    assert loaded.n_rows == trained.n_rows and loaded.cv_accuracy == trained.cv_accuracy
    assert second == first


@pytest.mark.parametrize("change", ["data", "weight", "seed", "settings", "extra source"])
def test_retrains_when_inputs_change(
    change: str, train_file: Path, artifacts: Path, tmp_path: Path
) -> None:
    _, before = load_or_train([train_file], artifacts)
    sources: list[TrainingSource] = [TrainingSource(train_file)]
    kwargs: dict[str, Any] = {}
    if change == "data":
        _write(train_file, _rows(seed=2, documents=25))
    elif change == "weight":
        sources = [TrainingSource(train_file, 0.5)]
    elif change == "seed":
        kwargs["seed"] = 7
    elif change == "settings":
        kwargs["c"] = 0.05
    else:
        extra = _write(tmp_path / "extra.jsonl", _rows(seed=3, documents=10))
        sources.append(TrainingSource(extra, 2.0))
    _, after = load_or_train(sources, artifacts, **kwargs)
    assert after.retrained and after.warning is None
    assert after.fingerprint != before.fingerprint and after.path != before.path


def test_weights_become_sample_weights(train_file: Path, artifacts: Path, tmp_path: Path) -> None:
    extra = _write(tmp_path / "extra.jsonl", _rows(seed=5, documents=10))
    light, _ = load_or_train([(train_file, 1.0), (extra, 0.1)], artifacts)
    heavy, info = load_or_train([(train_file, 1.0), (extra, 5.0)], artifacts)
    assert info.n_rows == 70
    assert light.coefficients != heavy.coefficients


def _foreign_artifact(tmp_path: Path) -> bytes:
    other = _write(tmp_path / "other.jsonl", _rows(seed=4, documents=25))
    _, info = load_or_train([other], tmp_path / "elsewhere")
    return info.path.read_bytes()


CORRUPTIONS: dict[str, Callable[[bytes, bytes], bytes]] = {
    "garbage bytes": lambda good, foreign: b"\x80\x03\x00garbage\xff" * 10,
    "another format": lambda good, foreign: json.dumps({"format": "something-else"}).encode(),
    "a JSON list": lambda good, foreign: b"[1, 2, 3]",
    "truncated": lambda good, foreign: good[: len(good) // 2],
    "empty": lambda good, foreign: b"",
    "fingerprint mismatch": lambda good, foreign: foreign,
    "wrong version": lambda good, foreign: _edit(good, format_version=9),
    "too few coefficients": lambda good, foreign: _edit(good, coefficients=[0.5]),
    "non-numeric coefficient": lambda good, foreign: _edit(good, intercept="1; rm -rf /"),
    "zero scale": lambda good, foreign: _edit(good, scales=[0.0] * len(json.loads(good)["scales"])),
}


def _edit(good: bytes, **changes: object) -> bytes:
    return json.dumps({**json.loads(good), **changes}).encode()


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_damaged_artifact_is_reported_and_replaced(
    corruption: str, train_file: Path, artifacts: Path, tmp_path: Path
) -> None:
    model, trained = load_or_train([train_file], artifacts)
    good = trained.path.read_bytes()
    trained.path.write_bytes(CORRUPTIONS[corruption](good, _foreign_artifact(tmp_path)))

    again, info = load_or_train([train_file], artifacts)
    assert info.retrained
    assert info.warning is not None
    assert str(trained.path) in info.warning and "retrained" in info.warning
    assert again == model
    assert _only_artifact(artifacts).read_bytes() == good

    _, reloaded = load_or_train([train_file], artifacts)
    assert not reloaded.retrained and reloaded.warning is None


def test_same_data_and_seed_give_the_same_predictions(train_file: Path, tmp_path: Path) -> None:
    first, a = load_or_train([train_file], tmp_path / "one")
    second, b = load_or_train([train_file], tmp_path / "two")
    assert a.retrained and b.retrained and a.fingerprint == b.fingerprint
    assert first == second
    pairs = [(r["premise"], r["hypothesis"]) for r in _rows(seed=42, documents=8)]
    assert first.predict_many(pairs) == second.predict_many(pairs)
    assert a.path.read_bytes() == b.path.read_bytes()


def test_rejects_bad_input(train_file: Path, artifacts: Path, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="unknown local judge settings"):
        load_or_train([train_file], artifacts, learning_rate=0.1)
    with pytest.raises(ValueError, match="weight"):
        TrainingSource(train_file, 0.0)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"premise": "a", "hypothesis": "b", "target": 1}\n{"premise": "a"}\n')
    with pytest.raises(DatasetError, match="broken.jsonl:2: missing field 'hypothesis'"):
        load_or_train([broken], artifacts)
    one_class = _write(tmp_path / "one.jsonl", [r for r in _rows(1, 5) if r["target"] == 1])
    with pytest.raises(ValueError, match="both"):
        load_or_train([one_class], artifacts)


def test_model_checks_its_shape() -> None:
    with pytest.raises(ValueError, match="coefficients"):
        LocalJudgeModel(coefficients=(1.0,), intercept=0.0, means=(0.0,), scales=(1.0,))


def test_a_threshold_fit_on_validation_rows_is_kept_with_the_model(
    train_file: Path, artifacts: Path, tmp_path: Path
) -> None:
    from pytest_llmjudge.local import ThresholdFit
    from pytest_llmjudge.scoring.metrics import compute_metrics

    validation = _write(tmp_path / "validation.jsonl", _rows(seed=7, documents=15))
    plain, _ = load_or_train([train_file], artifacts)
    fitted, info = load_or_train([train_file], artifacts, threshold=ThresholdFit(validation, "f1"))
    assert info.retrained and info.threshold is not None  # its own artifact: a new fingerprint
    assert fitted.threshold == info.threshold.threshold and plain.threshold == 0.5
    saved = json.loads(info.path.read_text())
    assert saved["threshold"] == fitted.threshold and saved["threshold_fit"]["metric"] == "f1"
    rows = _rows(seed=7, documents=15)
    found = plain.predict_many((r["premise"], r["hypothesis"]) for r in rows)

    def f1_at(threshold: float) -> float:
        pairs = [
            (r["target"], int(p.probability >= threshold)) for r, p in zip(rows, found, strict=True)
        ]
        return compute_metrics(pairs).f1 or 0.0

    assert info.threshold.value == pytest.approx(f1_at(fitted.threshold))
    assert f1_at(fitted.threshold) >= f1_at(0.5)
    again, reused = load_or_train([train_file], artifacts, threshold=ThresholdFit(validation, "f1"))
    assert not reused.retrained and again.threshold == fitted.threshold
    assert reused.threshold == info.threshold
    _, other = load_or_train([train_file], artifacts, threshold=ThresholdFit(validation, "kappa"))
    assert other.retrained and other.path != info.path
    with pytest.raises(ValueError, match="cannot fit a threshold for 'brier'"):
        ThresholdFit(validation, "brier")
