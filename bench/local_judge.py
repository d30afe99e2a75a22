"""Benchmark the offline local judge of evals/ on the FIB data beside the repository and our news.

The judge is trained on ../shared/data/fib-train.jsonl plus data/news-train.jsonl (weighted).
Its news weight, regularisation C and threshold were chosen by 5-fold cross-validation grouped
by document over both training files (the selection table below, seeds 0-4, maximising the mean
of the two files' accuracies); its features by the same cross-validation (the line "without the
issue-19 features" drops the name-neighbour, word-pair and short-document features). Then
../shared/data/fib-val-dev.jsonl is scored once, and data/news-dev.jsonl for transfer. Run:

    python bench/local_judge.py
"""

from __future__ import annotations

import copy
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_llmjudge import load_cases  # noqa: E402
from pytest_llmjudge.local import (  # noqa: E402
    LocalJudgeModel,
    TrainingRow,
    TrainingSource,
    load_or_train,  # noqa: E402
)
from pytest_llmjudge.local.features import FEATURE_NAMES, analyse_document  # noqa: E402
from pytest_llmjudge.local.model import (  # noqa: E402
    DEFAULT_C,
    document_folds,
    feature_matrix,
    out_of_fold,
)
from pytest_llmjudge.scoring.metrics import Metrics, compute_metrics  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
TRAIN = DATA / "fib-train.jsonl"
DEV = DATA / "fib-val-dev.jsonl"
NEWS_TRAIN = ROOT / "data" / "news-train.jsonl"
NEWS_DEV = ROOT / "data" / "news-dev.jsonl"
NEWS_WEIGHT = 10.0  # the same as evals/conftest.py
THRESHOLD = 0.55  # the same as evals/conftest.py
NEW_FEATURES = FEATURE_NAMES.index("far_neighbour_share")  # the features issue 19 added start here
SEEDS = (0, 1, 2, 3, 4)


def line(name: str, m: Metrics) -> str:
    """Accuracy with its 95% Wilson interval, precision, recall and F1."""
    lo, hi = m.accuracy_ci
    return (
        f"  {name:<34} n={m.n:<4} accuracy {m.accuracy:.3f} [{lo:.2f}, {hi:.2f}]  "
        f"precision {m.precision:.3f}  recall {m.recall:.3f}  F1 {m.f1:.3f}"
    )


def score(model: LocalJudgeModel, path: Path) -> Metrics:
    """The metrics of `model` on the cases of `path`."""
    cases = load_cases(path)
    predictions = model.predict_many((c.premise, c.hypothesis) for c in cases)
    return compute_metrics([(c.target, p.label) for c, p in zip(cases, predictions, strict=True)])


