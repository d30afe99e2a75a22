"""Labelled JSONL datasets: validation, field mapping, stable case ids, limits and samples."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import DatasetError


class Case(BaseModel):
    """One labelled case: does `hypothesis` agree with `premise`? (`target` 1 = consistent)."""

    model_config = ConfigDict(frozen=True)

    id: str
    premise: str
    hypothesis: str
    target: int
    source: str = Field(default="", description="file:line the case was read from")

    @field_validator("target", mode="before")
    @classmethod
    def _binary(cls, value: Any) -> int:
        if isinstance(value, bool) or value not in (0, 1):
            raise ValueError(f"target must be 0 or 1, got {value!r}")
        return int(value)

    @field_validator("premise", "hypothesis")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class FieldMap(BaseModel):
    """Names of the JSONL keys that hold each part of a case."""

    model_config = ConfigDict(frozen=True)

    premise: str = "premise"
    hypothesis: str = "hypothesis"
    target: str = "target"
    id: str = "id"


DEFAULT_FIELDS = FieldMap()


class Dataset(BaseModel):
    """A JSONL dataset as declared by a user: where it is and which rows to take.

    Attributes:
        path: the JSONL file; relative paths are resolved against the declaring test file.
        name: name used in ids and reports (default: the file stem).
        fields: mapping of JSONL keys onto case fields.
        limit: take only the first N rows.
        sample: take a seeded sample of N rows, stratified by target.
        seed: seed of the sample.
        optional: skip (instead of failing) when the file does not exist.
    """

    model_config = ConfigDict(frozen=True)

    path: Path
    name: str | None = None
    fields: FieldMap = DEFAULT_FIELDS
    limit: int | None = Field(default=None, gt=0)
    sample: int | None = Field(default=None, gt=0)
    seed: int = 0
    optional: bool = False

    @property
    def label(self) -> str:
        """The dataset's name in ids and reports."""
        return self.name or self.path.stem

    def resolved(self, base: Path) -> Dataset:
        """This dataset with its path made absolute relative to `base`."""
        return (
            self if self.path.is_absolute() else self.model_copy(update={"path": base / self.path})
        )

    def load(self) -> list[Case]:
        """Read, validate and select the cases."""
        cases = load_cases(self.path, self.fields)
        if self.limit is not None:
            cases = cases[: self.limit]
        if self.sample is not None:
            cases = stratified_sample(cases, self.sample, self.seed)
        return cases


def load_cases(path: Path | str, fields: FieldMap = DEFAULT_FIELDS) -> list[Case]:
    """Read every case of a JSONL file; any bad row raises DatasetError naming file:line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(path, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(path, None, f"cannot read file: {exc}") from None
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        case = _parse_line(path, lineno, line, fields)
        if case.id in seen:
            raise DatasetError(
                path, lineno, f"duplicate id {case.id!r} (first on line {seen[case.id]})"
            )
        seen[case.id] = lineno
        cases.append(case)
    if not cases:
        raise DatasetError(path, None, "file is empty: no cases")
    return cases


def _parse_line(path: Path, lineno: int, line: str, fields: FieldMap) -> Case:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(path, lineno, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(row, dict):
        raise DatasetError(path, lineno, f"expected a JSON object, got {type(row).__name__}")
    data: dict[str, Any] = {"source": f"{path}:{lineno}"}
    for name in ("premise", "hypothesis", "target"):
        key = getattr(fields, name)
        if key not in row:
            raise DatasetError(path, lineno, f"missing field {key!r}")
        data[name] = row[key]
    raw_id = row.get(fields.id)
    data["id"] = str(raw_id) if raw_id is not None else f"{path.stem}:{lineno}"
    try:
        return Case(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = err["loc"][0] if err["loc"] else "row"
        key = getattr(fields, str(field), field)
        msg = err["msg"].removeprefix("Value error, ")
        raise DatasetError(path, lineno, f"field {key!r}: {msg}") from None


def stratified_sample(cases: list[Case], size: int, seed: int) -> list[Case]:
    """A seeded sample of `size` cases keeping the share of each target; file order kept."""
    if size >= len(cases):
        return list(cases)
    rng = random.Random(seed)
    by_target: dict[int, list[int]] = {}
    for index, case in enumerate(cases):
        by_target.setdefault(case.target, []).append(index)
    chosen: list[int] = []
    remaining = size
    groups = sorted(by_target.items())
    for position, (_, indices) in enumerate(groups):
        if position == len(groups) - 1:
            take = remaining
        else:
            take = round(size * len(indices) / len(cases))
        take = min(take, len(indices), remaining)
        chosen.extend(rng.sample(indices, take))
        remaining -= take
    return [cases[i] for i in sorted(chosen)]
