"""Scale and speed of the plugin on a realistic workload, with PASS/MISS per target.

    python bench/scale.py [--cases 1000] [--concurrency 32] [--latency 0.1] [--flip 0.5]
                          [--unparsable 0.05] [--rate-5xx 0.02] [--rate-429 0] [--big 10000]
                          [--transport http] [--no-sdk] [--no-weave] [--no-bytecode-cache]

The workload is what users run: N FIB-like cases (news documents of about 2,000 characters,
summaries of about 100, half of them consistent; bench/scale_workload.py) judged by a model
behind a loopback ChatServer (127.0.0.1, nothing leaves the machine) with L seconds of latency
whose judge is wrong on purpose: its answer flipped on a share --flip of the cases (so about
half the items xfail as mismatches), prose that is not JSON on --unparsable of them (unscored
items), and --rate-5xx / --rate-429 of the requests answered 500/502/503 / 429, which the plugin
retries. (429 is off by default: it halves the plugin's concurrency by design, AIMD, so that
N x L / C is no longer the ideal; bench/reliability.py measures it.)

It prints:
[1] the whole `pytest` process over the N cases (exec to exit: interpreter start-up, pytest's
    and the plugin's imports, collection, the requests, the items, the JSON report, exit; wall
    from the child's start to its end, CPU from os.wait4), its session beside it (the timing
    conftest's import to unconfigure) and where the wall time goes; the same cases in a plain
    asyncio loop over the plugin's own client (the floor), over the official SDK, and in
    `weave.Evaluation` over the SDK (without weave.init it sends nothing), each a process of
    its own; how the outcomes came out (passed, mismatched, unscored, retried); and, when the
    server answers errors, the plugin and the floor again with every answer a 200 (what the
    retries cost: a case's backoff of 0.25-0.5 s, and the last ones' at the end of the run);
[2] a fully cached rerun of the N cases;
[3] collection (the median of 3 alternated pairs), per-item time and peak memory of --big cases
    with an instant function judge (no network, always right: pytest's protocol and ours)
    against a plain `@pytest.mark.parametrize` of the same rows, and the plugin with half the
    verdicts wrong;
[4] the import time of the plugin (Weave off).

The runs write bytecode to a private cache and are timed after untimed warm-up runs, as any
second run of pytest is; a machine that sets PYTHONDONTWRITEBYTECODE=1 (this one does)
compiles, and pytest re-rewrites, every module of the plugin on every run:
--no-bytecode-cache measures that.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from scale_procs import API_KEY, child_env, pytest_run, spawn, write_project
from scale_scripts import (
    CLIENT_LOOP,
    FUNCTION_TEST,
    LOOP_HEAD,
    MISTRAL_TEST,
    PLAIN_TEST,
    SDK_LOOP,
    WEAVE_EVAL,
)
from scale_workload import write_cases

from pytest_llmjudge.settings import TRANSPORTS
from pytest_llmjudge.testing import ChatServer, noisy_judge

WALL_TARGET = 1.2  # the whole process, x the ideal N x L / C
CPU_TARGET_MS = 2.0  # the whole process's CPU per case, start-up included
PLAIN_TARGET = 1.2  # collection and per-item time of --big cases, x plain parametrize


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--flip", type=float, default=0.5, help="share of answers flipped")
    parser.add_argument("--unparsable", type=float, default=0.05, help="share of prose answers")
    parser.add_argument("--rate-5xx", type=float, default=0.02, help="share answered 500/502/503")
    parser.add_argument("--rate-429", type=float, default=0.0, help="share answered 429")
    parser.add_argument("--big", type=int, default=10_000, help="cases of the collection rows")
    parser.add_argument("--transport", choices=TRANSPORTS, default="http")
    parser.add_argument("--no-sdk", action="store_true", help="skip the SDK loop row")
    parser.add_argument("--no-weave", action="store_true", help="skip the weave.Evaluation row")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep this environment's PYTHONDONTWRITEBYTECODE: every run compiles the plugin anew",
    )
    return parser.parse_args(argv)


def outcome_line(run: dict[str, Any], report: dict[str, Any], statuses: Counter[int]) -> str:
    """How the items came out (pytest's count), why (the report) and what the server answered."""
    cases = [case for r in report["runs"] for case in r["cases"]]
    unscored = sum(1 for c in cases if c["prediction"] is None)
    mismatched = sum(1 for c in cases if c["prediction"] is not None and not c["correct"])
    pytest_counts = ", ".join(f"{v} {k}" for k, v in run["outcomes"].items() if k != "in")
    retried = re.search(r"requests sent \((\d+) retr", run["out"])
    answers = ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items()))
    return (
        f"  outcomes: {pytest_counts} ({len(cases) - mismatched - unscored} right, {mismatched} "
        f"mismatched, {unscored} unscored); {sum(statuses.values())} chat requests answered "
        f"{answers}; {retried.group(1) if retried else 0} retried"
    )


