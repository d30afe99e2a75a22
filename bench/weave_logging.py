"""Time logging runs to Weave (in the child process the plugin uses) against the loopback stub.

    .venv/bin/python bench/weave_logging.py [N ...]

For each N (default 10 and 1000 predictions in one run) prints the wall time of
`log_in_subprocess`, the requests the stub received and the time limit the plugin would allow.
Needs weave (pip install 'pytest-llmjudge[weave]'); nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path

from pytest_llmjudge.outputs.weave import log_in_subprocess, timeout_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the W&B stand-in
from fakes.weave_server import WeaveStub  # noqa: E402


def payload(n: int) -> list[dict]:  # type: ignore[type-arg]
    return [
        {
            "name": "bench on cases",
            "model": {"name": "bench", "judge": "bench"},
            "dataset": "cases",
            "attributes": {"test": "bench"},
            "predictions": [
                {
                    "inputs": {
                        "id": f"c{i}",
                        "premise": "A document.",
                        "hypothesis": "A summary.",
                        "target": i % 2,
                    },
                    "output": {"prediction": 1, "reason": "ok", "error": None},
                    "correct": i % 2 == 1,
                }
                for i in range(n)
            ],
            "summary": {"accuracy": 0.5, "precision": 0.5, "recall": 1.0, "f1": 0.667},
        }
    ]


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10, 1000]
    for n in sizes:
        with WeaveStub() as stub:
            os.environ.update(stub.environ())
            runs = payload(n)
            started = time.perf_counter()
            outcome = log_in_subprocess("bench/weave", runs, timeout_s=timeout_for(runs))
            seconds = time.perf_counter() - started
            routes = Counter("/".join(p.split("/")[-2:]) for p in stub.paths())
        print(
            f"{n:>5} predictions: {seconds:5.1f} s ({seconds / n * 1000:.1f} ms each), "
            f"{len(stub.paths())} requests, limit {timeout_for(runs):.0f} s, "
            f"problem: {outcome.problem}"
        )
        print(f"       requests by route: {dict(routes.most_common(6))}")


if __name__ == "__main__":
    main()