class CrossValidation:
    """Out-of-fold verdicts on both training files, folds grouped by document (features once)."""

    def __init__(self) -> None:
        fib, news = load_cases(TRAIN), load_cases(NEWS_TRAIN)
        rows = [TrainingRow(k.premise, k.hypothesis, k.target) for k in [*fib, *news]]
        self.matrix, self.targets, _ = feature_matrix(rows)
        self.premises = [row.premise for row in rows]
        self.is_news = np.arange(len(rows)) >= len(fib)

    def without_new_features(self) -> CrossValidation:
        """The same rows with the issue-19 features held at 0 (so they get no weight)."""
        ablated = copy.copy(self)
        ablated.matrix = self.matrix.copy()
        ablated.matrix[:, NEW_FEATURES:] = 0.0
        return ablated

    def pairs(
        self, news_weight: float, c: float, threshold: float, seed: int
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Out-of-fold (target, label) pairs of the FIB rows and of the news rows."""
        weights = np.where(self.is_news, news_weight, 1.0)
        folds = document_folds(self.premises, 5, seed)
        probabilities = out_of_fold(self.matrix, self.targets, weights, folds, c, seed)
        assert probabilities is not None
        pairs = [
            (int(t), int(p >= threshold)) for t, p in zip(self.targets, probabilities, strict=True)
        ]
        fib = [pair for pair, news in zip(pairs, self.is_news, strict=True) if not news]
        return fib, [pair for pair, news in zip(pairs, self.is_news, strict=True) if news]


def selection(cv: CrossValidation) -> None:
    """Grouped-CV accuracy on each training file for the candidate settings (mean over seeds)."""
    print("selection: grouped 5-fold CV accuracy, mean over seeds 0-4 (fib-train / news-train)")
    for news_weight in (1.0, 5.0, 10.0, 15.0):
        for c in (0.01, 0.03, 0.1, 0.3):
            cells = []
            for threshold in (0.45, 0.5, 0.55):
                runs = [cv.pairs(news_weight, c, threshold, seed) for seed in SEEDS]
                fib = np.mean([compute_metrics(f).accuracy for f, _ in runs])
                news = np.mean([compute_metrics(n).accuracy for _, n in runs])
                cells.append(f"t={threshold:.2f} {fib:.3f}/{news:.3f} ({(fib + news) / 2:.3f})")
            print(f"  news x{news_weight:<3g} C={c:<5g} " + "  ".join(cells))


def seed_means(cv: CrossValidation, name: str) -> None:
    """The chosen setting's CV accuracy on each file: mean, lowest and highest over the seeds."""
    runs = [cv.pairs(NEWS_WEIGHT, DEFAULT_C, THRESHOLD, seed) for seed in SEEDS]
    cells = []
    for part, label in ((0, "fib-train"), (1, "news-train")):
        accuracies = [compute_metrics(run[part]).accuracy for run in runs]
        cells.append(
            f"{label} {np.mean(accuracies):.3f} (seeds {min(accuracies):.3f}-{max(accuracies):.3f})"
        )
    print(f"  {name:<34} " + "  ".join(cells))


def main() -> int:
    """Print the selection, the chosen judge's CV and dev figures, training time and throughput."""
    missing = [str(path) for path in (TRAIN, DEV) if not path.is_file()]
    if missing:
        print(f"local judge bench: data not found: {', '.join(missing)}", file=sys.stderr)
        print("(the FIB files live in ../shared/data beside the repository)", file=sys.stderr)
        return 2
    cv = CrossValidation()
    if "--no-selection" not in sys.argv:
        selection(cv)
    sources = [TrainingSource(TRAIN), TrainingSource(NEWS_TRAIN, NEWS_WEIGHT)]
    with tempfile.TemporaryDirectory() as artifacts:
        analyse_document.cache_clear()
        model, info = load_or_train(sources, Path(artifacts), seed=0, decision_threshold=THRESHOLD)
    dev = load_cases(DEV)
    analyse_document.cache_clear()
    started = time.perf_counter()
    model.predict_many((c.premise, c.hypothesis) for c in dev)
    judging = time.perf_counter() - started

    print(
        f"chosen: {TRAIN.name} + {NEWS_TRAIN.name} x{NEWS_WEIGHT:g} ({info.n_rows} rows), "
        f"C={DEFAULT_C:g}, threshold {THRESHOLD}"
    )
    fib_cv, news_cv = cv.pairs(NEWS_WEIGHT, DEFAULT_C, THRESHOLD, seed=0)  # intervals: seed 0
    print(line("grouped 5-fold CV on fib-train", compute_metrics(fib_cv)))
    print(line("grouped 5-fold CV on news-train", compute_metrics(news_cv)))
    seed_means(cv, "CV mean over seeds 0-4")
    seed_means(cv.without_new_features(), "without the issue-19 features")
    print(line(f"{DEV.name} (scored once)", score(model, DEV)))
    print(line(NEWS_DEV.name, score(model, NEWS_DEV)))
    print(f"  training time {info.seconds:.2f} s for {info.n_rows} rows (5-fold CV included)")
    per_case_ms = 1000 * judging / len(dev)
    print(f"  judging throughput {len(dev) / judging:.0f} cases/s ({per_case_ms:.2f} ms/case)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
