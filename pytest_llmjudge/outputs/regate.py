"""Re-gate a saved JSON report with new settings, without calling a model.

    python -m pytest_llmjudge regate report.json --threshold "f1>=0.8" --gate-on lower-bound \\
        --baseline evals/__snapshots__/test_fib/test_fib[local-baseline].json

The report's runs (every case's target and verdict) are loaded back into an EvalSession, and
the same code as a pytest run computes the metrics, thresholds and baseline comparisons and
prints the same summary. The exit status is 0 when every gate passes, 1 when one fails and 2
for a usage error.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_llmjudge.errors import LLMJudgeError
from pytest_llmjudge.evaluation.session import EvalSession
from pytest_llmjudge.model.dataset import Case, Dataset
from pytest_llmjudge.model.runs import BaselineSpec, JudgeRun, RunKey
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.outputs.report import summary_lines, write_report
from pytest_llmjudge.scoring.policies import GATE_ON_CHOICES
from pytest_llmjudge.scoring.thresholds import Threshold, parse_threshold, parse_tolerance
from pytest_llmjudge.settings import GateSettings, Settings
from pytest_llmjudge.wording import plural

_NOT_STORED = "(not stored in the report)"


class RegateError(LLMJudgeError):
    """A report or baseline that cannot be re-gated."""


def build_parser(prog: str = "python -m pytest_llmjudge regate") -> argparse.ArgumentParser:
    """The command line of `regate`."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Recompute metrics, thresholds and baseline comparisons from a saved "
        "JSON report (--llmjudge-report) with new settings; no model is called.",
    )
    parser.add_argument("report", type=Path, help="a JSON report written by --llmjudge-report")
    parser.add_argument(
        "--threshold",
        action="append",
        type=parse_threshold,
        default=[],
        metavar="[JUDGE:]METRIC>=VALUE",
        help="gate a metric; repeatable; replaces the report's threshold on the same metric",
    )
    parser.add_argument(
        "--gate-partial",
        action="store_true",
        help="apply the gates of runs the report marks partial (only some cases selected)",
    )
    parser.add_argument(
        "--no-stored-thresholds",
        action="store_true",
        help="drop the thresholds the report was gated with",
    )
    parser.add_argument("--gate-on", choices=GATE_ON_CHOICES, default="point")
    parser.add_argument("--alpha", type=float, default=0.05, help="McNemar significance level")
    parser.add_argument(
        "--tolerance",
        action="append",
        type=parse_tolerance,
        default=[],
        metavar="[METRIC=]DROP",
        help="allowed metric drop against the baseline, e.g. 0.02 or f1=0.03; repeatable",
    )
    parser.add_argument(
        "--require-better", action="store_true", help="promotion gate: significantly better"
    )
    parser.add_argument(
        "--baseline",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="a baseline snapshot (.json) or another JSON report to compare each run with "
        "(default: the baseline the report was compared with); repeatable",
    )
    parser.add_argument("--unscored", choices=("wrong", "exclude"), default=None)
    parser.add_argument("--positive", type=int, choices=(0, 1), default=None)
    parser.add_argument("--output", type=Path, default=None, help="write the new JSON report")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `regate`; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0.0 < args.alpha < 1.0:
        parser.error(f"--alpha must be strictly between 0 and 1, got {args.alpha}")
    try:
        report = _read_json(args.report)
        baselines = [b for path in args.baseline for b in baselines_from(_read_json(path), path)]
        evals = regate(
            report,
            settings_from(args, report),
            baselines=baselines,
            keep_thresholds=not args.no_stored_thresholds,
        )
        evals.check_thresholds()
    except LLMJudgeError as exc:
        parser.exit(2, f"regate: error: {exc}\n")
    status = evals.finish()
    for line in summary_lines(evals):
        print(line)
    print(f"regate: {'PASSED' if status == 0 else 'FAILED'} ({plural(len(evals.results), 'run')})")
    if args.output is not None:
        write_report(evals, args.output)
    return status


def settings_from(args: argparse.Namespace, report: dict[str, Any]) -> Settings:
    """Settings of a regate: the command line, else what the report's runs were computed with."""
    runs: list[dict[str, Any]] = report.get("runs") or []
    first: dict[str, Any] = runs[0].get("metrics", {}) if runs else {}
    return Settings(
        cli_thresholds=tuple(args.threshold),
        unscored=args.unscored or first.get("unscored_policy", "wrong"),
        positive=args.positive if args.positive is not None else first.get("positive", 1),
        gates=GateSettings(
            gate_on=args.gate_on,
            alpha=args.alpha,
            tolerances=tuple({t.metric: t for t in args.tolerance}.values()),
            require_better=True if args.require_better else None,
            gate_partial=args.gate_partial,
        ),
    )


