"""gcfreeze: objects alive after collection are out of the cyclic GC's scans during the run only."""

from __future__ import annotations

import json

import pytest

# Records gc's frozen-object count while an item runs and after every unconfigure hook.
FREEZE_CONFTEST = """
import gc, json
from pathlib import Path

SEEN = {}


def pytest_configure(config):
    config.add_cleanup(lambda: Path("freeze.json").write_text(json.dumps(
        {**SEEN, "after": gc.get_freeze_count()})))


def pytest_runtest_call(item):
    SEEN["during"] = gc.get_freeze_count()
"""


def frozen_counts(pytester: pytest.Pytester) -> dict[str, int]:
    counts: dict[str, int] = json.loads((pytester.path / "freeze.json").read_text())
    return counts


def test_an_evaluation_runs_with_collection_frozen_and_thaws_at_the_end(project, pytester) -> None:
    pytester.makeconftest(FREEZE_CONFTEST)
    project.cases(project.make_rows([1, 0, 1]))
    project.scripted()
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=3)
    counts = frozen_counts(pytester)
    assert counts["during"] > 1000  # pytest's nodes, the modules, the cases
    assert counts["after"] == 0


def test_the_ini_key_turns_it_off(project, pytester) -> None:
    project.ini("llmjudge_freeze_gc = false\n")
    pytester.makeconftest(FREEZE_CONFTEST)
    project.cases(project.make_rows([1, 0, 1]))
    project.scripted()
    pytester.runpytest_subprocess().assert_outcomes(passed=3)
    assert frozen_counts(pytester) == {"during": 0, "after": 0}


def test_a_run_without_llmjudge_items_leaves_gc_alone(pytester) -> None:
    pytester.makeconftest(FREEZE_CONFTEST)
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    assert frozen_counts(pytester) == {"during": 0, "after": 0}
