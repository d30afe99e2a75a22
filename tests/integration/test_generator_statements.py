"""Generator faithfulness per statement: each sentence of an answer judged against the context."""

from __future__ import annotations

from typing import Any

from fakes.generator_project import rows

MODULE = """
import pytest
from pytest_llmjudge import Generator, Judge

CALLS = []


def write(case, sampling):
    if case.id == "g1":
        return case.reference + " It was built by Martians. It has a red roof."
    return case.reference


def judge(case):
    CALLS.append(case.hypothesis)
    bad = "Martians" in case.hypothesis
    return {"prediction": 0 if bad else 1, "reason": "Martians" if bad else "in the context"}


GEN = Generator(name="writer", backend="function", function=write)


@pytest.mark.llmjudge_generator(
    dataset="gen.jsonl", generators=[GEN],
    judge=Judge(name="fn", backend="function", function=judge),
)
def test_gen(llmjudge_answer):
    pass


def test_calls():
    # 2 whole answers, then the 3 sentences of the one answer that has more than one
    assert len(CALLS) == 5, CALLS
"""


def test_each_sentence_is_judged_and_faithfulness_is_the_share_supported(project: Any) -> None:
    project.cases(rows(2), name="gen")
    project.pytester.makepyfile(test_gen=MODULE)
    result = project.pytester.runpytest("--llmjudge-report", "report.json", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    (run,) = project.report()["generator_runs"]
    m = run["metrics"]
    assert m["hallucination_rate"] == 0.5  # the whole of g1's answer is judged inconsistent
    assert m["faithfulness"] == (2 / 3 + 1) / 2  # but 2 of its 3 sentences are supported
    assert m["statements"] == 4 and m["statements_supported"] == 3
    answers = {a["case"]: a for a in run["answers"]}
    assert answers["g1"]["statements"] == [1, 0, 1] and answers["g2"]["statements"] is None
    result.stdout.fnmatch_lines(["writer*gen*2*0.500*0.833*"])
