"""The hosted fine-tuning contract (Mistral's jobs API, now retired: it answers 410 Gone).

Kept small, for servers that still speak it: upload the records (POST /v1/files), create the job
with auto_start=false (POST /v1/fine_tuning/jobs), read the cost estimate once it is VALIDATED,
start it, poll it, and take `fine_tuned_model` as the new model id. The requests go through the
package's one Mistral client (backends/mistral/client.py, aiohttp) on a loop thread of its own,
so a fine-tune runs the same from a sync or an async test.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pytest_llmjudge.errors import CallError, ConfigError
from pytest_llmjudge.finetune.progress import WANDB_KEY_ENV, Progress
from pytest_llmjudge.finetune.spec import FineTuneError, FineTuneFailed, FineTuneSpec, Records
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.secrets import redact

if TYPE_CHECKING:  # imported when a job runs: the plugin imports this module at start-up
    from pytest_llmjudge.backends.mistral.client import MistralClient

RECIPE = "mistral-jobs-1"
API_KEY_ENV = "MISTRAL_API_KEY"
DEFAULT_SERVER = "https://api.mistral.ai"
DEFAULTS: dict[str, Any] = {"training_steps": 10, "learning_rate": 1e-4}
# Settings of the client itself, not sent as hyperparameters (and not fingerprinted).
CLIENT_SETTINGS: dict[str, Any] = {
    "poll_interval_s": 10.0,
    "timeout_s": 4 * 3600.0,
    "max_cost": None,
}
RETIRED = (
    "Mistral's hosted fine-tuning API is retired ({status} Gone from {url}): fine-tune the open "
    "weights instead with backend='hf' (LoRA with transformers + peft, served in process or by "
    "vLLM through server_url=), or use backend='local' (the offline judge)"
)
DONE = "SUCCESS"
ENDED = {"FAILED", "FAILED_VALIDATION", "CANCELLED", "CANCELLATION_REQUESTED"}


def hyperparameters(given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(hyperparameters sent to the service, client settings); client keys are split off."""
    sent = {**DEFAULTS, **{k: v for k, v in given.items() if k not in CLIENT_SETTINGS}}
    client = {**CLIENT_SETTINGS, **{k: v for k, v in given.items() if k in CLIENT_SETTINGS}}
    return sent, client


def missing_key() -> str | None:
    """Why no job can be started here (no API key), or None."""
    if (os.environ.get(API_KEY_ENV) or "").strip():
        return None
    return f"{API_KEY_ENV} is not set: set it to fine-tune with backend='mistral'"


