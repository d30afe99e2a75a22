"""Command-line options and ini keys, resolved once into Settings."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from .settings import Settings
from .thresholds import parse_threshold

T = TypeVar("T")
UNSCORED_CHOICES = ("wrong", "exclude")


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
    parser.addini("llmjudge_concurrency", "model requests in flight per judge batch", default="8")
    parser.addini("llmjudge_strict", "fail items of mismatched cases", type="bool", default=False)
    parser.addini("llmjudge_thresholds", "metric gates applied to every run", type="linelist")
    parser.addini("llmjudge_report", "path of the JSON report", default="")
    parser.addini("llmjudge_unscored", "wrong|exclude: how unscored cases count", default="wrong")
    parser.addini("llmjudge_positive", "positive class (1 or 0)", default="1")
    parser.addini("llmjudge_timeout", "per-request timeout in seconds", default="60")
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

    def pick(option: str, ini: str, convert: Callable[[Any], T]) -> T:
        value = config.getoption(option)
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
        artifacts_dir=root / config.getini("llmjudge_artifacts"),
        rootdir=root,
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
