"""Reliable model calls: cache, budget, rate limits and retries around a backend's raw call.

A backend that calls a model server (a `ModelBackend`) only makes one request and raises a typed
`CallError` when it fails. This module owns everything around it, for every such backend alike:
the response cache (looked up first, written as each answer arrives), the session's budget, the
limits shared by every request to one server (adaptive concurrency after a 429, requests per
second, tokens per minute), retries with backoff, and stopping a judge after a permanent error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_llmjudge.calls.answer_limit import answer_verdict, fit, fits_now
from pytest_llmjudge.calls.budget import Budget, is_budget_cause
from pytest_llmjudge.calls.cache import CachedResponse, ResponseCache, request_key
from pytest_llmjudge.calls.health import ServerHealth
from pytest_llmjudge.calls.limiter import AdaptiveLimiter, RateLimiter
from pytest_llmjudge.calls.loop import leave_seat, pause
from pytest_llmjudge.calls.protocol import ModelBackend, ModelResponse, request_identity
from pytest_llmjudge.calls.retry import RetryPolicy
from pytest_llmjudge.calls.secrets import redact
from pytest_llmjudge.errors import CallError
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.settings import Settings
from pytest_llmjudge.wording import plural

log = logging.getLogger("pytest_llmjudge")
NOT_IN_CACHE = "not in cache (--llmjudge-cache replay)"
Sleep = Callable[[float], Awaitable[None]]


class CallContext:
    """What all model calls of a session share: the cache, the budget, the limits, halts."""

    def __init__(self, settings: Settings, sleep: Sleep = asyncio.sleep) -> None:
        calls = settings.calls
        self.settings = settings
        self.mode = calls.cache
        use_cache = calls.cache_dir is not None and calls.cache != "off"
        self.cache = ResponseCache(calls.cache_dir) if use_cache and calls.cache_dir else None
        self.budget = Budget(
            calls.max_requests, calls.max_tokens, calls.ledger, calls.max_cost, calls.prices
        )
        self.policy = RetryPolicy(tries=calls.retries)
        self.sleep = sleep
        self.halts: dict[tuple[str, str], CallError] = {}  # (server, model or "") -> cause
        self.health = ServerHealth()  # a server that stops answering halts too
        self._adaptive: dict[str, AdaptiveLimiter] = {}
        self._rates: dict[str, RateLimiter] = {}

    def adaptive(self, key: str) -> AdaptiveLimiter:
        """The adaptive concurrency limit of one server."""
        if key not in self._adaptive:
            self._adaptive[key] = AdaptiveLimiter(self.settings.concurrency)
        return self._adaptive[key]

    def rate(self, key: str) -> RateLimiter:
        """The request and token rate limit of one server."""
        if key not in self._rates:
            calls = self.settings.calls
            self._rates[key] = RateLimiter(calls.rps, calls.tpm, sleep=self.sleep)
        return self._rates[key]

    def cached_keys(self, keys: list[str]) -> set[str]:
        """Which request keys a run would answer from the cache."""
        if self.cache is None or self.mode not in ("use", "replay"):
            return set()
        return self.cache.present(keys)

    def close(self) -> None:
        """Close the cache file and the budget's ledger."""
        if self.cache is not None:
            self.cache.close()
        self.budget.close()


@dataclass
class BatchStats:
    """What happened to the model calls of one batch."""

    cases: int = 0
    repetitions: int = 0  # of those, repetitions after a case's first (repeat=N)
    cached: int = 0
    requests: int = 0  # that reached the server (retries among them, also counted apart)
    retries: int = 0
    rate_limited: int = 0
    causes: Counter[str] = field(default_factory=Counter)

    def counts(self) -> Counter[str]:
        """The batch's counts, to be summed over a run's batches (and xdist workers)."""
        names = ("cases", "repetitions", "cached", "requests", "retries", "rate_limited")
        return Counter({name: getattr(self, name) for name in names})


