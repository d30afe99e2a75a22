"""Model backends: one module per backend, behind a small protocol."""

from __future__ import annotations

from typing import Protocol

from ..dataset import Case
from ..errors import ConfigError
from ..judge import Judge
from ..settings import Settings
from ..verdict import Verdict


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
        from .mistral import MistralBackend

        return MistralBackend(judge, settings)
    if judge.backend == "local":
        from .local import LocalBackend

        return LocalBackend(judge, settings)
    if judge.backend == "hf":
        from .hf import HFBackend

        return HFBackend(judge, settings)
    if judge.backend == "function":
        from .function import FunctionBackend

        return FunctionBackend(judge)
    raise ConfigError(
        f"judge {judge.name!r}: unknown backend {judge.backend!r} (one of {', '.join(BACKENDS)})"
    )
