"""The Mistral Batch API: a judge's uncached requests as one batch job (no pytest imports).

Lifecycle: upload a JSONL file (`purpose=batch`), one line per request with `custom_id` = the
case id and the chat completion body; create a job (`POST /v1/batch/jobs`, endpoint
`/v1/chat/completions`, the judge's model); poll `GET /v1/batch/jobs/{id}` until it ends,
reporting progress; read the output file (and the error file) with `GET /v1/files/{id}/content`
and map each line back by `custom_id`. A successful answer is stored in the response cache and
parsed like any chat completion; a failed line, a line that never came (a job that FAILED, was
CANCELLED or hit TIMEOUT_EXCEEDED) or an upload that failed becomes an unscored case with its
cause.

The files and batch jobs endpoints go through client.MistralClient (aiohttp), not the SDK's batch
and files methods: four small JSON endpoints need no pydantic models, and a 10,000-line output is
parsed once with `json`, not validated into SDK objects line by line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_llmjudge.backends.mistral.client import MistralClient
from pytest_llmjudge.backends.mistral.wire import CHAT_PATH, base_url, read_completion, short
from pytest_llmjudge.calls.answer_limit import answer_verdict, fit
from pytest_llmjudge.calls.budget import Estimate
from pytest_llmjudge.calls.cache import CachedResponse, request_key
from pytest_llmjudge.calls.protocol import ModelResponse, request_identity
from pytest_llmjudge.calls.reliable import CallContext
from pytest_llmjudge.errors import CallError
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.secrets import redact
from pytest_llmjudge.settings import Settings

TERMINAL = frozenset({"SUCCESS", "FAILED", "TIMEOUT_EXCEEDED", "CANCELLED"})
JSON_HEADERS = {"content-type": "application/json"}
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class BatchOutcome:
    """What a batch job gave back.

    Attributes:
        job_id: the job's id (None when it was never created).
        status: the job's final status (or UPLOAD_FAILED / CREATE_FAILED / POLL_FAILED).
        verdicts: a verdict per `Case.trial` that was sent (unscored ones carry their cause).
        answered: how many lines came back with a usable chat completion.
    """

    job_id: str | None = None
    status: str = ""
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    answered: int = 0


def request_lines(cases: Sequence[Case], body: Callable[[Case], dict[str, Any]]) -> bytes:
    """The JSONL input of a batch job: one `{"custom_id", "body"}` line per case."""
    lines = (json.dumps({"custom_id": c.trial, "body": body(c)}) for c in cases)
    return ("\n".join(lines) + "\n").encode("utf-8")


def read_lines(text: str) -> dict[str, Any]:
    """The lines of an output or error file, by custom_id (unreadable lines are skipped)."""
    found: dict[str, Any] = {}
    for line in text.splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("custom_id") is not None:
            found[str(data["custom_id"])] = data
    return found


def line_response(line: dict[str, Any]) -> ModelResponse:
    """The model response in one output line, or the CallError it carries."""
    error = line.get("error")
    response = line.get("response") or {}
    status = response.get("status_code") if isinstance(response, dict) else None
    if error:
        message = error.get("message") if isinstance(error, dict) else error
        code = f" (HTTP {status})" if isinstance(status, int) and status != 200 else ""
        raise CallError(f"batch line failed{code}: {short(str(message))}", status=status)
    if not isinstance(status, int):
        raise CallError("batch line without a response", permanent=True)
    body = response.get("body")
    text = body if isinstance(body, str) else json.dumps(body)
    return read_completion(status, JSON_HEADERS, text.encode("utf-8"))


class BatchJob:
    """Judges a run's uncached cases through one Mistral batch job (see the module doc).

    Args:
        backend: the run's MistralBackend (for the request body, identity and parsing).
        client: the client of the judge's server (files and batch jobs).
        context: the session's call context (response cache, budget, sleep).
        model: the judge's model.
        poll_s: seconds between two polls.
        timeout_hours: the job's timeout on the server.
        on_status: receives one progress line per poll that changed something.
    """

    def __init__(
        self,
        backend: Any,
        client: MistralClient,
        context: CallContext,
        model: str,
        poll_s: float,
        timeout_hours: int = 24,
        on_status: Callable[[str], None] | None = None,
    ) -> None:
        self.backend = backend
        self.client = client
        self.context = context
        self.model = model
        self.poll_s = poll_s
        self.timeout_hours = timeout_hours
        self.on_status = on_status or (lambda line: None)
        self._estimates: dict[str, Estimate] = {}

    def uncached(self, cases: Sequence[Case]) -> list[Case]:
        """The cases the cache cannot answer (all of them in refresh mode)."""
        context = self.context
        if context.mode == "replay":
            return []
        keys = {c.trial: request_key(request_identity(self.backend, c)) for c in cases}
        cached = context.cached_keys(list(keys.values()))
        return [c for c in cases if keys[c.trial] not in cached]

    async def run(self, cases: Sequence[Case]) -> BatchOutcome:
        """Send `cases` as one job and wait for it; a verdict for every case sent."""
        outcome = BatchOutcome()
        sent = []
        for case in cases:  # the budget counts a batch line like a request
            identity = request_identity(self.backend, case)
            self._estimates[case.trial] = self.context.budget.estimate(identity, batch=True)
            refusal = self.context.budget.reserve(self._estimates[case.trial])
            if refusal is not None:
                outcome.verdicts[case.trial] = Verdict.unscored(refusal, cost=0.0)
            else:
                sent.append(case)
        if not sent:
            return outcome
        started = time.perf_counter()
        try:
            file_id = await self.client.upload(
                "llmjudge-batch.jsonl", request_lines(sent, self.backend.chat_body), "batch"
            )
            job = await self.client.create_batch_job(
                {
                    "input_files": [file_id],
                    "endpoint": CHAT_PATH,
                    "model": self.model,
                    "metadata": {"client": "pytest-llmjudge"},
                    "timeout_hours": self.timeout_hours,
                }
            )
        except CallError as exc:
            outcome.status = "CREATE_FAILED"
            return self._fail(outcome, sent, f"batch job not created: {exc.message}")
        outcome.job_id = str(job.get("id"))
        self.on_status(f"job {outcome.job_id}: {len(sent)} requests, {job.get('status')}")
        try:
            job = await self._wait(job)
        except CallError as exc:
            outcome.status = "POLL_FAILED"
            cause = f"batch job {outcome.job_id} not followed to its end: {exc.message}"
            return self._fail(outcome, sent, cause)
        outcome.status = str(job.get("status"))
        lines: dict[str, Any] = {}
        for key in ("error_file", "output_file"):  # an output line beats an error line
            if job.get(key):
                try:
                    lines.update(read_lines(await self.client.file_content(str(job[key]))))
                except CallError as exc:
                    self.on_status(f"job {outcome.job_id}: {key} unreadable: {exc.message}")
        missing = f"batch job {outcome.job_id} ended {outcome.status}"
        errors = _job_errors(job)
        if errors:
            missing += f" ({errors})"
        for case in sent:
            outcome.verdicts[case.trial] = self._verdict(case, lines.get(case.trial), missing)
        outcome.answered = sum(1 for v in outcome.verdicts.values() if v.error is None)
        elapsed = time.perf_counter() - started
        self.on_status(
            f"job {outcome.job_id}: {outcome.status} after {elapsed:.1f} s, "
            f"{outcome.answered} of {len(sent)} answered"
        )
        return outcome

    async def _wait(self, job: dict[str, Any]) -> dict[str, Any]:
        last = None
        while str(job.get("status")) not in TERMINAL:
            await self.context.sleep(self.poll_s)
            job = await self.client.batch_job(str(job["id"]))
            state = (job.get("status"), job.get("succeeded_requests"), job.get("failed_requests"))
            if state != last:
                last = state
                self.on_status(
                    f"job {job.get('id')}: {job.get('status')}, "
                    f"{job.get('succeeded_requests') or 0} succeeded, "
                    f"{job.get('failed_requests') or 0} failed "
                    f"of {job.get('total_requests') or '?'}"
                )
        return job

    def _verdict(self, case: Case, line: Any, missing: str) -> Verdict:
        if line is None:
            self.context.budget.settle(self._estimates[case.trial], None)
            return Verdict.unscored(f"{missing}: no result for this case", cost=0.0)
        limit = self.context.settings.calls.max_answer_chars
        try:
            response = fit(line_response(line), limit)  # a longer answer is kept cut
        except CallError as exc:
            self.context.budget.settle(self._estimates[case.trial], None)
            return Verdict.unscored(exc.message, raw=exc.raw, cost=0.0)
        cost = self.context.budget.settle(self._estimates[case.trial], response)
        cache = self.context.cache
        if cache is not None and self.context.mode != "off":
            key = request_key(request_identity(self.backend, case))
            cached = CachedResponse(response.text, response.tokens, response.probability)
            cache.put(key, self.backend.name, self.model, cached)
        verdict: Verdict = answer_verdict(self.backend, response, limit)
        return verdict.model_copy(update={"tokens": response.tokens, "cost": cost})

    def _fail(self, outcome: BatchOutcome, cases: Sequence[Case], cause: str) -> BatchOutcome:
        for case in cases:
            self.context.budget.settle(self._estimates[case.trial], None)
            outcome.verdicts[case.trial] = Verdict.unscored(
                cause, cost=0.0
            )  # a Verdict masks its texts
        self.on_status(cause)
        return outcome


def _job_errors(job: dict[str, Any]) -> str:
    errors = job.get("errors") or []
    messages = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
    return short("; ".join(messages), 200)


async def judge_with_batch_job(
    backend: Any,
    cases: Sequence[Case],
    context: CallContext,
    settings: Settings,
    on_status: Callable[[str], None] | None = None,
    client: MistralClient | None = None,
) -> tuple[dict[str, Verdict], str | None]:
    """Judge the cases the cache cannot answer through one batch job of `backend`'s server.

    Returns the verdicts of the cases sent, by `Case.trial` (the rest are answered from the
    cache by the usual path) and a summary note (None when nothing was sent). `client` (then
    not closed here) replaces a new MistralClient of the judge's server.
    """
    judge = backend.judge_spec
    batch = client or MistralClient(backend.api_key, base_url(judge, settings), settings.timeout_s)
    job = BatchJob(
        backend,
        batch,
        context,
        judge.model,
        settings.scale.batch_poll_s,
        settings.scale.batch_timeout_hours,
        on_status=on_status,
    )
    try:
        todo = job.uncached(cases)
        if not todo:
            return {}, None
        outcome = await job.run(todo)
    finally:
        if client is None:
            await batch.aclose()
    note = (
        f"judge {judge.name}: batch job {outcome.job_id or '(none)'} {outcome.status}: "
        f"{outcome.answered} of {len(todo)} requests answered"
    )
    return outcome.verdicts, redact(note)
