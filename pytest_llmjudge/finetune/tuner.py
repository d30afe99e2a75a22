"""FineTuner: resolve a fine-tune's inputs, reuse a recorded one or train it, return its judge
(or, for task "generator", its Generator)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.finetune import hf, local, mistral
from pytest_llmjudge.finetune.gen_records import build_gen_records
from pytest_llmjudge.finetune.progress import Progress, WandbLogger
from pytest_llmjudge.finetune.registry import Entry, Registry
from pytest_llmjudge.finetune.spec import (
    FineTuneMissing,
    FineTuneSpec,
    Records,
    TrainLike,
    as_train_files,
    build_records,
    fingerprint,
    prompt_judge,
)
from pytest_llmjudge.model.generator import Generator
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.paths import declared
from pytest_llmjudge.settings import FineTuneSettings

NEVER_REASON = (
    "fine-tune {name!r} ({backend}, fingerprint {fp}) is not in {registry} and "
    "--llmjudge-finetune=never forbids training it{why}"
)
Tuned = Judge | Generator
DEFAULT_BASE = {"local": local.MODEL, "hf": hf.SMOLLM2_ALIAS, "mistral": "open-mistral-7b"}


@dataclass(frozen=True)
class Plan:
    """A fine-tune's resolved inputs: validated records, settings and fingerprint."""

    spec: FineTuneSpec
    train: list[Records]
    validation: Records | None
    settings: dict[str, Any]
    client: dict[str, Any] = field(default_factory=dict)
    recipe: str = ""
    fingerprint: str = ""

    @property
    def short(self) -> str:
        """The first 12 hex digits of the fingerprint."""
        return self.fingerprint[:12]


