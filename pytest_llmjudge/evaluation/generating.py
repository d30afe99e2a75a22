"""Generator runs: write each case's answers, judge them against the context, rate relevancy."""

from __future__ import annotations

from typing import Any

from pytest_llmjudge.backends import create_backend
from pytest_llmjudge.backends.generators import create_generator_backend
from pytest_llmjudge.calls.protocol import Backend
from pytest_llmjudge.evaluation.services import Services
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.gen_dataset import GenCase
from pytest_llmjudge.model.gen_run import Answer, AnswerRef, GenRun, Job
from pytest_llmjudge.model.generator import Generator
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.runs import add_calls
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.scoring.gen_metrics import lexical_relevancy
from pytest_llmjudge.scoring.statements import split_statements

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


class Generating:
    """Runs generator runs' batches on the session's services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def answers(
        self,
        run: GenRun,
        ref: AnswerRef,
        generator: Generator,
        judge: Judge,
        relevancy: Judge | None = None,
    ) -> list[tuple[Answer, Verdict]] | None:
        """A case's answers and their verdicts, running the run's batches first if needed;
        None when the run is skipped. On a pytest-xdist worker a batch holds only the cases
        queued on this worker, as judge runs do."""
        if run.generator is None:
            run.generator, run.judge = generator, judge
        if run.skipped is None and not self._done(run, ref.case):
            todo = [c for c in run.cases if not self._done(run, c)]
            ids = set(self.services.queued(run.key, [c.id for c in todo], ref.case.id))
            batch = [c for c in todo if c.id in ids]
            if ref.case not in batch:  # a case that was not selected (or not queued)
                batch.append(ref.case)
            self._run(run, batch, relevancy)
            if ref.case not in run.cases:
                run.cases.append(ref.case)
        if run.skipped is not None:
            return None
        run.reported.add(ref.case.id)
        return [(run.answers[a], run.verdicts[a]) for a in run.answer_ids(ref.case)]

    @staticmethod
    def _done(run: GenRun, case: GenCase) -> bool:
        return all(a in run.verdicts for a in run.answer_ids(case))

    def unavailable(self, run: GenRun, generator: Generator) -> str | None:
        """Why the run's generator cannot run here (the run is then skipped), checked before its
        judge is built (a local judge trains when built)."""
        if run.skipped is None and run.generator is None:
            backend = create_generator_backend(generator, run.sampling, self.services.settings)
            reason = self.services.unavailable(backend)
            if reason is not None:
                run.skipped = reason
        return run.skipped

    def _run(self, run: GenRun, cases: list[GenCase], relevancy: Judge | None) -> None:
        assert run.generator is not None and run.judge is not None
        jobs = run.jobs(cases)
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
        for job in jobs:
            answer = run.answers[job.id]
            run.verdicts[job.id] = verdicts.get(job.id) or Verdict.unscored(
                f"no answer to judge: {answer.error}"
            )
        self._statements(run, jobs, judge)
        self._rate(run, jobs, relevancy)

    def _statements(self, run: GenRun, jobs: list[Job], backend: Backend) -> None:
        """Faithfulness as Ragas computes it: each sentence of an answer judged against the
        context in one batch (an answer of one sentence keeps its whole-answer label)."""
        assert run.judge is not None
        split = {j.id: split_statements(run.answers[j.id].text or "") for j in jobs}
        cases = [
            Case(id=f"{j.id}~{i}", premise=j.case.context, hypothesis=text, target=1)
            for j in jobs
            if len(split[j.id]) > 1
            for i, text in enumerate(split[j.id], start=1)
        ]
        if not cases:
            return
        verdicts = self._judge(run, run.judge, cases, f"{run.key.generator} statements", backend)
        for job in jobs:
            if len(split[job.id]) > 1:
                run.statements[job.id] = [
                    v.prediction if (v := verdicts.get(f"{job.id}~{i}")) else None
                    for i in range(1, len(split[job.id]) + 1)
                ]

    def _generate(self, run: GenRun, jobs: list[Job]) -> None:
        assert run.generator is not None
        services = self.services
        backend = create_generator_backend(run.generator, run.sampling, services.settings)
        run.notes.extend(n for n in backend.notes if n not in run.notes)
        reason = services.unavailable(backend)
        if reason is not None:
            run.skipped = reason
            return
        calls = services.runner(backend, f"{run.key.generator}@{run.key.point}")
        results = services.batch(backend, jobs, calls.judge if calls else backend.generate)
        for job in jobs:
            v = results[job.id]
            run.answers[job.id] = Answer(
                id=job.id,
                case=job.case.id,
                sample=job.sample,
                text=v.raw if v.prediction is not None else None,
                error=v.error,
                # a model server reports the request's total tokens, not the answer's
                tokens=None if calls is not None else v.tokens,
                latency_s=v.latency_s,
                cost=v.cost,
                cached=v.cached,
            )
        if calls is not None:
            run.notes.extend(calls.notes(run.key.dataset))
            add_calls(run, f"generator {run.label} on {run.key.dataset}", calls.stats.counts())

    def _judge_backend(self, run: GenRun, judge: Judge, skip: bool = True) -> Backend | None:
        """The judge's backend; None when it cannot run here (the run is skipped, or for a
        relevancy judge (`skip` False) the run says why relevancy is not rated)."""
        backend = create_backend(judge, self.services.settings)
        reason = self.services.unavailable(backend)
        if reason is None:
            return backend
        if skip:
            run.skipped = f"judge {judge.name}: {reason}"
        else:
            run.notes.append(
                f"{run.key.generator} at {run.key.point}: relevancy not rated: "
                f"judge {judge.name}: {reason}"
            )
        return None

    def _judge(
        self, run: GenRun, judge: Judge, cases: list[Case], label: str, backend: Backend
    ) -> dict[str, Verdict]:
        """One judging batch (cache, retries and limits for model judges)."""
        run.notes.extend(n for n in backend.notes if n not in run.notes)
        calls = self.services.runner(backend, judge.name)
        verdicts = self.services.batch(backend, cases, calls.judge if calls else backend.judge)
        if calls is not None:
            run.notes.extend(calls.notes(f"{label} answers"))
            add_calls(run, f"judge {judge.name} on {label} answers", calls.stats.counts())
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
        for cid, verdict in self._judge(run, rater, cases, run.key.generator, backend).items():
            if verdict.probability is not None:
                run.relevancy[cid] = verdict.probability
            elif verdict.prediction is not None:
                run.relevancy[cid] = float(verdict.prediction)


def relevancy_judge(judge: Judge) -> Judge:
    """`judge` asking the relevancy question (its own prompt if it has one)."""
    update: dict[str, Any] = {"name": f"{judge.name}-relevancy"}
    if judge.prompt is None:
        update.update(prompt=RELEVANCY_PROMPT, kind="prompted", examples=())
    return judge.model_copy(update=update)
