"""Optional W&B Weave logging: each judge run and each generator run as a Weave evaluation.

weave is imported only here, and only when `--llmjudge-weave` asks for it: importing it takes
over a second and has side effects (Sentry error reporting, background threads, integration
patching). The plugin runs the logging in a child process (`log_in_subprocess`), so that a slow,
unreachable or failing W&B can cost at most a time limit and one warning, never the evaluation
or the pytest process's exit; `log_runs` does the same work in-process for scripts.

Each run becomes one `weave.EvaluationLogger`, from the payload weave_payload.py builds.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pytest_llmjudge.secrets import clip_line, redact

EXTRA_HINT = "pip install 'pytest-llmjudge[weave]'"
MISSING_WEAVE = f"--llmjudge-weave needs the weave package: {EXTRA_HINT}"
DEFAULT_TIMEOUT_S = 120.0
SECONDS_PER_PREDICTION = 0.05  # measured: about 9 ms each against a loopback server
# weave.init settings: no implicit patching of the user's LLM clients, no code capture, no
# console chatter, a single retry and no disk spill-over of dropped calls. The response cache
# (which spares re-uploading the same scorer object for every prediction) gets a private folder
# per logging session: weave's default one is shared by every process on the machine.
WEAVE_SETTINGS: dict[str, Any] = {
    "print_call_link": False,
    "implicitly_patch_integrations": False,
    "capture_code": False,
    "capture_system_info": False,
    "enable_disk_fallback": False,
    "use_server_cache": True,
    "retry_max_attempts": 1,
    "retry_max_interval": 2.0,
    "log_level": "ERROR",
}
_RESULT_PREFIX = "LLMJUDGE-WEAVE-RESULT "


@dataclass
class WeaveOutcome:
    """What logging to Weave achieved.

    Attributes:
        logged: the runs whose evaluation was sent, as "judge on dataset" or
            "generator at point on dataset".
        urls: the Weave UI link of each logged evaluation, by run name, when weave gave one.
        problem: why logging failed or was incomplete (one line), or None.
    """

    logged: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


def weave_available() -> bool:
    """Whether weave is installed, without importing it."""
    return importlib.util.find_spec("weave") is not None


def check_project(value: str) -> str:
    """Validate `project` or `entity/project`; raises ValueError."""
    parts = value.split("/")
    if not value or len(parts) > 2 or not all(p.strip() for p in parts):
        raise ValueError(f"expected 'project' or 'entity/project', got {value!r}")
    return value


def import_weave() -> Any:
    """Import weave (error reporting to Sentry off); an ImportError names the extra."""
    os.environ.setdefault("WANDB_ERROR_REPORTING", "false")
    try:
        import weave
    except ImportError as exc:
        raise ImportError(MISSING_WEAVE) from exc
    return weave


def log_runs(project: str, runs: Sequence[dict[str, Any]]) -> WeaveOutcome:
    """Log `runs` (from `run_payload`) to Weave in this process; problems end up in the outcome.

    Errors that weave logs (its background threads do not raise) are counted and reported as
    the outcome's single `problem` line.
    """
    outcome = WeaveOutcome()
    with (
        tempfile.TemporaryDirectory(prefix="llmjudge-weave-", ignore_cleanup_errors=True) as cache,
        _weave_log_records() as records,
    ):
        try:
            weave = import_weave()
            weave.init(project, settings={**WEAVE_SETTINGS, "server_cache_dir": cache})
        except Exception as exc:
            outcome.problem = _one_line(f"could not start Weave for {project!r}: {exc}")
            return outcome
        try:
            for run in runs:
                url = _log_run(weave, run)
                outcome.logged.append(run["name"])
                if url:
                    outcome.urls[run["name"]] = url
        except Exception as exc:
            outcome.problem = _one_line(f"logging to Weave failed: {type(exc).__name__}: {exc}")
        finally:
            try:
                weave.get_client().flush()  # what the background threads still hold
                weave.finish()
            except Exception as exc:  # flushing is best effort too
                outcome.problem = outcome.problem or _one_line(f"Weave flush failed: {exc}")
    errors = [r for r in records if r.levelno >= logging.ERROR]
    if outcome.problem is None and errors:
        outcome.problem = _one_line(
            f"{len(errors)} Weave error(s) while logging; first: {errors[0].getMessage()}"
        )
    return outcome


def _log_run(weave: Any, run: dict[str, Any]) -> str | None:
    scorers = run.get("scorers", ["correct"])  # each prediction holds its score under the name
    logger = weave.EvaluationLogger(
        name=run["name"],
        model=run["model"],
        dataset=run["dataset"],
        eval_attributes=run["attributes"],
        scorers=scorers,
    )
    for prediction in run["predictions"]:
        scored = logger.log_prediction(inputs=prediction["inputs"], output=prediction["output"])
        for scorer in scorers:
            scored.log_score(scorer, bool(prediction[scorer]))
        scored.finish()
    logger.log_summary(run["summary"])
    try:
        url = logger.ui_url
    except Exception:  # a UI link is a nicety
        return None
    return str(url) if url else None


@contextmanager
def _weave_log_records() -> Iterator[list[logging.LogRecord]]:
    """Collect the records that reach the weave logger (ERROR and up, with WEAVE_SETTINGS)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    log = logging.getLogger("weave")
    handler = Collect(logging.WARNING)
    log.addHandler(handler)
    try:
        yield records
    finally:
        log.removeHandler(handler)


def timeout_for(runs: Sequence[dict[str, Any]]) -> float:
    """The time limit of logging `runs`: a fixed allowance plus a little per prediction."""
    return DEFAULT_TIMEOUT_S + SECONDS_PER_PREDICTION * sum(len(r["predictions"]) for r in runs)


def log_in_subprocess(
    project: str, runs: Iterable[dict[str, Any]], timeout_s: float = DEFAULT_TIMEOUT_S
) -> WeaveOutcome:
    """Run `log_runs` in a child Python process with a time limit; never raises."""
    runs = list(runs)
    if not weave_available():
        return WeaveOutcome(problem=MISSING_WEAVE)
    payload = redact(json.dumps({"project": project, "runs": runs}))
    env = {**os.environ, "WANDB_ERROR_REPORTING": "false"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__],
            input=payload,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return WeaveOutcome(
            problem=f"logging to Weave project {project!r} took over {timeout_s:g} s; gave up"
        )
    except OSError as exc:
        return WeaveOutcome(problem=_one_line(f"could not start the Weave logger: {exc}"))
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(_RESULT_PREFIX):
            return WeaveOutcome(**json.loads(line[len(_RESULT_PREFIX) :]))
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return WeaveOutcome(
        problem=_one_line(f"the Weave logger exited with {done.returncode}: {tail}")
    )


def _one_line(text: str, limit: int = 300) -> str:
    return clip_line(text, limit - 3)  # masked before it is cut


def _main() -> int:
    request = json.loads(sys.stdin.read())
    outcome = log_runs(request["project"], request["runs"])
    print(_RESULT_PREFIX + json.dumps(outcome.__dict__), flush=True)
    return 0


if __name__ == "__main__":
    # The child exits without waiting for weave's non-daemon threads (the parent has the result).
    sys.stdout.flush()
    os._exit(_main())
