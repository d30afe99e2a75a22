"""Generator evaluations: a judge as the metric of the models that write answers.

A generator answers prompts from their source context (JSONL: `context`, `prompt`, optional
`reference`, optional `id`); a judge labels each answer consistent with the context or not
(premise = context, hypothesis = answer). A run is one generator at one sampling point; its
metrics are the hallucination rate with its Wilson interval, faithfulness, relevancy and answer
length, gated like a judge's (`hallucination_rate<=0.1`), and a candidate generator is compared
with a baseline one on the same cases (exact McNemar).
"""

from .cases import GenCase, GenDataset, GenFields, load_gen_cases
from .metrics import GenMetrics, compute_gen_metrics, lexical_relevancy
from .spec import GENERATE_PROMPT, Generator, Sampling, sampling_grid

__all__ = [
    "GENERATE_PROMPT",
    "GenCase",
    "GenDataset",
    "GenFields",
    "GenMetrics",
    "Generator",
    "Sampling",
    "compute_gen_metrics",
    "lexical_relevancy",
    "load_gen_cases",
    "sampling_grid",
]
