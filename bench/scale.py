"""Scale and speed of the plugin against a loopback chat server, with PASS/MISS per target.

    python bench/scale.py [--cases 1000] [--concurrency 32] [--latency 0.1] [--rate-429 0]
                          [--big 10000] [--transport http] [--no-weave] [--no-bytecode-cache]

Starts ChatServer(latency=L, rate_429=P) on 127.0.0.1 (nothing leaves the machine) and prints:
- wall time / ideal (N x L / C) and CPU per case of: `pytest` with the plugin over N cases
  (items, cache, JSON report), a plain asyncio loop over the plugin's own chat client (the
  floor for the plugin), a plain asyncio loop over the official SDK's `chat.complete_async`,
  and `weave.Evaluation(...).evaluate(model)` over the SDK (without weave.init it sends
  nothing); each runs in its own process, so its CPU is its own (os.wait4), not the server's;
- the time of a fully cached rerun of the N cases;
- collection time, per-item time and peak memory (ru_maxrss) of a --big case dataset, against a
  plain `@pytest.mark.parametrize` of the same rows (an instant function judge: no network);
- the import time of the plugin (Weave off), `import pytest_llmjudge.plugin` after `import pytest`.
A pytest run's wall time is its session (from the timing conftest's import to unconfigure): it
includes the modules the plugin imports once it finds an llmjudge test (the plugin itself loads
only its options); the interpreter's start-up and pytest's own imports are outside it.

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
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from pytest_llmjudge.settings import TRANSPORTS
from pytest_llmjudge.testing import ChatServer

API_KEY = "sk-bench-0000000000000000"

TIMING_CONFTEST = """
import json, os, resource, time
import pytest


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


T0 = time.perf_counter()
MARKS = {"start": T0, "wall_start": time.time(), "cpu_start": cpu()}


def pytest_collection_finish(session):
    MARKS["collected"] = time.perf_counter()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    MARKS["end"] = time.perf_counter()
    MARKS["cpu_end"] = cpu()
    with open(os.environ["BENCH_TIMES"], "w") as f:
        json.dump(MARKS, f)
"""

MISTRAL_TEST = """
import pytest
from pytest_llmjudge import Judge

JUDGE = Judge(name="m", backend="mistral", model="bench-model")


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[JUDGE])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""

FUNCTION_TEST = """
import pytest
from pytest_llmjudge import Judge


def answer(case):
    return case.target


JUDGE = Judge(name="f", backend="function", function=answer)


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[JUDGE])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""

PLAIN_TEST = """
import json
from pathlib import Path

import pytest

ROWS = [json.loads(line) for line in Path(__file__).with_name("cases.jsonl").open()]


def answer(row):
    return row["target"]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_plain(row):
    assert answer(row) == row["target"]
"""

# The start of the three loop scripts (loop_row adds it): the rows, the request, a CPU clock and
# a timed gather of the rows, C at a time.
LOOP_HEAD = """
import asyncio, json, os, resource, sys, time

N, C = int(sys.argv[1]), int(sys.argv[2])
ROWS = [json.loads(line) for line in open(sys.argv[3])][:N]
REQUEST = {"model": "bench-model", "response_format": {"type": "json_object"},
           "temperature": 0.0, "max_tokens": 256}


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def messages(premise, hypothesis):
    content = f"<document>{premise}</document><summary>{hypothesis}</summary>"
    return [{"role": "user", "content": content}]


async def timed(one):
    sem = asyncio.Semaphore(C)

    async def limited(row):
        async with sem:
            return await one(row)

    c0, t0 = cpu(), time.perf_counter()
    await asyncio.gather(*(limited(row) for row in ROWS))
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": cpu() - c0}))
"""

SDK_LOOP = """
from mistralai.client import Mistral


