"""What a backend is: the protocols every backend and the call machinery agree on.

A `Backend` answers one judge's question about one case. A `ModelBackend` calls a model server:
one raw request per call, failures raised as `CallError`; `calls.reliable` adds the cache,
retries, limits and budget around it for every such backend alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.verdict import Verdict


class Backend(Protocol):
    """Answers one judge's question about one case; created per batch."""

    notes: list[str]

    def unavailable(self) -> str | None:
        """Why this backend cannot run here (e.g. a missing API key), or None."""

    async def judge(self, case: Case) -> Verdict:
        """The judge's verdict on `case` (errors become unscored verdicts, never exceptions)."""

    async def aclose(self) -> None:
        """Release clients and connections."""


@dataclass(frozen=True)
class ModelResponse:
    """A model server's answer to one request.

    Attributes:
        text: the raw model output (None when the answer had none).
        tokens: tokens the call used, when the server reported them.
        prompt_tokens, completion_tokens: the same split into the prompt's and the answer's
            (what a price is applied to), when reported.
        probability: P(label 1) from the answer's log-probabilities, when the server sent them.
    """

    text: str | None
    tokens: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    probability: float | None = None


class ModelBackend(Protocol):
    """A backend that calls a model server: one raw request per call, errors raised as CallError.

    Attributes:
        name: the backend's name, part of the cache key.
        notes: lines for the summary.
    """

    name: str
    notes: list[str]

    def unavailable(self) -> str | None:
        """Why this backend cannot call its server here (e.g. a missing API key), or None."""

    def limit_key(self) -> str:
        """What shares a rate limit: requests with the same key go to the same server."""

    def request_identity(self, case: Case) -> dict[str, Any]:
        """Everything that determines the answer to `case` (no secrets): the cache key's source."""

    async def call(self, case: Case) -> ModelResponse:
        """Send one request; raise CallError when it fails."""

    def parse(self, response: ModelResponse) -> Verdict:
        """The verdict in a response (unscored when ambiguous)."""

    async def aclose(self) -> None:
        """Release clients and connections."""


def request_identity(backend: ModelBackend, case: Case) -> dict[str, Any]:
    """What determines the answer to `case`: the backend's request and, for a repetition after
    the first (repeat=), its index, so that each repetition is its own request and cache entry."""
    identity = backend.request_identity(case)
    return {**identity, "repeat": case.repeat} if case.repeat else identity


def is_model_backend(backend: object) -> bool:
    """Whether `backend` calls a model server through `call()` (and so is cached and retried)."""
    return callable(getattr(backend, "call", None)) and callable(
        getattr(backend, "request_identity", None)
    )


def unavailable(backend: Backend | Any, mode: str) -> str | None:
    """Why `backend` cannot run here (its run is then skipped), or None. The one rule for every
    backend of either run kind: replay never calls the server, so a model backend needs no API
    key (or extra) to replay its cached answers."""
    reason: str | None = backend.unavailable()
    if reason is not None and is_model_backend(backend) and mode == "replay":
        return None
    return reason
