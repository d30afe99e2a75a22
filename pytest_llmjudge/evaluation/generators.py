"""GenSession: generator runs of a pytest session, their batches, metrics, gates, comparisons."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from pytest_llmjudge.backends import create_backend
from pytest_llmjudge.backends.generators import Job, answer_id, create_generator_backend
from pytest_llmjudge.calls.budget import is_budget_cause
from pytest_llmjudge.calls.loop import LoopThread, judge_batch
from pytest_llmjudge.calls.protocol import Backend, is_model_backend
from pytest_llmjudge.calls.reliable import CallContext, CallRunner
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.gen_dataset import GenCase, GenDataset
from pytest_llmjudge.model.gen_run import Answer, AnswerRef, GenRun, GenRunKey, GenRunResult
from pytest_llmjudge.model.generator import Generator, Sampling
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.scoring.comparison import CaseMismatchError, Comparison, PairedCase, compare
from pytest_llmjudge.scoring.gating import check_threshold
from pytest_llmjudge.scoring.gen_metrics import (
    Outcome,
    compute_gen_metrics,
    lexical_relevancy,
    words,
)
from pytest_llmjudge.scoring.metrics import Metrics
from pytest_llmjudge.scoring.thresholds import GENERATOR_METRICS, merge, parse_threshold
from pytest_llmjudge.settings import Settings

RELEVANCY_PROMPT = """You rate whether an answer addresses a question. Do not judge whether the \
answer is true, only whether it responds to what was asked.

Question:
<<<
{premise}
>>>

Answer:
<<<
{hypothesis}
>>>

