"""A judge implemented by a user's Python function (sync or async)."""

from __future__ import annotations

import inspect
from typing import Any

from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict, parse_verdict


class FunctionBackend:
    """Calls `judge.function(case)`; it may return a Verdict, a dict, a 0/1 int or JSON text."""

    def __init__(self, judge: Judge) -> None:
        if judge.function is None:
            raise ConfigError(f"judge {judge.name!r}: backend 'function' needs function=...")
        self._function = judge.function
        self.notes: list[str] = []

    def unavailable(self) -> str | None:
        return None

    async def judge(self, case: Case) -> Verdict:
        result = self._function(case)
        if inspect.isawaitable(result):
            result = await result
        return to_verdict(result)

    async def aclose(self) -> None:
        return None


def to_verdict(result: Any) -> Verdict:
    """Turn a function judge's return value into a Verdict."""
    if isinstance(result, Verdict):
        return result
    if isinstance(result, dict):
        return Verdict.model_validate(result)
    if isinstance(result, str):
        return parse_verdict(result)
    if isinstance(result, int) and result in (0, 1):
        return Verdict(prediction=int(result))
    return Verdict.unscored(f"judge function returned {type(result).__name__} {result!r:.80}")
