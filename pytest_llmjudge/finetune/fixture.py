"""pytest glue of fine-tuning: the `llmjudge_finetune` fixture, its options and ini keys."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..errors import ConfigError, DatasetError
from ..fixtures import SESSION_KEY
from ..judge import Judge
from ..settings import FINETUNE_POLICIES, FineTuneSettings
from .spec import FineTuneError, FineTuneMissing
from .tuner import FineTuner

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


def _emitter(config: pytest.Config) -> Callable[[str], None] | None:
    """Write progress lines straight to the terminal, past output capturing."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return None

    def emit(line: str) -> None:
        if capture is None:
            reporter.write_line(line)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)

    return emit


@pytest.fixture(scope="session")
def llmjudge_finetune(request: pytest.FixtureRequest) -> Callable[..., Judge]:
    """Fine-tune a judge before the evals (or reuse the recorded fine-tune); returns its Judge."""
    config = request.config
    settings = config.stash[SESSION_KEY].settings
    workerinput = getattr(config, "workerinput", None) or {}
    tuner = FineTuner(
        settings.finetune,
        settings.artifacts_dir,
        settings.rootdir,
        emit=_emitter(config),
        run_id=str(workerinput.get("testrunuid") or uuid.uuid4().hex),
    )

    def finetune(name: str, **kwargs: Any) -> Judge:
        try:
            return tuner(name, **kwargs)
        except FineTuneMissing as exc:
            pytest.skip(str(exc))
        except (FineTuneError, DatasetError, ConfigError) as exc:
            pytest.fail(f"fine-tune {name!r}: {exc}", pytrace=False)

    return finetune
