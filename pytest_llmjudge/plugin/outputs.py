"""pytest glue of the CI outputs: options, batch progress on the terminal, JUnit XML properties,
the HTML report, the GitHub Actions job summary and Weave logging.

The work itself is in pytest-free modules: progress.py, junit.py, html.py, github.py and
weave.py. This module only wires them to pytest's terminal, capture and junitxml.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_llmjudge.secrets import clip, redact
from pytest_llmjudge.settings import OutputSettings

if TYPE_CHECKING:  # loading the plugin loads only its options: the outputs come with a run
    from pytest_llmjudge.outputs.progress import BatchProgress

NOTES_KEY = pytest.StashKey[list[str]]()
ProgressFactory = Callable[[str, str, int], "BatchProgress | None"]


def add_output_options(group: Any, parser: pytest.Parser) -> None:
    """Declare --llmjudge-html, --llmjudge-weave and their ini keys."""
    group.addoption(
        "--llmjudge-html",
        default=None,
        metavar="PATH",
        help="write a self-contained HTML report of every run to PATH (ini: llmjudge_html)",
    )
    group.addoption(
        "--llmjudge-weave",
        default=None,
        metavar="ENTITY/PROJECT",
        help="log each run to W&B Weave as an evaluation; needs pytest-llmjudge[weave] and "
        "WANDB_API_KEY (ini: llmjudge_weave)",
    )
    group.addoption(
        "--llmjudge-columns",
        default=None,
        metavar="METRIC,...",
        help="the judge metrics of the terminal table, e.g. accuracy,f1,kappa (ini: "
        "llmjudge_columns, default accuracy,precision,recall,f1)",
    )
    group.addoption(
        "--llmjudge-rank-by",
        default=None,
        metavar="METRIC",
        help="the metric the leaderboard of the judges of one dataset ranks on, e.g. kappa "
        "(ini: llmjudge_rank_by, default accuracy)",
    )
    parser.addini("llmjudge_html", "path of the HTML report", default="")
    parser.addini("llmjudge_rank_by", "metric the judges' leaderboard ranks on", default="")
    parser.addini("llmjudge_columns", "judge metrics of the terminal table", default="")
    parser.addini("llmjudge_weave", "W&B Weave project runs are logged to", default="")


def resolve_outputs(config: pytest.Config, root: Path) -> OutputSettings:
    """OutputSettings from the command line, then ini; bad values are UsageErrors."""
    html = config.getoption("llmjudge_html") or config.getini("llmjudge_html")
    project = config.getoption("llmjudge_weave") or config.getini("llmjudge_weave")
    if project:
        # integrations.weave imports weave only inside functions: this import is cheap
        from pytest_llmjudge.outputs.weave import MISSING_WEAVE, check_project, weave_available

        try:
            check_project(project)
        except ValueError as exc:
            raise pytest.UsageError(f"invalid llmjudge_weave = {project!r}: {exc}") from None
        if not weave_available():
            raise pytest.UsageError(MISSING_WEAVE)
    columns = config.getoption("llmjudge_columns") or config.getini("llmjudge_columns")
    rank_by = config.getoption("llmjudge_rank_by") or config.getini("llmjudge_rank_by")
    return OutputSettings(
        html_path=root / html if html else None,
        weave_project=project or None,
        columns=_columns(columns) if columns else OutputSettings.columns,
        rank_by=_rank_by(rank_by.strip()) if rank_by else OutputSettings.rank_by,
    )


def _rank_by(name: str) -> str:
    """The metric of --llmjudge-rank-by; one a leaderboard cannot rank on is a UsageError."""
    from pytest_llmjudge.errors import unknown
    from pytest_llmjudge.scoring.leaderboard import RANK_METRICS

    if name not in RANK_METRICS:
        raise pytest.UsageError(f"llmjudge_rank_by: {unknown('metric', name, RANK_METRICS)}")
    return name


def _columns(text: str) -> tuple[str, ...]:
    """The metric names of --llmjudge-columns; an unknown one is a UsageError."""
    from pytest_llmjudge.errors import unknown
    from pytest_llmjudge.scoring.thresholds import JUDGE_METRICS

    names = tuple(n.strip() for n in text.replace(" ", ",").split(",") if n.strip())
    for name in names:
        if name not in JUDGE_METRICS:
            raise pytest.UsageError(f"llmjudge_columns: {unknown('metric', name, JUDGE_METRICS)}")
    return names


def progress_factory(config: pytest.Config) -> ProgressFactory:
    """Start a batch's progress on the terminal: a live line on a tty, else one final line."""

    def start(judge: str, dataset: str, total: int) -> BatchProgress | None:
        from pytest_llmjudge.outputs.progress import BatchProgress

        reporter = config.pluginmanager.get_plugin("terminalreporter")
        verbosity = config.get_verbosity()
        if reporter is None or hasattr(config, "workerinput") or verbosity < -1 or total < 1:
            return None
        terminal = _Terminal(reporter, config.pluginmanager.get_plugin("capturemanager"))
        if reporter.isatty() and verbosity >= 0:
            terminal.begin_live()
            return BatchProgress(judge, dataset, total, final=terminal.end_live, live=terminal.draw)
        return BatchProgress(judge, dataset, total, final=terminal.line)

    return start


def line_writer(config: pytest.Config, prefix: str = "") -> Callable[[str], None]:
    """Writes whole lines to pytest's terminal past output capturing (batch status, fine-tune
    progress, estimates); nothing on an xdist worker or without a terminal."""

    def write(text: str) -> None:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or hasattr(config, "workerinput"):
            return
        _Terminal(reporter, config.pluginmanager.get_plugin("capturemanager")).line(prefix + text)

    return write


