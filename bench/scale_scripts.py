"""The files bench/scale.py writes for its child processes: test projects and plain loops."""

from __future__ import annotations

# Marks the session's start (this conftest's import: after pytest's own imports), the end of
# collection and unconfigure, with the process's CPU clock at both ends.
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

# An instant judge: right on every case, or (HALF) wrong on every other one.
FUNCTION_TEST = """
import pytest
from pytest_llmjudge import Judge

HALF = {half}


def answer(case):
    return 1 - case.target if HALF and int(case.id[-1]) % 2 else case.target


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

# The start of the loop scripts: the rows, the judge's prompt (the plugin's own template), a CPU
# clock, a timed gather of the rows, C at a time, and the outcomes counted.
LOOP_HEAD = """
import asyncio, collections, json, os, random, resource, sys, time

from pytest_llmjudge.model.prompts import PROMPTED

N, C = int(sys.argv[1]), int(sys.argv[2])
ROWS = [json.loads(line) for line in open(sys.argv[3])][:N]
REQUEST = {"model": "bench-model", "response_format": {"type": "json_object"},
           "temperature": 0.0, "max_tokens": 256}
OUTCOMES = collections.Counter()


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def messages(premise, hypothesis):
    content = (PROMPTED.replace("{premise}", premise).replace("{hypothesis}", hypothesis)
               .replace("{{", "{").replace("}}", "}"))
    return [{"role": "user", "content": content}]


def outcome(row, text):
    try:
        said = json.loads(text)["consistency"]
    except (ValueError, KeyError, TypeError):
        return "unscored"
    return "correct" if said == row["target"] else "mismatch"


async def timed(one):
    sem = asyncio.Semaphore(C)

    async def limited(row):
        async with sem:
            OUTCOMES[await one(row)] += 1

    c0, t0 = cpu(), time.perf_counter()
    await asyncio.gather(*(limited(row) for row in ROWS))
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": cpu() - c0, **OUTCOMES}))
"""

# The floor: the plugin's own aiohttp client in a bare loop, retrying 429 and 5xx the way the
# plugin does (Retry-After, else 0.25-0.5 s doubling), holding its slot while it waits.
CLIENT_LOOP = """
from pytest_llmjudge.backends.mistral.client import MistralClient


async def main():
    client = MistralClient(os.environ["MISTRAL_API_KEY"], os.environ["MISTRAL_SERVER_URL"], 60.0, C)

    async def one(row):
        body = {"messages": messages(row["premise"], row["hypothesis"]), **REQUEST}
        for attempt in range(1, 6):
            data = json.dumps(body).encode()
            answer = await client.send("POST", "/v1/chat/completions", data=data)
            if answer.status == 200:
                return outcome(row, json.loads(answer.content)["choices"][0]["message"]["content"])
            if answer.status != 429 and answer.status < 500:
                return "unscored"
            OUTCOMES["retries"] += 1
            after = answer.headers.get("Retry-After")
            ceiling = 0.5 * 2 ** (attempt - 1)
            await asyncio.sleep(float(after) if after else random.uniform(ceiling / 2, ceiling))
        return "unscored"

    await timed(one)
    await client.aclose()

asyncio.run(main())
"""

# The official SDK in a bare loop (its own retries are off by default: a 429 or 5xx is unscored).
SDK_LOOP = """
from mistralai.client import Mistral


async def main():
    async with Mistral(api_key=os.environ["MISTRAL_API_KEY"],
                       server_url=os.environ["MISTRAL_SERVER_URL"]) as client:
        async def one(row):
            try:
                r = await client.chat.complete_async(
                    messages=messages(row["premise"], row["hypothesis"]), **REQUEST)
            except Exception:
                return "unscored"
            return outcome(row, r.choices[0].message.content)

        await timed(one)

asyncio.run(main())
"""

WEAVE_EVAL = """
os.environ.setdefault("WANDB_ERROR_REPORTING", "false")
import weave
from mistralai.client import Mistral

client = Mistral(api_key=os.environ["MISTRAL_API_KEY"], server_url=os.environ["MISTRAL_SERVER_URL"])


@weave.op()
async def model(premise: str, hypothesis: str) -> str:
    r = await client.chat.complete_async(messages=messages(premise, hypothesis), **REQUEST)
    return r.choices[0].message.content


@weave.op()
def correct(target: int, output: str) -> dict:
    return {"outcome": outcome({"target": target}, output)}


rows = [{"premise": r["premise"], "hypothesis": r["hypothesis"], "target": r["target"]}
        for r in ROWS]
evaluation = weave.Evaluation(dataset=rows, scorers=[correct])
c0, t0 = cpu(), time.perf_counter()
asyncio.run(evaluation.evaluate(model))
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": cpu() - c0}))
"""
