"""Model backends: one module per backend, behind a small protocol."""

from __future__ import annotations

from typing import Protocol

from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.settings import Settings


class Backend(Protocol):
    """Answers one judge's question about one case; created per batch."""

    notes: list[str]

    def unavailable(self) -> str | None:
        """Why this backend cannot run here (e.g. a missing API key), or None."""

    async def judge(self, case: Case) -> Verdict:
        """The judge's verdict on `case` (errors become unscored verdicts, never exceptions)."""

    async def aclose(self) -> None:
        """Release clients and connections."""


BACKENDS = ("mistral", "local", "function", "hf")


def create_backend(judge: Judge, settings: Settings) -> Backend:
    """The backend that runs `judge`."""
    if judge.backend == "mistral":
        from pytest_llmjudge.backends.mistral import MistralBackend

        return MistralBackend(judge, settings)
    if judge.backend == "local":
        from pytest_llmjudge.backends.local import LocalBackend

        return LocalBackend(judge, settings)
    if judge.backend == "hf":
        from pytest_llmjudge.backends.hf import HFBackend

        return HFBackend(judge, settings)
    if judge.backend == "function":
        from pytest_llmjudge.backends.function import FunctionBackend

        return FunctionBackend(judge)
    raise ConfigError(
        f"judge {judge.name!r}: unknown backend {judge.backend!r} (one of {', '.join(BACKENDS)})"
    )
