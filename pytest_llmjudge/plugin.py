"""The pytest11 entry point: thin hooks over EvalSession."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .dataset import Dataset
from .errors import ConfigError, DatasetError
from .fixtures import SESSION_KEY, llmjudge_result
from .marker import MARKER, MARKER_HELP, judge_label, parse_marker
from .options import add_options, resolve_settings
from .report import summary_lines, write_report
from .session import CaseRef, EvalSession, RunKey

__all__ = ["llmjudge_result"]

WORKER_OUTPUT_KEY = "llmjudge"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.stash[SESSION_KEY] = EvalSession(resolve_settings(config))


def pytest_report_header(config: pytest.Config) -> str:
    s = config.stash[SESSION_KEY].settings
    return (
        f"llmjudge: concurrency {s.concurrency}, unscored cases count as {s.unscored}, "
        f"positive class {s.positive}{', strict' if s.strict else ''}"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "llmjudge_result" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        raise pytest.Collector.CollectError(
            f"{metafunc.definition.nodeid}: uses llmjudge_result but has no "
            f"@pytest.mark.{MARKER}(dataset=..., judges=[...])"
        )
    evals = metafunc.config.stash[SESSION_KEY]
    try:
        spec = parse_marker(marker.args, marker.kwargs, metafunc.definition.path.parent)
    except ConfigError as exc:
        raise pytest.Collector.CollectError(f"{metafunc.definition.nodeid}: {exc}") from None
    params = []
    for dataset in spec.datasets:
        prefix = f"{dataset.label}-" if len(spec.datasets) > 1 else ""
        if dataset.optional and not dataset.path.exists():
            reason = f"optional dataset {dataset.path} not found"
            params += [
                pytest.param(
                    None,
                    id=f"{judge_label(j)}-{dataset.label}",
                    marks=pytest.mark.skip(reason=reason),
                )
                for j in spec.judges
            ]
            continue
        cases = _load(dataset)
        for judge in spec.judges:
            key = RunKey(metafunc.definition.nodeid, judge_label(judge), dataset.label)
            evals.register(key, judge, dataset, spec.thresholds)
            params += [
                pytest.param(CaseRef(key, case), id=f"{key.judge}-{prefix}{case.id}")
                for case in cases
            ]
    metafunc.parametrize("llmjudge_result", params, indirect=True)


def _load(dataset: Dataset) -> list:  # type: ignore[type-arg]
    try:
        return dataset.load()
    except DatasetError as exc:
        raise pytest.Collector.CollectError(f"llmjudge dataset error: {exc}") from None


def pytest_collection_finish(session: pytest.Session) -> None:
    refs = []
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        ref = callspec.params.get("llmjudge_result") if callspec else None
        if isinstance(ref, CaseRef):
            refs.append(ref)
    session.config.stash[SESSION_KEY].select(refs)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    evals = session.config.stash[SESSION_KEY]
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller gates and reports
        workeroutput[WORKER_OUTPUT_KEY] = json.dumps(evals.publish())
        evals.close()
        return
    status = evals.finish()
    if evals.settings.report_path is not None and (evals.results or evals.skipped_runs()):
        write_report(evals, evals.settings.report_path)
    if status and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: merge a finished worker's verdicts into the controller's session."""
    published = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if published:
        node.config.stash[SESSION_KEY].merge(json.loads(published))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = list(summary_lines(terminalreporter.config.stash[SESSION_KEY]))
    if not lines:
        return
    terminalreporter.write_sep("=", "llmjudge summary")
    for line in lines:
        red = line.startswith("FAILED")
        terminalreporter.write_line(line, red=red, bold=red)
