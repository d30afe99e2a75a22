"""A generator's hallucination rate corrected for its judge's errors: bias and coverage.

    python bench/corrected_rates.py [--answers 500] [--labelled 200] [--seeds 2000]

A simulated judge of known sensitivity (0.8: it catches 80% of the hallucinations) and
specificity (0.9: it passes 90% of the faithful answers) first labels `--labelled` labelled cases
(half hallucinated), which is how a session measures it, then labels `--answers` answers of a
generator whose true hallucination rate is known. Printed: the raw rate and the corrected one
(scoring/correction.py, the code a generator run uses) with their 95% intervals for a few seeds,
then over `--seeds` seeds each estimate's mean and the share of intervals that hold the truth.
"""

from __future__ import annotations

import argparse
import random

from pytest_llmjudge.scoring.correction import Corrected, JudgeRates, rogan_gladen
from pytest_llmjudge.scoring.gating import with_interval
from pytest_llmjudge.scoring.stats import wilson_interval

SENSITIVITY, SPECIFICITY = 0.8, 0.9


def judged(rng: random.Random, truly_hallucinated: bool) -> bool:
    """Whether the simulated judge labels an answer inconsistent."""
    if truly_hallucinated:
        return rng.random() < SENSITIVITY
    return rng.random() >= SPECIFICITY


def one(
    seed: int, truth: float, answers: int, labelled: int
) -> tuple[float, tuple[float, float], Corrected]:
    rng = random.Random(seed)
    half = labelled // 2
    caught = sum(judged(rng, True) for _ in range(half))
    passed = sum(not judged(rng, False) for _ in range(labelled - half))
    rates = JudgeRates(caught / half, passed / (labelled - half), half, labelled - half)
    flagged = sum(judged(rng, rng.random() < truth) for _ in range(answers))
    raw = (flagged / answers, wilson_interval(flagged, answers))
    return raw[0], raw[1], rogan_gladen(flagged, answers, rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--labelled", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=2000)
    args = parser.parse_args()
    print(
        f"judge: sensitivity {SENSITIVITY}, specificity {SPECIFICITY}, measured on "
        f"{args.labelled} labelled cases; {args.answers} answers per run"
    )
    for truth in (0.05, 0.20, 0.50):
        expected_raw = truth * SENSITIVITY + (1 - truth) * (1 - SPECIFICITY)
        print(f"\ntrue rate {truth:.2f} (expected raw {expected_raw:.3f})")
        for seed in range(3):
            raw, raw_ci, fixed = one(seed, truth, args.answers, args.labelled)
            print(
                f"  seed {seed}: raw {with_interval(raw, raw_ci)}   "
                f"corrected {with_interval(fixed.rate, fixed.interval)}"
            )
        raws, fixes, raw_hits, fix_hits = [], [], 0, 0
        for seed in range(args.seeds):
            raw, raw_ci, fixed = one(1000 + seed, truth, args.answers, args.labelled)
            raws.append(raw)
            fixes.append(fixed.rate or 0.0)
            raw_hits += raw_ci[0] <= truth <= raw_ci[1]
            low, high = fixed.interval or (0.0, 1.0)
            fix_hits += low <= truth <= high
        n = args.seeds
        print(
            f"  over {n} seeds: raw mean {sum(raws) / n:.3f}, its interval holds the truth "
            f"{raw_hits / n:.1%}; corrected mean {sum(fixes) / n:.3f}, coverage {fix_hits / n:.1%}"
        )


if __name__ == "__main__":
    main()
