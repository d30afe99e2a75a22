"""pytest glue of generator evaluations: items per (generator, sampling point, case), and what
the `llmjudge_answer` fixture (plugin.py) returns."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pytest_llmjudge.errors import ConfigError
from pytest_llmjudge.evaluation.session import EvalSession
from pytest_llmjudge.model.gen_dataset import GenCase
from pytest_llmjudge.model.gen_run import AnswerRef, GenRun, GenRunKey
from pytest_llmjudge.model.generator import Generator, Sampling
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.outputs.junit import answer_properties
from pytest_llmjudge.plugin.collect import load_dataset, marker_spec, missing_reason, skipped_params
from pytest_llmjudge.plugin.generator_marker import generator_label, parse_gen_marker
from pytest_llmjudge.plugin.markers import GEN_MARKER
from pytest_llmjudge.plugin.results import junit_enabled, miss, resolve_ref
from pytest_llmjudge.plugin.state import evals_of

FIXTURE = "llmjudge_answer"


@dataclass(frozen=True)
class SampleResult:
    """One sampled answer and the judge's label.

    Attributes:
        text: the answer (None when generation failed).
        prediction: 1 consistent with the context, 0 not, None unscored.
        reason: the judge's reason. error: why the answer is unscored.
        relevancy: how well it addresses the prompt (0..1), when rated.
    """

    text: str | None
    prediction: int | None
    reason: str
    error: str | None
    relevancy: float | None


@dataclass(frozen=True)
class AnswerResult:
    """A generator's answers to one case at one sampling point, as a test item sees them."""

    case: GenCase
    generator: str
    point: str
    sampling: Sampling
    samples: tuple[SampleResult, ...]
    strict: bool

    @property
    def answer(self) -> str | None:
        """The first sample's answer."""
        return self.samples[0].text if self.samples else None

    @property
    def consistent(self) -> bool:
        """Whether every sample was judged consistent with the context."""
        return all(s.prediction == 1 for s in self.samples)

    @property
    def hallucination_rate(self) -> float:
        """The share of this case's samples not judged consistent."""
        bad = sum(1 for s in self.samples if s.prediction != 1)
        return bad / len(self.samples) if self.samples else 0.0

    def check(self) -> None:
        """Pass when every sample is consistent; xfail a hallucination or unscored answer (fail
        it with --llmjudge-strict)."""
        if self.consistent:
            return
        problems = []
        for index, s in enumerate(self.samples, start=1):
            if s.prediction == 1:
                continue
            if s.prediction is None:
                problems.append(f"sample {index} unscored: {s.error}")
            else:
                shown = " ".join((s.text or "").split())
                shown = shown if len(shown) <= 120 else shown[:117] + "..."
                problems.append(
                    f"sample {index} judged inconsistent with the context: {shown!r}: "
                    f"{s.reason or '(no reason given)'}"
                )
        message = f"{self.generator} at {self.point}: " + "; ".join(problems)
        miss(message, self.strict)


def parametrize_answers(metafunc: pytest.Metafunc, evals: EvalSession) -> None:
    """Items of an `llmjudge_generator` test: one per (generator, sampling point, case)."""
    node = metafunc.definition.nodeid
    spec = marker_spec(
        metafunc, GEN_MARKER, FIXTURE, "dataset=..., generators=[...], judge=...", parse_gen_marker
    )
    params = []
    for dataset in spec.datasets:
        prefix = f"{dataset.label}-" if len(spec.datasets) > 1 else ""
        reason = missing_reason(dataset)  # its runs are then named as skipped in the summary
        cases = load_dataset(dataset) if reason is None else []
        if reason is not None:
            params += skipped_params(map(generator_label, spec.generators), dataset, reason)
        for generator in spec.generators:
            label = generator_label(generator)
            own = generator if isinstance(generator, Generator) else None
            samples = spec.samples or (own.samples if own else 1)
            compare_with = spec.compare[0] if spec.compare and spec.compare[1] == label else None
            for point, sampling in zip(spec.grid, spec.points(own), strict=True):
                key = GenRunKey(node, label, sampling.label, dataset.label)
                run = evals.register(
                    GenRun(
                        key,
                        generator,
                        spec.judge,
                        dataset,
                        sampling,
                        samples,
                        spec.thresholds,
                        relevancy_ref=spec.relevancy,
                        compare_with=compare_with,
                        require_better=spec.require_better,
                        judge_rates=spec.judge_rates,
                        grid_point=point,
                        own_samples=spec.samples is None,
                        skipped=reason,
                        total=len(cases),
                    )
                )
                if run.skipped is not None:
                    continue
                params += [
                    pytest.param(AnswerRef(key, case), id=f"{label}-{key.point}-{prefix}{case.id}")
                    for case in cases
                ]
    metafunc.parametrize(FIXTURE, params, indirect=True)


def answer_result(request: pytest.FixtureRequest) -> AnswerResult:
    """The generator's answers to this item's case, judged against its context (batched per run)."""
    ref = getattr(request, "param", None)
    if not isinstance(ref, AnswerRef):
        raise ConfigError(
            f"{FIXTURE} is parametrized by @pytest.mark.{GEN_MARKER}(dataset=..., "
            "generators=[...], judge=...)"
        )
    evals = evals_of(request.config)
    run = evals.gen_run_of(ref.run)
    generator = resolve_ref(request, run, run.generator_ref, Generator, "a Generator")
    if run.generator is None and not isinstance(run.generator_ref, Generator):
        # a fixture's generator: its own settings, updated by what the grid point sets
        run.sampling = generator.sampling.model_copy(update=run.grid_point)
        if run.own_samples:
            run.samples = generator.samples
    if evals.generator_unavailable(ref.run, generator) is not None:
        pytest.skip(f"generator {ref.run.generator}: {run.skipped}")
    judge = resolve_ref(request, run, run.judge_ref, Judge, "a Judge")
    relevancy: Judge | None = None
    if run.relevancy_ref == "judge":
        relevancy = judge
    elif isinstance(run.relevancy_ref, Judge) or (
        isinstance(run.relevancy_ref, str) and run.relevancy_ref != "lexical"
    ):
        relevancy = resolve_ref(request, run, run.relevancy_ref, Judge, "a Judge")
    answers = evals.answers(ref, generator, judge, relevancy)
    if answers is None:
        pytest.skip(f"generator {ref.run.generator}: {run.skipped}")
    samples = tuple(
        SampleResult(
            a.text,
            v.prediction,
            v.reason,
            v.error if v.prediction is None else None,
            run.relevancy.get(a.id),
        )
        for a, v in answers
    )
    request.node.user_properties.append(
        ("llmjudge_hallucinated", sum(1 for s in samples if s.prediction != 1))
    )
    if junit_enabled(request.config):
        key = ref.run
        request.node.user_properties.extend(
            answer_properties(key.generator, key.point, key.dataset, ref.case.id, answers)
        )
    return AnswerResult(
        ref.case, ref.run.generator, ref.run.point, run.sampling, samples, evals.settings.strict
    )
