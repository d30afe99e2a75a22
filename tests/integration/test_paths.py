"""One path rule: a relative path a user writes is relative to the file that declares it,
whatever the working directory (datasets, local_judge, few_shot_judge, llmjudge_finetune)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

CONFTEST = """
import pytest
from pytest_llmjudge import few_shot_judge, local_judge


@pytest.fixture(scope="session")
def offline():
    return local_judge("offline", train=["data/train.jsonl"])


@pytest.fixture(scope="session")
def fewshot():
    judge = few_shot_judge("fewshot", model="m", examples_from="data/train.jsonl", k=2)
    return judge.model_copy(
        update={"backend": "function", "options": {}, "function": lambda case: case.target}
    )


@pytest.fixture(scope="session")
def tuned(llmjudge_finetune):
    return llmjudge_finetune(
        "tuned", backend="local", train=["data/train.jsonl"], validation="data/train.jsonl"
    )
"""

TEST = """
import pytest


@pytest.mark.llmjudge(dataset="data/cases.jsonl", judges=["offline", "fewshot", "tuned"])
def test_judges(llmjudge_result):
    llmjudge_result.check()
"""


def rows(n: int) -> str:
    out = []
    for i in range(n):
        target = i % 2
        claim = "rose" if target else "fell"
        out.append(
            {
                "id": f"r{i}",
                "premise": f"Sales of product {i} rose by {i} percent in the spring.",
                "hypothesis": f"Sales of product {i} {claim} by {i} percent.",
                "target": target,
            }
        )
    return "".join(json.dumps(r) + "\n" for r in out)


@pytest.fixture
def evals_project(pytester: pytest.Pytester) -> Path:
    evals = pytester.mkdir("evals")
    (evals / "data").mkdir()
    (evals / "data" / "train.jsonl").write_text(rows(40))
    (evals / "data" / "cases.jsonl").write_text(rows(6))
    (evals / "conftest.py").write_text(CONFTEST)
    (evals / "test_judges.py").write_text(TEST)
    return evals


@pytest.mark.parametrize("where", ["root", "evals"])
def test_paths_resolve_against_the_declaring_file_from_any_directory(
    pytester: pytest.Pytester, evals_project: Path, where: str
) -> None:
    if where == "evals":
        os.chdir(evals_project)  # `cd evals && pytest` (pytester restores the directory)
        result = pytester.runpytest("-p", "no:cacheprovider", "--rootdir", str(pytester.path))
    else:
        result = pytester.runpytest("-p", "no:cacheprovider", "evals")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("xfailed", 0) == 18, result.stdout.str()
    assert "not found" not in result.stdout.str()


def test_a_missing_relative_file_names_the_resolved_path(
    pytester: pytest.Pytester, evals_project: Path
) -> None:
    (evals_project / "data" / "train.jsonl").rename(evals_project / "data" / "other.jsonl")
    result = pytester.runpytest("-p", "no:cacheprovider", "evals")
    assert str(evals_project / "data" / "train.jsonl") in result.stdout.str()


def test_evaluate_resolves_against_the_calling_script(
    pytester: pytest.Pytester, evals_project: Path
) -> None:
    script = evals_project / "run.py"
    script.write_text(
        "from pytest_llmjudge import Judge, evaluate\n"
        "judge = Judge(name='fn', backend='function', function=lambda case: case.target)\n"
        "result = evaluate('data/cases.jsonl', [judge])\n"
        "print('n', result.runs[0].metrics.n)\n"
    )
    out = pytester.run(sys.executable, str(script), timeout=60)  # run from the project root
    assert out.ret == 0, out.stderr.str()
    assert "n 6" in out.stdout.str()
