"""Child processes of bench/scale.py: test projects, their environment, and timing them whole."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from scale_scripts import TIMING_CONFTEST
from scale_workload import write_cases

API_KEY = "sk-bench-0000000000000000"


def write_project(
    folder: Path, n: int, test: str, name: str = "test_eval.py", cases: Path | None = None
) -> None:
    """A test project: `n` cases (or a link to the `cases` file), the test, the timing conftest."""
    folder.mkdir(parents=True, exist_ok=True)
    if cases is not None:
        (folder / "cases.jsonl").symlink_to(cases)
    else:
        write_cases(folder / "cases.jsonl", n)
    (folder / name).write_text(textwrap.dedent(test), encoding="utf-8")
    (folder / "conftest.py").write_text(TIMING_CONFTEST, encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")


def child_env(url: str, pycache: Path | None) -> dict[str, str]:
    """Dummy key, the loopback server, no proxy, no telemetry, Weave off; bytecode cached in
    `pycache` (None: this environment's own setting)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in {"http_proxy", "https_proxy", "all_proxy", "pytest_addopts"}
    }
    env.update(
        MISTRAL_API_KEY=API_KEY,
        MISTRAL_SERVER_URL=url,
        NO_PROXY="127.0.0.1",
        MISTRAL_SDK_TELEMETRY="false",
        WANDB_ERROR_REPORTING="false",
    )
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def spawn(command: list[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run a child to its end: wall from its start to its exit, its CPU seconds (user + system,
    os.wait4: this child alone, not the bench's server) and its peak RSS in MiB."""
    with open(cwd / "stdout.txt", "w") as out:
        epoch, started = time.time(), time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    return {
        "epoch": epoch,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mib": usage.ru_maxrss / 1024,
        "rc": os.waitstatus_to_exitcode(status),
        "out": (cwd / "stdout.txt").read_text(),
    }


def pytest_run(folder: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    """One whole `python -m pytest` process in `folder`, with its session's marks: session wall
    and CPU (conftest import to unconfigure), collection and run phase, the pytest outcomes."""
    times = folder / "times.json"
    times.unlink(missing_ok=True)
    env = {**env, "BENCH_TIMES": str(times)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    result = spawn(command, folder, env)
    marks = json.loads(times.read_text())
    collected = marks.get("collected", marks["end"])
    result["session"] = marks["end"] - marks["start"]
    result["collect"] = collected - marks["start"]
    result["run"] = marks["end"] - collected
    result["session_cpu"] = marks["cpu_end"] - marks["cpu_start"]
    result["start_up"] = marks["wall_start"] - result["epoch"]  # exec to the conftest's import
    result["exit"] = result["wall"] - result["start_up"] - result["session"]
    result["outcomes"] = {
        word: int(count) for count, word in re.findall(r"(\d+) (\w+)", _last_line(result["out"]))
    }
    return result


def _last_line(out: str) -> str:
    """pytest -q's closing line ("497 passed, 503 xfailed in 3.61s")."""
    lines = [line for line in out.splitlines() if " in " in line and line.strip()[:1].isdigit()]
    return lines[-1] if lines else ""
