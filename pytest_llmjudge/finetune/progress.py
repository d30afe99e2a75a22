"""Training progress: one terminal line every N steps, and W&B metrics when the user set it up."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

WANDB_KEY_ENV = "WANDB_API_KEY"


class Progress:
    """Reports a training run: `line()` for events, `step()` for losses (every `every` steps)."""

    def __init__(
        self,
        name: str,
        emit: Callable[[str], None] | None = None,
        every: int = 5,
        wandb: WandbLogger | None = None,
    ) -> None:
        self.name = name
        self._emit = emit or (lambda _line: None)
        self.every = max(1, every)
        self.wandb = wandb
        self.started = time.perf_counter()
        self.lines: list[str] = []

    @property
    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.started

    def line(self, text: str) -> None:
        """Print one line about this fine-tune."""
        message = f"llmjudge finetune {self.name}: {text}"
        self.lines.append(message)
        self._emit(message)

    def step(self, step: int, total: int | None, loss: float, **metrics: float) -> None:
        """Record a training step; print it on every N-th step and on the last one."""
        if self.wandb is not None:
            self.wandb.log({"train/loss": loss, **metrics}, step)
        if step % self.every == 0 or step == total or step == 1:
            of = f"/{total}" if total else ""
            extra = "".join(f" {k} {v:.4g}" for k, v in metrics.items())
            self.line(f"step {step}{of} loss {loss:.4f}{extra} ({self.elapsed:.1f} s)")

    def finish(self, metrics: dict[str, Any]) -> None:
        """Send the final metrics to W&B (if configured) and close its run."""
        if self.wandb is not None:
            self.wandb.finish(metrics)


class WandbLogger:
    """Logs a training run to W&B; wandb is imported only when a run is created."""

    def __init__(self, run: Any) -> None:
        self._run = run

    @classmethod
    def create(
        cls, project: str | None, name: str, config: dict[str, Any]
    ) -> tuple[WandbLogger | None, str | None]:
        """A logger when `project` and WANDB_API_KEY are set, else None; plus a note if wanted."""
        if not project or not os.environ.get(WANDB_KEY_ENV):
            return None, None
        try:
            import wandb
        except ImportError:
            return (
                None,
                "W&B logging skipped: the wandb package is not installed (pip install wandb)",
            )
        run = wandb.init(project=project, name=name, config=config, reinit=True)
        return cls(run), None

    def log(self, metrics: dict[str, float], step: int) -> None:
        """Log one step's metrics."""
        self._run.log(metrics, step=step)

    def finish(self, summary: dict[str, Any]) -> None:
        """Write the summary and close the run."""
        for key, value in summary.items():
            self._run.summary[key] = value
        self._run.finish()
