"""--llmjudge-weave / llmjudge_weave: runs logged as Weave evaluations, offline, against WeaveStub.

weave runs in a child process (integrations/weave.py); a sitecustomize.py on PYTHONPATH records
every socket connection and name lookup of that child (and of any other Python it starts), so the
test can assert that nothing left 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from fakes.generator_project import HOSTILE_ANSWER, REASON, generator_project
from fakes.weave_server import WeaveStub

from pytest_llmjudge.outputs.weave import log_in_subprocess, weave_available

needs_weave = pytest.mark.skipif(
    not weave_available(), reason="weave is not installed: pip install 'pytest-llmjudge[weave]'"
)
ANSWERS = {"c2": {"prediction": 1, "reason": "plausible"}, "c3": "not json"}
LOOPBACK = {"127.0.0.1", "::1", "localhost"}

NET_GUARD = """
import json, os, socket

_LOG = os.environ.get("LLMJUDGE_NET_LOG")
if _LOG:
    _connect, _connect_ex, _getaddrinfo = (
        socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
    )

    def _record(kind, value):
        with open(_LOG, "a") as f:
            f.write(json.dumps([kind, os.getpid(), value], default=str) + "\\n")

    def connect(self, address):
        _record("connect", address)
        return _connect(self, address)

    def connect_ex(self, address):
        _record("connect", address)
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        _record("lookup", host)
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = (
        connect, connect_ex, getaddrinfo
    )
