"""The pre-run estimate: what a session's model judges will cost in requests and tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pytest_llmjudge.backends import create_backend
from pytest_llmjudge.calls.budget import estimate_tokens
from pytest_llmjudge.calls.cache import request_key
from pytest_llmjudge.calls.protocol import is_model_backend, request_identity
from pytest_llmjudge.calls.reliable import CallContext
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.repeats import repetitions
from pytest_llmjudge.settings import Settings
from pytest_llmjudge.wording import plural

# backends whose judges call a model server; only these are estimated before a run (creating
# any other backend may be costly: the local one trains when created)
MODEL_BACKENDS = ("mistral",)


def estimate_lines(runs: Iterable[Any], settings: Settings, context: CallContext) -> list[str]:
    """One line per run of a model judge: its cases, cached answers, requests and tokens."""
    lines = []
    total_requests = total_tokens = 0
    for run in runs:
        judge = run.judge or run.judge_ref  # a fixture's judge once an item has resolved it
        if not isinstance(judge, Judge) or judge.backend not in MODEL_BACKENDS or not run.cases:
            continue
        backend = create_backend(judge, settings)
        if not is_model_backend(backend):
            continue
        trials = [t for case in run.cases for t in repetitions(case, run.repeat)]
        identities = [request_identity(backend, t) for t in trials]  # type: ignore[arg-type]
        keys = [request_key(identity) for identity in identities]
        cached = context.cached_keys(keys)
        todo = [i for i, k in zip(identities, keys, strict=True) if k not in cached]
        requests = 0 if context.mode == "replay" else len(todo)
        tokens = 0 if context.mode == "replay" else sum(estimate_tokens(i) for i in todo)
        total_requests += requests
        total_tokens += tokens
        hits = sum(1 for k in keys if k in cached)
        lines.append(
            f"judge {run.key.judge} on {run.key.dataset}: {_cases(run)}, {hits} cached, "
            f"{requests} requests, ~{tokens:,} tokens"
        )
    budget = context.budget
    for limit, need, unit in (
        (budget.max_requests, total_requests, "requests"),
        (budget.max_tokens, total_tokens, "tokens"),
    ):
        if limit is not None and need > limit:
            lines.append(
                f"the estimate ({need:,} {unit}) exceeds the budget of {limit:,} {unit}: "
                "cases past it will be unscored"
            )
    return lines


def _cases(run: Any) -> str:
    """`20 cases`, or `20 cases x 3 repetitions`."""
    cases = plural(len(run.cases), "case")
    return f"{cases} x {run.repeat} repetitions" if run.repeat > 1 else cases
