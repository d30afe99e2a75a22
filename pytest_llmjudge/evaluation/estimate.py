"""The pre-run estimate: what a session's model judges will cost in requests, tokens and money
(at most: each request's answer is counted at its max_tokens)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pytest_llmjudge.backends import create_backend
from pytest_llmjudge.calls.cache import request_key
from pytest_llmjudge.calls.prices import MICRO
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
    """One line per run of a model judge: its cases, cached answers, requests, tokens, dollars."""
    lines = []
    total_requests = total_tokens = total_micro = 0
    budget = context.budget
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
        batch = settings.scale.batch
        estimates = [] if context.mode == "replay" else [budget.estimate(i, batch) for i in todo]
        tokens = sum(e.tokens for e in estimates)
        micro = sum(e.micro for e in estimates)
        total_requests += len(estimates)
        total_tokens += tokens
        total_micro += micro
        hits = sum(1 for k in keys if k in cached)
        unpriced = sorted({e.model for e in estimates if e.price is None})
        money = f"no price for {', '.join(unpriced)}" if unpriced else f"<= ${micro / MICRO:.4g}"
        lines.append(
            f"judge {run.key.judge} on {run.key.dataset}: {_cases(run)}, {hits} cached, "
            f"{len(estimates)} requests, ~{tokens:,} tokens" + (f", {money}" if estimates else "")
        )
    max_micro = None if budget.max_cost is None else round(budget.max_cost * MICRO)
    for limit, need, shown in (
        (budget.max_requests, total_requests, lambda n: f"{n:,} requests"),
        (budget.max_tokens, total_tokens, lambda n: f"{n:,} tokens"),
        (max_micro, total_micro, lambda n: f"${n / MICRO:.4g}"),
    ):
        if limit is not None and need > limit:
            lines.append(
                f"the estimate ({shown(need)}) exceeds the budget of {shown(limit)}: cases "
                "past it will be unscored"
            )
    return lines


def _cases(run: Any) -> str:
    """`20 cases`, or `20 cases x 3 repetitions`."""
    cases = plural(len(run.cases), "case")
    return f"{cases} x {run.repeat} repetitions" if run.repeat > 1 else cases
