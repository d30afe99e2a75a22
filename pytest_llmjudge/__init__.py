"""pytest-llmjudge: test LLM judges the way you test code.

The public names load on first use (PEP 562), so that pytest loading the plugin stays fast in
runs that evaluate no judge.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_EXPORTS = {
    "dataset": ("Case", "Dataset", "FieldMap", "load_cases"),
    "errors": ("ConfigError", "DatasetError", "LLMJudgeError"),
    "generation": ("GenCase", "GenDataset", "Generator", "Sampling", "load_gen_cases"),
    "judge": (
        "Example",
        "Judge",
        "draw_examples",
        "few_shot_judge",
        "fine_tuned_judge",
        "local_judge",
        "prompted_judge",
    ),
    "thresholds": ("Threshold", "parse_threshold"),
    "verdict": ("Verdict", "parse_verdict"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

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
