"""pytest-llmjudge: test LLM judges the way you test code.

The public names load on first use (PEP 562), so that pytest loading the plugin stays fast in
runs that evaluate no judge.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_llmjudge.api import EvaluationResult, evaluate, evaluate_async
    from pytest_llmjudge.errors import ConfigError, DatasetError, LLMJudgeError
    from pytest_llmjudge.model.dataset import Case, Dataset, FieldMap, load_cases
    from pytest_llmjudge.model.gen_dataset import GenCase, GenDataset, load_gen_cases
    from pytest_llmjudge.model.generator import Generator, Sampling
    from pytest_llmjudge.model.judge import (
        Example,
        Judge,
        draw_examples,
        few_shot_judge,
        fine_tuned_judge,
        local_judge,
        prompted_judge,
    )
    from pytest_llmjudge.model.verdict import Verdict, parse_verdict
    from pytest_llmjudge.scoring.thresholds import Threshold, parse_threshold

_EXPORTS = {
    "api": ("EvaluationResult", "evaluate", "evaluate_async"),
    "model.dataset": ("Case", "Dataset", "FieldMap", "load_cases"),
    "errors": ("ConfigError", "DatasetError", "LLMJudgeError"),
    "model.gen_dataset": ("GenCase", "GenDataset", "load_gen_cases"),
    "model.generator": ("Generator", "Sampling"),
    "model.judge": (
        "Example",
        "Judge",
        "draw_examples",
        "few_shot_judge",
        "fine_tuned_judge",
        "local_judge",
        "prompted_judge",
    ),
    "scoring.thresholds": ("Threshold", "parse_threshold"),
    "model.verdict": ("Verdict", "parse_verdict"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "Case",
    "ConfigError",
    "Dataset",
    "DatasetError",
    "EvaluationResult",
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
    "evaluate",
    "evaluate_async",
    "few_shot_judge",
    "fine_tuned_judge",
    "load_cases",
    "load_gen_cases",
    "local_judge",
    "parse_threshold",
    "parse_verdict",
    "prompted_judge",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("pytest-llmjudge")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0.0.0"
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # not cached here: the name always follows the module in sys.modules (pytester's in-process
    # runs drop the modules a run imported, and the next run imports them anew)
    return getattr(importlib.import_module(f".{module}", __name__), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
