"""Resolved settings of an evaluation session (no pytest imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .thresholds import Threshold

UnscoredPolicy = Literal["wrong", "exclude"]


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved once from CLI, ini and environment.

    Attributes:
        concurrency: requests in flight per judge batch.
        strict: a mismatch (or unscored case) fails its test item.
        ini_thresholds: thresholds from ini, applied to every run (markers override them).
        cli_thresholds: thresholds from the command line (override markers and ini).
        report_path: where to write the JSON report.
        unscored: count unscored cases as wrong answers, or exclude them (coverage shown).
        positive: the positive class of precision, recall and F1.
        mistral_server_url: another server speaking the Mistral chat protocol.
        timeout_s: per-request timeout.
        artifacts_dir: where trained local judges are stored.
        rootdir: the pytest root directory.
    """

    concurrency: int = 8
    strict: bool = False
    ini_thresholds: tuple[Threshold, ...] = ()
    cli_thresholds: tuple[Threshold, ...] = ()
    report_path: Path | None = None
    unscored: UnscoredPolicy = "wrong"
    positive: int = 1
    mistral_server_url: str | None = None
    timeout_s: float = 60.0
    artifacts_dir: Path = Path(".llmjudge/artifacts")
    rootdir: Path = field(default_factory=Path.cwd)
