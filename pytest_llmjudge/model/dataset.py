"""Labelled JSONL datasets: validation, field mapping, stable case ids, limits and samples."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pytest_llmjudge.errors import DatasetError, unknown


class _Record(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_Record)
M = TypeVar("M", bound=BaseModel)


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Text = Annotated[str, AfterValidator(_non_empty)]
"""A text field of a case: a string that is not blank."""


class Case(BaseModel):
    """One labelled case: does `hypothesis` agree with `premise`? (`target` 1 = consistent)."""

    model_config = ConfigDict(frozen=True)

    id: str
    premise: Text
    hypothesis: Text
    target: int
    source: str = Field(default="", description="file:line the case was read from")
    repeat: int = Field(default=0, ge=0, description="which repetition a judge is asked (repeat=)")
    slices: tuple[str, ...] = Field(default=(), description="'field=value' (Dataset(slice_by=))")

    @property
    def trial(self) -> str:
        """The id of this repetition within a batch: the case's id, `<id>#<k>` for k > 0."""
        return f"{self.id}#{self.repeat}" if self.repeat else self.id

    @field_validator("target", mode="before")
    @classmethod
    def _binary(cls, value: Any) -> int:
        if isinstance(value, bool) or value not in (0, 1):
            raise ValueError(f"target must be 0 or 1, got {value!r}")
        return int(value)


class KeyMap(BaseModel):
    """A `fields=` mapping of a record's parts onto JSONL keys; a part it lacks is an error."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_parts(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for part in data:
                if part not in cls.model_fields:
                    raise ValueError(unknown("part in fields=", part, cls.model_fields))
        return data


class FieldMap(KeyMap):
    """Names of the JSONL keys that hold each part of a case."""

    premise: str = "premise"
    hypothesis: str = "hypothesis"
    target: str = "target"
    id: str = "id"


DEFAULT_FIELDS = FieldMap()


_SLICE_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")  # a slice is written "key=value" in a threshold


class DatasetSource(BaseModel):
    """Where a dataset is and which rows to take; shared by judge and generator datasets.

    Attributes:
        path: the JSONL file; relative paths are resolved against the declaring test file.
        name: name used in ids and reports (default: the file stem).
        limit: take only the first N rows.
        sample: take a seeded sample of N rows.
        seed: seed of the sample.
        optional: skip (instead of failing) when the file does not exist.
        slice_by: the JSONL keys whose values slice the cases: a string value puts a case in
            the slice `key=value`, a list of strings (tags) in one slice per item; every run
            reports its metrics per slice and thresholds can target one ("source=news:f1>=0.8").
    """

    model_config = ConfigDict(frozen=True)

    path: Path
    name: str | None = None
    limit: int | None = Field(default=None, gt=0)
    sample: int | None = Field(default=None, gt=0)
    seed: int = 0
    optional: bool = False
    slice_by: tuple[str, ...] = ()

    @field_validator("slice_by", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        keys = (value,) if isinstance(value, str) else value
        for key in keys or ():
            if not isinstance(key, str) or not _SLICE_KEY.match(key):
                raise ValueError(f"slice_by: {key!r} is not a JSONL key (letters, digits, _.-)")
        return keys

    @property
    def label(self) -> str:
        """The dataset's name in ids and reports."""
        return self.name or self.path.stem

    def resolved(self, base: Path) -> Self:
        """This dataset with its path made absolute relative to `base`."""
        return (
            self if self.path.is_absolute() else self.model_copy(update={"path": base / self.path})
        )


class Dataset(DatasetSource):
    """A labelled JSONL dataset as declared by a user (see DatasetSource); the sample is
    stratified by target.

    Attributes:
        fields: mapping of JSONL keys onto case fields.
    """

    fields: FieldMap = DEFAULT_FIELDS

    def load(self) -> list[Case]:
        """Read, validate and select the cases."""
        cases = load_cases(self.path, self.fields, self.slice_by)
        if self.limit is not None:
            cases = cases[: self.limit]
        if self.sample is not None:
            cases = stratified_sample(cases, self.sample, self.seed)
        return cases


