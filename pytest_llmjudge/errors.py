"""Errors raised by pytest-llmjudge."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pytest_llmjudge.secrets import redact, redact_optional


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


class CallError(LLMJudgeError):
    """A model call that failed; the runner decides whether to retry it.

    Attributes:
        status: the HTTP status, or None for a timeout or connection error.
        retry_after: seconds the server asked to wait (Retry-After), when it said.
        permanent: whether retrying cannot help (401, 403, 404, 422, ...).
        message: the cause, secrets masked (here: whoever raises one need not).
        raw: the raw response body, when there is one worth keeping (masked too).
    """

    PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 410, 413, 422})
    HALTING_STATUSES = frozenset({401, 403, 404, 410})  # wrong key, model or server: stop the judge

    def __init__(
        self,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
        permanent: bool | None = None,
        raw: str | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.permanent = (status in self.PERMANENT_STATUSES) if permanent is None else permanent
        self.message = redact(message)
        self.raw = redact_optional(raw)
        super().__init__(self.message)

    @property
    def halts(self) -> bool:
        """Whether no further request of the same judge can succeed (bad key, model or server)."""
        return self.permanent and self.status in self.HALTING_STATUSES


def unknown(kind: str, name: object, known: Iterable[str]) -> str:
    """`unknown <kind> 'name'`, the nearest known name when one is close, and the known ones."""
    import difflib  # only on the error path

    names = sorted(known)
    hint = difflib.get_close_matches(str(name), names, n=1)
    nearest = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"unknown {kind} {name!r}{nearest} (known: {', '.join(names) or 'none'})"
