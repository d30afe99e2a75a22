"""Command-line options and ini keys, resolved once into Settings."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from pytest_llmjudge.plugin.finetune_options import add_finetune_options, resolve_finetune
from pytest_llmjudge.plugin.ledger import worker_ledger
from pytest_llmjudge.plugin.outputs import add_output_options, resolve_outputs
from pytest_llmjudge.plugin.scale_options import add_scale_options, resolve_scale
from pytest_llmjudge.scoring.policies import GATE_ON_CHOICES, UNSCORED_CHOICES
from pytest_llmjudge.scoring.thresholds import parse_threshold, parse_tolerance
from pytest_llmjudge.settings import (
    CACHE_MODES,
    CallSettings,
    GateSettings,
    Settings,
)

if TYPE_CHECKING:
    from pytest_llmjudge.calls.prices import Price

T = TypeVar("T")


def add_options(parser: pytest.Parser) -> None:
    """Declare the llmjudge option group and ini keys."""
    group = parser.getgroup("llmjudge", "LLM judge evaluations")
    group.addoption(
        "--llmjudge-concurrency",
        type=_positive_int,
        default=None,
        metavar="N",
        help="model requests in flight per judge batch (ini: llmjudge_concurrency, default 8)",
    )
    group.addoption(
        "--llmjudge-repeat",
        type=_positive_int,
        default=None,
        metavar="N",
        help="judge each case N times; its verdict is the majority, flaky cases are named "
        "(overrides markers' repeat=; ini: llmjudge_repeat, default 1)",
    )
    group.addoption(
        "--llmjudge-strict",
        action="store_true",
        default=None,
        help="fail the test item of every mismatched or unscored case (ini: llmjudge_strict)",
    )
    group.addoption(
        "--llmjudge-threshold",
        action="append",
        type=parse_threshold,
        default=[],
        metavar="[JUDGE:]METRIC>=VALUE",
        help="gate a metric, e.g. 'f1>=0.8' or 'local:accuracy>=0.7'; repeatable; overrides "
        "markers and ini (ini: llmjudge_thresholds)",
    )
    group.addoption(
        "--llmjudge-report",
        default=None,
        metavar="PATH",
        help="write the JSON report of every run to PATH (ini: llmjudge_report)",
    )
    group.addoption(
        "--llmjudge-unscored",
        choices=UNSCORED_CHOICES,
        default=None,
        help="count unscored cases as wrong answers (default) or exclude them "
        "(ini: llmjudge_unscored)",
    )
    group.addoption(
        "--llmjudge-positive",
        type=int,
        choices=(0, 1),
        default=None,
        help="positive class of precision, recall and F1 (ini: llmjudge_positive, default 1)",
    )
    group.addoption(
        "--llmjudge-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="per-request timeout (ini: llmjudge_timeout, default 60)",
    )
    add_call_options(group)
    add_gate_options(group)
    parser.addini("llmjudge_concurrency", "model requests in flight per judge batch", default="8")
    parser.addini("llmjudge_repeat", "times each case is judged (markers' repeat=)", default="1")
    parser.addini("llmjudge_strict", "fail items of mismatched cases", type="bool", default=False)
    parser.addini("llmjudge_thresholds", "metric gates applied to every run", type="linelist")
    parser.addini("llmjudge_report", "path of the JSON report", default="")
    parser.addini("llmjudge_unscored", "wrong|exclude: how unscored cases count", default="wrong")
    parser.addini("llmjudge_positive", "positive class (1 or 0)", default="1")
    parser.addini("llmjudge_timeout", "per-request timeout in seconds", default="60")
    add_call_inis(parser)
    add_gate_inis(parser)
    add_finetune_options(group, parser)
    add_output_options(group, parser)
    add_scale_options(group, parser)
    parser.addini(
        "llmjudge_mistral_server_url",
        "server speaking the Mistral chat protocol (MISTRAL_SERVER_URL overrides it)",
        default="",
    )
    parser.addini(
        "llmjudge_artifacts", "folder of trained local judges", default=".llmjudge/artifacts"
    )


def resolve_settings(config: pytest.Config) -> Settings:
    """Settings from the command line, then ini, then defaults; bad values are UsageErrors."""
    root = Path(config.rootpath)

    def pick(option: str | None, ini: str, convert: Callable[[Any], T]) -> T:
        value = config.getoption(option) if option else None
        if value is None:
            value = config.getini(ini)
        try:
            return convert(value)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            raise pytest.UsageError(f"invalid {ini} = {value!r}: {exc}") from None

    unscored = pick("llmjudge_unscored", "llmjudge_unscored", _choice(UNSCORED_CHOICES))
    report = pick("llmjudge_report", "llmjudge_report", str)
    try:
        ini_thresholds = tuple(parse_threshold(t) for t in config.getini("llmjudge_thresholds"))
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"llmjudge_thresholds: {exc}") from None
    return Settings(
        concurrency=pick("llmjudge_concurrency", "llmjudge_concurrency", _positive_int),
        strict=bool(pick("llmjudge_strict", "llmjudge_strict", bool)),
        ini_thresholds=ini_thresholds,
        cli_thresholds=tuple(config.getoption("llmjudge_threshold")),
        report_path=root / report if report else None,
        unscored=unscored,
        positive=pick("llmjudge_positive", "llmjudge_positive", _choice((0, 1), int)),
        mistral_server_url=config.getini("llmjudge_mistral_server_url") or None,
        timeout_s=pick("llmjudge_timeout", "llmjudge_timeout", _positive_float),
        calls=CallSettings(
            retries=pick("llmjudge_retries", "llmjudge_retries", _positive_int),
            rps=pick("llmjudge_rps", "llmjudge_rps", _optional(_positive_float)),
            tpm=pick("llmjudge_tpm", "llmjudge_tpm", _optional(_positive_float)),
            cache=pick("llmjudge_cache", "llmjudge_cache", _choice(CACHE_MODES)),
            cache_dir=root / pick("llmjudge_cache_dir", "llmjudge_cache_dir", str),
            max_requests=pick("llmjudge_max_requests", "llmjudge_max_requests", _budget),
            max_tokens=pick("llmjudge_max_tokens", "llmjudge_max_tokens", _budget),
            max_cost=pick("llmjudge_max_cost", "llmjudge_max_cost", _optional(_positive_float)),
            prices=_prices(config.getini("llmjudge_prices")),  # None: the defaults
            ledger=worker_ledger(config),  # a pytest-xdist worker's shared budget
            max_answer_chars=pick(
                "llmjudge_max_answer_chars", "llmjudge_max_answer_chars", _positive_int
            ),
        ),
        gates=resolve_gates(config, pick),
        artifacts_dir=root / config.getini("llmjudge_artifacts"),
        rootdir=root,
        finetune=resolve_finetune(config, root),
        outputs=resolve_outputs(config, root),
        scale=resolve_scale(config),
        repeat=config.getoption("llmjudge_repeat"),
        ini_repeat=pick(None, "llmjudge_repeat", _positive_int),
    )


def _positive_int(value: Any) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value!r}")
    return number


def _positive_float(value: Any) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value!r}")
    return number


def _choice(choices: tuple[Any, ...], convert: Callable[[Any], Any] = str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        converted = convert(value)
        if converted not in choices:
            raise ValueError(f"expected one of {', '.join(map(str, choices))}")
        return converted

    return check


def add_call_options(group: Any) -> None:
    """Options of model calls: retries, rate limits, response cache, budget."""
    group.addoption(
        "--llmjudge-retries",
        type=_positive_int,
        default=None,
        metavar="N",
        help="tries per model request for 429, 5xx, timeouts and connection errors "
        "(ini: llmjudge_retries, default 5)",
    )
    group.addoption(
        "--llmjudge-rps",
        type=_positive_float,
        default=None,
        metavar="N",
        help="model requests per second, shared by a run (ini: llmjudge_rps, default no limit)",
    )
    group.addoption(
        "--llmjudge-tpm",
        type=_positive_float,
        default=None,
        metavar="N",
        help="estimated tokens per minute, shared by a run (ini: llmjudge_tpm, default no limit)",
    )
    group.addoption(
        "--llmjudge-cache",
        choices=CACHE_MODES,
        default=None,
        help="response cache: use (default), refresh (call again and overwrite), off, or replay "
        "(never the network; uncached cases are unscored) (ini: llmjudge_cache)",
    )
    group.addoption(
        "--llmjudge-cache-dir",
        default=None,
        metavar="DIR",
        help="folder of the response cache (ini: llmjudge_cache_dir, default .llmjudge/cache)",
    )
    group.addoption(
        "--llmjudge-max-requests",
        type=_positive_int,
        default=None,
        metavar="N",
        help="stop issuing model requests after N; the rest are unscored and the run fails "
        "(ini: llmjudge_max_requests)",
    )
    group.addoption(
        "--llmjudge-max-tokens",
        type=_positive_int,
        default=None,
        metavar="N",
        help="stop issuing model requests once N tokens are used; the rest are unscored and the "
        "run fails (ini: llmjudge_max_tokens)",
    )
    group.addoption(
        "--llmjudge-max-cost",
        type=_positive_float,
        default=None,
        metavar="DOLLARS",
        help="stop issuing model requests once they cost this many US dollars (priced by "
        "llmjudge_prices); the rest are unscored and the run fails (ini: llmjudge_max_cost)",
    )
    group.addoption(
        "--llmjudge-max-answer-chars",
        type=_positive_int,
        default=None,
        metavar="N",
        help="a model answer longer than N characters is unscored and kept cut "
        "(ini: llmjudge_max_answer_chars, default 20000)",
    )


def add_call_inis(parser: pytest.Parser) -> None:
    """Ini keys of model calls."""
    parser.addini("llmjudge_retries", "tries per model request", default="5")
    parser.addini("llmjudge_rps", "model requests per second (empty: no limit)", default="")
    parser.addini("llmjudge_tpm", "estimated tokens per minute (empty: no limit)", default="")
    parser.addini("llmjudge_cache", "use|refresh|off|replay: the response cache", default="use")
    parser.addini("llmjudge_cache_dir", "folder of the response cache", default=".llmjudge/cache")
    parser.addini("llmjudge_max_requests", "request budget of a session (empty: none)", default="")
    parser.addini("llmjudge_max_tokens", "token budget of a session (empty: none)", default="")
    parser.addini("llmjudge_max_cost", "money budget of a session in dollars", default="")
    parser.addini(
        "llmjudge_prices",
        "'model = input, output' lines, dollars per million tokens (over the defaults)",
        type="linelist",
        default=[],
    )
    parser.addini(
        "llmjudge_max_answer_chars", "longest model answer kept, in characters", default="20000"
    )


def _optional(convert: Callable[[Any], T]) -> Callable[[Any], T | None]:
    def check(value: Any) -> T | None:
        return None if value is None or value == "" else convert(value)

    return check


def _prices(lines: list[str]) -> dict[str, Price] | None:
    if not lines:
        return None
    from pytest_llmjudge.calls.prices import parse_prices

    try:
        return parse_prices(lines)
    except ValueError as exc:
        raise pytest.UsageError(f"invalid llmjudge_prices: {exc}") from None


def _budget(value: Any) -> int | None:
    return _optional(_positive_int)(value)


def add_gate_options(group: Any) -> None:
    """Options of interval-aware gates and baseline comparisons."""
    group.addoption(
        "--llmjudge-gate-on",
        choices=GATE_ON_CHOICES,
        default=None,
        help="check thresholds on the point estimate (default) or on the 95%% interval's "
        "lower bound (ini: llmjudge_gate_on)",
    )
    group.addoption(
        "--llmjudge-alpha",
        type=_unit_open,
        default=None,
        metavar="ALPHA",
        help="significance level of the exact McNemar test against a baseline "
        "(ini: llmjudge_alpha, default 0.05)",
    )
    group.addoption(
        "--llmjudge-tolerance",
        action="append",
        type=parse_tolerance,
        default=[],
        metavar="[METRIC=]DROP",
        help="fail a run compared with a baseline when a metric drops by more than DROP, e.g. "
        "'0.02' (accuracy) or 'f1=0.03'; repeatable; overrides ini (ini: llmjudge_tolerance)",
    )
    group.addoption(
        "--llmjudge-gate-partial",
        action="store_true",
        default=None,
        help="apply the gates of runs of which only some cases are selected (-k, --lf, "
        "--deselect); by default they are reported, not applied (ini: llmjudge_gate_partial)",
    )
    group.addoption(
        "--llmjudge-require-better",
        action="store_true",
        default=None,
        help="promotion gate: a run compared with a baseline must be significantly better "
        "(marker: require_better=True)",
    )


def add_gate_inis(parser: pytest.Parser) -> None:
    """Ini keys of interval-aware gates and baseline comparisons."""
    parser.addini("llmjudge_gate_on", "point|lower-bound: what thresholds check", default="point")
    parser.addini("llmjudge_alpha", "significance level against a baseline", default="0.05")
    parser.addini(
        "llmjudge_gate_partial",
        "apply the gates of partly selected runs",
        type="bool",
        default=False,
    )
    parser.addini(
        "llmjudge_tolerance", "allowed metric drops against a baseline, e.g. f1=0.03", "linelist"
    )


def resolve_gates(config: pytest.Config, pick: Callable[..., Any]) -> GateSettings:
    """GateSettings: command line, then ini, then defaults (tolerances: CLI replaces ini per
    metric)."""
    try:
        ini_tolerances = [parse_tolerance(t) for t in config.getini("llmjudge_tolerance")]
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"llmjudge_tolerance: {exc}") from None
    merged = {t.metric: t for t in [*ini_tolerances, *config.getoption("llmjudge_tolerance")]}
    return GateSettings(
        gate_on=pick("llmjudge_gate_on", "llmjudge_gate_on", _choice(GATE_ON_CHOICES)),
        alpha=pick("llmjudge_alpha", "llmjudge_alpha", _unit_open),
        tolerances=tuple(merged.values()),
        require_better=config.getoption("llmjudge_require_better"),
        gate_partial=bool(pick("llmjudge_gate_partial", "llmjudge_gate_partial", bool)),
    )


def _unit_open(value: Any) -> float:
    number = float(value)
    if not 0.0 < number < 1.0:
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {value!r}")
    return number