class MistralFineTuner:
    """Runs one job through the contract with MistralClient (each request times out after 60 s)."""

    def __init__(
        self,
        server_url: str | None,
        sleep: Callable[[float], None] = time.sleep,
        timeout_s: float = 60.0,
    ) -> None:
        self.url = (server_url or DEFAULT_SERVER).rstrip("/")
        self._sleep = sleep
        self._timeout_s = timeout_s

    def run(
        self,
        spec: FineTuneSpec,
        train: list[Records],
        validation: Records | None,
        sent: dict[str, Any],
        client: dict[str, Any],
        progress: Progress,
        wandb_project: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Upload, create, check the estimate, start and poll; returns (model id, metrics)."""
        from pytest_llmjudge.backends.mistral.client import MistralClient
        from pytest_llmjudge.backends.mistral.wire import api_key
        from pytest_llmjudge.calls.loop import LoopThread

        async def go() -> tuple[str, dict[str, Any]]:
            http = MistralClient(api_key(), self.url, self._timeout_s)
            try:
                return await self._run(
                    http, spec, train, validation, sent, client, progress, wandb_project
                )
            finally:
                await http.aclose()

        loop = LoopThread()  # its own loop: the same from a sync test and an async one
        try:
            return loop.run(go())
        finally:
            loop.close()

    async def _call(self, what: str, request: Awaitable[Any]) -> Any:
        """What `request` answers; its failure as a FineTuneError naming `what` (method, path)."""
        try:
            return await request
        except CallError as exc:
            if exc.status == 410:
                raise FineTuneError(RETIRED.format(status=410, url=self.url)) from None
            raise FineTuneError(redact(f"{what}: {exc.message}")) from None

    async def _upload(self, http: MistralClient, name: str, records: Records) -> str:
        """Upload one file of training records; returns its file id."""
        upload = http.upload(f"{name}.jsonl", records.jsonl, "fine-tune")
        return str(await self._call("POST /v1/files", upload))

    async def _run(
        self,
        http: MistralClient,
        spec: FineTuneSpec,
        train: list[Records],
        validation: Records | None,
        sent: dict[str, Any],
        client: dict[str, Any],
        progress: Progress,
        wandb_project: str | None,
    ) -> tuple[str, dict[str, Any]]:
        files = [
            {"file_id": await self._upload(http, f"{spec.name}-{i}", r), "weight": r.weight}
            for i, r in enumerate(train)
        ]
        request: dict[str, Any] = {
            "model": spec.base,
            "training_files": files,
            "validation_files": [await self._upload(http, f"{spec.name}-validation", validation)]
            if validation
            else [],
            "hyperparameters": sent,
            "suffix": spec.name[:18],
            "auto_start": False,
        }
        if wandb_project and os.environ.get(WANDB_KEY_ENV):
            request["integrations"] = [
                {
                    "type": "wandb",
                    "project": wandb_project,
                    "api_key": os.environ[WANDB_KEY_ENV],
                    "run_name": spec.name,
                }
            ]
        jobs = "/v1/fine_tuning/jobs"
        job = await self._call(f"POST {jobs}", http.create_fine_tuning_job(request))
        job_id = str(job["id"])
        progress.line(f"created job {job_id} on {self.url}")
        job = await self._wait(http, job_id, {"VALIDATED"}, client, progress)
        estimate = job.get("metadata") or {}
        cost, currency = estimate.get("cost"), estimate.get("cost_currency", "")
        duration = estimate.get("expected_duration_seconds")
        progress.line(
            f"estimate: cost {cost} {currency}, about {duration} s, "
            f"{estimate.get('train_tokens')} training tokens"
        )
        limit = client.get("max_cost")
        if limit is not None and isinstance(cost, int | float) and cost > float(limit):
            await self._call(f"POST {jobs}/{job_id}/cancel", http.cancel_fine_tuning_job(job_id))
            raise FineTuneFailed(
                f"job {job_id}: estimated cost {cost} {currency} is above max_cost {limit}; "
                "cancelled it"
            )
        await self._call(f"POST {jobs}/{job_id}/start", http.start_fine_tuning_job(job_id))
        job = await self._wait(http, job_id, {DONE}, client, progress)
        model = job.get("fine_tuned_model")
        if not model:
            raise FineTuneFailed(f"job {job_id} succeeded without a fine_tuned_model")
        metrics = {"job": job_id, "cost": cost, "cost_currency": currency}
        return str(model), {k: v for k, v in metrics.items() if v not in (None, "")}

    async def _wait(
        self,
        http: MistralClient,
        job_id: str,
        wanted: set[str],
        client: dict[str, Any],
        progress: Progress,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + float(client["timeout_s"])
        last = None
        while True:
            what = f"GET /v1/fine_tuning/jobs/{job_id}"
            job: dict[str, Any] = await self._call(what, http.fine_tuning_job(job_id))
            status = str(job.get("status"))
            if status != last:
                progress.line(f"job {job_id}: {status} ({progress.elapsed:.0f} s)")
                last = status
            if status in wanted:
                return job
            if status in ENDED:
                raise FineTuneFailed(f"job {job_id} ended {status}: {_cause(job)}")
            if time.monotonic() > deadline:
                raise FineTuneFailed(f"job {job_id} still {status} after {client['timeout_s']} s")
            self._sleep(float(client["poll_interval_s"]))  # on this job's own loop thread


def _cause(job: dict[str, Any]) -> str:
    """The reason a job gives for failing: its message, or the last event's error."""
    for key in ("message", "error", "detail"):
        if job.get(key):
            return redact(str(job[key]))
    for event in reversed(job.get("events") or []):
        data = event.get("data") if isinstance(event, dict) else None
        if isinstance(data, dict) and data.get("error"):
            return redact(str(data["error"]))
    return "no cause given"


def judge_for(spec: FineTuneSpec, model: str) -> Judge:
    """The judge calling the fine-tuned model through the chat protocol."""
    if not model:
        raise ConfigError(f"fine-tune {spec.name!r}: no model id recorded")
    base = spec.prompt_judge.model_copy(update={"name": spec.name, "kind": "fine-tuned"})
    return base.model_copy(
        update={"backend": "mistral", "model": model, "server_url": spec.server_url}
    )
