"""The hosted fine-tuning contract over httpx, mocked with respx: success, failures and 410."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from pytest_llmjudge.finetune import FineTuneError, FineTuneFailed, FineTuneMissing, FineTuner
from pytest_llmjudge.finetune.registry import Registry
from pytest_llmjudge.settings import FineTuneSettings

URL = "http://127.0.0.1:9/ft"
JOBS = f"{URL}/v1/fine_tuning/jobs"
FAST = {"poll_interval_s": 0}


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
    return FineTuner(settings, tmp_path / "artifacts", tmp_path, http_client=httpx.Client())


def job(status: str, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"id": "job-1", "status": status, **extra})


def mock_lifecycle(router: respx.MockRouter, polls: list[httpx.Response]) -> dict[str, Any]:
    """Mock upload, create, start; GET answers `polls` in order. Returns the recorded routes."""
    routes = {
        "upload": router.post(f"{URL}/v1/files").mock(
            side_effect=[httpx.Response(200, json={"id": f"file-{i}"}) for i in range(3)]
        ),
        "create": router.post(JOBS).mock(return_value=job("QUEUED")),
        "start": router.post(f"{JOBS}/job-1/start").mock(return_value=job("STARTED")),
        "cancel": router.post(f"{JOBS}/job-1/cancel").mock(return_value=job("CANCELLED")),
        "get": router.get(f"{JOBS}/job-1").mock(side_effect=polls),
    }
    return routes


VALIDATED = job(
    "VALIDATED",
    metadata={"cost": 2.5, "cost_currency": "EUR", "expected_duration_seconds": 60},
)


def test_the_whole_lifecycle_gives_a_judge_of_the_new_model(
    tuner: FineTuner, train: Path, tmp_path: Path
) -> None:
    with respx.mock(assert_all_called=False) as router:
        routes = mock_lifecycle(
            router,
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
            server_url=URL,
        )
    assert judge.backend == "mistral" and judge.model == "ft:open-mistral-7b:abc"
    assert judge.kind == "fine-tuned" and judge.server_url == URL
    upload = routes["upload"].calls[0].request
    assert upload.headers["authorization"] == "Bearer sk-test-secret"
    assert b'name="purpose"' in upload.content and b"fine-tune" in upload.content
    assert b'"role": "assistant"' in upload.content  # chat-format records were sent
    created = json.loads(routes["create"].calls[0].request.content)
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
    tuner: FineTuner, train: Path, status: str, extra: dict[str, Any], cause: str
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_lifecycle(router, [VALIDATED, job("RUNNING"), job(status, **extra)])
        with pytest.raises(FineTuneFailed, match=rf"job job-1 ended {status}: {cause}"):
            tuner("ft", backend="mistral", train=[train], hyperparameters=FAST, server_url=URL)
    assert not (tuner.registry.path).exists()


def test_failed_validation_is_reported(tuner: FineTuner, train: Path) -> None:
    with respx.mock(assert_all_called=False) as router:
        routes = mock_lifecycle(router, [job("FAILED_VALIDATION", message="no records")])
        with pytest.raises(FineTuneFailed, match="ended FAILED_VALIDATION: no records"):
            tuner("ft", backend="mistral", train=[train], hyperparameters=FAST, server_url=URL)
    assert routes["start"].call_count == 0


def test_an_estimate_above_max_cost_cancels_the_job(tuner: FineTuner, train: Path) -> None:
    with respx.mock(assert_all_called=False) as router:
        routes = mock_lifecycle(router, [VALIDATED])
        with pytest.raises(FineTuneFailed, match="estimated cost 2.5 EUR is above max_cost 1"):
            tuner(
                "ft",
                backend="mistral",
                train=[train],
                hyperparameters={**FAST, "max_cost": 1},
                server_url=URL,
            )
    assert routes["cancel"].call_count == 1 and routes["start"].call_count == 0


def test_410_gone_names_the_other_backends(tuner: FineTuner, train: Path) -> None:
    with respx.mock() as router:
        router.post("https://api.mistral.ai/v1/files").mock(
            return_value=httpx.Response(410, json={"detail": "gone"})
        )
        with pytest.raises(FineTuneError) as info:
            tuner("ft", backend="mistral", train=[train])
    message = str(info.value)
    assert "retired (410 Gone" in message
    assert "backend='hf'" in message and "backend='local'" in message


def test_an_http_error_is_reported_without_the_key(tuner: FineTuner, train: Path) -> None:
    with respx.mock() as router:
        router.post(f"{URL}/v1/files").mock(
            return_value=httpx.Response(401, text="bad key sk-test-secret")
        )
        with pytest.raises(FineTuneError, match="HTTP 401") as info:
            tuner("ft", backend="mistral", train=[train], server_url=URL)
    assert "sk-test-secret" not in str(info.value)


def test_without_a_key_the_fine_tune_is_missing_not_failed(
    tuner: FineTuner, train: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY")
    with pytest.raises(FineTuneMissing, match="MISTRAL_API_KEY is not set"):
        tuner("ft", backend="mistral", train=[train], server_url=URL)