class CallRunner:
    """Judges the cases of one batch through a ModelBackend, reliably (see the module doc)."""

    def __init__(self, backend: ModelBackend, context: CallContext, label: str) -> None:
        self.backend = backend
        self.context = context
        self.label = label
        self.stats = BatchStats()
        self._server = backend.limit_key()
        self._unstored = context.cache.unstored if context.cache is not None else 0
        self._requests: dict[str, tuple[Case, dict[str, Any], str]] = {}  # by Case.trial

    def prefetch(self, cases: Iterable[Case]) -> None:
        """Read a batch's cached answers with one query, before its cases are judged (and keep
        each case's request identity and key for its call: rendering and hashing a prompt
        with a 2,000-character document costs ~30 us)."""
        cache, mode = self.context.cache, self.context.mode
        if cache is not None and mode in ("use", "replay"):
            cache.prefetch(self._request(c)[1] for c in cases)

    def _request(self, case: Case) -> tuple[dict[str, Any], str]:
        """The request identity of `case` and its cache key (each computed once a batch)."""
        found = self._requests.get(case.trial)
        if found is None or found[0] is not case:
            identity = request_identity(self.backend, case)
            found = self._requests[case.trial] = (case, identity, request_key(identity))
        return found[1], found[2]

    async def judge(self, case: Case) -> Verdict:
        """The verdict on `case`: from the cache, else from the server (never raises CallError)."""
        verdict = _scrub(await self._judge(case))
        self.stats.cases += 1  # once judged: a case cancelled in flight is not counted
        self.stats.repetitions += getattr(case, "repeat", 0) > 0
        if verdict.error is not None:
            halts = {h.message for h in self.context.halts.values()}
            self.stats.causes[_cause_kind(verdict.error, halts)] += 1
        return verdict

    async def _judge(self, case: Case) -> Verdict:
        context, backend = self.context, self.backend
        limit = context.settings.calls.max_answer_chars  # a longer answer is kept cut
        identity, key = self._request(case)
        self._requests.pop(case.trial, None)
        cache = context.cache
        if cache is not None and context.mode in ("use", "replay"):
            hit = cache.get(key)
            if hit is not None and (context.mode == "replay" or fits_now(hit.text, limit)):
                self.stats.cached += 1
                hit_response = ModelResponse(hit.text, hit.tokens, probability=hit.probability)
                verdict = answer_verdict(backend, hit_response, limit)
                return verdict.model_copy(update={"cached": True, "cost": 0.0})  # nothing spent
        if context.mode == "replay":
            return Verdict.unscored(NOT_IN_CACHE, cost=0.0)
        halt_keys = ((self._server, ""), (self._server, str(identity.get("model", ""))))
        estimate = context.budget.estimate(identity)
        limiter, rate = context.adaptive(self._server), context.rate(self._server)
        attempt = 0
        while True:
            attempt += 1
            halted = next((context.halts[k] for k in halt_keys if k in context.halts), None)
            if halted is not None:
                return Verdict.unscored(
                    f"not sent: the judge stopped after {halted.message}", cost=0.0
                )
            refusal = context.budget.reserve(estimate)
            if refusal is not None:
                return Verdict.unscored(refusal, cost=0.0)
            await rate.acquire(estimate.tokens)
            settled = False
            try:
                async with limiter.slot() as epoch:
                    self.stats.requests += 1
                    started = time.perf_counter()
                    try:
                        async with asyncio.timeout(context.settings.timeout_s):
                            response = fit(await backend.call(case), limit)
                    except TimeoutError:
                        raise CallError(
                            f"request timed out after {context.settings.timeout_s:g}s"
                        ) from None
                    except CallError as exc:
                        self.stats.requests -= exc.status is None  # it never reached the server
                        if exc.status == 429:
                            self.stats.rate_limited += 1
                            limiter.on_rate_limit(epoch)
                        raise
                    latency = time.perf_counter() - started
                    limiter.on_success()
                    context.health.answered(self._server)
            except CallError as exc:
                error = exc
            else:
                cost = context.budget.settle(estimate, response)
                settled = True
                tokens = response.tokens
                if cache is not None:
                    model = str(identity.get("model", ""))
                    leave_seat()  # the next case's request goes out while this one is stored
                    await cache.store(
                        key,
                        backend.name,
                        model,
                        CachedResponse(response.text, tokens, response.probability),
                    )
                verdict = answer_verdict(backend, response, limit)
                update = {"latency_s": latency, "tokens": tokens, "cost": cost}
                return verdict.model_copy(update=update)
            finally:
                if not settled:  # no answer (an error, or cancelled in flight): nothing billed
                    context.budget.settle(estimate, None)
            message = redact(error.message)
            down = context.health.failed(self._server, error, attempt)
            if down is not None and halt_keys[0] not in context.halts:  # dead or hanging
                context.halts[halt_keys[0]] = down
                log.warning("llmjudge: judge %s: %s; no further requests", self.label, down.message)
            if error.halts:
                scope = halt_keys[0] if error.status in (401, 403) else halt_keys[1]
                if scope not in context.halts:
                    context.halts[scope] = CallError(message, error.status, permanent=True)
                    log.warning("llmjudge: judge %s: %s; no further requests", self.label, message)
                return Verdict.unscored(message, raw=_raw(error), cost=0.0)
            if not context.policy.retryable(error, attempt):
                tries = f" (gave up after {attempt} tries)" if attempt > 1 else ""
                return Verdict.unscored(message + tries, raw=_raw(error), cost=0.0)
            delay = context.policy.delay(error, attempt)
            self.stats.retries += 1
            log.debug("llmjudge: %s: %s; retry %d in %.2fs", self.label, message, attempt, delay)
            await pause(delay, context.sleep)  # the batch's other cases go on meanwhile

    def notes(self, dataset: str) -> list[str]:
        """Summary lines for this batch: an answer the cache could not store, a halt (its counts
        are summed per run, `BatchStats.counts`, and an exhausted budget is said once per run,
        with the run's outcomes: see outputs/report.py)."""
        context = self.context
        s = self.stats
        where = f"judge {self.label} on {dataset}"
        notes = []
        cache = context.cache
        if cache is not None:
            cache.commit()
            if cache.unstored > self._unstored:
                notes.append(
                    f"{where}: {cache.unstored - self._unstored} answers could not be stored in "
                    f"the response cache: {cache.unstored_error}"
                )
        for (server, _), error in context.halts.items():
            if server == self._server and s.causes.get("halt"):
                notes.append(
                    f"judge {self.label}: {error.message}: "
                    f"{'a permanent error' if error.status else 'the server is down'}, so no "
                    f"further requests were sent; {plural(s.causes['halt'], 'case')} unscored"
                )
                break
        if s.causes.get("not cached"):
            notes.append(
                f"{where}: {plural(s.causes['not cached'], 'case')} not in the cache (replay)"
            )
        return [redact(n) for n in notes]


def _cause_kind(error: str, halts: set[str]) -> str:
    if is_budget_cause(error):
        return "budget"
    if error in halts or error.startswith("not sent: the judge stopped"):
        return "halt"
    if error == NOT_IN_CACHE:
        return "not cached"
    return "other"


def _scrub(verdict: Verdict) -> Verdict:
    """The verdict with secrets masked wherever a server or model might have echoed one."""
    texts = {"reason": verdict.reason, "error": verdict.error, "raw": verdict.raw}
    changed = {k: redact(v) for k, v in texts.items() if v is not None and redact(v) != v}
    return verdict.model_copy(update=changed) if changed else verdict


def _raw(error: CallError) -> str | None:
    return redact(error.raw) if error.raw is not None else None
