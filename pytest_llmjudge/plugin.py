"""The pytest11 entry point: thin hooks over EvalSession."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .baseline import BaselineRef, baseline_item_id, baseline_spec
from .collect import load_dataset, marker_spec, missing_reason, skipped_params
from .dataset import Dataset
from .finetune.fixture import llmjudge_finetune
from .fixtures import SESSION_KEY, llmjudge_result
from .generation.fixtures import answer_refs, llmjudge_answer, parametrize_answers
from .generation.marker import GEN_MARKER_HELP
from .marker import MARKER, MARKER_HELP, MarkerSpec, judge_label, parse_marker
from .options import add_options, resolve_settings
from .outputs import finish_outputs, output_notes, progress_factory
from .report import summary_lines, write_report
from .scale_options import status_writer
from .session import CaseRef, EvalSession, RunKey

__all__ = ["llmjudge_answer", "llmjudge_finetune", "llmjudge_result"]

WORKER_OUTPUT_KEY = "llmjudge"
GEN_OUTPUT_KEY = "llmjudge-generators"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line("markers", GEN_MARKER_HELP)
    config.stash[SESSION_KEY] = EvalSession(resolve_settings(config))
    config.stash[SESSION_KEY].progress = progress_factory(config)
    config.stash[SESSION_KEY].status_line = status_writer(config)
    if hasattr(config, "workerinput"):  # a pytest-xdist worker batches only its own cases
        from .distributed import scheduled_cases

        config.stash[SESSION_KEY].scheduled = scheduled_cases(config)


def pytest_report_header(config: pytest.Config) -> str:
    s = config.stash[SESSION_KEY].settings
    return (
        f"llmjudge: concurrency {s.concurrency}, unscored cases count as {s.unscored}, "
        f"positive class {s.positive}{', strict' if s.strict else ''}"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "llmjudge_answer" in metafunc.fixturenames:  # a generator evaluation (generation/)
        parametrize_answers(metafunc, metafunc.config.stash[SESSION_KEY].generators)
    if "llmjudge_result" not in metafunc.fixturenames:
        return
    spec = marker_spec(
        metafunc, MARKER, "llmjudge_result", "dataset=..., judges=[...]", parse_marker
    )
    evals = metafunc.config.stash[SESSION_KEY]
    params = []
    for dataset in spec.datasets:
        prefix = f"{dataset.label}-" if len(spec.datasets) > 1 else ""
        reason = missing_reason(dataset)
        if reason is not None:
            params += skipped_params(map(judge_label, spec.judges), dataset, reason)
            params += _skipped_baseline_params(metafunc, spec, dataset, prefix, reason)
            continue
        cases = load_dataset(dataset)
        for judge in spec.judges:
            key = RunKey(metafunc.definition.nodeid, judge_label(judge), dataset.label)
            evals.register(key, judge, dataset, spec.thresholds)
            params += [
                pytest.param(CaseRef(key, case), id=f"{key.judge}-{prefix}{case.id}")
                for case in cases
            ]
            params += _baseline_params(evals, spec, key, prefix)
    metafunc.parametrize("llmjudge_result", params, indirect=True)


def _baseline_params(evals: EvalSession, spec: MarkerSpec, key: RunKey, prefix: str) -> list[Any]:
    """The run's baseline item, after its cases, when the marker asks for a baseline."""
    role = spec.baseline_role(key.judge)
    if role is None:
        return []
    labels = [judge_label(j) for j in spec.judges]
    ref = BaselineRef(key, baseline_spec(role, key.judge, labels, spec.require_better, prefix))
    evals.runs[key].baseline = ref.spec
    return [pytest.param(ref, id=baseline_item_id(key.judge, prefix))]


def _skipped_baseline_params(
    metafunc: pytest.Metafunc, spec: MarkerSpec, dataset: Dataset, prefix: str, reason: str
) -> list[Any]:
    """Skipped baseline items of a missing optional dataset: they keep its stored baselines
    from being reported (or deleted) as unused snapshots."""
    params = []
    for judge in spec.judges:
        key = RunKey(metafunc.definition.nodeid, judge_label(judge), dataset.label)
        role = spec.baseline_role(key.judge)
        if role is None:
            continue
        labels = [judge_label(j) for j in spec.judges]
        ref = BaselineRef(key, baseline_spec(role, key.judge, labels, spec.require_better, prefix))
        params.append(
            pytest.param(
                ref, id=baseline_item_id(key.judge, prefix), marks=pytest.mark.skip(reason=reason)
            )
        )
    return params


def pytest_collection_finish(session: pytest.Session) -> None:
    refs = []
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        ref = callspec.params.get("llmjudge_result") if callspec else None
        if isinstance(ref, CaseRef):
            refs.append(ref)
    evals = session.config.stash[SESSION_KEY]
    evals.select(refs)
    evals.generators.select(answer_refs(session.items))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not hasattr(session.config, "workerinput"):
        for line in evals.estimate():
            reporter.write_line(f"llmjudge estimate: {line}")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    evals = session.config.stash[SESSION_KEY]
    if exitstatus == pytest.ExitCode.INTERRUPTED:  # Ctrl-C: stop the batches still in flight
        evals.cancel()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller gates and reports
        workeroutput[WORKER_OUTPUT_KEY] = json.dumps(evals.publish())
        workeroutput[GEN_OUTPUT_KEY] = json.dumps(evals.generators.publish())
        evals.close()
        return
    status = evals.finish()
    gens = evals.generators
    ran = evals.results or evals.skipped_runs() or gens.results or gens.skipped_runs()
    if evals.settings.report_path is not None and ran:
        write_report(evals, evals.settings.report_path)
    finish_outputs(session.config, evals)  # JUnit properties, HTML, job summary, Weave
    if status and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: merge a finished worker's verdicts into the controller's session."""
    published = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if published:
        node.config.stash[SESSION_KEY].merge(json.loads(published))
    generators = getattr(node, "workeroutput", {}).get(GEN_OUTPUT_KEY)
    if generators:
        node.config.stash[SESSION_KEY].generators.merge(json.loads(generators))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = list(summary_lines(terminalreporter.config.stash[SESSION_KEY]))
    lines += output_notes(terminalreporter.config)
    if not lines:
        return
    terminalreporter.write_sep("=", "llmjudge summary")
    for line in lines:
        red = line.startswith("FAILED")
        terminalreporter.write_line(line, red=red, bold=red)
