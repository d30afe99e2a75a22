"""A generator project with known outcomes, for the tests of the outputs (HTML report, JUnit XML,
job summary, Weave).

The function generator `writer` answers each case of gen.jsonl with its reference, except on g2,
where its answer carries a <script> and Martians, and on g3, where it raises. The function judge
labels an answer inconsistent when it mentions Martians, with a reason holding HTML. So each run
of `writer` has 5 answers: 1 judged inconsistent, 1 unscored (no answer), hallucination rate
2 / 5 = 0.4 and faithfulness 0.6. `tuned` always answers with the reference: rate 0.0.
"""

from __future__ import annotations

from typing import Any

HOSTILE_ANSWER = "<script>alert('gen')</script> It was built by Martians & co."
REASON = "Martians <b>are</b> not in the context"
GENERATION_ERROR = "the generator fell over"

MODULE = """
import pytest
from pytest_llmjudge import Generator, Judge


def write(case, sampling):
    if case.id == "g3":
        raise RuntimeError({error!r})
    if case.id == "g2":
        return {answer!r}
    return case.reference


def judge(case):
    if "Martians" in case.hypothesis:
        return {{"prediction": 0, "reason": {reason!r}}}
    return {{"prediction": 1, "reason": "every fact is in the context"}}


WRITER = Generator(name="writer", backend="function", function=write)
TUNED = Generator(name="tuned", backend="function", function=lambda case, sampling: case.reference)
JUDGE = Judge(name="fn", backend="function", function=judge)
MISTRAL = Judge(name="m", backend="mistral", model="mistral-large-latest")


@pytest.mark.llmjudge_generator(dataset="gen.jsonl", judge={judge}{extra})
def test_gen(llmjudge_answer):
    llmjudge_answer.check()
"""


def rows(n: int = 5) -> list[dict[str, Any]]:
    """Cases g1..gn: a context about a tower, a question on it and the reference answer."""
    return [
        {
            "id": f"g{i}",
            "context": f"The tower number {i} was built in {1900 + i} by the town of Orlen.",
            "prompt": f"When was tower number {i} built?",
            "reference": f"Tower number {i} was built in {1900 + i}.",
        }
        for i in range(1, n + 1)
    ]


def generator_project(
    project: Any, extra: str = ", generators=[WRITER]", judge: str = "JUDGE"
) -> None:
    """Write gen.jsonl and test_gen.py (marker arguments after the judge: `extra`) into a
    pytester project; `judge="MISTRAL"` makes every run skip when MISTRAL_API_KEY is unset."""
    project.cases(rows(), name="gen")
    source = MODULE.format(
        error=GENERATION_ERROR, answer=HOSTILE_ANSWER, reason=REASON, judge=judge, extra=extra
    )
    project.pytester.makepyfile(test_gen=source)
