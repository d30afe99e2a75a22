"""Metrics of a generator run: hallucination rate, faithfulness, relevancy, answer length.

Pure functions (no pytest). The hallucination rate is the share of answers the judge labelled
inconsistent with their context, with a 95% Wilson interval. An unscored answer (generation or
judging failed) counts as a hallucination by default, so that a generator cannot pass a gate by
failing on the hard cases; with `--llmjudge-unscored=exclude` it is left out and coverage shows
how many were.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel

from pytest_llmjudge.scoring.consistency import consistency
from pytest_llmjudge.scoring.correction import JudgeRates, rogan_gladen
from pytest_llmjudge.scoring.metrics import CONFIDENCE
from pytest_llmjudge.scoring.policies import UnscoredPolicy
from pytest_llmjudge.scoring.statements import statement_share
from pytest_llmjudge.scoring.stats import wilson_interval, wilson_interval_proportion


@dataclass(frozen=True)
class Outcome:
    """One answer as the metrics see it.

    Attributes:
        prediction: the judge's label: 1 consistent, 0 inconsistent, None unscored.
        words: the answer's words (None: no answer was generated).
        tokens: the answer's tokens, when the backend counts them (hf, function; a model server
            reports the request's total, so Mistral answers have none).
        relevancy: how well the answer addresses the prompt, 0..1 (None: not rated).
        statements: the judge's label of each statement (sentence) of the answer (None: the
            answer is judged whole, its prediction its one statement's label).
    """

    prediction: int | None
    words: int | None = None
    tokens: int | None = None
    relevancy: float | None = None
    statements: tuple[int | None, ...] | None = None


class GenMetrics(BaseModel):
    """Metrics of one (generator, sampling point, dataset) run.

    Attributes:
        n: answers (cases x samples). cases, samples: how they were drawn.
        scored / unscored: answers with and without a judge's 0/1 label.
        coverage: scored / n.
        counted: answers in the rate (n, or scored when unscored answers are excluded).
        hallucinated: answers counted as hallucinations (unscored ones included by default).
        inconsistent: answers the judge labelled inconsistent.
        hallucination_rate: hallucinated / counted (0.0 when nothing is counted).
        hallucination_rate_ci: its 95% Wilson interval.
        faithfulness: as Ragas computes it: per answer, the share of its statements (sentences)
            the judge found supported by the context, averaged over the counted answers (an
            answer that was not generated counts 0 unless unscored answers are excluded; an
            unscored statement counts as unsupported likewise). The whole-answer label is
            hallucination_rate.
        faithfulness_ci: its 95% Wilson interval (over the counted answers).
        statements: statements judged. statements_supported: those the judge found supported.
        relevancy: mean relevancy of the rated answers (0.0 when none was rated).
        relevancy_n: answers rated for relevancy.
        answer_words: mean words per generated answer (0.0 when none).
        answer_tokens: mean tokens per generated answer with a token count (None: none has).
        flaky, self_consistency: with samples >= 2, the share of cases whose answers the judge
            labelled differently and the mean share agreeing with each case's most common label
            (consistency.py), with intervals; None when no case has two labelled answers.
        repeated: cases with two labelled answers (what those two are estimated from).
        hallucination_rate_corrected: the rate over the labelled answers corrected for the
            judge's measured sensitivity and specificity (correction.py), with its interval
            carrying both the answers' and the judge's sampling error; None without them.
        judge_rates: the judge's rates the correction used, and where they were measured.
        unscored_policy: how unscored answers were counted.
    """

    n: int
    cases: int
    samples: int
    scored: int
    unscored: int
    coverage: float
    counted: int
    hallucinated: int
    inconsistent: int
    hallucination_rate: float
    hallucination_rate_ci: tuple[float, float]
    faithfulness: float
    faithfulness_ci: tuple[float, float]
    statements: int = 0
    statements_supported: int = 0
    relevancy: float
    relevancy_n: int
    answer_words: float
    answer_tokens: float | None
    flaky: float | None = None
    flaky_ci: tuple[float, float] | None = None
    self_consistency: float | None = None
    self_consistency_ci: tuple[float, float] | None = None
    repeated: int = 0
    hallucination_rate_corrected: float | None = None
    hallucination_rate_corrected_ci: tuple[float, float] | None = None
    judge_rates: dict[str, Any] | None = None
    unscored_policy: UnscoredPolicy = "wrong"

    def value(self, name: str) -> float | None:
        """A metric by name, as thresholds refer to it (a missing token count reads 0.0; the
        consistency metrics and the corrected rate are None when undefined)."""
        value = getattr(self, name)
        if value is None and name in _UNDEFINED:
            return None
        return float(value or 0.0)

    def undefined(self, name: str) -> str | None:
        """Why a metric has no value (None when it has one)."""
        return _UNDEFINED.get(name, "undefined") if self.value(name) is None else None

    def interval(self, name: str) -> tuple[float, float] | None:
        """The 95% interval of a rate, or None (counts, means and coverage have none)."""
        value = getattr(self, f"{name}_ci", None)
        return None if value is None else (float(value[0]), float(value[1]))

    def denominator(self, name: str) -> int | None:
        """The number of answers a rate is estimated from."""
        if name in ("flaky", "self_consistency"):
            return self.repeated
        if name == "hallucination_rate_corrected":
            return self.scored
        return self.counted if name in ("hallucination_rate", "faithfulness") else None


SAMPLES_UNDEFINED = "no case has two labelled answers (sample each case with samples=N, N >= 2)"
_UNDEFINED = {
    "flaky": SAMPLES_UNDEFINED,
    "self_consistency": SAMPLES_UNDEFINED,
    "hallucination_rate_corrected": "the judge's sensitivity and specificity are not known (run "
    "it on labelled cases in the same session, or give judge_rates=) or tell nothing "
    "(sensitivity + specificity <= 1)",
}


def corrected(metrics: GenMetrics, rates: JudgeRates | None) -> GenMetrics:
    """`metrics` with the hallucination rate of its labelled answers corrected for the judge's
    errors (unchanged without `rates`)."""
    if rates is None:
        return metrics
    found = rogan_gladen(metrics.inconsistent, metrics.scored, rates, CONFIDENCE)
    return metrics.model_copy(
        update={
            "hallucination_rate_corrected": found.rate,
            "hallucination_rate_corrected_ci": found.interval,
            "judge_rates": asdict(rates),
        }
    )


def compute_gen_metrics(
    outcomes: Sequence[Outcome],
    cases: int,
    samples: int,
    unscored: UnscoredPolicy = "wrong",
    groups: Sequence[Sequence[int | None]] = (),
) -> GenMetrics:
    """Metrics of a run's answers (`groups`: the judge's labels of each case's answers)."""
    n = len(outcomes)
    n_unscored = sum(1 for o in outcomes if o.prediction is None)
    inconsistent = sum(1 for o in outcomes if o.prediction == 0)
    if unscored == "exclude":
        counted, hallucinated = n - n_unscored, inconsistent
    else:
        counted, hallucinated = n, inconsistent + n_unscored
    words = [o.words for o in outcomes if o.words is not None]
    tokens = [o.tokens for o in outcomes if o.tokens is not None]
    rated = [o.relevancy for o in outcomes if o.relevancy is not None]
    repeated = consistency(groups, CONFIDENCE)
    exclude = unscored == "exclude"
    shares = [share for o in outcomes if (share := _share(o, exclude)) is not None]
    faithful = _ratio(sum(shares), len(shares))
    labels = [  # an answer judged whole is one statement
        label
        for o in outcomes
        if o.words is not None
        for label in (o.statements if o.statements is not None else (o.prediction,))
    ]
    return GenMetrics(
        n=n,
        cases=cases,
        samples=samples,
        scored=n - n_unscored,
        unscored=n_unscored,
        coverage=_ratio(n - n_unscored, n),
        counted=counted,
        hallucinated=hallucinated,
        inconsistent=inconsistent,
        hallucination_rate=_ratio(hallucinated, counted),
        hallucination_rate_ci=wilson_interval(hallucinated, counted, CONFIDENCE),
        faithfulness=faithful,
        faithfulness_ci=wilson_interval_proportion(faithful, len(shares), CONFIDENCE)
        if shares
        else wilson_interval(0, 0, CONFIDENCE),
        statements=len(labels),
        statements_supported=sum(1 for label in labels if label == 1),
        relevancy=_ratio(sum(rated), len(rated)),
        relevancy_n=len(rated),
        answer_words=_ratio(sum(words), len(words)),
        answer_tokens=_ratio(sum(tokens), len(tokens)) if tokens else None,
        flaky=repeated.flaky,
        flaky_ci=repeated.flaky_ci,
        self_consistency=repeated.self_consistency,
        self_consistency_ci=repeated.self_consistency_ci,
        repeated=repeated.cases,
        unscored_policy=unscored,
    )