class _Terminal:
    """Writes to pytest's terminal past output capturing (batches run inside a test's setup)."""

    def __init__(self, reporter: Any, capture: Any) -> None:
        self.reporter = reporter
        self.capture = capture
        self._prefix: Any = None

    @contextmanager
    def _uncaptured(self) -> Iterator[None]:
        ctx = self.capture.global_and_fixture_disabled() if self.capture else nullcontext()
        with ctx:
            yield

    def _fit(self, text: str) -> str:
        """`text` masked, then cut to the terminal's width."""
        width = shutil.get_terminal_size().columns - 1
        return redact(text) if len(text) <= width else clip(text, max(0, width - 1), "…")

    def begin_live(self) -> None:
        with self._uncaptured():
            self._start_line()

    def draw(self, text: str) -> None:
        with self._uncaptured():
            self.reporter.rewrite(self._fit(text), erase=True)
            self.reporter.flush()

    def end_live(self, text: str) -> None:
        with self._uncaptured():
            self.reporter.rewrite(self._fit(text), erase=True)
            self.reporter.write("\n")
            self._restore_prefix()

    def line(self, text: str) -> None:
        with self._uncaptured():
            self._start_line()
            self.reporter.write_line(redact(text))
            self._restore_prefix()

    def _restore_prefix(self) -> None:
        """Rewrite the file name that the line of results had, so the next '.' lands after it."""
        prefix, self._prefix = self._prefix, None
        if isinstance(prefix, Path):  # the file name before the '.'s (default verbosity)
            start = getattr(self.reporter, "startpath", None) or Path.cwd()
            self.reporter.write(os.path.relpath(prefix, start) + " ")
            self.reporter.currentfspath = prefix
        elif isinstance(prefix, str) and prefix:  # the item's node id before its outcome (-v)
            self.reporter.write(prefix)
            self.reporter.currentfspath = prefix
        self.reporter.flush()

    def _start_line(self) -> None:
        """Start on a fresh line: after the file name, or after bare '.'s (-q)."""
        self._prefix = getattr(self.reporter, "currentfspath", None)
        writer = getattr(self.reporter, "_tw", None)
        if not self._prefix and int(getattr(writer, "width_of_current_line", None) or 0):
            self.reporter.write("\n")
        self.reporter.ensure_newline()


def finish_outputs(config: pytest.Config, evals: Any) -> None:
    """After the gates: suite properties, HTML report, job summary and Weave (controller only)."""
    notes = config.stash.setdefault(NOTES_KEY, [])
    if not evals.results and not evals.skipped_runs():
        return
    from pytest_llmjudge.outputs.github import append_step_summary, step_summary_path
    from pytest_llmjudge.outputs.junit import run_properties
    from pytest_llmjudge.outputs.report import report_dict

    outputs: OutputSettings = evals.settings.outputs
    report = report_dict(evals)
    junit = _junit_xml(config)
    if junit is not None:
        for name, value in run_properties(report):
            junit.add_global_property(name, value)
    if outputs.html_path is not None:
        from pytest_llmjudge.outputs.html import report_with_texts, write_html

        write_html(report_with_texts(evals), outputs.html_path)
        notes.append(f"llmjudge: HTML report written to {_shown(outputs.html_path, config)}")
    summary = step_summary_path()
    if summary is not None:
        try:
            append_step_summary(summary, report)
        except OSError as exc:
            notes.append(f"WARNING: llmjudge: could not append to the job summary {summary}: {exc}")
    if outputs.weave_project and evals.results:  # judge and generator runs
        notes.extend(_log_to_weave(config, outputs.weave_project, evals.results))


def _log_to_weave(config: pytest.Config, project: str, results: list[Any]) -> list[str]:
    from pytest_llmjudge.outputs.weave import log_in_subprocess, timeout_for
    from pytest_llmjudge.outputs.weave_payload import run_payload

    payload = [run_payload(r) for r in results]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and config.get_verbosity() >= -1:
        reporter.write_line(
            f"llmjudge: logging {len(payload)} run(s) to Weave project {project} ..."
        )
    outcome = log_in_subprocess(project, payload, timeout_s=timeout_for(payload))
    lines = []
    if outcome.logged:
        lines.append(f"llmjudge: Weave: logged {len(outcome.logged)} evaluation(s) to {project}")
        lines += [f"  {name}: {url}" for name, url in outcome.urls.items()]
    if outcome.problem:
        lines.append(f"WARNING: llmjudge: Weave: {outcome.problem} (the evaluation is unaffected)")
    return lines


def output_notes(config: pytest.Config) -> list[str]:
    """Lines for the terminal summary about the outputs written (and any that failed)."""
    notes: list[str] = config.stash.get(NOTES_KEY, [])
    return list(notes)


def _junit_xml(config: pytest.Config) -> Any:
    """pytest's junitxml plugin object when --junitxml is on (found by what it can do)."""
    if not config.getoption("xmlpath", None):
        return None
    for plugin in config.pluginmanager.get_plugins():
        if hasattr(plugin, "add_global_property") and hasattr(plugin, "node_reporter"):
            return plugin
    return None


def _shown(path: Path, config: pytest.Config) -> str:
    try:
        return str(path.relative_to(config.rootpath))
    except ValueError:
        return str(path)
