"""Fault injection: a Mistral judge against a loopback server that breaks in every way we know.

Each scenario is one pytest run of a project with 6 cases against a `FaultServer`, with the
API key pasted with surrounding whitespace (as keys are). Whatever the fault: nothing is lost
(every case has a verdict or a cause in the report), and the key is in no byte written or
printed (report, HTML, JUnit XML, stdout and stderr, the log file, the response cache), neither
whole nor in part, plain or escaped.
"""

from __future__ import annotations

import html
import json
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import MISTRAL_MODULE, Project, make_rows
from fakes.faults import OK, Fault, FaultServer, refused_url, status

KEY = "sk-fault-Q7m2Zr9Lx4Wp8Vn3Tb6Hc1Jd5K"
PASTED = f"  {KEY}\n"  # whitespace around it: stripped, and the stripped key is what is sent
WINDOW = 8  # no 8 characters of the key's secret part may show anywhere
FAST = ["--llmjudge-timeout", "0.5", "--llmjudge-retries", "3"]
OUTPUTS = ["--llmjudge-report", "r.json", "--llmjudge-html", "r.html", "--junitxml", "j.xml"]
LOGS = ["--log-file", "log.txt", "--log-file-level", "DEBUG"]
N = 6


def secret_windows(key: str = KEY) -> list[str]:
    secret = key[len("sk-fault-") :]
    return [secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)]


_ESCAPES = [
    (re.compile(r"\\+u([0-9a-fA-F]{4})"), lambda m: chr(int(m.group(1), 16))),
    (re.compile(r"\\+x([0-9a-fA-F]{2})"), lambda m: chr(int(m.group(1), 16))),
    (re.compile(r"&#x([0-9a-fA-F]+);"), lambda m: chr(int(m.group(1), 16))),
    (re.compile(r"&#(\d+);"), lambda m: chr(int(m.group(1)))),
]


def unescaped(text: str) -> str:
    """`text` with JSON, Python, HTML and URL escapes undone, however often they were applied."""
    for _ in range(4):
        before = text
        for pattern, char in _ESCAPES:
            text = pattern.sub(char, text)
        text = urllib.parse.unquote(html.unescape(text))
        if text == before:
            break
    return text


def leaks(name: str, blob: bytes | str) -> list[str]:
    """The parts of the key found in one output (empty: none)."""
    text = blob.decode("utf-8", errors="replace") if isinstance(blob, bytes) else blob
    plain = unescaped(text)
    return [f"{name}: {w!r}" for w in secret_windows() if w in text or w in plain]


@dataclass
class Outcome:
    """A scenario's run: the pytest result, its report's cases, what it wrote, how long."""

    result: pytest.RunResult
    cases: list[dict[str, Any]]
    written: dict[str, bytes]
    seconds: float
    server: FaultServer | None


@pytest.fixture
def faulty(
    project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, loopback_env: None
) -> Callable[..., Outcome]:
    """Runs the 6-case Mistral project against a FaultServer answering per `plan` (or against
    `url`), with `args`; checks that no case is lost and the key leaks nowhere."""
    project.cases(make_rows([1, 0, 1, 0, 1, 0]))
    pytester.makepyfile(test_eval=MISTRAL_MODULE)
    monkeypatch.setenv("MISTRAL_API_KEY", PASTED)

    def run(plan: Callable[[int], Fault] | None, *args: str, url: str | None = None) -> Outcome:
        if plan is None:
            assert url is not None
            return _run(project, pytester, monkeypatch, None, url, args)
        with FaultServer(plan) as server:
            outcome = _run(project, pytester, monkeypatch, server, server.url, args)
        if server.count:  # the key was sent stripped of its whitespace
            assert server.authorizations == {f"Bearer {KEY}"}
        return outcome

    return run


def _run(
    project: Project,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    server: FaultServer | None,
    url: str,
    args: tuple[str, ...],
) -> Outcome:
    monkeypatch.setenv("MISTRAL_SERVER_URL", url)
    started = time.perf_counter()
    result = pytester.runpytest("-rA", *OUTPUTS, *LOGS, *args)
    seconds = time.perf_counter() - started
    path = pytester.path
    written = {"stdout": result.stdout.str().encode(), "stderr": result.stderr.str().encode()}
    for name in ("r.json", "r.html", "j.xml", "log.txt"):
        if (path / name).exists():
            written[name] = (path / name).read_bytes()
    cache = path / ".llmjudge" / "cache"
    for file in cache.iterdir() if cache.exists() else []:
        written[f"cache/{file.name}"] = file.read_bytes()
    found = [hit for name, blob in written.items() for hit in leaks(name, blob)]
    assert not found, f"the key leaked: {found}"
    cases = json.loads(written["r.json"])["runs"][0]["cases"]
    assert sorted(c["id"] for c in cases) == [f"c{i}" for i in range(1, N + 1)]  # none lost
    for case in cases:  # a verdict, or its cause
        assert case["prediction"] in (0, 1) or case["error"], case
    return Outcome(result, cases, written, seconds, server)


def unscored(outcome: Outcome) -> list[str]:
    return [c["error"] for c in outcome.cases if c["prediction"] is None]


def first(n: int, fault: Fault, then: Fault = OK) -> Callable[[int], Fault]:
    """The first `n` requests get `fault`, the rest `then`."""
    return lambda index: fault if index < n else then