def regate(
    report: dict[str, Any],
    settings: Settings,
    baselines: Sequence[dict[str, Any]] = (),
    keep_thresholds: bool = True,
) -> EvalSession:
    """An EvalSession holding the report's runs, ready for finish(); no model is called."""
    if not isinstance(report.get("runs"), list):
        raise RegateError("not a pytest-llmjudge JSON report: no 'runs' list")
    evals = EvalSession(settings)
    evals.interrupted = bool(report.get("interrupted"))  # its runs hold only the cases judged
    for data in report["runs"]:
        run = _run(data, keep_thresholds)
        baseline = _pick_baseline(data, baselines) if baselines else data.get("baseline_snapshot")
        if baseline is not None:
            stored = data.get("comparison") or {}
            run.baseline = BaselineSpec(
                role=str(baseline.get("baseline") or baseline.get("judge")),
                records=False,
                require_better=bool(stored.get("require_better", False)),
            )
            # the report keeps no case text to digest: its cases were checked against the
            # baseline's content when it was written (a mismatch is its comparison_error)
            cases = [{k: v for k, v in c.items() if k != "digest"} for c in baseline["cases"]]
            run.baseline_data = {**baseline, "cases": cases}
        evals.runs[run.key] = run
    return evals


def baselines_from(data: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    """Baselines from a snapshot file (one) or from a JSON report (one per run)."""
    if isinstance(data.get("cases"), list):
        return [data]
    if isinstance(data.get("runs"), list):
        return [
            {
                "baseline": run["judge"],
                "judge": run["judge"],
                "dataset": run["dataset"],
                "cases": run["cases"],
            }
            for run in data["runs"]
        ]
    raise RegateError(f"{path}: neither a baseline snapshot nor a JSON report")


def _pick_baseline(run: dict[str, Any], baselines: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The baseline on the run's dataset: the judge's own if there is one, else the only one."""
    same = [b for b in baselines if b.get("dataset") == run["dataset"]]
    own = [b for b in same if run["judge"] in (b.get("judge"), b.get("baseline"))]
    if len(own) == 1:
        return own[0]
    if len(same) == 1:
        return same[0]
    found = ", ".join(str(b.get("baseline")) for b in same) or "none"
    raise RegateError(
        f"judge {run['judge']} on {run['dataset']}: expected one baseline on that dataset, "
        f"found {len(same)} ({found})"
    )


def _run(data: dict[str, Any], keep_thresholds: bool) -> JudgeRun:
    key = RunKey(data["test"], data["judge"], data["dataset"])
    thresholds = tuple(
        Threshold(t["metric"], t["op"], float(t["value"]), slice=t.get("slice"))
        for t in data.get("thresholds", [])
    )
    dataset = Dataset(
        path=Path(data.get("dataset_path") or data["dataset"]),
        name=data["dataset"],
        slice_by=tuple(data.get("slice_by") or ()),
    )
    run = JudgeRun(
        key,
        data["judge"],
        dataset,
        thresholds if keep_thresholds else (),
        total=int(data.get("total") or 0),  # a partly selected run stays partial
        repeat=int(data.get("repeat") or 1),
    )
    for case in data["cases"]:
        run.cases.append(
            Case(
                id=case["id"],
                premise=_NOT_STORED,
                hypothesis=_NOT_STORED,
                target=case["target"],
                slices=tuple(case.get("slices") or ()),
            )
        )
        repeated = case.get("verdicts") if run.repeat > 1 else None
        run.verdicts[case["id"]] = Verdict(
            prediction=case.get("prediction"),
            reason=case.get("reason") or "",
            error=case.get("error"),
            raw=case.get("raw"),
            probability=case.get("probability"),
            latency_s=case.get("latency_s") or 0.0,
            tokens=case.get("tokens"),
            cached=bool(case.get("cached", False)),
            trials=tuple(Verdict(prediction=p) for p in repeated or ()),
        )
    return run


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegateError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise RegateError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RegateError(f"{path}: expected a JSON object")
    return data
