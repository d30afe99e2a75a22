"""Do judge requests overlap? Runs a generated llmjudge project against a loopback ChatServer.

    python bench/overlap.py [--cases 200] [--latency 0.1] [--concurrency 16]

Starts ChatServer(latency=L) on 127.0.0.1, writes a temporary pytest project with N cases and one
Mistral judge, runs pytest on it in a subprocess (MISTRAL_SERVER_URL points at the server) and
prints the wall time next to the sequential floor N x L and the ideal N x L / C. Nothing leaves
the machine. Exits non-zero when the pytest run fails or the server saw fewer requests than cases.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from pytest_llmjudge.testing import ChatServer

API_KEY = "dummy"
NAMES = ["Alice", "Bruno", "Chen", "Dara", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jules"]
CITIES = ["Paris", "Lagos", "Osaka", "Lima", "Oslo", "Quito", "Hanoi", "Tunis", "Porto", "Perth"]
TEST_FILE = """\
import pytest

from pytest_llmjudge import Judge


@pytest.mark.llmjudge(
    dataset="cases.jsonl",
    judges=[Judge(name="stub", backend="mistral", model="stub-model")],
)
def test_x(llmjudge_result):
    llmjudge_result.check()
"""


def make_cases(n: int) -> list[dict[str, object]]:
    """N cases, half consistent and half with a hallucinated city or year."""
    cases = []
    for i in range(n):
        who, other = NAMES[i % len(NAMES)], NAMES[(i + 3) % len(NAMES)]
        city, wrong = CITIES[i % len(CITIES)], CITIES[(i + 1) % len(CITIES)]
        year = 1990 + i % 30
        premise = f"{who} met {other} in {city} in {year} to sign contract number {1000 + i}."
        if i % 2:
            hypothesis = f"{who} met {other} in {wrong} in {year}."
        else:
            hypothesis = f"{who} signed contract {1000 + i} with {other} in {year}."
        cases.append(
            {
                "id": f"case-{i:04d}",
                "premise": premise,
                "hypothesis": hypothesis,
                "target": 1 - i % 2,
            }
        )
    return cases


def write_project(folder: Path, n: int) -> None:
    """The temporary pytest project: a JSONL dataset, a test file and an ini that roots it."""
    lines = (json.dumps(case) for case in make_cases(n))
    (folder / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "test_overlap.py").write_text(TEST_FILE, encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")


def child_env(url: str) -> dict[str, str]:
    """The pytest run's environment: dummy key, loopback server, no proxy, no telemetry."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in {"http_proxy", "https_proxy", "all_proxy", "pytest_addopts"}
        and k != "MISTRAL_SDK_TELEMETRY"
    }
    env.update(MISTRAL_API_KEY=API_KEY, MISTRAL_SERVER_URL=url, NO_PROXY="127.0.0.1")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200, help="number of cases (default 200)")
    parser.add_argument("--latency", type=float, default=0.1, help="server seconds per response")
    parser.add_argument("--concurrency", type=int, default=16, help="--llmjudge-concurrency")
    args = parser.parse_args(argv)
    if args.cases < 1 or args.latency <= 0 or args.concurrency < 1:
        parser.error("--cases and --concurrency must be >= 1 and --latency > 0")
    n, latency, concurrency = args.cases, args.latency, args.concurrency

    with (
        tempfile.TemporaryDirectory(prefix="llmjudge-overlap-") as tmp,
        ChatServer(latency=latency, api_key=API_KEY) as server,
    ):
        folder = Path(tmp)
        write_project(folder, n)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:asyncio",
            "--llmjudge-concurrency",
            str(concurrency),
        ]
        started = time.perf_counter()
        run = subprocess.run(
            command,
            cwd=folder,
            env=child_env(server.url),
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started

    output = run.stdout + run.stderr
    summary = re.findall(r"^=*\s*(\d+ \w+.* in ([\d.]+)s.*?)=*$", output, re.MULTILINE)
    answered = sum(1 for request in server.requests if request.status == 200)
    sequential = n * latency
    ideal = sequential / concurrency
    rows = [
        ("cases", f"{n}"),
        ("latency", f"{latency:g} s"),
        ("concurrency", f"{concurrency}"),
        ("wall time (pytest subprocess)", f"{wall:.2f} s"),
        ("pytest's own session time", f"{summary[-1][1]} s" if summary else "?"),
        ("sequential floor N x L", f"{sequential:.2f} s"),
        ("ideal N x L / C", f"{ideal:.2f} s"),
        ("ratio wall / ideal", f"{wall / ideal:.2f}x"),
        ("speed-up over sequential", f"{sequential / wall:.1f}x"),
        ("server max_in_flight", f"{server.max_in_flight}"),
        ("server requests", f"{server.count}"),
        ("server answers 200", f"{answered}"),
        ("pytest exit code", f"{run.returncode}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")

    problems = []
    if run.returncode != 0:
        problems.append(f"pytest exited with {run.returncode}")
    if server.count < n:
        problems.append(f"the server saw {server.count} requests for {n} cases")
    if answered < n:
        problems.append(f"the server answered {answered} of {n} cases with 200")
    if problems:
        print("\nFAILED: " + "; ".join(problems), file=sys.stderr)
        print(textwrap.indent(output[-4000:], "  | "), file=sys.stderr)
        return 1
    print(f"\npytest: {summary[-1][0].strip() if summary else output.strip()[-200:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
