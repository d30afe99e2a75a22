"""Judge declarations and prompt rendering."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pydantic import ValidationError

from pytest_llmjudge import (
    Case,
    Example,
    Judge,
    draw_examples,
    few_shot_judge,
    fine_tuned_judge,
    prompted_judge,
)
from pytest_llmjudge.model import prompts
from pytest_llmjudge.model.judge import fill, render_examples

CASE = Case(
    id="c1", premise="The meeting is on Monday.", hypothesis="The meeting is on Friday.", target=0
)


def content(judge: Judge, case: Case = CASE) -> str:
    messages = judge.messages(case)
    assert len(messages) == 1 and messages[0]["role"] == "user"
    return messages[0]["content"]


def test_fill_replaces_known_placeholders_and_keeps_the_rest() -> None:
    assert fill("{a} and {b} and {unknown}", a="1", b="2") == "1 and 2 and {unknown}"
    assert fill("{{literal}} {a}", a="x") == "{literal} x"
    assert fill('{{"k": {a}}}', a="1") == '{"k": 1}'


def test_placeholders_are_filled_once() -> None:
    # a document that itself contains a placeholder is not filled a second time
    case = Case(id="c", premise="Write {hypothesis} here.", hypothesis="{premise}", target=1)
    text = fill("P: {premise} H: {hypothesis}", premise=case.premise, hypothesis=case.hypothesis)
    assert text == "P: Write {hypothesis} here. H: {premise}"
    rendered = content(prompted_judge("j", "m"), case)
    assert "Write {hypothesis} here." in rendered
    assert rendered.count("{premise}") == 1


def test_braces_inside_documents_are_kept() -> None:
    case = Case(
        id="c",
        premise='Config: {"retries": 3} and {{x}} and }{',
        hypothesis="It retries {3} times.",
        target=1,
    )
    rendered = content(prompted_judge("j", "m"), case)
    assert 'Config: {"retries": 3} and {{x}} and }{' in rendered
    assert "It retries {3} times." in rendered


@pytest.mark.parametrize("factory", [prompted_judge, fine_tuned_judge])
def test_builtin_prompts_ask_for_json_with_consistency_and_reason(factory) -> None:  # type: ignore[no-untyped-def]
    rendered = content(factory("j", "m"))
    assert CASE.premise in rendered
    assert CASE.hypothesis in rendered
    assert "JSON" in rendered
    assert '{"reason": ' in rendered
    assert '"consistency": ' in rendered
    assert "{{" not in rendered and "}}" not in rendered
    assert "{premise}" not in rendered and "{hypothesis}" not in rendered


@pytest.mark.parametrize("kind", ["prompted", "few-shot", "fine-tuned"])
def test_every_builtin_template_has_the_case_placeholders(kind: str) -> None:
    template = prompts.BY_KIND[kind]
    assert "{premise}" in template and "{hypothesis}" in template
    assert ("{examples}" in template) is (kind == "few-shot")
    assert '"consistency"' in fill(template, premise="p", hypothesis="h", examples="")


def test_custom_prompt_replaces_the_builtin() -> None:
    judge = Judge(name="j", prompt="Doc={premise}; Sum={hypothesis}; {{json}}")
    assert judge.template == "Doc={premise}; Sum={hypothesis}; {{json}}"
    assert content(judge) == f"Doc={CASE.premise}; Sum={CASE.hypothesis}; {{json}}"


def test_kinds_pick_their_templates() -> None:
    assert prompted_judge("a", "m").template == prompts.PROMPTED
    assert fine_tuned_judge("b", "ft:m").template == prompts.FINE_TUNED
    assert Judge(name="c", kind="few-shot").template == prompts.FEW_SHOT
    assert fine_tuned_judge("b", "ft:m").model == "ft:m"


@pytest.mark.parametrize("name", ["has space", "a/b", "", "x:y"])
def test_judge_names_must_be_id_safe(name: str) -> None:
    with pytest.raises(ValidationError):
        Judge(name=name)


def test_rendered_examples_show_each_example_and_its_answer() -> None:
    examples = (
        Example(premise="P-one", hypothesis="H-one", target=1, reason="Supported."),
        Example(premise="P-two {x}", hypothesis="H-two", target=0),
    )
    block = render_examples(examples)
    assert block.index("P-one") < block.index("P-two {x}")
    first, second = block.split("\n\n")
    assert json.loads(first.split("Answer: ", 1)[1]) == {"reason": "Supported.", "consistency": 1}
    answer = json.loads(second.split("Answer: ", 1)[1])
    assert answer["consistency"] == 0 and answer["reason"]


def write_pool(path: Path, positives: int, negatives: int) -> Path:
    rows = [
        {
            "id": f"{'pos' if t else 'neg'}{i}",
            "premise": f"Doc {t}-{i}",
            "hypothesis": f"Sum {t}-{i}",
            "target": t,
        }
        for t, count in ((1, positives), (0, negatives))
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_draw_examples_is_deterministic_and_balanced(tmp_path: Path) -> None:
    pool = write_pool(tmp_path / "pool.jsonl", positives=10, negatives=10)
    drawn = draw_examples(pool, 6, seed=4)
    assert drawn == draw_examples(pool, 6, seed=4)
    assert len(drawn) == 6
    assert Counter(e.target for e in drawn) == {1: 3, 0: 3}
    assert len({e.premise for e in drawn}) == 6
    # every example comes from the file, with its own label
    for example in drawn:
        assert example.premise == f"Doc {example.target}-{example.premise.split('-')[1]}"
    seen = {tuple(e.premise for e in draw_examples(pool, 6, seed=s)) for s in range(6)}
    assert len(seen) > 1


def test_draw_examples_from_an_unbalanced_pool_takes_all_of_the_minority(tmp_path: Path) -> None:
    pool = write_pool(tmp_path / "pool.jsonl", positives=2, negatives=8)
    drawn = draw_examples(pool, 6, seed=0)
    assert Counter(e.target for e in drawn) == {1: 2, 0: 4}


def test_draw_more_examples_than_exist(tmp_path: Path) -> None:
    pool = write_pool(tmp_path / "pool.jsonl", positives=1, negatives=2)
    assert len(draw_examples(pool, 10)) == 3


def test_few_shot_judge_renders_drawn_examples_into_its_prompt(tmp_path: Path) -> None:
    pool = write_pool(tmp_path / "pool.jsonl", positives=3, negatives=3)
    judge = few_shot_judge("fs", "m", examples_from=pool, k=4, seed=1)
    assert judge.kind == "few-shot"
    assert len(judge.examples) == 4
    rendered = content(judge)
    for example in judge.examples:
        assert example.premise in rendered
        assert example.hypothesis in rendered
    assert "{examples}" not in rendered
    assert rendered.index(judge.examples[-1].premise) < rendered.index(CASE.premise)
    assert rendered.count('"consistency"') == 5  # four examples and the instruction
