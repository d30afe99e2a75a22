"""Model backends: one module per backend, behind the protocols of calls/protocol.py."""

from __future__ import annotations

from pytest_llmjudge.calls.protocol import Backend
from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.settings import Settings

__all__ = ["BACKENDS", "Backend", "create_backend"]

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
