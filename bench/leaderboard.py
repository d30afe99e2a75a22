"""A leaderboard of five simulated judges of known accuracies: which pairs it tells apart.

    python bench/leaderboard.py [--cases 200] [--seeds 40]

Five function-backend judges (seeded) on `--cases` balanced cases, each right on a case with
its true accuracy, independently: A 0.90, B 0.85, C 0.80, D 0.80, E 0.70 (C and D are equally
good: telling them apart is a false discovery). The first seed's leaderboard is printed as
`evaluate()` returns it (exact McNemar on each pair, Holm-corrected), then, over `--seeds`
seeds, how often each pair is told apart with Holm and without (raw p < 0.05), and how often a
seed tells apart at least one pair of equal judges (the family-wise error Holm controls).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from itertools import combinations
from pathlib import Path
from typing import Any

from pytest_llmjudge import Judge, evaluate
from pytest_llmjudge.scoring.leaderboard import Entry, Leaderboard, leaderboard

TRUE = {"A": 0.90, "B": 0.85, "C": 0.80, "D": 0.80, "E": 0.70}


def _draw(*parts: object) -> float:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _judge(name: str, seed: int) -> Judge:
    def simulated(case: Any) -> int:
        right = _draw(seed, name, case.id) < TRUE[name]
        return case.target if right else 1 - case.target

    return Judge(name=name, backend="function", function=simulated)


def run(path: Path, seed: int) -> tuple[Leaderboard, Leaderboard]:
    """The seed's leaderboard as evaluate() returns it (Holm), and the same without Holm."""
    result = evaluate(path, [_judge(name, seed) for name in TRUE])
    holm = result.leaderboard()
    entries = [
        Entry(
            r.judge,
            r.metrics.accuracy,
            r.metrics.interval("accuracy"),
            {c.case.id: c.correct for c in r.cases},
        )
        for r in result.runs
    ]
    return holm, leaderboard(holm.dataset, entries, correct_for_multiplicity=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.jsonl"
        rows = [
            {
                "id": f"c{i}",
                "premise": f"Document {i}.",
                "hypothesis": f"Summary {i}.",
                "target": i % 2,
            }
            for i in range(args.cases)
        ]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        truth = ", ".join(f"{k} {v:.2f}" for k, v in TRUE.items())
        print(f"Five simulated judges on {args.cases} cases; true accuracies: {truth}")
        first, _ = run(path, 0)
        print("\nseed 0, as evaluate() returns it:")
        from pytest_llmjudge.outputs.leaderboard import leaderboard_lines

        for line in leaderboard_lines(first.as_dict()):
            print(" ", line)
        pairs = list(combinations(TRUE, 2))
        apart = {"holm": {p: 0 for p in pairs}, "none": {p: 0 for p in pairs}}
        family = {"holm": 0, "none": 0}
        for seed in range(args.seeds):
            for board in run(path, seed):
                told = {tuple(sorted((p.first, p.second))) for p in board.pairs if p.distinct}
                for pair in pairs:
                    apart[board.correction][pair] += pair in told
                family[board.correction] += any(TRUE[a] == TRUE[b] for a, b in told)
        print(f"\nover {args.seeds} seeds: share of seeds each pair is told apart")
        print("  pair   true difference  with Holm  without (raw p<0.05)")
        for a, b in pairs:
            gap = TRUE[a] - TRUE[b]
            print(
                f"  {a}-{b}    {gap:+.2f}            {apart['holm'][(a, b)] / args.seeds:>5.2f}"
                f"      {apart['none'][(a, b)] / args.seeds:>5.2f}"
            )
        holm, raw = (family[k] / args.seeds for k in ("holm", "none"))
        print(
            f"  seeds telling equal judges apart (family-wise error): with Holm {holm:.2f}, "
            f"without {raw:.2f}"
        )


if __name__ == "__main__":
    main()
