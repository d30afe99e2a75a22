"""The README's user example runs as written: its JSONL block and its evals/conftest.py and
evals/test_judges.py blocks, put where the README says, in a fresh project without an API key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def example_blocks() -> tuple[str, dict[str, str]]:
    """The section's JSONL block and its Python blocks by the path in their first comment."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A user's eval", 1)[1].split("\n## ", 1)[0]
    [jsonl] = re.findall(r"```jsonl\n(.*?)```", section, flags=re.S)
    files = {}
    for block in re.findall(r"```python\n(.*?)```", section, flags=re.S):
        first, _, _ = block.partition("\n")
        files[first.removeprefix("# ").strip()] = block
    return jsonl, files


def training_rows(n: int) -> str:
    """Labelled cases in the shape of the README's JSONL block."""
    rows = []
    for i in range(n):
        target = i % 2
        verb = "approved" if target else "rejected"
        rows.append(
            {
                "id": f"t{i}",
                "premise": f"The council of town {i} approved the budget on Monday.",
                "hypothesis": f"The budget of town {i} was {verb}.",
                "target": target,
            }
        )
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_the_readme_user_example_runs_as_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    jsonl, files = example_blocks()
    assert set(files) == {"evals/conftest.py", "evals/test_judges.py"}
    evals = pytester.mkdir("evals")
    (evals / "data").mkdir()
    (evals / "cases.jsonl").write_text(jsonl)
    (evals / "data" / "train.jsonl").write_text(training_rows(40))
    for name, source in files.items():
        (pytester.path / name).write_text(source)

    result = pytester.runpytest("-p", "no:cacheprovider", "-v", "-rs", "evals/")
    out = result.stdout.str()
    ids = [json.loads(line)["id"] for line in jsonl.splitlines() if line.strip()]
    for case_id in ids:  # one item per (judge, case): the offline judge's are judged
        result.stdout.re_match_lines(
            [rf"evals/test_judges.py::test_judges\[offline-{case_id}\] (PASSED|XFAIL)"]
        )
        for judge in ("large", "fewshot"):  # the Mistral judges are skipped without a key
            assert f"test_judges[{judge}-{case_id}] SKIPPED" in out, out
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("xfailed", 0) == len(ids), out
    assert outcomes.get("skipped") == 2 * len(ids), out
    assert "errors" not in outcomes, out
    assert "MISTRAL_API_KEY is not set" in out
    result.stdout.fnmatch_lines(["*llmjudge summary*", "offline*cases*"])