async def main():
    async with Mistral(api_key=os.environ["MISTRAL_API_KEY"],
                       server_url=os.environ["MISTRAL_SERVER_URL"]) as client:
        async def one(row):
            r = await client.chat.complete_async(
                messages=messages(row["premise"], row["hypothesis"]), **REQUEST)
            return json.loads(r.choices[0].message.content)["consistency"]

        await timed(one)

asyncio.run(main())
"""

CLIENT_LOOP = """
from pytest_llmjudge.backends.mistral.client import MistralClient


async def main():
    client = MistralClient(os.environ["MISTRAL_API_KEY"], os.environ["MISTRAL_SERVER_URL"], 60.0, C)

    async def one(row):
        r = await client.complete(
            {"messages": messages(row["premise"], row["hypothesis"]), **REQUEST})
        return json.loads(r.text)["consistency"]

    await timed(one)
    await client.aclose()

asyncio.run(main())
"""

WEAVE_EVAL = """
os.environ.setdefault("WANDB_ERROR_REPORTING", "false")
import weave
from mistralai.client import Mistral

client = Mistral(api_key=os.environ["MISTRAL_API_KEY"], server_url=os.environ["MISTRAL_SERVER_URL"])


@weave.op()
async def model(premise: str, hypothesis: str) -> int:
    r = await client.chat.complete_async(messages=messages(premise, hypothesis), **REQUEST)
    return json.loads(r.choices[0].message.content)["consistency"]


@weave.op()
def correct(target: int, output: int) -> dict:
    return {"correct": target == output}


rows = [{"premise": r["premise"], "hypothesis": r["hypothesis"], "target": r["target"]}
        for r in ROWS]
evaluation = weave.Evaluation(dataset=rows, scorers=[correct])
c0, t0 = cpu(), time.perf_counter()
asyncio.run(evaluation.evaluate(model))
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": cpu() - c0}))
"""


def rows(n: int) -> list[dict[str, Any]]:
    """N cases the server's toy judge can answer (a name in the summary, in the document or not)."""
    cities = ["Paris", "Rome", "Berlin", "Madrid", "Lisbon", "Vienna", "Prague", "Dublin"]
    out = []
    for i in range(n):
        here, there = cities[i % 8], cities[(i + 3) % 8]
        target = i % 2
        out.append(
            {
                "id": f"case-{i:05d}",
                "premise": f"Report {i}: Alice met Bob in {here} on day {i}.",
                "hypothesis": f"Alice met Bob in {here if target else there}.",
                "target": target,
            }
        )
    return out


def write_project(folder: Path, n: int, test: str, name: str = "test_eval.py") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row) + "\n" for row in rows(n))
    (folder / "cases.jsonl").write_text(text, encoding="utf-8")
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
    """Run a child to its end: wall, CPU seconds and peak RSS (MiB) of that child alone."""
    started = time.perf_counter()
    with open(cwd / "stdout.txt", "w") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mib": usage.ru_maxrss / 1024,
        "rc": proc.returncode,
        "out": (cwd / "stdout.txt").read_text(),
    }


