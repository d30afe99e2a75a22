"""Loading the plugin loads only its options: a pytest run without an llmjudge test pays for no
model, output or HTTP module (the import-time figure of bench/scale.py)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "pydantic",
    "aiohttp",
    "mistralai",
    "pytest_llmjudge.evaluation.session",
    "pytest_llmjudge.outputs.github",
    "pytest_llmjudge.outputs.junit",
    "pytest_llmjudge.scoring.metrics",
)


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, pytest\n"
        "import pytest_llmjudge.plugin\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
