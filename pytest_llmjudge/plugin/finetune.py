"""pytest glue of fine-tuning: what the `llmjudge_finetune` fixture (plugin.py) returns."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from pytest_llmjudge.errors import ConfigError, DatasetError
from pytest_llmjudge.finetune.spec import FineTuneError, FineTuneMissing
from pytest_llmjudge.finetune.tuner import FineTuner, Tuned
from pytest_llmjudge.model.paths import declaring_dir
from pytest_llmjudge.plugin.outputs import line_writer
from pytest_llmjudge.plugin.state import settings_of


def finetune_function(request: pytest.FixtureRequest) -> Callable[..., Tuned]:
    """finetune(name, **spec) -> Judge (task="generator": Generator): fine-tunes before the
    evals, or reuses the recorded one."""
    config = request.config
    settings = settings_of(config)
    workerinput = getattr(config, "workerinput", None) or {}
    tuner = FineTuner(
        settings.finetune,
        settings.artifacts_dir,
        settings.rootdir,
        emit=line_writer(config),
        run_id=str(workerinput.get("testrunuid") or uuid.uuid4().hex),
    )

    def finetune(name: str, **kwargs: Any) -> Tuned:
        folder = declaring_dir()  # relative train= and validation= paths: the calling file's
        try:
            return tuner(name, relative_to=folder, **kwargs)
        except FineTuneMissing as exc:
            pytest.skip(str(exc))
        except (FineTuneError, DatasetError, ConfigError) as exc:
            pytest.fail(f"fine-tune {name!r}: {exc}", pytrace=False)

    return finetune