def pytest_run(folder: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    """One pytest session of `folder`; adds its session wall and collection time."""
    times = folder / "times.json"
    env = {**env, "BENCH_TIMES": str(times)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    result = spawn(command, folder, env)
    marks = json.loads(times.read_text())
    result["session"] = marks["end"] - marks["start"]
    result["collect"] = marks.get("collected", marks["end"]) - marks["start"]
    result["run"] = marks["end"] - marks.get("collected", marks["end"])
    result["session_cpu"] = marks["cpu_end"] - marks["cpu_start"]
    result["wall_start"] = marks["wall_start"]
    return result


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--big", type=int, default=10_000, help="cases of the collection rows")
    parser.add_argument("--transport", choices=TRANSPORTS, default="http")
    parser.add_argument("--no-weave", action="store_true", help="skip the weave.Evaluation row")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep this environment's PYTHONDONTWRITEBYTECODE: every run compiles the plugin anew",
    )
    args = parser.parse_args(argv)
    n, c, lat = args.cases, args.concurrency, args.latency
    ideal = n * lat / c
    print(f"N={n} cases, C={c} in flight, L={lat:g} s, 429 rate {args.rate_429:g}: ")
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
    misses = 0

    def target(label: str, ok: bool, figure: str) -> None:
        nonlocal misses
        misses += not ok
        print(f"  {verdict(ok)}  {label}: {figure}")

    with (
        tempfile.TemporaryDirectory(prefix="llmjudge-scale-") as tmp,
        ChatServer(latency=lat, rate_429=args.rate_429, retry_after=0.2, api_key=API_KEY) as srv,
    ):
        root = Path(tmp)
        env = child_env(srv.url, None if no_cache else root / "pycache")
        plugin_dir = root / "plugin"
        write_project(plugin_dir, n, MISTRAL_TEST)
        big_plugin, big_plain = root / "big-plugin", root / "big-plain"
        write_project(big_plugin, args.big, FUNCTION_TEST)
        write_project(big_plain, args.big, PLAIN_TEST, name="test_plain.py")
        common = [
            "--llmjudge-concurrency",
            str(c),
            "--llmjudge-transport",
            args.transport,
            "--llmjudge-report",
            "report.json",
        ]

        if not no_cache:  # compile what the timed runs import: a small run, then collections
            warm = root / "warm"
            write_project(warm, c, MISTRAL_TEST)
            pytest_run(warm, env, *common, "--llmjudge-cache", "off")
            for project in (big_plugin, big_plain):
                pytest_run(project, env, "--collect-only")

        print("\n[1] wall time / ideal and CPU per case")
        before, srv.first_request_at = srv.count, 0.0
        plugin = pytest_run(plugin_dir, env, *common)
        requests = srv.count - before
        if plugin["rc"] not in (0, 1):
            print(plugin["out"][-3000:])
            return 2
        report = json.loads((plugin_dir / "report.json").read_text())
        unscored = sum(1 for run in report["runs"] for case in run["cases"] if case["error"])
        judged = sum(len(run["cases"]) for run in report["runs"])
        print(
            f"  pytest + plugin ({args.transport}): session {plugin['session']:.2f} s = "
            f"{plugin['session'] / ideal:.2f}x ideal (process {plugin['wall']:.2f} s); CPU "
            f"{plugin['session_cpu']:.2f} s = {plugin['session_cpu'] / n * 1000:.2f} ms/case "
            f"(process {plugin['cpu']:.2f} s with start-up and imports); "
            f"{requests} requests, {judged} cases judged, {unscored} unscored"
        )
        first = srv.first_request_at - plugin["wall_start"]
        last = srv.last_request_at - plugin["wall_start"]
        print(
            f"  where the session goes: collection {plugin['collect']:.2f} s, first request at "
            f"{first:.2f} s, last at {last:.2f} s ({(last - first) / ((n - c) * lat / c):.2f}x "
            f"the ideal {(n - c) * lat / c:.2f} s between them), the rest "
            f"{plugin['session'] - last:.2f} s (last answers, gates, report, pytest's exit)"
        )
        cases = str(plugin_dir / "cases.jsonl")

        def loop_row(label: str, name: str, code: str, scope: str, **extra: str) -> Any:
            """Run a script over the cases; print its wall / ideal and CPU; its figures."""
            script = root / name
            script.write_text(LOOP_HEAD + code)
            command = [sys.executable, str(script), str(n), str(c), cases]
            run = spawn(command, root, {**env, **extra})
            if run["rc"] != 0:
                print(f"  {label}: failed:\n{run['out'][-2000:]}")
                return None
            got = json.loads(run["out"].strip().splitlines()[-1])
            print(
                f"  {label + ':':31} {got['wall']:.2f} s = {got['wall'] / ideal:.2f}x ideal; CPU "
                f"{got['cpu']:.2f} s = {got['cpu'] / n * 1000:.2f} ms/case ({scope}, process "
                f"{run['wall']:.2f} s)"
            )
            return got

        loop_row("asyncio loop over MistralClient", "client_loop.py", CLIENT_LOOP, "loop only")
        sdk = loop_row("asyncio loop over the SDK", "sdk_loop.py", SDK_LOOP, "loop only")
        if args.no_weave:
            print("  weave.Evaluation over the SDK:  skipped (--no-weave)")
        elif importlib.util.find_spec("weave") is None:
            print("  weave.Evaluation over the SDK:  skipped: weave is not importable")
        else:
            loop_row(
                "weave.Evaluation over the SDK",
                "weave_eval.py",
                WEAVE_EVAL,
                f"evaluate only, WEAVE_PARALLELISM={c}",
                WEAVE_PARALLELISM=str(c),
            )

        print("\n[2] a fully cached rerun of the same cases")
        before = srv.count
        cached = pytest_run(plugin_dir, env, *common)
        print(
            f"  cached rerun: session {cached['session']:.2f} s (collection "
            f"{cached['collect']:.2f} s), process {cached['wall']:.2f} s, "
            f"CPU {cached['cpu']:.2f} s, {srv.count - before} requests"
        )

        print(f"\n[3] {args.big:,} cases: the plugin against a plain @pytest.mark.parametrize")
        co_plugin = pytest_run(big_plugin, env, "--collect-only")
        co_plain = pytest_run(big_plain, env, "--collect-only")
        full_plugin = pytest_run(big_plugin, env, "--llmjudge-cache", "off")
        full_plain = pytest_run(big_plain, env)
        per_plugin = full_plugin["run"] / args.big * 1e6
        per_plain = full_plain["run"] / args.big * 1e6
        print(
            f"  collection: plugin {co_plugin['collect']:.2f} s, plain {co_plain['collect']:.2f} s "
            f"({co_plugin['collect'] / co_plain['collect']:.2f}x)"
        )
        print(
            f"  per item (run phase / items): plugin {per_plugin:.0f} us, plain {per_plain:.0f} us "
            f"({per_plugin / per_plain:.2f}x)"
        )
        mem_plugin, mem_plain = full_plugin["rss_mib"], full_plain["rss_mib"]
        print(
            f"  peak memory of the full run: plugin {mem_plugin:.0f} MiB, plain "
            f"{mem_plain:.0f} MiB ({mem_plugin / mem_plain:.2f}x)"
        )

        print("\n[4] import time of the plugin (Weave off), best of 5")
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
        imp = min(samples)
        print(f"  import pytest_llmjudge.plugin after import pytest: {imp * 1000:.0f} ms")

    print("\ntargets")
    ratio = plugin["session"] / ideal
    target("plugin wall time at most 1.15x ideal", ratio <= 1.15, f"{ratio:.2f}x")
    per_case = plugin["session_cpu"] / n * 1000
    target("at most 1.5 ms CPU per case (session)", per_case <= 1.5, f"{per_case:.2f} ms")
    col = co_plugin["collect"] / co_plain["collect"]
    target(f"{args.big:,}-case collection within 1.2x of plain", col <= 1.2, f"{col:.2f}x")
    item = per_plugin / per_plain
    target(f"{args.big:,}-case per-item time within 1.2x of plain", item <= 1.2, f"{item:.2f}x")
    target(
        f"a fully cached rerun of {n:,} cases under 1.5 s",
        cached["session"] < 1.5,
        f"{cached['session']:.2f} s",
    )
    target("plugin import under 50 ms (Weave off)", imp < 0.05, f"{imp * 1000:.0f} ms")
    if sdk is not None:
        sdk_ratio, sdk_cpu = sdk["wall"] / ideal, sdk["cpu"] / n * 1000
        print(f"  (the SDK loop: {sdk_ratio:.2f}x ideal, {sdk_cpu:.2f} ms/case)")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