def load_cases(
    path: Path | str, fields: FieldMap = DEFAULT_FIELDS, slice_by: tuple[str, ...] = ()
) -> list[Case]:
    """Read every case of a JSONL file; any bad row raises DatasetError naming file:line."""
    required = {name: getattr(fields, name) for name in ("premise", "hypothesis", "target")}
    id_key = fields.id

    def build(where: Path, lineno: int, row: dict[str, Any]) -> Case:
        return build_record(Case, where, lineno, row, required, id_key=id_key, slice_by=slice_by)

    return load_records(path, build)


def load_records(path: Path | str, build: Callable[[Path, int, dict[str, Any]], R]) -> list[R]:
    """Read a JSONL file of records with ids (cases of any kind) through `build`.

    `build(path, lineno, row)` turns one JSON object into a record (raising DatasetError);
    this function owns what every dataset shares: reading, JSON, duplicate ids, emptiness.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(path, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(path, None, f"cannot read file: {exc}") from None
    records: list[R] = []
    seen: dict[str, int] = {}
    # JSON lines end at "\n" only: U+2028, U+2029 and U+0085 are valid inside JSON strings.
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        record = build(path, lineno, _json_row(path, lineno, line))
        if record.id in seen:
            raise DatasetError(
                path, lineno, f"duplicate id {record.id!r} (first on line {seen[record.id]})"
            )
        seen[record.id] = lineno
        records.append(record)
    if not records:
        raise DatasetError(path, None, "file is empty: no cases")
    return records


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    row = dict(pairs)
    if len(row) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return row


# one decoder for every row (json.loads with a hook builds a new one per call)
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _json_row(path: Path, lineno: int, line: str) -> dict[str, Any]:
    try:
        row = _DECODER.decode(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(path, lineno, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except _DuplicateKey as exc:
        raise DatasetError(path, lineno, f"duplicate key {exc.args[0]!r} in the row") from None
    if not isinstance(row, dict):
        raise DatasetError(path, lineno, f"expected a JSON object, got {type(row).__name__}")
    return row


def build_record(
    model: type[M],
    path: Path,
    lineno: int,
    row: dict[str, Any],
    required: dict[str, str],
    optional: dict[str, str] | None = None,
    id_key: str = "id",
    slice_by: tuple[str, ...] = (),
) -> M:
    """Validate one row into `model`: `required`/`optional` map model fields onto JSONL keys.

    A missing required key or an invalid value raises DatasetError naming file:line and the key;
    the id is the row's `id_key`, else `<file stem>:<line>`; `slice_by` keys give its `slices`.
    """
    data: dict[str, Any] = {"source": f"{path}:{lineno}"}
    if slice_by:
        data["slices"] = row_slices(path, lineno, row, slice_by)
    for name, key in required.items():
        if key not in row:
            raise DatasetError(path, lineno, f"missing field {key!r}")
        data[name] = row[key]
    for name, key in (optional or {}).items():
        if row.get(key) is not None:
            data[name] = row[key]
    raw_id = row.get(id_key)
    if raw_id is None:
        data["id"] = f"{path.stem}:{lineno}"
    elif isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        raise DatasetError(
            path, lineno, f"field {id_key!r}: an id must be a string or an integer, got {raw_id!r}"
        )
    elif not str(raw_id).strip():
        raise DatasetError(path, lineno, f"field {id_key!r}: an id must not be empty")
    else:
        data["id"] = str(raw_id)
    try:
        return model(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "row"
        key = {**required, **(optional or {})}.get(field, field)
        msg = err["msg"].removeprefix("Value error, ")
        raise DatasetError(path, lineno, f"field {key!r}: {msg}") from None


def row_slices(
    path: Path, lineno: int, row: dict[str, Any], slice_by: tuple[str, ...]
) -> tuple[str, ...]:
    """The slices of one row: `key=value` for each `slice_by` key (one per tag of a list)."""
    found: list[str] = []
    for key in slice_by:
        if key not in row:
            raise DatasetError(path, lineno, f"missing field {key!r} (slice_by={key!r})")
        value = row[key]
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
                raise DatasetError(
                    path,
                    lineno,
                    f"field {key!r} (slice_by): expected a non-empty string or a list of them, "
                    f"got {value!r}",
                )
            found.append(f"{key}={str(item).strip()}")
    return tuple(dict.fromkeys(found))


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
