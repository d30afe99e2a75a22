"""The request and token budget of a session, and the estimate printed before a run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REQUEST_BUDGET = "request budget of {n} reached"
TOKEN_BUDGET = "token budget of {n} reached"
BUDGET_MARK = "budget of "


def estimate_tokens(identity: Mapping[str, Any]) -> int:
    """Tokens a request may use: its rendered messages' characters / 4, plus max_tokens."""
    chars = sum(len(str(m.get("content", ""))) for m in identity.get("messages") or ())
    return chars // 4 + int(identity.get("max_tokens") or 0)


def is_budget_cause(error: str | None) -> bool:
    """Whether an unscored case's cause is an exhausted budget."""
    return error is not None and BUDGET_MARK in error and error.endswith("reached")


class Budget:
    """Counts the requests and tokens of a session; refuses requests once a limit is reached.

    In-flight requests count with their estimate until their real token count is known, so that
    concurrent requests cannot overshoot the token budget by much.
    """

    def __init__(self, max_requests: int | None = None, max_tokens: int | None = None) -> None:
        self.max_requests = max_requests
        self.max_tokens = max_tokens
        self.requests = 0
        self.tokens = 0
        self._reserved = 0
        self.refused = 0

    def reserve(self, estimate: int) -> str | None:
        """Count one request about to be sent; or the reason it may not be sent."""
        if self.max_requests is not None and self.requests >= self.max_requests:
            self.refused += 1
            return REQUEST_BUDGET.format(n=self.max_requests)
        if self.max_tokens is not None and self.tokens + self._reserved >= self.max_tokens:
            self.refused += 1
            return TOKEN_BUDGET.format(n=self.max_tokens)
        self.requests += 1
        self._reserved += estimate
        return None

    def settle(self, estimate: int, tokens: int | None) -> None:
        """A request reserved with `estimate` finished, using `tokens` (None: unknown)."""
        self._reserved -= estimate
        self.tokens += tokens if tokens is not None else 0

    @property
    def exhausted(self) -> bool:
        """Whether a request was refused for lack of budget."""
        return self.refused > 0