def _share(outcome: Outcome, exclude: bool) -> float | None:
    """An answer's share of supported statements (None: left out of faithfulness)."""
    # without statement labels the answer is one statement: its whole-answer label (None: no
    # answer or unscored, a hallucination unless unscored answers are excluded)
    labels = outcome.statements if outcome.statements is not None else (outcome.prediction,)
    return statement_share(list(labels), exclude)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each either few for
    from further had has have having he her here hers him his how i if in into is it its itself
    just many me might more most much must my no nor not now of off on once one only or other our
    out over own please said same say says she should so some such than that the their them then
    there these they this those through to too under until up upon us very was we were what when
    where which while who whom whose why will with within without would you your briefly answer
    describe explain give list name sentence sentences state tell""".split()
)


def words(text: str) -> int:
    """The number of words of an answer (whitespace-separated)."""
    return len(text.split())


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry content: stopwords and one-letter words dropped, a plural
    's' and a possessive stripped (a crude stem, so 'bridges' meets 'bridge')."""
    found = set()
    for word in _WORD.findall(text.lower()):
        word = word.split("'")[0]
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if len(word) > 1 and word not in STOPWORDS:
            found.add(word)
    return found


def lexical_relevancy(prompt: str, answer: str) -> float:
    """The offline relevancy of an answer to its prompt: the share of the prompt's content words
    that the answer uses, 0..1 (1.0 for a prompt with no content words; 0.0 for an empty answer).

    A cheap proxy: it rewards an answer that speaks of what was asked (to "When did the museum
    open?", "The museum opens in May." scores 1.0 and "It opened in 1998." 0.0: the stem is crude)
    and penalises one that changes the subject. It cannot tell a right answer from a wrong one; that
    is the judge's faithfulness label.
    """
    asked = content_words(prompt)
    if not answer.strip():
        return 0.0
    if not asked:
        return 1.0
    return len(asked & content_words(answer)) / len(asked)
