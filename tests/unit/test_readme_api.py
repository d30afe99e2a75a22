"""The README's evaluate() example runs as written, from the repository root, without pytest."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_evaluate_example_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Without pytest: `evaluate()`", 1)[1]
    [code] = re.findall(r"```python\n(.*?)```", section, flags=re.S)[:1]
    check = (
        "\nimport sys\n"
        "assert result.passed is True and result.runs[0].metrics.accuracy == 0.5\n"
        "assert 'pytest' not in sys.modules\n"
        "print('ok', result.runs[0].metrics.n)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code + check], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "40"]
