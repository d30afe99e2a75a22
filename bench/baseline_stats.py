"""What the baseline gate can and cannot see, and what the intervals cost.

    python bench/baseline_stats.py [--sims 2000] [--seed 0]

1. Cost of compute_metrics (Wilson intervals, F1 included) by n.
2. Power of the regression gate: a baseline judge right on 80% of the cases, and a candidate
   whose accuracy is lower by `drop` (it disagrees with the baseline on 10% of the cases plus
   what the drop needs). Prints the share of simulated runs in which the exact McNemar test
   (two-sided, alpha 0.05, the test `compare` uses) calls the candidate `worse`. The 0.00 row
   is the false-alarm rate.
3. Cases needed to show accuracy >= threshold from a point estimate (Wilson lower bound).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pytest_llmjudge.scoring.metrics import compute_metrics
from pytest_llmjudge.scoring.stats import cases_needed, mcnemar_exact


def metrics_cost() -> None:
    print("compute_metrics (with intervals), median of 5:")
    rng = np.random.default_rng(0)
    for n in (100, 1_000, 10_000, 100_000):
        targets = rng.integers(0, 2, n)
        predictions = np.where(rng.random(n) < 0.8, targets, 1 - targets)
        pairs = list(zip(targets.tolist(), predictions.tolist(), strict=True))
        times = []
        for _ in range(5):
            start = time.perf_counter()
            compute_metrics(pairs)
            times.append(time.perf_counter() - start)
        print(f"  n={n:>7}: {sorted(times)[2] * 1000:8.1f} ms")


def power(sims: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    drops = (0.0, 0.02, 0.05, 0.10)
    sizes = (100, 300, 1_000, 3_000)
    print("\nshare of runs the regression gate calls `worse` (alpha 0.05, 10% churn):")
    print("  drop  " + "".join(f"n={n:<8}" for n in sizes))
    for drop in drops:
        row = []
        for n in sizes:
            # discordant cases: fixed with prob f, broken with prob f + drop
            f = 0.05
            p = rng.multinomial(n, [f, f + drop, 1 - 2 * f - drop], size=sims)
            worse = sum(
                1
                for fixed, broken, _ in p
                if broken > fixed and mcnemar_exact(fixed, broken) < 0.05
            )
            row.append(f"{worse / sims:<10.2f}")
        print(f"  {drop:.2f}  " + "".join(row))


def needed() -> None:
    print("\ncases needed to show accuracy >= threshold (95% Wilson lower bound):")
    for threshold, estimate in ((0.7, 0.75), (0.8, 0.85), (0.9, 0.93), (0.95, 0.96)):
        n = cases_needed(threshold, estimate)
        print(f"  >= {threshold:.2f} at an estimate of {estimate:.2f}: {n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    metrics_cost()
    power(args.sims, args.seed)
    needed()


if __name__ == "__main__":
    main()