Reply with a JSON object only: {{"reason": "<one sentence>", "consistency": 1}} when the answer \
addresses the question, {{"reason": "<one sentence>", "consistency": 0}} when it does not."""


class GenSession:
    """Holds every generator run; runs each run's generation and judging batches once."""

    def __init__(self, settings: Settings, loop: LoopThread, calls: CallContext) -> None:
        self.settings = settings
        self.runs: dict[GenRunKey, GenRun] = {}
        self.results: list[GenRunResult] = []
        self._loop = loop
        self._calls = calls

    def register(self, run: GenRun) -> None:
        """Declare a run at collection time."""
        self.runs.setdefault(run.key, run)

    def select(self, refs: Iterable[AnswerRef]) -> None:
        """Record the cases that survived selection, in item order."""
        for run in self.runs.values():
            run.cases = []
        for ref in refs:
            self.runs[ref.run].cases.append(ref.case)

    def answers(
        self,
        ref: AnswerRef,
        generator: Generator,
        judge: Judge,
        relevancy: Judge | None = None,
        per_case: bool = False,
    ) -> list[tuple[Answer, Verdict]] | None:
        """A case's answers and their verdicts, running the run's batches first if needed;
        None when the run is skipped. `per_case`: only this item's case (a pytest-xdist worker
        whose items may move to another worker)."""
        run = self.runs[ref.run]
        if run.generator is None:
            run.generator, run.judge = generator, judge
            batch = [ref.case] if per_case else run.cases
            todo = [c for c in batch if run.answer_ids(c)[0] not in run.verdicts]
            self._run(run, todo, relevancy)
        if run.skipped is not None:
            return None
        missing = [aid for aid in run.answer_ids(ref.case) if aid not in run.verdicts]
        if missing:  # a case that was not in the selected batch
            self._run(run, [ref.case], relevancy)
            if ref.case not in run.cases:
                run.cases.append(ref.case)
        run.reported.add(ref.case.id)
        return [(run.answers[a], run.verdicts[a]) for a in run.answer_ids(ref.case)]

    def unavailable(self, run: GenRun, generator: Generator) -> str | None:
        """Why the run's generator cannot run here (the run is then skipped), checked before its
        judge is built (a local judge trains when built)."""
        if run.skipped is None and run.generator is None:
            backend = create_generator_backend(generator, run.sampling, self.settings)
            reason = backend.unavailable()
            if reason is not None and not (
                is_model_backend(backend) and self._calls.mode == "replay"
            ):
                run.skipped = reason
        return run.skipped

    def _run(self, run: GenRun, cases: list[GenCase], relevancy: Judge | None) -> None:
        assert run.generator is not None and run.judge is not None
        jobs = [Job(answer_id(c.id, k), c, k) for c in cases for k in range(1, run.samples + 1)]
        judge = self._judge_backend(run, run.judge)  # checked first: no answers for nothing
        if judge is None:
            return
        self._generate(run, jobs)
        if run.skipped is not None:
            return
        texts = {j.id: run.answers[j.id].text for j in jobs}
        judged = [
            Case(id=j.id, premise=j.case.context, hypothesis=text, target=1)
            for j in jobs
            if (text := texts[j.id])
        ]
        verdicts = self._judge(run, run.judge, judged, run.key.generator, judge)
        if verdicts is None:
            return
        for job in jobs:
            answer = run.answers[job.id]
            run.verdicts[job.id] = verdicts.get(job.id) or Verdict.unscored(
                f"no answer to judge: {answer.error}"
            )
        self._rate(run, jobs, relevancy)

    def _generate(self, run: GenRun, jobs: list[Job]) -> None:
        generator = cast(Generator, run.generator)
        backend = create_generator_backend(generator, run.sampling, self.settings)
        run.notes.extend(n for n in backend.notes if n not in run.notes)
        model = is_model_backend(backend)
        reason = backend.unavailable()
        if reason is not None and not (model and self._calls.mode == "replay"):
            run.skipped = reason
            return
        label = f"{run.key.generator}@{run.key.point}"
        calls = CallRunner(backend, self._calls, label) if model else None  # type: ignore[arg-type]
        generate = calls.judge if calls is not None else backend.generate  # type: ignore[union-attr]

        async def batch() -> dict[str, Verdict]:
            try:
                return await judge_batch(
                    backend,  # type: ignore[arg-type]
                    cast(list[Case], jobs),  # jobs carry their id as cases do
                    self.settings.concurrency,
                    judge_one=generate,  # type: ignore[arg-type]
                )
            finally:
                await backend.aclose()

        results = self._loop.run(batch())
        for job in jobs:
            v = results[job.id]
            run.answers[job.id] = Answer(
                id=job.id,
                case=job.case.id,
                sample=job.sample,
                text=v.raw if v.prediction is not None else None,
                error=v.error,
                # a model server reports the request's total tokens, not the answer's
                tokens=None if model else v.tokens,
                latency_s=v.latency_s,
                cached=v.cached,
            )
        if calls is not None:
            run.notes.extend(calls.notes(run.key.dataset))

    def _judge_backend(self, run: GenRun, judge: Judge, skip: bool = True) -> Backend | None:
        """The judge's backend; None when it cannot run here (the run is skipped, or for a
        relevancy judge (`skip` False) the run says why relevancy is not rated)."""
        backend = create_backend(judge, self.settings)
        reason = backend.unavailable()
        if reason is not None and not (is_model_backend(backend) and self._calls.mode == "replay"):
            if skip:
                run.skipped = f"judge {judge.name}: {reason}"
            else:
                run.notes.append(
                    f"{run.key.generator} at {run.key.point}: relevancy not rated: "
                    f"judge {judge.name}: {reason}"
                )
            return None
        return backend

    def _judge(
        self,
        run: GenRun,
        judge: Judge,
        cases: list[Case],
        label: str,
        backend: Backend | None = None,
    ) -> dict[str, Verdict] | None:
        """One judging batch (cache, retries and limits for model judges); None when the judge
        cannot run here (the run is skipped with the reason)."""
        backend = backend or self._judge_backend(run, judge)
        if backend is None:
            return None
        run.notes.extend(n for n in backend.notes if n not in run.notes)
        model = is_model_backend(backend)
        calls = CallRunner(backend, self._calls, judge.name) if model else None  # type: ignore[arg-type]

        async def batch() -> dict[str, Verdict]:
            try:
                return await judge_batch(
                    backend,
                    cases,
                    self.settings.concurrency,
                    judge_one=calls.judge if calls else None,
                )
            finally:
                await backend.aclose()

        verdicts = self._loop.run(batch())
        if calls is not None:
            run.notes.extend(calls.notes(f"{label} answers"))
        return verdicts

    def _rate(self, run: GenRun, jobs: list[Job], relevancy: Judge | None) -> None:
        """Relevancy of each generated answer: lexical, or a judge with the relevancy prompt."""
        if run.relevancy_ref is None:
            return
        answered = [(j, run.answers[j.id].text) for j in jobs if run.answers[j.id].text]
        if relevancy is None:
            for job, text in answered:
                run.relevancy[job.id] = lexical_relevancy(job.case.prompt, text or "")
            return
        rater = relevancy_judge(relevancy)
        cases = [
            Case(id=j.id, premise=j.case.prompt, hypothesis=text or "", target=1)
            for j, text in answered
        ]
        backend = self._judge_backend(run, rater, skip=False)
        if backend is None:
            return
        verdicts = self._judge(run, rater, cases, run.key.generator, backend)
        for cid, verdict in (verdicts or {}).items():
            if verdict.probability is not None:
                run.relevancy[cid] = verdict.probability
            elif verdict.prediction is not None:
                run.relevancy[cid] = float(verdict.prediction)

    def finish(self) -> bool:
        """Compute every run's metrics, gates and comparisons; True when all pass."""
        self.results = [self._result(run) for run in self.runs.values() if run.verdicts]
        return all(r.passed for r in self.results)

    def budget_exhausted(self) -> bool:
        """Whether an answer went ungenerated or unjudged because the budget ran out."""
        return any(
            is_budget_cause(error)
            for run in self.runs.values()
            for error in (
                *(a.error for a in run.answers.values()),
                *(v.error for v in run.verdicts.values()),
            )
        )

    def skipped_runs(self) -> list[GenRun]:
        """Runs skipped as a whole (e.g. the hf extra is missing)."""
        return [run for run in self.runs.values() if run.skipped is not None and not run.verdicts]

    def _outcomes(self, run: GenRun) -> list[Outcome]:
        outcomes = []
        for case in run.cases:
            for aid in run.answer_ids(case):
                if aid not in run.verdicts:
                    continue
                answer = run.answers.get(aid)
                text = answer.text if answer else None
                outcomes.append(
                    Outcome(
                        prediction=run.verdicts[aid].prediction,
                        words=words(text) if text else None,
                        tokens=answer.tokens if answer and text else None,
                        relevancy=run.relevancy.get(aid),
                    )
                )
        return outcomes

    def _result(self, run: GenRun) -> GenRunResult:
        cases = sum(1 for c in run.cases if run.answer_ids(c)[0] in run.verdicts)
        metrics = compute_gen_metrics(
            self._outcomes(run), cases, run.samples, self.settings.unscored
        )
        # precedence: command line > marker > ini; judge metrics (f1, ...) do not apply here
        layers = merge(self.settings.ini_thresholds, run.thresholds, self.settings.cli_thresholds)
        thresholds = tuple(
            t for t in layers if t.metric in GENERATOR_METRICS and t.applies_to(run.key.generator)
        )
        gate_on = self.settings.gates.gate_on
        checked = tuple(check_threshold(cast(Metrics, metrics), t, gate_on) for t in thresholds)
        try:
            comparison = self.compare(run)
        except (CaseMismatchError, LookupError) as exc:
            return GenRunResult(run, metrics, checked, comparison_error=str(exc).strip("'\""))
        return GenRunResult(run, metrics, checked, comparison)

    def compare(self, run: GenRun) -> Comparison | None:
        """The run compared with its baseline generator's run at the same sampling point (same
        cases, same judge): a case flips when one side's answer is judged consistent and the
        other's not; exact McNemar on the flips."""
        if run.compare_with is None:
            return None
        base_key = GenRunKey(run.key.test, run.compare_with, run.key.point, run.key.dataset)
        base = self.runs.get(base_key)
        if base is None or not base.verdicts:
            raise LookupError(
                f"no answers of the baseline generator {run.compare_with!r} at "
                f"{run.key.point} on {run.key.dataset} to compare with (was it deselected?)"
            )
        gates = self.settings.gates
        require_better = run.require_better
        if gates.require_better is not None:  # precedence: command line > marker
            require_better = gates.require_better
        return compare(
            paired_answers(base),
            paired_answers(run),
            baseline_label=run.compare_with,
            candidate_label=run.key.generator,
            alpha=gates.alpha,
            require_better=require_better,
            unscored=self.settings.unscored,
            baseline_judge=base.judge.name if base.judge else None,
        )

    def publish(self) -> list[dict[str, Any]]:
        """What a pytest-xdist worker sends its controller: the answers of the items it ran."""
        out = []
        for run in self.runs.values():
            if not (run.reported or run.skipped):
                continue
            ids = {aid for c in run.cases if c.id in run.reported for aid in run.answer_ids(c)}
            out.append(
                {
                    "key": [run.key.test, run.key.generator, run.key.point, run.key.dataset],
                    "generator": _dump(run.generator or run.generator_ref),
                    "judge": _dump(run.judge or run.judge_ref),
                    "dataset": run.dataset.model_dump(mode="json"),
                    "sampling": run.sampling.model_dump(mode="json"),
                    "samples": run.samples,
                    "thresholds": [str(t) for t in run.thresholds],
                    "compare_with": run.compare_with,
                    "require_better": run.require_better,
                    "cases": [c.model_dump(mode="json") for c in run.cases],
                    "answers": {a: run.answers[a].model_dump(mode="json") for a in ids},
                    "verdicts": {a: run.verdicts[a].model_dump(mode="json") for a in ids},
                    "relevancy": {a: v for a, v in run.relevancy.items() if a in ids},
                    "skipped": run.skipped,
                    "notes": run.notes,
                }
            )
        return out

    def merge(self, published: list[dict[str, Any]]) -> None:
        """Merge a worker's published runs into this (controller) session."""
        for data in published:
            key = GenRunKey(*data["key"])
            run = self.runs.get(key)
            if run is None:
                run = self.runs[key] = GenRun(
                    key,
                    _load(Generator, data["generator"]),
                    _load(Judge, data["judge"]),
                    GenDataset.model_validate(data["dataset"]),
                    Sampling.model_validate(data["sampling"]),
                    data["samples"],
                    tuple(parse_threshold(t) for t in data["thresholds"]),
                    compare_with=data["compare_with"],
                    require_better=data["require_better"],
                    cases=[GenCase.model_validate(c) for c in data["cases"]],
                )
            if data["answers"]:  # a fixture generator's own settings, as the worker resolved
                run.sampling = Sampling.model_validate(data["sampling"])
                run.samples = data["samples"]
            if run.generator is None and isinstance(run.generator_ref, Generator):
                run.generator = run.generator_ref
            if run.judge is None and isinstance(run.judge_ref, Judge):
                run.judge = run.judge_ref
            if run.generator is None and isinstance(data["generator"], dict):
                run.generator = Generator.model_validate(data["generator"])
            if run.judge is None and isinstance(data["judge"], dict):
                run.judge = Judge.model_validate(data["judge"])
            run.answers.update((a, Answer.model_validate(v)) for a, v in data["answers"].items())
            run.verdicts.update((a, Verdict.model_validate(v)) for a, v in data["verdicts"].items())
            run.relevancy.update(data["relevancy"])
            run.skipped = run.skipped or data["skipped"]
            run.notes.extend(n for n in data["notes"] if n not in run.notes)


def relevancy_judge(judge: Judge) -> Judge:
    """`judge` asking the relevancy question (its own prompt if it has one)."""
    update: dict[str, Any] = {"name": f"{judge.name}-relevancy"}
    if judge.prompt is None:
        update.update(prompt=RELEVANCY_PROMPT, kind="prompted", examples=())
    return judge.model_copy(update=update)


def paired_answers(run: GenRun) -> list[PairedCase]:
    """A run's answers as paired cases: target 1, 'correct' when judged consistent."""
    return [
        PairedCase(aid, 1, v.prediction, v.reason or v.error or "")
        for case in run.cases
        for aid in run.answer_ids(case)
        if (v := run.verdicts.get(aid)) is not None
    ]


def _dump(value: Generator | Judge | str) -> dict[str, Any] | str:
    return value if isinstance(value, str) else value.model_dump(mode="json")


def _load(model: type[Generator] | type[Judge], value: dict[str, Any] | str) -> Any:
    return value if isinstance(value, str) else model.model_validate(value)
