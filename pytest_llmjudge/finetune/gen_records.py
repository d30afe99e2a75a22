"""Training records of a generator fine-tune: JSONL of `{"prompt", "answer"}` or chat `messages`.

A row is `{"prompt": ..., "answer": ...}` (optionally `"system"` and `"id"`), or
`{"messages": [...]}` in the chat format whose last turn is the assistant's answer. Either becomes
one chat record; the LoRA recipe learns the last assistant turn only. A bad row raises
DatasetError naming file:line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_llmjudge.errors import DatasetError
from pytest_llmjudge.finetune.spec import Records
from pytest_llmjudge.model.dataset import load_records

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class GenExample:
    """One validated training row: its id and its chat messages (the answer last)."""

    id: str
    messages: tuple[dict[str, str], ...]


def _text(path: Path, lineno: int, row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        problem = "missing field" if value is None else "expected a non-empty string in field"
        raise DatasetError(path, lineno, f"{problem} {key!r}")
    return value


def _messages(path: Path, lineno: int, raw: Any) -> tuple[dict[str, str], ...]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise DatasetError(path, lineno, "field 'messages': expected a list of at least 2 turns")
    turns = []
    for index, turn in enumerate(raw):
        where = f"field 'messages'[{index}]"
        if not isinstance(turn, dict) or turn.get("role") not in ROLES:
            raise DatasetError(path, lineno, f"{where}: expected a role of {', '.join(ROLES)}")
        content = turn.get("content")
        if not isinstance(content, str) or not content.strip():
            raise DatasetError(path, lineno, f"{where}: expected a non-empty 'content' string")
        turns.append({"role": str(turn["role"]), "content": content})
    if turns[-1]["role"] != "assistant":
        raise DatasetError(path, lineno, "field 'messages': the last turn must be the assistant's")
    if not any(t["role"] == "user" for t in turns[:-1]):
        raise DatasetError(path, lineno, "field 'messages': no user turn before the answer")
    return tuple(turns)


def _example(path: Path, lineno: int, row: dict[str, Any]) -> GenExample:
    raw_id = row.get("id", f"{path.stem}:{lineno}")
    if not isinstance(raw_id, str | int) or not str(raw_id).strip():
        raise DatasetError(path, lineno, "field 'id': an id must be a non-empty string or number")
    if "messages" in row:
        extra = {"prompt", "answer"} & set(row)
        if extra:
            raise DatasetError(
                path, lineno, f"give either 'messages' or 'prompt'/'answer', not both ({extra})"
            )
        return GenExample(str(raw_id), _messages(path, lineno, row["messages"]))
    if "prompt" not in row and "answer" not in row:
        raise DatasetError(
            path, lineno, "expected 'prompt' and 'answer', or 'messages' (a generator row)"
        )
    turns = [{"role": "user", "content": _text(path, lineno, row, "prompt")}]
    if "system" in row:
        turns.insert(0, {"role": "system", "content": _text(path, lineno, row, "system")})
    turns.append({"role": "assistant", "content": _text(path, lineno, row, "answer")})
    return GenExample(str(raw_id), tuple(turns))


def build_gen_records(path: Path, weight: float = 1.0) -> Records:
    """Read and validate a generator training file and format its chat records."""
    examples = load_records(path, _example)
    records = tuple({"messages": list(e.messages)} for e in examples)
    return Records(Path(path), weight, (), records)
