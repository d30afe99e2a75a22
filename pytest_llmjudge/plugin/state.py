"""The plugin's state on a pytest Config: the Settings from configure, the EvalSession on first use.

A run that collects no llmjudge item never creates the session, so it never imports what the
session needs (pydantic models, asyncio, the backends): pytest with the plugin installed costs
such a run almost nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_llmjudge.settings import Settings

if TYPE_CHECKING:
    from pytest_llmjudge.evaluation.session import EvalSession

SETTINGS_KEY = pytest.StashKey[Settings]()
SESSION_KEY = pytest.StashKey["EvalSession"]()


def settings_of(config: pytest.Config) -> Settings:
    """The run's Settings, resolved at configure."""
    return config.stash[SETTINGS_KEY]


def evals_of(config: pytest.Config) -> EvalSession:
    """The run's EvalSession, created with its progress display and status line on first use."""
    evals = config.stash.get(SESSION_KEY, None)
    if evals is None:
        from pytest_llmjudge.evaluation.session import EvalSession
        from pytest_llmjudge.plugin.outputs import progress_factory
        from pytest_llmjudge.plugin.scale_options import status_writer
        from pytest_llmjudge.plugin.signals import handle_sigterm
        from pytest_llmjudge.plugin.xdist import scheduled_cases

        evals = EvalSession(settings_of(config))
        services = evals.services
        services.progress = progress_factory(config)
        services.status_line = status_writer(config)
        services.scheduled = scheduled_cases(config)  # None unless a pytest-xdist worker
        config.stash[SESSION_KEY] = evals
        handle_sigterm(config)  # SIGTERM now ends the session as Ctrl-C does, with its report
    return evals


def started(config: pytest.Config) -> EvalSession | None:
    """The run's EvalSession if anything has used it yet, else None."""
    return config.stash.get(SESSION_KEY, None)