class FineTuner:
    """The callable the `llmjudge_finetune` fixture returns (usable without pytest too)."""

    def __init__(
        self,
        settings: FineTuneSettings,
        artifacts_dir: Path,
        rootdir: Path,
        emit: Callable[[str], None] | None = None,
        run_id: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.artifacts_dir = Path(artifacts_dir)
        self.rootdir = Path(rootdir)
        registry = settings.registry
        self.registry = Registry(registry if registry.is_absolute() else self.rootdir / registry)
        self.emit = emit
        self.run_id = run_id
        self._sleep = sleep
        self._judges: dict[str, Tuned] = {}
        self.progress: list[Progress] = []

    def __call__(
        self,
        name: str,
        *,
        train: TrainLike | list[TrainLike],
        backend: str = "local",
        base: str | Judge | None = None,
        validation: str | Path | None = None,
        hyperparameters: dict[str, Any] | None = None,
        server_url: str | None = None,
        relative_to: Path | None = None,
        task: str = "judge",
    ) -> Tuned:
        """Reuse or train the fine-tune and return the judge (or generator) that runs it.

        Args:
            name: the judge's (or generator's) name in test ids and reports.
            train: JSONL files of labelled cases (task "generator": of `{"prompt", "answer"}`
                or chat `messages` rows), or (path, weight) pairs; relative paths are
                relative to `relative_to` (the declaring file's folder), else rootdir.
            backend: "local", "hf" or "mistral".
            base: the base model id, path or alias, or a Judge whose prompt the records use.
            validation: an optional JSONL file of held-out cases.
            hyperparameters: backend settings (see each backend's DEFAULTS).
            server_url: "hf": the judge calls this server (vLLM serving the adapter) instead of
                running it in process; "mistral": the server speaking the jobs API.
            relative_to: the folder relative paths are relative to (default: rootdir).
            task: "judge" (returns a Judge) or "generator" (backend "hf": LoRA on the rows'
                answers; returns a Generator running base + adapter).

        Raises:
            FineTuneMissing: nothing to reuse and the policy (or a missing key/extra) forbids
                training; the fixture turns it into a skip.
            FineTuneError: a job that failed, with its cause; DatasetError: a bad training row.
        """
        folder = relative_to or self.rootdir
        given = hyperparameters or {}
        plan = self.plan(name, backend, base, train, validation, given, server_url, folder, task)
        if plan.fingerprint not in self._judges:
            self._judges[plan.fingerprint] = self.obtain(plan)
        return self._judges[plan.fingerprint].model_copy(update={"name": name})

    def plan(
        self,
        name: str,
        backend: str,
        base: str | Judge | None,
        train: TrainLike | list[TrainLike],
        validation: str | Path | None,
        given: dict[str, Any],
        server_url: str | None,
        folder: Path | None = None,
        task: str = "judge",
    ) -> Plan:
        """Validate the inputs, format their records and fingerprint them."""
        if task == "generator" and isinstance(base, Judge):
            raise ConfigError(f"fine-tune {name!r}: a generator's base is a model, not a Judge")
        if task == "generator" and hf.THRESHOLD_FOR in given:
            raise ConfigError(f"fine-tune {name!r}: a generator has no decision threshold to fit")
        base_id, judge = prompt_judge(name, base if base is not None else DEFAULT_BASE.get(backend))
        spec = FineTuneSpec(
            name=name,
            backend=backend,
            base=base_id,
            prompt_judge=judge,
            train=as_train_files(train, folder or self.rootdir),
            validation=None if validation is None else declared(validation, folder or self.rootdir),
            hyperparameters=dict(given),
            server_url=server_url,
            task=task,
        )
        if task == "generator":
            records = [build_gen_records(f.path, f.weight) for f in spec.train]
            held_out = build_gen_records(spec.validation) if spec.validation else None
        else:
            records = [build_records(judge, f.path, f.weight) for f in spec.train]
            held_out = build_records(judge, spec.validation) if spec.validation else None
        client: dict[str, Any] = {}
        if backend == "local":
            settings, recipe = local.hyperparameters(given), local.RECIPE
        elif backend == "hf":
            settings, recipe = hf.hyperparameters(given), hf.RECIPE
        else:
            (settings, client), recipe = mistral.hyperparameters(given), mistral.RECIPE
        key = fingerprint(spec, records, held_out, settings, recipe)
        return Plan(spec, records, held_out, settings, client, recipe, key)

    def obtain(self, plan: Plan) -> Tuned:
        """The plan's judge (or generator) from a reusable registry entry, or from training."""
        spec = plan.spec
        progress = self._progress(spec.name)
        with self._lock(plan):
            entry = self.registry.get(plan.fingerprint)
            stale = self._unusable(plan, entry) if entry else None
            if entry and not stale and self._may_reuse(plan):
                progress.line(
                    f"reused {entry.model} from {entry.date} (fingerprint {plan.short}, "
                    f"registry {self.registry.path.name})"
                )
                return self._judge(plan, entry)
            if self.settings.policy == "never":
                why = f" ({stale})" if stale else ""
                raise FineTuneMissing(
                    NEVER_REASON.format(
                        name=spec.name,
                        backend=spec.backend,
                        fp=plan.short,
                        registry=self.registry.path.name,
                        why=why,
                    )
                )
            reason = self._unavailable(plan)
            if reason:
                raise FineTuneMissing(f"fine-tune {spec.name!r} cannot be trained here: {reason}")
            recorded, forced = entry, self.settings.policy == "always"
            entry = self._train(plan, progress)
            self._marker(plan).write_text(self.run_id, encoding="utf-8")
            if stale and recorded and recorded.artifact == entry.artifact and not forced:
                # a missing adapter rebuilt from the same inputs: the committed entry stays as is
                progress.line(
                    f"rebuilt {entry.artifact}; the entry in {self.registry.path.name}"
                    f" is kept ({plan.short})"
                )
                return self._judge(plan, recorded)
            self.registry.put(plan.fingerprint, entry)
            progress.line(f"recorded {entry.model} in {self.registry.path.name} ({plan.short})")
            return self._judge(plan, entry)

    def _progress(self, name: str) -> Progress:
        progress = Progress(name, self.emit, self.settings.progress_every)
        self.progress.append(progress)
        return progress

    def _may_reuse(self, plan: Plan) -> bool:
        if self.settings.policy != "always":
            return True
        # `always` retrains once per run; other xdist workers of the same run reuse that model.
        marker = self._marker(plan)
        return bool(self.run_id) and marker.exists() and marker.read_text() == self.run_id

    def _marker(self, plan: Plan) -> Path:
        folder = self.artifacts_dir / "finetune"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{plan.short}.run"

    @contextlib.contextmanager
    def _lock(self, plan: Plan) -> Iterator[None]:
        """One trainer per fingerprint across processes (pytest-xdist workers wait, then reuse)."""
        path = self._marker(plan).with_suffix(".lock")
        with path.open("a") as handle:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows: no cross-process lock
                yield
                return
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _unusable(self, plan: Plan, entry: Entry) -> str | None:
        """Why a recorded fine-tune cannot be used here (its adapter is not on this machine)."""
        if plan.spec.backend != "hf":
            return None  # a hosted model id; a local judge is rebuilt from the same files
        artifact = self.registry.artifact_path(entry)
        if artifact is None or not (artifact / "adapter_config.json").exists():
            return f"its adapter {entry.artifact} is not on this machine"
        return None

    def _unavailable(self, plan: Plan) -> str | None:
        if plan.spec.backend == "hf":
            return hf.missing_extra(plan.spec.base)
        if plan.spec.backend == "mistral":
            return mistral.missing_key()
        return None

    def _train(self, plan: Plan, progress: Progress) -> Entry:
        spec = plan.spec
        progress.wandb, note = WandbLogger.create(
            self.settings.wandb_project, spec.name, {"base": spec.base, **plan.settings}
        )
        if note:
            progress.line(note)
        progress.line(f"training with backend {spec.backend!r} (fingerprint {plan.short})")
        try:
            model, artifact, metrics = self._run_backend(plan, progress)
        except BaseException:
            progress.finish({"failed": True})
            raise
        progress.finish(metrics)
        progress.line(f"done in {progress.elapsed:.1f} s: {metrics}")
        return Entry(
            name=spec.name,
            backend=spec.backend,
            base=spec.base,
            model=model,
            artifact=None if artifact is None else self.registry.relative(artifact),
            metrics=metrics,
            date=datetime.now(UTC).replace(microsecond=0).isoformat(),
            inputs={
                "train": [
                    {
                        "path": self.registry.relative(r.source),
                        "weight": r.weight,
                        "rows": len(r.records),
                    }
                    for r in plan.train
                ],
                "validation": self.registry.relative(plan.validation.source)
                if plan.validation
                else None,
                "hyperparameters": plan.settings,
                "recipe": plan.recipe,
                **({"task": spec.task} if spec.task != "judge" else {}),
            },
        )

    def _run_backend(
        self, plan: Plan, progress: Progress
    ) -> tuple[str, Path | None, dict[str, Any]]:
        """Train with the plan's backend: (model id or label, artifact, metrics)."""
        spec = plan.spec
        workdir = self.artifacts_dir / "finetune" / f"{spec.name}-{plan.short}"
        artifact: Path | None
        if spec.backend == "local":
            force = self.settings.policy == "always"
            artifact, metrics = local.train(
                spec, plan.settings, self.artifacts_dir, progress, force
            )
            model = local.MODEL
        elif spec.backend == "hf":
            artifact, metrics = hf.train(
                spec,
                plan.train,
                plan.validation,
                plan.settings,
                workdir,
                self.artifacts_dir,
                progress,
            )
            model = f"{spec.base}+lora-{plan.short}"
        else:
            tuner = mistral.MistralFineTuner(spec.server_url, self._sleep)
            model, metrics = tuner.run(
                spec,
                plan.train,
                plan.validation,
                plan.settings,
                plan.client,
                progress,
                self.settings.wandb_project,
            )
            artifact = None
        return model, artifact, metrics

    def _judge(self, plan: Plan, entry: Entry) -> Tuned:
        spec = plan.spec
        if spec.task == "generator":
            adapter = self.registry.artifact_path(entry)
            assert adapter is not None
            return hf.generator_for(spec, adapter, self.artifacts_dir)
        if spec.backend == "local":
            return local.judge_for(spec, plan.settings)
        if spec.backend == "hf":
            adapter = self.registry.artifact_path(entry)
            assert adapter is not None
            return hf.judge_for(spec, adapter, plan.settings, self.artifacts_dir, entry.model)
        return mistral.judge_for(spec, entry.model)
