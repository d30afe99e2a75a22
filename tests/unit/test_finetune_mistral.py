"""The hosted fine-tuning contract through MistralClient, against a loopback jobs API
(ChatServer routes scripted with fakes.mistral_api): success, failures and 410."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.mistral_api import Script, form_field, reply

from pytest_llmjudge.finetune import FineTuneError, FineTuneFailed, FineTuneMissing, FineTuner
from pytest_llmjudge.finetune.registry import Registry
from pytest_llmjudge.settings import FineTuneSettings
from pytest_llmjudge.testing import ChatServer

PREFIX = "/ft"  # the server URL's path prefix is kept
JOBS = f"{PREFIX}/v1/fine_tuning/jobs"
FAST = {"poll_interval_s": 0}


@pytest.fixture
def server(loopback_env: None) -> Iterator[ChatServer]:
    with ChatServer() as started:
        yield started


@pytest.fixture
def url(server: ChatServer) -> str:
    return server.url + PREFIX


@pytest.fixture
def train(tmp_path: Path) -> Path:
    rows = [
        {"id": f"c{i}", "premise": f"Document {i}.", "hypothesis": f"Summary {i}.", "target": i % 2}
        for i in range(1, 5)
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def tuner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FineTuner:
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-test-secret")
    settings = FineTuneSettings(registry=tmp_path / "finetunes.json")
    return FineTuner(settings, tmp_path / "artifacts", tmp_path)


def job(status: str, **extra: Any) -> Any:
    return reply(200, json={"id": "job-1", "status": status, **extra})


def mock_lifecycle(server: ChatServer, polls: list[Any]) -> dict[str, Script]:
    """Serve upload, create, start; GET answers `polls` in order. Returns the routes."""
    routes = {
        ("POST", f"{PREFIX}/v1/files", "upload"): Script(
            [reply(200, json={"id": f"file-{i}"}) for i in range(3)]
        ),
        ("POST", JOBS, "create"): Script(always=job("QUEUED")),
        ("POST", f"{JOBS}/job-1/start", "start"): Script(always=job("STARTED")),
        ("POST", f"{JOBS}/job-1/cancel", "cancel"): Script(always=job("CANCELLED")),
        ("GET", f"{JOBS}/job-1", "get"): Script(polls),
    }
    for (method, path, _), route in routes.items():
        server.routes[(method, path)] = route
    return {name: route for (_, _, name), route in routes.items()}


VALIDATED = job(
    "VALIDATED",
    metadata={"cost": 2.5, "cost_currency": "EUR", "expected_duration_seconds": 60},
)


def test_the_whole_lifecycle_gives_a_judge_of_the_new_model(
    tuner: FineTuner, train: Path, tmp_path: Path, server: ChatServer, url: str
) -> None:
    routes = mock_lifecycle(
        server,
        [
            job("VALIDATING"),
            VALIDATED,
            job("RUNNING"),
            job("SUCCESS", fine_tuned_model="ft:open-mistral-7b:abc"),
        ],
    )
    judge = tuner(
        "ft-mistral",
        backend="mistral",
        train=[(train, 2.0)],
        validation=train,
        hyperparameters=FAST,
        server_url=url,
    )
    assert judge.backend == "mistral" and judge.model == "ft:open-mistral-7b:abc"
    assert judge.kind == "fine-tuned" and judge.server_url == url
    upload = routes["upload"].calls[0]
    assert upload.headers["authorization"] == "Bearer sk-test-secret"
    assert form_field(upload.body, "purpose") == b"fine-tune"
    assert b'"role": "assistant"' in form_field(upload.body, "file")  # chat-format records
    assert routes["upload"].call_count == 2 and routes["get"].answers == []
    created = routes["create"].calls[0].json()
    assert created["auto_start"] is False and created["model"] == "open-mistral-7b"
    assert created["training_files"] == [{"file_id": "file-0", "weight": 2.0}]
    assert created["validation_files"] == ["file-1"]
    assert "poll_interval_s" not in created["hyperparameters"]
    assert routes["start"].call_count == 1 and routes["cancel"].call_count == 0
    lines = [line for progress in tuner.progress for line in progress.lines]
    assert any("estimate: cost 2.5 EUR, about 60 s" in line for line in lines)
    assert any("job job-1: RUNNING" in line for line in lines)
    (entry,) = Registry(tmp_path / "finetunes.json").entries().values()
    assert entry.model == "ft:open-mistral-7b:abc" and entry.artifact is None
    assert entry.metrics == {"job": "job-1", "cost": 2.5, "cost_currency": "EUR"}


@pytest.mark.parametrize(
    ("status", "extra", "cause"),
    [
        ("FAILED", {"message": "training diverged"}, "training diverged"),
        ("FAILED", {"events": [{"name": "x", "data": {"error": "bad file"}}]}, "bad file"),
        ("CANCELLED", {}, "no cause given"),
    ],
)
def test_a_job_that_ends_without_a_model_reports_its_cause(
    tuner: FineTuner,
    train: Path,
    server: ChatServer,
    url: str,
    status: str,
    extra: dict[str, Any],
    cause: str,
) -> None:
    mock_lifecycle(server, [VALIDATED, job("RUNNING"), job(status, **extra)])
    with pytest.raises(FineTuneFailed, match=rf"job job-1 ended {status}: {cause}"):
        tuner("ft", backend="mistral", train=[train], hyperparameters=FAST, server_url=url)
    assert not (tuner.registry.path).exists()


def test_failed_validation_is_reported(
    tuner: FineTuner, train: Path, server: ChatServer, url: str
) -> None:
    routes = mock_lifecycle(server, [job("FAILED_VALIDATION", message="no records")])
    with pytest.raises(FineTuneFailed, match="ended FAILED_VALIDATION: no records"):
        tuner("ft", backend="mistral", train=[train], hyperparameters=FAST, server_url=url)
    assert routes["start"].call_count == 0


def test_an_estimate_above_max_cost_cancels_the_job(
    tuner: FineTuner, train: Path, server: ChatServer, url: str
) -> None:
    routes = mock_lifecycle(server, [VALIDATED])
    with pytest.raises(FineTuneFailed, match="estimated cost 2.5 EUR is above max_cost 1"):
        tuner(
            "ft",
            backend="mistral",
            train=[train],
            hyperparameters={**FAST, "max_cost": 1},
            server_url=url,
        )
    assert routes["cancel"].call_count == 1 and routes["start"].call_count == 0


def test_410_gone_names_the_other_backends(
    tuner: FineTuner, train: Path, server: ChatServer
) -> None:
    server.routes[("POST", "/v1/files")] = gone = Script(always=reply(410, json={"detail": "x"}))
    with pytest.raises(FineTuneError) as info:
        tuner("ft", backend="mistral", train=[train], server_url=server.url)
    message = str(info.value)
    assert gone.call_count == 1
    assert f"retired (410 Gone from {server.url})" in message
    assert "backend='hf'" in message and "backend='local'" in message


def test_an_http_error_is_reported_without_the_key(
    tuner: FineTuner, train: Path, server: ChatServer, url: str
) -> None:
    upload = Script(always=reply(401, text="bad key sk-test-secret"))
    server.routes[("POST", f"{PREFIX}/v1/files")] = upload
    with pytest.raises(FineTuneError, match="HTTP 401") as info:
        tuner("ft", backend="mistral", train=[train], server_url=url)
    assert "sk-test-secret" not in str(info.value) and "***" in str(info.value)
    assert str(info.value).startswith("POST /v1/files: HTTP 401: bad key ***")


def test_an_unreachable_server_is_a_fine_tune_error(tuner: FineTuner, train: Path) -> None:
    with ChatServer() as closed:
        url = closed.url  # nothing listens there any more
    with pytest.raises(FineTuneError, match="POST /v1/files: request failed: ClientConnector"):
        tuner("ft", backend="mistral", train=[train], server_url=url)


def test_a_key_with_a_trailing_newline_is_sent_stripped(
    tuner: FineTuner, train: Path, server: ChatServer, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-test-secret\n")
    routes = mock_lifecycle(server, [VALIDATED, job("SUCCESS", fine_tuned_model="ft:x")])
    judge = tuner("ft", backend="mistral", train=[train], hyperparameters=FAST, server_url=url)
    assert judge.model == "ft:x"
    assert routes["upload"].calls[0].headers["authorization"] == "Bearer sk-test-secret"


def test_without_a_key_the_fine_tune_is_missing_not_failed(
    tuner: FineTuner, train: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY")
    with pytest.raises(FineTuneMissing, match="MISTRAL_API_KEY is not set"):
        tuner("ft", backend="mistral", train=[train], server_url="http://127.0.0.1:9")
