"""The README's library examples run as written, from the repository root, without pytest."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_readme_example(section: str, check: str) -> list[str]:
    """The first python block after the README heading `section`, then `check`, run from the
    repository root in a plain Python process; the words it printed."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)```", readme.split(section, 1)[1], flags=re.S)[:1]
    out = subprocess.run(
        [sys.executable, "-c", code + check], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_the_readme_evaluate_example_runs() -> None:
    check = (
        "\nimport sys\n"
        "assert result.passed is True and result.runs[0].metrics.accuracy == 0.5\n"
        "assert 'pytest' not in sys.modules\n"
        "print('ok', result.runs[0].metrics.n)\n"
    )
    assert run_readme_example("## Without pytest: `evaluate()`", check) == ["ok", "40"]


def test_the_readme_repeats_and_slices_example_runs() -> None:
    check = (
        "\nassert (run.metrics.flaky, run.metrics.accuracy) == (1.0, 1.0)\n"
        "assert run.slices['section=sport'].n == 4 and result.passed is False\n"
        "print('ok', run.metrics.repeat, len(run.slices))\n"
    )
    assert run_readme_example("## Repeats, flaky cases and slices", check) == ["ok", "3", "9"]


def test_the_readme_leaderboard_example_runs() -> None:
    check = (
        "\nassert [s.judge for s in board.standings] == ['careful', 'sloppy', 'hasty']\n"
        "assert board.groups == {'A': ['careful'], 'B': ['sloppy', 'hasty']}\n"
        "print('ok', round(board.pair('careful', 'hasty').p_adjusted, 4))\n"
    )
    assert run_readme_example("## A leaderboard of judges", check) == ["ok", "0.0002"]


def test_the_test_extra_does_not_bring_pytest_asyncio() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert not [d for d in extras["test"] if d.startswith("pytest-asyncio")]
    assert [d for d in extras["asyncio"] if d.startswith("pytest-asyncio")]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "asyncio]" in ci  # CI still runs the compatibility tests
