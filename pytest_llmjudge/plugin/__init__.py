"""The pytest11 entry point `llmjudge`: thin hooks over the evaluation core.

Importing this module loads only the options and settings. Everything an evaluation needs (the
session, pydantic models, asyncio, backends, reports) is imported inside the hooks and fixtures,
the first time a run collects an llmjudge item, so that pytest with the plugin installed stays
fast for runs that evaluate no judge (bench/scale.py measures the import).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_llmjudge.plugin.gcfreeze import freeze, thaw
from pytest_llmjudge.plugin.ledger import remove_ledger
from pytest_llmjudge.plugin.markers import GEN_MARKER, GEN_MARKER_HELP, MARKER, MARKER_HELP
from pytest_llmjudge.plugin.options import add_options, resolve_settings
from pytest_llmjudge.plugin.outputs import output_notes
from pytest_llmjudge.plugin.signals import handle_sigterm, interrupt_worker_once, restore_signals
from pytest_llmjudge.plugin.state import SETTINGS_KEY, evals_of, settings_of, started

if TYPE_CHECKING:
    from pytest_llmjudge.model.generator import Generator as GeneratorModel
    from pytest_llmjudge.model.judge import Judge
    from pytest_llmjudge.plugin.answers import AnswerResult
    from pytest_llmjudge.plugin.results import CaseResult
    from pytest_llmjudge.plugin.snapshots import BaselineResult


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line("markers", GEN_MARKER_HELP)
    config.stash[SETTINGS_KEY] = resolve_settings(config)
    interrupt_worker_once(config)  # a pytest-xdist worker: one interruption ends its session


def pytest_report_header(config: pytest.Config) -> str:
    s = settings_of(config)
    return (
        f"llmjudge: concurrency {s.concurrency}, unscored cases count as {s.unscored}, "
        f"positive class {s.positive}{', strict' if s.strict else ''}"
    )


@pytest.fixture
def llmjudge_result(request: pytest.FixtureRequest) -> CaseResult | BaselineResult:
    """The judge's verdict on this item's case (or its run vs its baseline), batched per run."""
    from pytest_llmjudge.plugin.outcomes import report_without_traceback
    from pytest_llmjudge.plugin.results import item_result

    report_without_traceback(request.node)  # a mismatch is a message, not a traceback
    return item_result(request)


@pytest.fixture
def llmjudge_answer(request: pytest.FixtureRequest) -> AnswerResult:
    """The generator's answers to this item's case, judged against its context (batched per run)."""
    from pytest_llmjudge.plugin.answers import answer_result
    from pytest_llmjudge.plugin.outcomes import report_without_traceback

    report_without_traceback(request.node)
    return answer_result(request)


@pytest.fixture(scope="session")
def llmjudge_finetune(request: pytest.FixtureRequest) -> Callable[..., Judge | GeneratorModel]:
    """Fine-tune a judge (or, task="generator", a generator) before the evals, or reuse the
    recorded fine-tune; returns its Judge (or Generator)."""
    from pytest_llmjudge.plugin.finetune import finetune_function

    return finetune_function(request)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    answers = "llmjudge_answer" in metafunc.fixturenames  # a generator evaluation (generation/)
    results = "llmjudge_result" in metafunc.fixturenames
    if not (answers or results):
        for marker, fixture in ((MARKER, "llmjudge_result"), (GEN_MARKER, "llmjudge_answer")):
            if metafunc.definition.get_closest_marker(marker) is not None:
                raise pytest.Collector.CollectError(
                    f"{metafunc.definition.nodeid}: marked @pytest.mark.{marker} but takes "
                    f"no {fixture} argument, so nothing is evaluated: add {fixture} to its "
                    f"arguments and call {fixture}.check()"
                )
        return
    evals = evals_of(metafunc.config)
    freeze(metafunc.config)  # what is alive now (modules, pytest's nodes), before the cases
    if answers:
        from pytest_llmjudge.plugin.answers import parametrize_answers

        parametrize_answers(metafunc, evals)
    if results:
        from pytest_llmjudge.plugin.results import parametrize_results

        parametrize_results(metafunc, evals)
    freeze(metafunc.config)  # the cases and their parameters


def pytest_collection_finish(session: pytest.Session) -> None:
    evals = started(session.config)
    if evals is None:
        return
    from pytest_llmjudge.errors import ConfigError
    from pytest_llmjudge.plugin.collect import run_refs

    if not hasattr(session.config, "workerinput"):  # the xdist controller checks at its end
        try:
            evals.check_thresholds()
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
    evals.select(run_refs(session.items))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not hasattr(session.config, "workerinput"):
        for line in evals.estimate():
            reporter.write_line(f"llmjudge estimate: {line}")
    freeze(session.config)  # the items: they live to the end of the run
    from pytest_llmjudge.plugin.early import start_collected_runs

    start_collected_runs(session, evals)  # requests start now, not on each run's first item


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    if session.config.pluginmanager.hasplugin("dsession"):  # before xdist starts its workers
        handle_sigterm(session.config)  # the controller: its EvalSession comes at their end


@pytest.hookimpl(wrapper=True, trylast=True, specname="pytest_sessionfinish")
def pytest_sessionfinish_quiet_syrupy(session: pytest.Session, exitstatus: int) -> Generator[None]:
    """Inside pytest's warning filters of the session finish (trylast: innermost; pytest reads
    only hooks named pytest_*)."""
    if exitstatus == pytest.ExitCode.INTERRUPTED and session.config.pluginmanager.hasplugin(
        "dsession"
    ):
        from pytest_llmjudge.plugin.workers import expect_missing_snapshot_reports

        expect_missing_snapshot_reports()
    return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if interrupted and session.config.pluginmanager.hasplugin("dsession"):
        from pytest_llmjudge.plugin.workers import gather_interrupted

        gather_interrupted(session.config)  # what the workers judged, before xdist ends them
    evals = started(session.config)
    if evals is None:
        return
    if interrupted:  # Ctrl-C or SIGTERM: stop the batches still in flight
        evals.cancel()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller gates and reports
        from pytest_llmjudge.plugin.workers import WORKER_OUTPUT_KEY

        workeroutput[WORKER_OUTPUT_KEY] = json.dumps(evals.publish())
        evals.close()
        return
    from pytest_llmjudge.errors import ConfigError
    from pytest_llmjudge.outputs.report import write_report
    from pytest_llmjudge.plugin.outputs import NOTES_KEY, finish_outputs

    scope_error = None
    if session.config.pluginmanager.hasplugin("dsession"):  # the xdist controller, after merging
        try:
            evals.check_thresholds()
        except ConfigError as exc:
            scope_error = str(exc)
    status = evals.finish()
    if evals.settings.report_path is not None and (evals.results or evals.skipped_runs()):
        write_report(evals, evals.settings.report_path)
    finish_outputs(session.config, evals)  # JUnit properties, HTML, job summary, Weave
    if status and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if scope_error is not None:
        session.config.stash.setdefault(NOTES_KEY, []).append(f"ERROR: llmjudge: {scope_error}")
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    thaw(config)  # after pytest's unconfigure-time gc pass; its cleanup pass then scans all
    remove_ledger(config)  # the xdist controller's shared budget ledger, after its workers
    restore_signals(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: the workers of a run share one budget ledger."""
    from pytest_llmjudge.plugin.ledger import configure_node
    from pytest_llmjudge.plugin.workers import track_worker

    configure_node(node)
    track_worker(node)  # an interrupted controller waits for what its workers judged


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: merge a finished worker's verdicts into the controller's session."""
    from pytest_llmjudge.plugin.workers import merge_worker

    merge_worker(node)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    evals = started(terminalreporter.config)
    lines: list[str] = []
    if evals is not None:
        from pytest_llmjudge.outputs.report import summary_lines

        lines += summary_lines(evals)
        failed = sum(r.failed_gates for r in evals.results)
        if failed:  # on pytest's last line: "10 passed, 1 gate failed", not green
            category = "gate failed" if failed == 1 else "gates failed"
            terminalreporter.stats.setdefault(category, []).extend([evals] * failed)
        if evals.budget_exhausted():
            terminalreporter.stats.setdefault("budget exhausted", []).append(evals)
    lines += output_notes(terminalreporter.config)
    if not lines:
        return
    terminalreporter.write_sep("=", "llmjudge summary")
    from pytest_llmjudge.secrets import redact  # every summary line, masked on its way out

    for line in lines:
        red = line.startswith("FAILED")
        terminalreporter.write_line(redact(line), red=red, bold=red)
