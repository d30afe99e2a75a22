"""Resolved settings of an evaluation session (no pytest imports)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pytest_llmjudge.scoring.policies import GateOn, UnscoredPolicy
from pytest_llmjudge.scoring.thresholds import Threshold

if TYPE_CHECKING:
    from pytest_llmjudge.calls.prices import Price
    from pytest_llmjudge.scoring.thresholds import Tolerance

CacheMode = Literal["use", "refresh", "off", "replay"]
CACHE_MODES: tuple[CacheMode, ...] = ("use", "refresh", "off", "replay")


@dataclass(frozen=True)
class CallSettings:
    """How model calls are made: retries, rate limits, the response cache and the budget.

    Attributes:
        retries: tries per request (1 = no retry) for 429, 5xx, timeouts and connection errors.
        rps: requests per second across a run (None: no limit).
        tpm: estimated tokens per minute across a run (None: no limit).
        cache: use (default), refresh (call again, overwrite), off, or replay (never the network).
        cache_dir: folder of the response cache (None: no cache, e.g. outside pytest).
        max_requests: stop issuing requests after this many (None: no budget).
        max_tokens: stop issuing requests once this many tokens are used (None: no budget).
        ledger: the budget's ledger file that the pytest-xdist workers of a run share (None:
            the budget is counted in this process).
        max_answer_chars: a model answer longer than this is unscored with its cause and kept
            cut (calls/answer_limit.py).
        max_cost: stop issuing requests once they cost this many dollars (None: no budget).
        prices: dollars per million tokens by model, what costs are from (None: the defaults
            of calls/prices.py).
    """

    retries: int = 5
    rps: float | None = None
    tpm: float | None = None
    cache: CacheMode = "use"
    cache_dir: Path | None = None
    max_requests: int | None = None
    max_tokens: int | None = None
    ledger: Path | None = None
    max_answer_chars: int = 20_000
    max_cost: float | None = None
    prices: Mapping[str, Price] | None = None


@dataclass(frozen=True)
class GateSettings:
    """How gates weigh uncertainty, and how a run is compared with its stored baseline.

    Attributes:
        gate_on: check thresholds on the point estimate, or on the 95% interval's bound.
        alpha: significance level of the exact McNemar test against a baseline.
        tolerances: how much each metric may drop below the baseline (none: no such gate).
        require_better: demand a significant improvement over the baseline (None: the
            marker's `require_better` decides).
        gate_partial: apply the gates of a run of which only some cases were selected (-k,
            --lf, --deselect, node ids); by default they are reported, not applied.
    """

    gate_on: GateOn = "point"
    alpha: float = 0.05
    tolerances: tuple[Tolerance, ...] = ()
    require_better: bool | None = None
    gate_partial: bool = False


FineTunePolicy = Literal["never", "missing", "always"]
FINETUNE_POLICIES: tuple[FineTunePolicy, ...] = ("never", "missing", "always")


@dataclass(frozen=True)
class FineTuneSettings:
    """How the llmjudge_finetune fixture behaves.

    Attributes:
        policy: never (a missing fine-tune skips its evals), missing (train what is missing)
            or always (retrain once per run).
        registry: the registry file of finished fine-tunes (committed to the repo).
        progress_every: print one progress line every this many training steps.
        wandb_project: the W&B project of training metrics (used only with WANDB_API_KEY).
    """

    policy: FineTunePolicy = "missing"
    registry: Path = Path("llmjudge-finetunes.json")
    progress_every: int = 5
    wandb_project: str | None = None


@dataclass(frozen=True)
class OutputSettings:
    """Where results go besides the terminal and the JSON report.

    Attributes:
        html_path: the self-contained HTML report (None: none).
        weave_project: the W&B Weave project ('entity/project' or 'project') runs are logged
            to as evaluations (None: weave is never imported).
        columns: the judge metrics the terminal table shows (each with its interval).
        rank_by: the metric the leaderboard of judges on one dataset ranks on.
    """

    html_path: Path | None = None
    weave_project: str | None = None
    columns: tuple[str, ...] = ("accuracy", "precision", "recall", "f1")
    rank_by: str = "accuracy"


Transport = Literal["http", "sdk"]
TRANSPORTS: tuple[Transport, ...] = ("http", "sdk")


@dataclass(frozen=True)
class ScaleSettings:
    """How judge requests travel: the chat transport and the Mistral Batch API.

    Attributes:
        transport: http (the package's Mistral client on aiohttp, the default; honours
            HTTPS_PROXY / HTTP_PROXY / NO_PROXY) or sdk (the official mistralai SDK's
            chat.complete_async).
        batch: send a Mistral judge's uncached requests as one Batch API job.
        batch_poll_s: seconds between two polls of a batch job.
        batch_timeout_hours: the job's timeout on the server (TIMEOUT_EXCEEDED after it).
        freeze_gc: keep the cyclic garbage collector off what collection leaves alive, for
            the run (gcfreeze.py).
    """

    transport: Transport = "http"
    batch: bool = False
    batch_poll_s: float = 10.0
    batch_timeout_hours: int = 24
    freeze_gc: bool = True


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
        calls: retries, rate limits, response cache and budget of model calls.
        gates: interval-aware gating and baseline comparison.
        artifacts_dir: where trained local judges are stored.
        rootdir: the pytest root directory.
        finetune: the fine-tune fixture's policy, registry and progress.
        outputs: the HTML report and the Weave project.
        scale: the chat transport and the Batch API mode.
        repeat: judge each case this many times (the command line's; overrides markers).
        ini_repeat: the same from ini, for runs whose marker sets no repeat=.
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
    calls: CallSettings = field(default_factory=CallSettings)
    gates: GateSettings = field(default_factory=GateSettings)
    artifacts_dir: Path = Path(".llmjudge/artifacts")
    rootdir: Path = field(default_factory=Path.cwd)
    finetune: FineTuneSettings = field(default_factory=FineTuneSettings)
    outputs: OutputSettings = field(default_factory=OutputSettings)
    scale: ScaleSettings = field(default_factory=ScaleSettings)
    repeat: int | None = None
    ini_repeat: int = 1

    def repeat_for(self, marker: int | None) -> int:
        """How many times a run judges each case: command line > marker > ini (default 1)."""
        return self.repeat or marker or self.ini_repeat
