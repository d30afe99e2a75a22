"""The example GitHub Actions workflow: evals with the key from a secret, the cache kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "evals.yml"


@pytest.fixture(scope="module")
def steps() -> list[dict[str, Any]]:
    yaml = pytest.importorskip("yaml", reason="PyYAML reads the workflow")
    data = yaml.safe_load(WORKFLOW.read_text())
    result: list[dict[str, Any]] = data["jobs"]["evals"]["steps"]
    return result


def test_runs_the_evals_with_the_key_from_a_secret(steps: list[dict[str, Any]]) -> None:
    [run] = [s for s in steps if "pytest evals/" in s.get("run", "")]
    assert run["env"]["MISTRAL_API_KEY"] == "${{ secrets.MISTRAL_API_KEY }}"
    for option in ("--junitxml=", "--llmjudge-report=", "--llmjudge-html="):
        assert option in run["run"]


def test_keeps_the_response_cache_even_when_a_gate_fails(steps: list[dict[str, Any]]) -> None:
    uses = [s.get("uses", "") for s in steps]
    restore = steps[uses.index("actions/cache/restore@v4")]
    save = steps[uses.index("actions/cache/save@v4")]
    evals = next(i for i, s in enumerate(steps) if "pytest evals/" in s.get("run", ""))
    assert uses.index("actions/cache/restore@v4") < evals < uses.index("actions/cache/save@v4")
    assert restore["with"]["path"] == save["with"]["path"] == ".llmjudge/cache"  # ini default
    assert save["if"] == "always()"
    assert restore["with"]["restore-keys"] in save["with"]["key"]


def test_uploads_the_reports(steps: list[dict[str, Any]]) -> None:
    [upload] = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()" and upload["with"]["path"] == "reports/"
