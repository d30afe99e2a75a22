"""Dataset loading: field mapping, ids, limits, samples and file:line errors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pytest_llmjudge import Case, Dataset, DatasetError, FieldMap, load_cases
from pytest_llmjudge.model.dataset import stratified_sample


def row(i: int, target: int = 1, **extra: Any) -> dict[str, Any]:
    return {"premise": f"Document {i}.", "hypothesis": f"Summary {i}.", "target": target, **extra}


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


@pytest.fixture
def cases_file(tmp_path: Path) -> Path:
    return tmp_path / "cases.jsonl"


def test_loads_cases_with_ids_from_id_field_else_stem_and_line(cases_file: Path) -> None:
    write(cases_file, [row(1, 1, id="first"), row(2, 0), "", row(4, 1, id=7)])
    cases = load_cases(cases_file)
    assert [c.id for c in cases] == ["first", "cases:2", "7"]  # blank line 3 is skipped
    assert [c.target for c in cases] == [1, 0, 1]
    assert cases[1].premise == "Document 2."
    assert cases[1].hypothesis == "Summary 2."
    assert cases[2].source == f"{cases_file}:4"


def test_field_mapping_document_summary_label(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mapped.jsonl",
        [
            {"document": "The sky is blue.", "summary": "Blue sky.", "label": 1, "key": "k1"},
            {"document": "It rained.", "summary": "It snowed.", "label": 0},
        ],
    )
    fields = FieldMap(premise="document", hypothesis="summary", target="label", id="key")
    cases = load_cases(path, fields)
    assert cases[0] == Case(
        id="k1", premise="The sky is blue.", hypothesis="Blue sky.", target=1, source=f"{path}:1"
    )
    assert cases[1].id == "mapped:2"
    assert (cases[1].premise, cases[1].hypothesis, cases[1].target) == (
        "It rained.",
        "It snowed.",
        0,
    )
    # the same file through a Dataset
    ds = Dataset(path=path, fields=fields)
    assert ds.load() == cases
    assert ds.label == "mapped"


def test_missing_mapped_field_names_the_mapped_key(tmp_path: Path) -> None:
    path = write(tmp_path / "mapped.jsonl", [{"document": "d", "label": 1}])
    fields = FieldMap(premise="document", hypothesis="summary", target="label")
    with pytest.raises(DatasetError) as info:
        load_cases(path, fields)
    assert str(info.value) == f"{path}:1: missing field 'summary'"


def test_limit_takes_the_first_rows(cases_file: Path) -> None:
    write(cases_file, [row(i, i % 2, id=f"r{i}") for i in range(10)])
    ds = Dataset(path=cases_file, limit=3)
    assert [c.id for c in ds.load()] == ["r0", "r1", "r2"]


def test_dataset_resolves_relative_paths_and_names(tmp_path: Path) -> None:
    ds = Dataset(path=Path("data/x.jsonl"), name="custom")
    assert ds.resolved(tmp_path).path == tmp_path / "data" / "x.jsonl"
    assert ds.label == "custom"
    absolute = Dataset(path=tmp_path / "y.jsonl")
    assert absolute.resolved(Path("/elsewhere")).path == tmp_path / "y.jsonl"


@pytest.mark.parametrize("bad", [{"limit": 0}, {"sample": -1}])
def test_limit_and_sample_must_be_positive(cases_file: Path, bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Dataset(path=cases_file, **bad)


def make_cases(positives: int, negatives: int) -> list[Case]:
    targets = [1] * positives + [0] * negatives
    # interleave so that file order differs from class order
    targets = targets[::2] + targets[1::2]
    return [
        Case(id=f"c{i}", premise=f"p{i}", hypothesis=f"h{i}", target=t)
        for i, t in enumerate(targets)
    ]


def test_stratified_sample_keeps_class_shares() -> None:
    cases = make_cases(30, 10)  # 75% positive
    sample = stratified_sample(cases, 8, seed=1)
    assert len(sample) == 8
    assert Counter(c.target for c in sample) == {1: 6, 0: 2}
    assert len({c.id for c in sample}) == 8


def test_stratified_sample_is_deterministic_and_keeps_file_order() -> None:
    cases = make_cases(30, 10)
    first = stratified_sample(cases, 12, seed=3)
    again = stratified_sample(cases, 12, seed=3)
    assert first == again
    order = {c.id: i for i, c in enumerate(cases)}
    assert [order[c.id] for c in first] == sorted(order[c.id] for c in first)
    # some seed gives another selection (the seed is used at all)
    others = {tuple(c.id for c in stratified_sample(cases, 12, seed=s)) for s in range(5)}
    assert len(others) > 1


def test_sample_larger_than_dataset_returns_everything() -> None:
    cases = make_cases(3, 2)
    assert stratified_sample(cases, 10, seed=0) == cases


def test_dataset_sample_through_load(cases_file: Path) -> None:
    write(cases_file, [row(i, 1 if i < 15 else 0, id=f"r{i}") for i in range(20)])  # 15:5
    loaded = Dataset(path=cases_file, sample=8, seed=5).load()
    assert Counter(c.target for c in loaded) == {1: 6, 0: 2}
    assert loaded == Dataset(path=cases_file, sample=8, seed=5).load()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"premise": "p", "hypothesis": "h", "target": 1', "invalid JSON"),
        ('{"premise": "p", "target": 1}', "missing field 'hypothesis'"),
        ('{"hypothesis": "h", "target": 1}', "missing field 'premise'"),
        ('{"premise": "p", "hypothesis": "h"}', "missing field 'target'"),
        ('{"premise": "p", "hypothesis": "h", "target": 2}', "target must be 0 or 1, got 2"),
        ('{"premise": "p", "hypothesis": "h", "target": "1"}', "target must be 0 or 1, got '1'"),
        ('{"premise": "p", "hypothesis": "h", "target": true}', "target must be 0 or 1, got True"),
        ('{"premise": "p", "hypothesis": "  ", "target": 1}', "must not be empty"),
        ('["p", "h", 1]', "expected a JSON object"),
    ],
)
def test_bad_row_names_file_and_line(cases_file: Path, line: str, problem: str) -> None:
    write(cases_file, [row(1, id="ok1"), row(2, id="ok2"), line])
    with pytest.raises(DatasetError) as info:
        load_cases(cases_file)
    message = str(info.value)
    assert message.startswith(f"{cases_file}:3: ")
    assert problem in message
    assert info.value.line == 3
    assert info.value.path == cases_file


def test_duplicate_id_names_both_lines(cases_file: Path) -> None:
    write(cases_file, [row(1, id="same"), row(2, id="other"), row(3, id="same")])
    with pytest.raises(DatasetError) as info:
        load_cases(cases_file)
    assert str(info.value) == f"{cases_file}:3: duplicate id 'same' (first on line 1)"


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_file(cases_file: Path, content: str) -> None:
    cases_file.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_cases(cases_file)
    assert str(info.value) == f"{cases_file}: file is empty: no cases"


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(DatasetError) as info:
        Dataset(path=missing).load()
    assert str(info.value) == f"{missing}: file not found"
    assert info.value.line is None


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])
def test_unicode_line_separators_inside_strings_are_text_not_line_ends(
    cases_file: Path, separator: str
) -> None:
    first = row(1, premise=f"One line{separator}and the next.")
    cases_file.write_text(
        json.dumps(first, ensure_ascii=False) + "\n" + json.dumps(row(2)) + "\n", encoding="utf-8"
    )
    cases = load_cases(cases_file)
    assert [c.premise for c in cases] == [f"One line{separator}and the next.", "Document 2."]
    assert cases[1].source == f"{cases_file}:2"


def test_crlf_line_ends_are_read(cases_file: Path) -> None:
    cases_file.write_bytes((json.dumps(row(1)) + "\r\n" + json.dumps(row(2)) + "\r\n").encode())
    assert [c.premise for c in load_cases(cases_file)] == ["Document 1.", "Document 2."]


def test_duplicate_key_in_a_row_is_an_error(cases_file: Path) -> None:
    write(
        cases_file,
        [row(1), '{"premise": "a", "hypothesis": "b", "target": 1, "target": 0}'],
    )
    with pytest.raises(DatasetError, match=r"cases\.jsonl:2: duplicate key 'target'"):
        load_cases(cases_file)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('""', "must not be empty"),
        ('"  "', "must not be empty"),
        ("true", "string or an integer"),
        ("1.5", "string or an integer"),
        ("[1]", "string or an integer"),
        ('{"a": 1}', "string or an integer"),
    ],
)
def test_bad_ids_are_errors(cases_file: Path, raw: str, problem: str) -> None:
    write(cases_file, [row(1), f'{{"id": {raw}, "premise": "a", "hypothesis": "b", "target": 1}}'])
    with pytest.raises(DatasetError, match=rf"cases\.jsonl:2: field 'id': .*{problem}"):
        load_cases(cases_file)


def test_unknown_part_in_fields_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(
        ValueError, match=r"unknown part in fields= 'premis'; did you mean 'premise'"
    ):
        Dataset(path=Path("x.jsonl"), fields={"premis": "document"})  # type: ignore[arg-type]


def test_unknown_part_in_generator_fields_is_an_error() -> None:
    from pytest_llmjudge.model.gen_dataset import GenDataset

    with pytest.raises(
        ValueError, match=r"unknown part in fields= 'contxt'; did you mean 'context'"
    ):
        GenDataset(path=Path("x.jsonl"), fields={"contxt": "doc"})  # type: ignore[arg-type]