# faults a retry gets past: every case is scored in the end


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(status(429, headers={"Retry-After": "0.1"}), id="429-burst"),
        pytest.param(status(503), id="503-burst"),
        pytest.param(status(500, {"message": "upstream"}), id="500-burst"),
        pytest.param(Fault("reset"), id="reset-mid-body"),
        pytest.param(Fault("truncated"), id="truncated-body"),
        pytest.param(Fault("hang_after"), id="hang-after-headers"),
    ],
)
def test_a_burst_of_faults_is_retried_and_nothing_is_lost(faulty: Any, fault: Fault) -> None:
    outcome = faulty(first(4, fault), *FAST, "--llmjudge-concurrency", "2")
    assert unscored(outcome) == []
    assert outcome.server is not None and outcome.server.count == N + 4


def test_a_429_burst_with_retry_after_loses_nothing(faulty: Any) -> None:
    burst = status(429, {"message": "slow down"}, {"Retry-After": "0.2"})
    outcome = faulty(first(12, burst), "--llmjudge-timeout", "2", "--llmjudge-retries", "6")
    assert unscored(outcome) == []


# faults that do not go away: every case is unscored with its cause


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        pytest.param(status(503), "HTTP 503: ", id="503-always"),
        pytest.param(Fault("reset"), "request failed: ", id="reset-always"),
        pytest.param(Fault("truncated"), "request failed: ", id="truncated-always"),
        pytest.param(
            Fault("ok", body=b"<html>Bad gateway</html>", headers={"Content-Type": "text/html"}),
            "HTTP 200: <html>Bad gateway</html>",
            id="html-200",
        ),
        pytest.param(
            Fault("ok", body=b'{"id": "cmpl-1", "choices": [', headers={}),
            "invalid response (HTTP 200): Response validation failed: not JSON",
            id="broken-json-200",
        ),
        pytest.param(
            Fault("ok", body=b'{"message": "fine"}', headers={}),
            "invalid response (HTTP 200): Response validation failed: field 'id' missing",
            id="not-a-completion-200",
        ),
    ],
)
def test_a_lasting_fault_leaves_every_case_with_its_cause(
    faulty: Any, fault: Fault, cause: str
) -> None:
    outcome = faulty(lambda index: fault, *FAST)
    causes = unscored(outcome)
    assert len(causes) == N
    assert all(c.startswith(cause) or cause in c for c in causes), causes
    assert outcome.result.ret == pytest.ExitCode.TESTS_FAILED  # it scored nothing


def test_a_refused_connection_is_recognised_at_once(faulty: Any) -> None:
    outcome = faulty(None, "--llmjudge-retries", "5", url=refused_url())
    causes = unscored(outcome)
    assert len(causes) == N
    assert all("Cannot connect" in c or "in a row" in c for c in causes), causes
    assert outcome.seconds < 5  # not 6 cases x 5 tries with backoff


@pytest.mark.parametrize("where", ["hang_before", "hang_after"])
def test_a_hanging_server_is_recognised_after_a_few_timeouts(faulty: Any, where: str) -> None:
    outcome = faulty(
        lambda index: Fault(where), "--llmjudge-timeout", "0.3", "--llmjudge-retries", "5"
    )
    causes = unscored(outcome)
    assert len(causes) == N
    assert outcome.server is not None and outcome.server.count < N * 5  # it stopped asking
    assert any("in a row" in c for c in causes), causes
    assert outcome.seconds < 8


# answers too long for the outputs


def test_a_huge_answer_is_unscored_and_stored_cut(faulty: Any) -> None:
    answer = json.dumps({"consistency": 1, "reason": "y" * 200_000})
    outcome = faulty(lambda index: Fault(content=answer), "--llmjudge-max-answer-chars", "5000")
    causes = unscored(outcome)
    assert causes == [f"answer too long: {len(answer)} characters, limit 5000"] * N
    for name in ("r.json", "r.html", "j.xml", "cache/responses.sqlite3"):
        assert len(outcome.written[name]) < 200_000, name  # 6 answers of 200,000: stored cut


# error bodies and answers that echo the Authorization header


@pytest.mark.parametrize("transport", ["http", "sdk"])
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("echo", 401), id="401-plain"),
        pytest.param(Fault("echo", 500, echo="json"), id="500-unicode-escaped"),
        pytest.param(Fault("echo", 503, echo="repr"), id="503-bytes-repr"),
        pytest.param(Fault("echo", 500, cut=300), id="500-across-the-cut"),
        pytest.param(Fault("echo", 500, echo="json", cut=300), id="500-escaped-across-the-cut"),
        pytest.param(Fault("echo_answer", echo="json", cut=5000), id="answer-across-the-limit"),
        pytest.param(Fault("echo_answer", cut=40), id="answer-reason"),
    ],
)
def test_an_echoed_key_is_masked_everywhere(faulty: Any, fault: Fault, transport: str) -> None:
    args = ["--llmjudge-transport", transport, "--llmjudge-max-answer-chars", "5000"]
    outcome = faulty(lambda index: fault, *FAST, "--llmjudge-retries", "2", *args)
    assert len(outcome.cases) == N
    masked = b"***" in outcome.written["r.json"]
    assert masked or fault.kind == "echo_answer"  # the server did echo the key


def test_a_key_with_whitespace_inside_is_refused_with_the_reason(
    project: Project, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, loopback_env: None
) -> None:
    project.cases(make_rows([1, 0]))
    pytester.makepyfile(test_eval=MISTRAL_MODULE)
    monkeypatch.setenv("MISTRAL_API_KEY", f"{KEY}\r\nX-Injected: 1")
    with FaultServer(lambda index: OK) as server:
        monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
        result = pytester.runpytest("-rs", "--llmjudge-report", "r.json")
    assert server.count == 0
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        ["*MISTRAL_API_KEY has whitespace or control characters inside it*"]
    )
    assert not leaks("stdout", result.stdout.str())
