"""Where hallucinations begin: the onset line of a generator's runs over a sampling grid."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pytest_llmjudge import GenDataset
from pytest_llmjudge.model.gen_run import GenRun, GenRunKey
from pytest_llmjudge.model.generator import Sampling
from pytest_llmjudge.outputs.gen_onset import onset_lines


def result(generator: str, t: float, p: float, rate: float) -> Any:
    sampling = Sampling(temperature=t, top_p=p)
    key = GenRunKey("test", generator, sampling.label, "facts")
    run = GenRun(key, generator, "judge", GenDataset(path="facts.jsonl"), sampling, 1)
    return SimpleNamespace(run=run, metrics=SimpleNamespace(hallucination_rate=rate))


def test_names_the_lowest_temperature_whose_rate_exceeds_the_lowest_points() -> None:
    results = [
        result("tuned", 1.5, 0.5, 0.6),
        result("tuned", 0.5, 0.95, 0.2),
        result("tuned", 0.5, 0.5, 0.2),
        result("tuned", 1.0, 0.5, 0.2),
        result("tuned", 1.0, 0.95, 0.4),
        result("base", 0.5, 0.5, 1.0),
        result("base", 1.0, 0.5, 1.0),
        result("single", 0.7, 0.5, 0.3),
    ]
    assert list(onset_lines(results)) == [
        "hallucinations begin: tuned on facts at temperature 1 (t1-p0.95: 0.400 > 0.200 at "
        "t0.5-p0.5)",
        "hallucinations begin: base on facts: no point up to temperature 1 exceeds the lowest "
        "(1.000 at t0.5-p0.5)",
    ]


def test_a_point_that_scored_nothing_is_left_out_not_compared() -> None:
    results = [
        result("g", 0.5, 0.5, None),  # type: ignore[arg-type]
        result("g", 1.0, 0.5, 0.1),
        result("g", 1.5, 0.5, 0.3),
    ]
    assert list(onset_lines(results)) == [
        "hallucinations begin: g on facts at temperature 1.5 (t1.5-p0.5: 0.300 > 0.100 at t1-p0.5)"
    ]
