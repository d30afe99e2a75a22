"""Shared fixtures: pytester projects with a scripted (function) judge and no network."""

from __future__ import annotations

import importlib.util
import json
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import sklearn.linear_model  # noqa: F401
import sklearn.preprocessing  # noqa: F401

# The plugin imports scikit-learn only when it trains the local judge. pytester's in-process runs
# drop the modules imported during a run, and numpy's extensions cannot be loaded twice in one
# process, so the suite imports scikit-learn once, up front, for every inner run.

# pytester is also enabled by `-p pytester` in pyproject's addopts; declaring it here keeps the
# suite runnable with other addopts (registering a plugin twice is a no-op).
pytest_plugins = ["pytester"]

# The inner projects are as strict as ours: warnings are errors there too. Where pytest-asyncio
# is installed (the [asyncio] extra), the asyncio key keeps it from warning that its loop scope
# is unset; without it, the key would be unknown (a warning too).
HAS_PYTEST_ASYNCIO = importlib.util.find_spec("pytest_asyncio") is not None
ASYNCIO_INI = "asyncio_default_fixture_loop_scope = function\n" if HAS_PYTEST_ASYNCIO else ""
BASE_INI = "[pytest]\nfilterwarnings = error\n"

# A test module evaluating the scripted judge `scripted`, which answers from ANSWERS by case id
# (a missing id answers the target, i.e. correctly); CALLS records which cases it was asked about.
SCRIPTED_MODULE = """
import json
from pathlib import Path

import pytest
from pytest_llmjudge import Judge

ANSWERS = {answers!r}
CALLS = Path(__file__).with_name("calls.jsonl")


def scripted(case):
    with CALLS.open("a") as f:
        f.write(json.dumps(case.id) + "\\n")
    return ANSWERS.get(case.id, case.target)


JUDGE = Judge(name="scripted", backend="function", function=scripted)


@pytest.mark.llmjudge(dataset={dataset!r}, judges=[JUDGE]{extra})
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


def make_rows(targets: Iterable[int], prefix: str = "c") -> list[dict[str, Any]]:
    """Rows with ids prefix1, prefix2, ... and the given targets."""
    return [
        {
            "id": f"{prefix}{i}",
            "premise": f"Document number {i}.",
            "hypothesis": f"Summary number {i}.",
            "target": t,
        }
        for i, t in enumerate(targets, start=1)
    ]


class Project:
    """A tiny inner project built in a pytester directory."""

    make_rows = staticmethod(make_rows)

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.path = pytester.path

    def ini(self, extra: str = "", *, asyncio: bool = True) -> None:
        """Write pytest.ini: BASE_INI, the asyncio key (unless asyncio=False), then `extra`."""
        body = BASE_INI + (ASYNCIO_INI if asyncio else "") + textwrap.dedent(extra)
        self.pytester.makeini(body)

    def cases(self, rows: Iterable[Mapping[str, Any] | str], name: str = "cases") -> Path:
        """Write rows (dicts, or raw lines written as given) to `<name>.jsonl`."""
        lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
        path = self.path / f"{name}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def scripted(
        self,
        answers: Mapping[str, Any] | None = None,
        dataset: str = "cases.jsonl",
        extra: str = "",
        name: str = "test_eval",
    ) -> Path:
        """Write a test module evaluating the scripted judge (see SCRIPTED_MODULE)."""
        source = SCRIPTED_MODULE.format(answers=dict(answers or {}), dataset=dataset, extra=extra)
        return self.pytester.makepyfile(**{name: source})

    def calls(self) -> list[str]:
        """The case ids the scripted judge was called with, in call order."""
        path = self.path / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def report(self, name: str = "report.json") -> dict[str, Any]:
        """The JSON report written to `name`."""
        data: dict[str, Any] = json.loads((self.path / name).read_text(encoding="utf-8"))
        return data


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester whose inner project starts with our strict ini (see Project.ini)."""
    # inner runs must not append to the job summary of a GitHub Actions run of this suite
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    Project(pytester).ini()
    return pytester


@pytest.fixture
def project(pytester: pytest.Pytester) -> Project:
    """Helpers that build an inner project in the pytester directory."""
    return Project(pytester)


# A test module evaluating one Mistral judge, for projects that run against a loopback ChatServer.
MISTRAL_MODULE = """
import pytest
from pytest_llmjudge import Judge

JUDGE = Judge(name="m", backend="mistral", model="stub-model")


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[JUDGE])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""
# The same judge named by a session fixture `m` (its run starts on its first item, not at the end
# of collection, and gets its estimate once the fixture resolves).
FIXTURE_MISTRAL_MODULE = """
import pytest
from pytest_llmjudge import Judge


@pytest.fixture(scope="session")
def m():
    return Judge(name="m", backend="mistral", model="stub-model")


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=["m"])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""
FAKE_KEY = "sk-fake-4f3c2b1a0987654321"


@pytest.fixture
def loopback_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No server URL, SDK telemetry, service-account token or proxy from the environment: a
    request to a loopback server stays on loopback."""
    isolated = ("MISTRAL_SERVER_URL", "MISTRAL_SDK_TELEMETRY", "MISTRAL_SA_TOKEN_PATH")
    proxies = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
    for name in isolated + proxies:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def chat_project(
    project: Project, monkeypatch: pytest.MonkeyPatch, loopback_env: None
) -> Iterator[Project]:
    """A project evaluating a Mistral judge on 6 cases against `project.server`, a ChatServer
    started with a fake API key (MISTRAL_API_KEY and MISTRAL_SERVER_URL point at it)."""
    from pytest_llmjudge.testing import ChatServer

    with ChatServer(api_key=FAKE_KEY) as server:
        monkeypatch.setenv("MISTRAL_API_KEY", FAKE_KEY)
        monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
        project.cases(make_rows([1, 0, 1, 0, 1, 0]))
        project.pytester.makepyfile(test_eval=MISTRAL_MODULE)
        project.server = server  # type: ignore[attr-defined]
        yield project
