"""Benchmark the offline local judge on the FIB data beside the repository.

Trains on ../shared/data/fib-train.jsonl (grouped 5-fold cross-validation included), scores
../shared/data/fib-val-dev.jsonl once, and times training and judging. Run from anywhere:

    python bench/local_judge.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_llmjudge.local import TrainingSource, load_or_train  # noqa: E402
from pytest_llmjudge.local.features import analyse_document  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
TRAIN = DATA / "fib-train.jsonl"
DEV = DATA / "fib-val-dev.jsonl"


def _cases(path: Path) -> list[tuple[str, str, int]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [(row["premise"], row["hypothesis"], int(row["target"])) for row in rows]


def main() -> int:
    """Print cross-validation and dev figures, training time and judging throughput."""
    missing = [str(path) for path in (TRAIN, DEV) if not path.is_file()]
    if missing:
        print(f"local judge bench: data not found: {', '.join(missing)}", file=sys.stderr)
        print("(the FIB files live in ../shared/data beside the repository)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as artifacts:
        model, info = load_or_train([TrainingSource(TRAIN)], Path(artifacts), seed=0)
    dev = _cases(DEV)
    pairs = [(premise, hypothesis) for premise, hypothesis, _ in dev]
    analyse_document.cache_clear()
    started = time.perf_counter()
    predictions = model.predict_many(pairs)
    judging = time.perf_counter() - started

    labels = [p.label for p in predictions]
    targets = [target for _, _, target in dev]
    hits = sum(label == target for label, target in zip(labels, targets, strict=True))
    true_pos = sum(label == target == 1 for label, target in zip(labels, targets, strict=True))
    precision = true_pos / max(sum(labels), 1)
    recall = true_pos / max(sum(targets), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    cv = f"{info.cv_accuracy:.3f}" if info.cv_accuracy is not None else "n/a"

    print(f"training data        {TRAIN.name}: {info.n_rows} rows")
    print(f"grouped 5-fold CV    accuracy {cv}")
    print(f"dev ({DEV.name}, {len(dev)} rows)")
    print(f"  accuracy           {hits / len(dev):.3f}")
    print(f"  precision          {precision:.3f}  (positive class: consistent, target 1)")
    print(f"  recall             {recall:.3f}")
    print(f"  F1                 {f1:.3f}")
    print(f"training time        {info.seconds:.2f} s for {info.n_rows} rows (5-fold CV included)")
    per_case = 1000 * judging / len(dev)
    print(f"judging throughput   {len(dev) / judging:.0f} cases/s ({per_case:.2f} ms/case)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
