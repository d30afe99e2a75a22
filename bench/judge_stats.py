"""What repeats and the agreement metrics show, on simulated and real judges.

    python bench/judge_stats.py [--cases 400] [--seed 0]

1. Repeats: a simulated judge (function backend, seeded) on `--cases` cases; 30% of the cases
   are unstable, and on those each repetition flips the verdict with probability 0.3 (the other
   70% never flip). For N = 1, 3, 5 repetitions it prints the measured flaky share with its 95%
   interval beside the expected one, 0.3 * (1 - 0.7^N - 0.3^N): the share of cases whose N
   repetitions can be seen to disagree (a single repetition cannot disagree: n/a), and the
   requests each N costs.
2. Skewed data: on a 90%-positive set, a judge that always says "consistent" reaches accuracy
   0.9 while kappa is 0 and MCC undefined (n/a: it never says "inconsistent"); the offline
   local judge, trained as the evals train it (FIB's training rows and ours), for contrast.
   The set is FIB's validation rows (50 positives and 6 negatives) when ../shared/data
   exists, else our data/news-dev.jsonl resampled to 90% positives.
Every figure comes from `evaluate()`, the same core as a pytest run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from pytest_llmjudge import Dataset, Judge, evaluate, local_judge
from pytest_llmjudge.scoring.gating import with_interval

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
UNSTABLE, FLIP = 0.3, 0.3


def _draw(*parts: object) -> float:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _write(rows: list[dict[str, Any]], folder: Path, name: str) -> Path:
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def repeats(cases: int, seed: int, folder: Path) -> None:
    rows = [
        {"id": f"c{i}", "premise": f"Document {i}.", "hypothesis": f"Summary {i}.", "target": i % 2}
        for i in range(cases)
    ]
    path = _write(rows, folder, "repeats")
    calls = {"n": 0}

    def simulated(case: Any) -> int:
        calls["n"] += 1
        unstable = _draw(seed, "unstable", case.id) < UNSTABLE
        flips = unstable and _draw(seed, "flip", case.id, case.repeat) < FLIP
        return 1 - case.target if flips else case.target

    judge = Judge(name="simulated", backend="function", function=simulated)
    print(f"1. Repeats: {cases} cases, {UNSTABLE:.0%} unstable, each repetition of those flips")
    print(f"   with probability {FLIP}; true unstable share {UNSTABLE}")
    print("   N  requests  flaky measured [95% CI]  flaky expected  self-consistency [95% CI]")
    for n in (1, 3, 5):
        calls["n"] = 0
        (run,) = evaluate(path, [judge], repeat=n).runs
        m = run.metrics
        expected = UNSTABLE * (1 - (1 - FLIP) ** n - FLIP**n) if n > 1 else None
        flaky = with_interval(m.flaky, m.interval("flaky"))
        consistency = with_interval(m.self_consistency, m.interval("self_consistency"))
        shown = "n/a" if expected is None else f"{expected:.3f}"
        print(f"   {n}  {calls['n']:>8}  {flaky:<23}  {shown:<14}  {consistency}")


def skewed_rows(seed: int) -> tuple[list[dict[str, Any]], str]:
    if (SHARED / "fib-val-dev.jsonl").exists():
        rows = [json.loads(line) for line in (SHARED / "fib-val-dev.jsonl").open()]
        where = "FIB validation rows"
    else:
        rows = [json.loads(line) for line in (ROOT / "data" / "news-dev.jsonl").open()]
        where = "data/news-dev.jsonl (../shared/data is absent)"
    positives = [r for r in rows if r["target"] == 1]
    negatives = [r for r in rows if r["target"] == 0]
    random.Random(seed).shuffle(negatives)
    keep = negatives[: max(1, round(len(positives) / 9))]
    chosen = [{**r, "id": f"r{i}"} for i, r in enumerate(positives + keep)]
    return chosen, f"{where}: {len(positives)} positives, {len(keep)} negatives"


def skewed(seed: int, folder: Path) -> None:
    rows, where = skewed_rows(seed)
    path = _write(rows, folder, "skewed")
    always = Judge(name="always-1", backend="function", function=lambda case: 1)
    train: list[Path | tuple[Path, float]] = [(ROOT / "data" / "news-train.jsonl", 10.0)]
    if (SHARED / "fib-train.jsonl").exists():  # the evals' offline judge (evals/conftest.py)
        train.insert(0, (SHARED / "fib-train.jsonl", 1.0))
    offline = local_judge("offline", train=train)
    result = evaluate(Dataset(path=path), [always, offline])
    print(f"\n2. Skewed data, {where}")
    names = ("accuracy", "kappa", "mcc", "balanced_accuracy", "specificity")
    print("   judge     " + "  ".join(f"{n:<20}" for n in names))
    for run in result.runs:
        m = run.metrics
        cells = [with_interval(m.value(n), m.interval(n)) for n in names]
        print(f"   {run.judge:<9} " + "  ".join(f"{c:<20}" for c in cells))
        for name in names:
            why = m.undefined(name)
            if why:
                print(f"             {name} n/a: {why}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repeats(args.cases, args.seed, Path(tmp))
        skewed(args.seed, Path(tmp))


if __name__ == "__main__":
    main()