"""


def non_loopback(log: Path) -> list[Any]:
    """Recorded connections and lookups that were not for the loopback interface."""
    bad = []
    for line in log.read_text().splitlines():
        kind, _, target = json.loads(line)
        host = target[0] if kind == "connect" and isinstance(target, list) else target
        if kind == "connect" and isinstance(target, str):
            continue  # a Unix socket
        if str(host) not in LOOPBACK:
            bad.append((kind, target))
    return bad


@pytest.fixture
def guarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Child Pythons record their network use to the returned file."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(textwrap.dedent(NET_GUARD))
    log = tmp_path / "net.jsonl"
    log.touch()
    monkeypatch.setenv("PYTHONPATH", str(guard))
    monkeypatch.setenv("LLMJUDGE_NET_LOG", str(log))
    return log


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with WeaveStub() as server:
        for name, value in server.environ().items():
            monkeypatch.setenv(name, value)
        yield server


@needs_weave
def test_runs_are_logged_offline(  # type: ignore[no-untyped-def]
    project, pytester: pytest.Pytester, stub: WeaveStub, guarded: Path, monkeypatch
) -> None:
    project.cases(project.make_rows([1, 0, 0, 1]))
    project.scripted(answers=ANSWERS)
    project.ini("llmjudge_weave = ent/proj\n")
    here: list[Any] = []  # this process's own connections
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        here.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    result = pytester.runpytest()
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "llmjudge: logging 1 run(s) to Weave project ent/proj ...",
            "llmjudge: Weave: logged 1 evaluation(s) to ent/proj",
            "  scripted on cases: http://127.0.0.1:*/ent/proj/r/call/*",
        ]
    )
    assert "WARNING" not in result.stdout.str()
    # the predictions, with their inputs and outputs
    predictions = [c for c in stub.calls() if "Model.predict" in str(c.get("op_name"))]
    by_id = {p["inputs"]["inputs"]["id"]: p for p in predictions}
    assert sorted(by_id) == ["c1", "c2", "c3", "c4"]
    assert by_id["c2"]["inputs"]["inputs"] == {
        "id": "c2",
        "premise": "Document number 2.",
        "hypothesis": "Summary number 2.",
        "target": 0,
    }
    assert by_id["c2"]["output"] == {"prediction": 1, "reason": "plausible", "error": None}
    assert by_id["c3"]["output"]["prediction"] is None
    assert by_id["c3"]["output"]["error"] == "model output is not JSON"
    # the per-case score
    feedback = [f for body in stub.bodies("/feedback/batch/create") for f in body["batch"]]
    scores = [f["payload"]["output"] for f in feedback if f["feedback_type"].endswith(".correct")]
    assert sorted(scores) == [False, False, True, True]
    # the evaluation and its summary
    [start] = stub.bodies("/call/start")
    assert start["start"]["display_name"] == "scripted on cases"
    [end] = stub.bodies("/call/end")
    summary = end["end"]["output"]["output"]
    assert summary["accuracy"] == pytest.approx(0.5)
    assert {"precision", "recall", "f1", "accuracy_ci_low", "n", "unscored"} <= set(summary)
    assert end["end"]["output"]["correct"]["true_count"] == 2
    # the model and dataset objects it refers to
    objects = {b["obj"]["object_id"] for b in stub.bodies("/obj/create")}
    assert {"scripted", "cases"} <= objects
    # nothing left the machine: W&B, the trace server and PyPI all went to the stub
    assert "pypi.org:443" in stub.paths()  # weave's version check met the stub's proxy
    log = guarded.read_text()
    assert '"connect"' in log, "the network guard recorded nothing"
    assert non_loopback(guarded) == []
    assert all(address[0] in LOOPBACK for address in here if isinstance(address, tuple))


@needs_weave
def test_generator_runs_are_logged_beside_judge_runs(  # type: ignore[no-untyped-def]
    project, pytester: pytest.Pytester, stub: WeaveStub, guarded: Path
) -> None:
    project.cases(project.make_rows([1, 0]))
    project.scripted()
    generator_project(project, ', generators=[WRITER], sampling={"temperature": [0.7]}')
    result = pytester.runpytest("--llmjudge-weave", "ent/proj")
    result.stdout.fnmatch_lines(
        [
            "llmjudge: logging 2 run(s) to Weave project ent/proj ...",
            "llmjudge: Weave: logged 2 evaluation(s) to ent/proj",
            "  scripted on cases: http://127.0.0.1:*/ent/proj/r/call/*",
            "  writer at t0.7 on gen: http://127.0.0.1:*/ent/proj/r/call/*",
        ]
    )
    assert "WARNING" not in result.stdout.str()
    # every answer is a prediction: its case's prompt and context in, the answer and label out
    predictions = [c for c in stub.calls() if "Model.predict" in str(c.get("op_name"))]
    answers = {
        p["inputs"]["inputs"]["id"]: p for p in predictions if "#" in p["inputs"]["inputs"]["id"]
    }
    assert sorted(answers) == [f"g{i}#1" for i in range(1, 6)]
    g2 = answers["g2#1"]
    assert g2["inputs"]["inputs"] == {
        "id": "g2#1",
        "case": "g2",
        "sample": 1,
        "prompt": "When was tower number 2 built?",
        "context": "The tower number 2 was built in 1902 by the town of Orlen.",
        "reference": "Tower number 2 was built in 1902.",
    }
    assert g2["output"] == {"answer": HOSTILE_ANSWER, "label": 0, "reason": REASON, "error": None}
    assert answers["g3#1"]["output"]["label"] is None
    assert "fell over" in answers["g3#1"]["output"]["error"]
    # the judge's labels are the scores: 3 of 5 answers consistent
    feedback = [f for body in stub.bodies("/feedback/batch/create") for f in body["batch"]]
    scores = [
        f["payload"]["output"] for f in feedback if f["feedback_type"].endswith(".consistent")
    ]
    assert sorted(scores) == [False, False, True, True, True]
    # the evaluation: its name, the generator with its sampling as the model, the summary
    starts = {b["start"]["display_name"] for b in stub.bodies("/call/start")}
    assert starts == {"scripted on cases", "writer at t0.7 on gen"}
    [end] = [
        b["end"]["output"]
        for b in stub.bodies("/call/end")
        if "hallucination_rate" in (b["end"].get("output") or {}).get("output", {})
    ]
    assert end["output"]["hallucination_rate"] == pytest.approx(0.4)
    assert end["output"]["faithfulness"] == pytest.approx(0.6)
    assert end["consistent"]["true_count"] == 3
    models = [
        b["obj"]["val"]
        for b in stub.bodies("/obj/create")
        if b["obj"]["object_id"] == "writer-t0_7"
    ]
    assert models and models[0]["temperature"] == 0.7 and models[0]["judge"] == "fn"
    assert models[0]["backend"] == "function" and models[0]["samples"] == 1
    assert non_loopback(guarded) == []


@needs_weave
def test_unreachable_wandb_warns_once_and_never_fails(  # type: ignore[no-untyped-def]
    project, pytester: pytest.Pytester, guarded: Path, monkeypatch
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    for name in ("WANDB_BASE_URL", "WF_TRACE_SERVER_URL", "HTTPS_PROXY", "HTTP_PROXY"):
        monkeypatch.setenv(name, dead)
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    project.cases(project.make_rows([1, 0]))
    project.scripted()
    result = pytester.runpytest("--llmjudge-weave", "ent/proj", "--llmjudge-report", "r.json")
    assert result.ret == 0
    result.assert_outcomes(passed=2)
    warnings = [line for line in result.stdout.lines if line.startswith("WARNING: llmjudge: Weave")]
    assert len(warnings) == 1
    assert "could not start Weave for 'ent/proj'" in warnings[0]
    assert "(the evaluation is unaffected)" in warnings[0]
    assert "x" * 40 not in result.stdout.str()
    assert project.report("r.json")["passed"] is True
    assert non_loopback(guarded) == []


def test_weave_is_not_imported_without_the_option(project, pytester: pytest.Pytester) -> None:
    code = (
        "import sys, pytest\n"
        "ret = pytest.main(['-q', '-p', 'no:cacheprovider'])\n"
        "print('WEAVE' if any(m == 'weave' or m.startswith('weave.') for m in sys.modules) "
        "else 'NO-WEAVE', int(ret))\n"
    )
    project.cases(project.make_rows([1, 0]))
    project.scripted()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=project.path, capture_output=True, text=True, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "NO-WEAVE 0", done.stdout + done.stderr


def test_missing_weave_is_a_usage_error(project, pytester: pytest.Pytester, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest_llmjudge.outputs.weave as integration

    monkeypatch.setattr(integration, "weave_available", lambda: False)
    result = pytester.runpytest("--llmjudge-weave", "ent/proj")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--llmjudge-weave needs the weave package*pytest-llmjudge[[]weave]*"]
    )


@pytest.mark.parametrize("value", ["a/b/c", "ent/", "/proj"])
def test_bad_project_is_a_usage_error(project, pytester: pytest.Pytester, value: str) -> None:
    project.ini(f"llmjudge_weave = {value}\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*invalid llmjudge_weave = '{value}'*entity/project*"])


@needs_weave
def test_a_stuck_logger_is_given_up_on() -> None:
    outcome = log_in_subprocess("ent/proj", [], timeout_s=0.01)
    assert outcome.logged == []
    assert outcome.problem == "logging to Weave project 'ent/proj' took over 0.01 s; gave up"
