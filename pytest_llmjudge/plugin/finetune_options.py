"""The fine-tuning options and ini keys (--llmjudge-finetune), resolved into FineTuneSettings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pytest_llmjudge.settings import FINETUNE_POLICIES, FineTuneSettings

WANDB_PROJECT_ENV = "WANDB_PROJECT"


def add_finetune_options(group: Any, parser: pytest.Parser) -> None:
    """Declare --llmjudge-finetune and the fine-tune ini keys."""
    group.addoption(
        "--llmjudge-finetune",
        choices=FINETUNE_POLICIES,
        default=None,
        help="fine-tunes: train the missing ones (default), never train (their evals skip), or "
        "always retrain (ini: llmjudge_finetune)",
    )
    parser.addini("llmjudge_finetune", "never|missing|always: when to fine-tune", default="missing")
    parser.addini(
        "llmjudge_finetune_registry",
        "registry of finished fine-tunes (commit it)",
        default="llmjudge-finetunes.json",
    )
    parser.addini(
        "llmjudge_finetune_progress", "a training progress line every N steps", default="5"
    )
    parser.addini(
        "llmjudge_finetune_wandb_project",
        "W&B project for training metrics (with WANDB_API_KEY; WANDB_PROJECT overrides it)",
        default="",
    )


def resolve_finetune(config: pytest.Config, root: Path) -> FineTuneSettings:
    """FineTuneSettings from the command line, then ini; bad values are UsageErrors."""
    policy = config.getoption("llmjudge_finetune") or config.getini("llmjudge_finetune")
    if policy not in FINETUNE_POLICIES:
        raise pytest.UsageError(
            f"invalid llmjudge_finetune = {policy!r}: "
            f"expected one of {', '.join(FINETUNE_POLICIES)}"
        )
    every = config.getini("llmjudge_finetune_progress")
    try:
        progress_every = int(every)
        if progress_every < 1:
            raise ValueError
    except ValueError:
        raise pytest.UsageError(
            f"invalid llmjudge_finetune_progress = {every!r}: expected a positive integer"
        ) from None
    project = os.environ.get(WANDB_PROJECT_ENV) or config.getini("llmjudge_finetune_wandb_project")
    return FineTuneSettings(
        policy=policy,
        registry=root / config.getini("llmjudge_finetune_registry"),
        progress_every=progress_every,
        wandb_project=project or None,
    )
