"""Benchmark the offline local judge on the FIB data beside the repository and on our news data.

Trains on ../shared/data/fib-train.jsonl (grouped 5-fold cross-validation included), scores
../shared/data/fib-val-dev.jsonl once, and times training and judging; then does the same for the
two-file judge of evals/ (FIB + data/news-train.jsonl weighted 10) on both dev sets. Run:

    python bench/local_judge.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_llmjudge import load_cases  # noqa: E402
from pytest_llmjudge.local import (  # noqa: E402
    LocalJudgeModel,
    TrainingRow,
    TrainingSource,
    load_or_train,
    train,
)
from pytest_llmjudge.local.features import analyse_document  # noqa: E402
from pytest_llmjudge.scoring.metrics import compute_metrics  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
TRAIN = DATA / "fib-train.jsonl"
DEV = DATA / "fib-val-dev.jsonl"
NEWS_TRAIN = ROOT / "data" / "news-train.jsonl"
NEWS_DEV = ROOT / "data" / "news-dev.jsonl"
NEWS_WEIGHT = 10.0


def score(model: LocalJudgeModel, path: Path) -> None:
    """Print accuracy (95% Wilson interval), precision, recall and F1 of `model` on `path`."""
    cases = load_cases(path)
    predictions = model.predict_many((c.premise, c.hypothesis) for c in cases)
    m = compute_metrics([(c.target, p.label) for c, p in zip(cases, predictions, strict=True)])
    lo, hi = m.accuracy_ci
    print(
        f"  {path.name:<22} n={m.n:<4} accuracy {m.accuracy:.3f} [{lo:.2f}, {hi:.2f}]  "
        f"precision {m.precision:.3f}  recall {m.recall:.3f}  F1 {m.f1:.3f}"
    )


def news_weight_cv(weights: tuple[float, ...] = (1.0, 3.0, 10.0, 15.0), folds: int = 5) -> None:
    """Grouped CV on news-train (FIB always in training): how the news weight was chosen."""
    fib = [TrainingRow(c.premise, c.hypothesis, c.target) for c in load_cases(TRAIN)]
    news = load_cases(NEWS_TRAIN)
    documents = list(dict.fromkeys(c.premise for c in news))
    fold_of = {d: i % folds for i, d in enumerate(documents)}
    for weight in weights:
        hits = 0
        for fold in range(folds):
            held = [c for c in news if fold_of[c.premise] == fold]
            rows = fib + [
                TrainingRow(c.premise, c.hypothesis, c.target, weight)
                for c in news
                if fold_of[c.premise] != fold
            ]
            model, _ = train(rows)
            predictions = model.predict_many((c.premise, c.hypothesis) for c in held)
            hits += sum(p.label == c.target for p, c in zip(predictions, held, strict=True))
        print(
            f"  news weight {weight:>4g}: grouped {folds}-fold CV accuracy on news-train "
            f"{hits / len(news):.3f}"
        )


def main() -> int:
    """Print cross-validation and dev figures, training time and judging throughput."""
    missing = [str(path) for path in (TRAIN, DEV) if not path.is_file()]
    if missing:
        print(f"local judge bench: data not found: {', '.join(missing)}", file=sys.stderr)
        print("(the FIB files live in ../shared/data beside the repository)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as artifacts:
        model, info = load_or_train([TrainingSource(TRAIN)], Path(artifacts), seed=0)
        mixed, mixed_info = load_or_train(
            [TrainingSource(TRAIN), TrainingSource(NEWS_TRAIN, NEWS_WEIGHT)], Path(artifacts)
        )
    dev = load_cases(DEV)
    analyse_document.cache_clear()
    started = time.perf_counter()
    model.predict_many((c.premise, c.hypothesis) for c in dev)
    judging = time.perf_counter() - started

    print(f"local judge trained on {TRAIN.name} ({info.n_rows} rows)")
    print(f"  grouped 5-fold CV accuracy {info.cv_accuracy:.3f}")
    print(f"  training time {info.seconds:.2f} s for {info.n_rows} rows (5-fold CV included)")
    per_case_ms = 1000 * judging / len(dev)
    print(f"  judging throughput {len(dev) / judging:.0f} cases/s ({per_case_ms:.2f} ms/case)")
    score(model, DEV)
    score(model, NEWS_DEV)
    print(
        f"local judge trained on {TRAIN.name} + {NEWS_TRAIN.name} x{NEWS_WEIGHT:g} "
        f"({mixed_info.n_rows} rows; the evals' local judge)"
    )
    print(f"  grouped 5-fold CV accuracy {mixed_info.cv_accuracy:.3f} (over both files)")
    news_weight_cv()
    score(mixed, DEV)
    score(mixed, NEWS_DEV)
    return 0


if __name__ == "__main__":
    sys.exit(main())
