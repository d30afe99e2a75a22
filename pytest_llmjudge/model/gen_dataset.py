"""Generator datasets: JSONL prompts with their source context, read like judge datasets."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from pytest_llmjudge.model.dataset import (
    DatasetSource,
    KeyMap,
    Text,
    build_record,
    load_records,
)


class GenCase(BaseModel):
    """One prompt a generator answers from `context` (an answer is judged against the context).

    Attributes:
        id: the record's `id`, else `<file stem>:<line>`.
        context: the source text the answer must stay consistent with.
        prompt: the question or instruction.
        reference: a reference answer, when the dataset has one (reported, not scored).
        source: file:line the case was read from.
        slices: its slices, `key=value` (GenDataset(slice_by=)).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    context: Text
    prompt: Text
    reference: str | None = None
    source: str = ""
    slices: tuple[str, ...] = ()

    @field_validator("reference")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        if value is not None and not isinstance(value, str):
            raise ValueError("must be a string")
        return value


class GenFields(KeyMap):
    """Names of the JSONL keys that hold each part of a generator case."""

    context: str = "context"
    prompt: str = "prompt"
    reference: str = "reference"
    id: str = "id"


def load_gen_cases(
    path: Path | str, fields: GenFields | None = None, slice_by: tuple[str, ...] = ()
) -> list[GenCase]:
    """Read every generator case of a JSONL file; a bad row raises DatasetError naming file:line."""
    keys = fields or GenFields()

    def build(where: Path, lineno: int, row: dict[str, Any]) -> GenCase:
        required = {"context": keys.context, "prompt": keys.prompt}
        optional = {"reference": keys.reference}
        return build_record(GenCase, where, lineno, row, required, optional, keys.id, slice_by)

    return load_records(path, build)


class GenDataset(DatasetSource):
    """A generator dataset as a marker declares it (see DatasetSource); the sample is a seeded
    random one, file order kept.

    Attributes:
        fields: mapping of JSONL keys onto case fields.
    """

    fields: GenFields = GenFields()

    def load(self) -> list[GenCase]:
        """Read, validate and select the cases."""
        cases = load_gen_cases(self.path, self.fields, self.slice_by)
        if self.limit is not None:
            cases = cases[: self.limit]
        if self.sample is not None and self.sample < len(cases):
            chosen = sorted(random.Random(self.seed).sample(range(len(cases)), self.sample))
            cases = [cases[i] for i in chosen]
        return cases
