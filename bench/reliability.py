"""Retries, shared rate limits and the response cache, against a loopback server that answers 429.

    python bench/reliability.py [--cases 1000] [--latency 0.1] [--rate-429 0.1] [--concurrency 16]

Starts ChatServer(latency=L, rate_429=P, retry_after=1) on 127.0.0.1, writes a temporary pytest
project with N cases and one Mistral judge, and runs pytest on it in a subprocess (a dummy
MISTRAL_API_KEY, MISTRAL_SERVER_URL pointing at the server, a fresh cache folder). Prints the wall
time, the requests, the 429s and the unscored cases (none may be lost), then runs the very same
command again and prints the requests it made (it must make none: every answer is in the cache).
Exits non-zero when either condition fails. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overlap import child_env, write_project  # noqa: E402  (a sibling script)

from pytest_llmjudge.testing import ChatServer  # noqa: E402


def run_pytest(
    folder: Path, url: str, concurrency: int
) -> tuple[subprocess.CompletedProcess[str], float]:
    """One pytest run of the project; its result and wall time."""
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
        "--llmjudge-cache-dir",
        str(folder / "cache"),
        "--llmjudge-report",
        "report.json",
    ]
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=folder, env=child_env(url), capture_output=True, text=True, check=False
    )
    return done, time.perf_counter() - started


def report_counts(folder: Path) -> tuple[int, int, int]:
    """Cases, unscored cases and cases from the cache, from the JSON report."""
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    cases = [case for run in report["runs"] for case in run["cases"]]
    unscored = sum(1 for case in cases if case["prediction"] is None)
    return len(cases), unscored, sum(1 for case in cases if case["cached"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000, help="number of cases (default 1000)")
    parser.add_argument("--latency", type=float, default=0.1, help="server seconds per response")
    parser.add_argument("--rate-429", type=float, default=0.10, help="share of requests given 429")
    parser.add_argument("--retry-after", type=float, default=1.0, help="Retry-After of a 429")
    parser.add_argument("--concurrency", type=int, default=16, help="--llmjudge-concurrency")
    args = parser.parse_args(argv)
    n = args.cases

    problems: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="llmjudge-reliability-") as tmp,
        ChatServer(
            latency=args.latency,
            rate_429=args.rate_429,
            retry_after=args.retry_after,
            api_key="dummy",
        ) as server,
    ):
        folder = Path(tmp)
        write_project(folder, n)
        first, wall = run_pytest(folder, server.url, args.concurrency)
        requests = server.count
        rate_limited = sum(1 for r in server.requests if r.status == 429)
        max_in_flight = server.max_in_flight
        cases, unscored, _ = report_counts(folder)
        second, wall2 = run_pytest(folder, server.url, args.concurrency)
        again = server.count - requests
        cases2, unscored2, cached2 = report_counts(folder)

    rows = [
        ("cases", f"{n}"),
        ("server latency", f"{args.latency:g} s"),
        ("server 429 rate", f"{args.rate_429:.0%} (Retry-After {args.retry_after:g} s)"),
        ("--llmjudge-concurrency", f"{args.concurrency}"),
        ("first run: wall time", f"{wall:.2f} s"),
        ("first run: requests", f"{requests}"),
        ("first run: 429s", f"{rate_limited}"),
        ("first run: server max_in_flight", f"{max_in_flight}"),
        ("first run: cases in report", f"{cases}"),
        ("first run: unscored", f"{unscored}"),
        ("first run: exit code", f"{first.returncode}"),
        ("second run: wall time", f"{wall2:.2f} s"),
        ("second run: requests", f"{again}"),
        ("second run: cases from the cache", f"{cached2} of {cases2}"),
        ("second run: unscored", f"{unscored2}"),
        ("second run: exit code", f"{second.returncode}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")

    if cases != n or unscored:
        problems.append(f"first run: {unscored} unscored, {cases} of {n} cases in the report")
    if again:
        problems.append(f"second run made {again} requests (expected 0)")
    if cached2 != n:
        problems.append(f"second run took {cached2} of {n} cases from the cache")
    for label, done in (("first", first), ("second", second)):
        if done.returncode != 0:
            problems.append(f"{label} run: pytest exited with {done.returncode}")
    if problems:
        print("\nFAILED: " + "; ".join(problems), file=sys.stderr)
        for done in (first, second):
            print(textwrap.indent((done.stdout + done.stderr)[-3000:], "  | "), file=sys.stderr)
        return 1
    tail = [line for line in first.stdout.splitlines() if "from the cache" in line]
    print("\nfirst run's summary: " + (tail[0] if tail else "?"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
