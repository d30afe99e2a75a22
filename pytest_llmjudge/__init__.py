"""pytest-llmjudge: test LLM judges the way you test code."""

from importlib.metadata import PackageNotFoundError, version

from .dataset import Case, Dataset, FieldMap, load_cases
from .errors import ConfigError, DatasetError, LLMJudgeError
from .generation import GenCase, GenDataset, Generator, Sampling, load_gen_cases
from .judge import (
    Example,
    Judge,
    draw_examples,
    few_shot_judge,
    fine_tuned_judge,
    local_judge,
    prompted_judge,
)
from .thresholds import Threshold, parse_threshold
from .verdict import Verdict, parse_verdict

try:
    __version__ = version("pytest-llmjudge")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Case",
    "ConfigError",
    "Dataset",
    "DatasetError",
    "Example",
    "FieldMap",
    "GenCase",
    "GenDataset",
    "Generator",
    "Judge",
    "LLMJudgeError",
    "Sampling",
    "Threshold",
    "Verdict",
    "__version__",
    "draw_examples",
    "few_shot_judge",
    "fine_tuned_judge",
    "load_cases",
    "load_gen_cases",
    "local_judge",
    "parse_threshold",
    "parse_verdict",
    "prompted_judge",
]
