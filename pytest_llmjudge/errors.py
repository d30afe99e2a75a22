"""Errors raised by pytest-llmjudge."""

from __future__ import annotations

from pathlib import Path


class LLMJudgeError(Exception):
    """Base class of the plugin's errors."""


class DatasetError(LLMJudgeError):
    """A dataset file that cannot be turned into cases; says where and what."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {problem}")


class ConfigError(LLMJudgeError):
    """A judge, threshold or option that is declared wrongly."""