def plugin_row(
    srv: ChatServer,
    folder: Path,
    env: dict[str, str],
    args: list[str],
    ideal: float,
    n: int,
    label: str,
) -> dict[str, Any] | None:
    """One whole pytest process over the cases: its figures, outcomes and timeline, printed."""
    srv.requests.clear()
    srv.first_request_at = 0.0
    run = pytest_run(folder, env, *args)
    if run["rc"] not in (0, 1):
        print(run["out"][-3000:])
        return None
    statuses = Counter(r.status for r in srv.requests)
    report = json.loads((folder / "report.json").read_text())
    pad = label[: len(label) - len(label.lstrip())]
    print(
        f"  {label}, whole process: {run['wall']:.2f} s = {run['wall'] / ideal:.2f}x ideal; CPU "
        f"{run['cpu']:.2f} s = {run['cpu'] / n * 1000:.2f} ms/case; its session (conftest "
        f"import to unconfigure) {run['session']:.2f} s = {run['session'] / ideal:.2f}x, CPU "
        f"{run['session_cpu'] / n * 1000:.2f} ms/case"
    )
    print(pad + outcome_line(run, report, statuses))
    first = srv.first_request_at - run["epoch"]
    last = srv.last_request_at - run["epoch"]
    print(
        f"  {pad}where the wall time goes (from exec): interpreter and pytest start-up "
        f"{run['start_up']:.2f} s, collection to {run['start_up'] + run['collect']:.2f} s, first "
        f"request at {first:.2f} s, last at {last:.2f} s ({(last - first) / ideal:.2f}x ideal "
        f"between them), session ends at {run['start_up'] + run['session']:.2f} s, process "
        f"exits at {run['wall']:.2f} s"
    )
    return run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    n, c, lat = args.cases, args.concurrency, args.latency
    ideal = n * lat / c
    print(
        f"N={n} cases, C={c} in flight, L={lat:g} s; the judge flips {args.flip:.0%} of its "
        f"answers, {args.unparsable:.0%} are not JSON; {args.rate_5xx:.0%} of requests answered "
        f"5xx, {args.rate_429:.0%} 429"
    )
    print(f"ideal N*L/C = {ideal:.2f} s; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    no_cache = args.no_bytecode_cache or os.environ.get("PYTHONPYCACHEPREFIX")
    print(
        "bytecode: "
        + (
            f"as this environment has it (PYTHONDONTWRITEBYTECODE="
            f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})"
            if no_cache
            else "cached, as Python does by default (a private PYTHONPYCACHEPREFIX, warmed by "
            "untimed runs)"
        )
    )
    results: list[tuple[str, bool, str]] = []

    def target(label: str, ok: bool, figure: str) -> None:
        results.append((label, ok, figure))

    server = ChatServer(
        latency=lat,
        rate_429=args.rate_429,
        rate_5xx=args.rate_5xx,
        retry_after=0.2,
        api_key=API_KEY,
        responder=noisy_judge(flip=args.flip, unparsable=args.unparsable),
    )
    with tempfile.TemporaryDirectory(prefix="llmjudge-scale-") as tmp, server as srv:
        root = Path(tmp)
        env = child_env(srv.url, None if no_cache else root / "pycache")
        plugin_dir = root / "plugin"
        write_project(plugin_dir, n, MISTRAL_TEST)
        cases = plugin_dir / "cases.jsonl"
        rows = [json.loads(line) for line in cases.open()]
        print(
            f"cases: documents of {statistics.median(len(r['premise']) for r in rows):,.0f} "
            f"characters (median), summaries of "
            f"{statistics.median(len(r['hypothesis']) for r in rows):.0f}, "
            f"{sum(r['target'] for r in rows)} of {n} consistent"
        )
        big = root / "big-cases.jsonl"
        write_cases(big, args.big)
        write_project(root / "big-plain", 0, PLAIN_TEST, "test_plain.py", cases=big)
        write_project(root / "big-plugin", 0, FUNCTION_TEST.format(half=False), cases=big)
        write_project(root / "big-half", 0, FUNCTION_TEST.format(half=True), cases=big)
        common = ["--llmjudge-concurrency", str(c), "--llmjudge-transport", args.transport]
        common += ["--llmjudge-report", "report.json"]

        if not no_cache:  # compile what the timed runs import: a small run, then collections
            warm = root / "warm"
            write_project(warm, c, MISTRAL_TEST)
            pytest_run(warm, env, *common, "--llmjudge-cache", "off")
            for project in ("big-plugin", "big-plain"):
                pytest_run(root / project, env, "--collect-only")

        print("\n[1] the whole pytest process over the N cases, against the ideal N*L/C")
        plugin = plugin_row(srv, plugin_dir, env, common, ideal, n, "pytest + plugin")
        if plugin is None:
            return 2

        def loop_row(label: str, name: str, code: str, scope: str, **extra: str) -> Any:
            """Run a script over the cases; print its wall / ideal and CPU; its figures."""
            script = root / name
            script.write_text(LOOP_HEAD + code)
            command = [sys.executable, str(script), str(n), str(c), str(cases)]
            run = spawn(command, root, {**env, **extra})
            if run["rc"] != 0:
                print(f"  {label}: failed:\n{run['out'][-2000:]}")
                return None
            got = json.loads(run["out"].strip().splitlines()[-1])
            counts = ", ".join(
                f"{got[k]} {k}" for k in ("correct", "mismatch", "unscored") if k in got
            )
            retries = f", {got['retries']} retries" if got.get("retries") else ""
            print(
                f"  {label + ':':31} process {run['wall']:.2f} s = {run['wall'] / ideal:.2f}x "
                f"ideal, CPU {run['cpu'] / n * 1000:.2f} ms/case; {scope} {got['wall']:.2f} s = "
                f"{got['wall'] / ideal:.2f}x, {got['cpu'] / n * 1000:.2f} ms/case"
                + (f" ({counts}{retries})" if counts else "")
            )
            return {**got, "process": run}

        floor = loop_row("asyncio loop over MistralClient", "client_loop.py", CLIENT_LOOP, "loop")
        if not args.no_sdk:
            loop_row("asyncio loop over the SDK", "sdk_loop.py", SDK_LOOP, "loop")
        if args.no_weave:
            print("  weave.Evaluation over the SDK:  skipped (--no-weave)")
        elif importlib.util.find_spec("weave") is None:
            print("  weave.Evaluation over the SDK:  skipped: weave is not importable")
        else:
            loop_row(
                "weave.Evaluation over the SDK",
                "weave_eval.py",
                WEAVE_EVAL,
                f"evaluate (WEAVE_PARALLELISM={c})",
                WEAVE_PARALLELISM=str(c),
            )

        clean = None
        if args.rate_5xx or args.rate_429:  # what the retries cost: the same, every answer 200
            print("  the same without the 429/5xx answers (nothing retried):")
            srv.rate_5xx = srv.rate_429 = 0.0
            shutil.rmtree(plugin_dir / ".llmjudge")
            clean = plugin_row(srv, plugin_dir, env, common, ideal, n, "  pytest + plugin")
            loop_row("  asyncio loop over MistralClient", "client_loop.py", CLIENT_LOOP, "loop")

        print("\n[2] a fully cached rerun of the same cases")
        srv.requests.clear()
        cached = pytest_run(plugin_dir, env, *common)
        print(
            f"  cached rerun: process {cached['wall']:.2f} s, CPU {cached['cpu']:.2f} s; session "
            f"{cached['session']:.2f} s (collection {cached['collect']:.2f} s); "
            f"{len(srv.requests)} requests"
        )

        print(f"\n[3] {args.big:,} cases: the plugin against a plain @pytest.mark.parametrize")
        pairs = [  # alternated, the median of three: one pair moves by 20-30% on two cores
            (
                pytest_run(root / "big-plugin", env, "--collect-only")["collect"],
                pytest_run(root / "big-plain", env, "--collect-only")["collect"],
            )
            for _ in range(3)
        ]
        co_plugin = statistics.median(plugin for plugin, _ in pairs)
        co_plain = statistics.median(plain for _, plain in pairs)
        full_plugin = pytest_run(root / "big-plugin", env, "--llmjudge-cache", "off")
        full_plain = pytest_run(root / "big-plain", env)
        half = pytest_run(root / "big-half", env, "--llmjudge-cache", "off")
        per_plugin = full_plugin["run"] / args.big * 1e6
        per_plain = full_plain["run"] / args.big * 1e6
        print(
            f"  collection (median of 3): plugin {co_plugin:.2f} s, plain {co_plain:.2f} s "
            f"({co_plugin / co_plain:.2f}x)"
        )
        print(
            f"  per item (run phase / items): plugin {per_plugin:.0f} us, plain {per_plain:.0f} us "
            f"({per_plugin / per_plain:.2f}x); the plugin with half the verdicts wrong "
            f"({half['outcomes'].get('xfailed', 0)} xfailed): {half['run'] / args.big * 1e6:.0f} us"
        )
        mem_plugin, mem_plain = full_plugin["rss_mib"], full_plain["rss_mib"]
        print(
            f"  peak memory of the full run: plugin {mem_plugin:.0f} MiB, plain "
            f"{mem_plain:.0f} MiB ({mem_plugin / mem_plain:.2f}x)"
        )

        print("\n[4] import time of the plugin (Weave off), best of 5")
        imp = import_time(env)
        print(f"  import pytest_llmjudge.plugin after import pytest: {imp * 1000:.0f} ms")

    ratio, per_case = plugin["wall"] / ideal, plugin["cpu"] / n * 1000
    target(
        f"whole pytest process at most {WALL_TARGET}x ideal", ratio <= WALL_TARGET, f"{ratio:.2f}x"
    )
    target(
        f"whole pytest process at most {CPU_TARGET_MS} ms CPU per case, start-up included",
        per_case <= CPU_TARGET_MS,
        f"{per_case:.2f} ms",
    )
    col = co_plugin / co_plain
    target(
        f"{args.big:,}-case collection within {PLAIN_TARGET}x of plain",
        col <= PLAIN_TARGET,
        f"{col:.2f}x",
    )
    item = per_plugin / per_plain
    target(
        f"{args.big:,}-case per-item time within {PLAIN_TARGET}x of plain",
        item <= PLAIN_TARGET,
        f"{item:.2f}x",
    )
    target(
        f"a fully cached rerun of {n:,} cases under 1.5 s (session)",
        cached["session"] < 1.5,
        f"{cached['session']:.2f} s",
    )
    target("plugin import under 50 ms (Weave off)", imp < 0.05, f"{imp * 1000:.0f} ms")
    print("\ntargets")
    for label, ok, figure in results:
        print(f"  {verdict(ok)}  {label}: {figure}")
    if floor is not None:
        run = floor["process"]
        print(
            f"  (the floor, a bare loop over the same client: process {run['wall'] / ideal:.2f}x "
            f"ideal, {run['cpu'] / n * 1000:.2f} ms/case; its loop {floor['wall'] / ideal:.2f}x, "
            f"{floor['cpu'] / n * 1000:.2f} ms/case)"
        )
    if clean is not None:
        print(
            f"  (without the 429/5xx answers: whole process {clean['wall'] / ideal:.2f}x ideal, "
            f"{clean['cpu'] / n * 1000:.2f} ms/case)"
        )
    return 1 if not all(ok for _, ok, _ in results) else 0


def import_time(env: dict[str, str]) -> float:
    """The best of 5 imports of the plugin after pytest, each in a fresh interpreter."""
    code = (
        "import time, pytest; t = time.perf_counter(); import pytest_llmjudge.plugin; "
        "print(time.perf_counter() - t)"
    )
    samples = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout.strip()))
    return min(samples)


if __name__ == "__main__":
    sys.exit(main())
