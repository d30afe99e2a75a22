"""A judge's verdict on one case and the tolerant-but-strict parsing of model output."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from pytest_llmjudge.secrets import redact

_FENCE = re.compile(r"^```(?:json|JSON)?\s*\n?(.*?)\n?```$", re.DOTALL)
_TRUE = {1, "1", "true", "yes", "consistent"}
_FALSE = {0, "0", "false", "no", "inconsistent"}

# an answer's text just before its label, `{"reason": ..., "consistency": ` (where a judge's
# label token is read from log-probabilities or logits)
LABEL_AT = re.compile(r'"consistency"\s*:\s*"?$')


class Verdict(BaseModel):
    """What a judge said about a case; `prediction` is None when the case is unscored.

    Its texts (reason, error, raw) are masked of secrets as a verdict is made, whatever made it
    (a server or a model may echo the API key).

    Attributes:
        prediction: 1 (consistent), 0 (inconsistent) or None (unscored).
        reason: the judge's reason.
        error: why the case is unscored (None when scored).
        raw: the raw model output, kept for a person to read when it could not be parsed.
        probability: the judge's probability of "consistent", when it has one.
        latency_s: seconds the call took.
        tokens: tokens the call used, when the backend reports them.
        cost: dollars the call cost (0.0 from the cache; None: unknown, or no model call).
        cached: whether the verdict came from the response cache.
        trials: a repeated case's verdicts, one per repetition (repeat=N; empty when the case
            was judged once); the verdict itself is their majority (model/repeats.py).
    """

    model_config = ConfigDict(frozen=True)

    prediction: int | None
    reason: str = ""
    error: str | None = None
    raw: str | None = None
    probability: float | None = None
    latency_s: float = 0.0
    tokens: int | None = None
    cost: float | None = None
    cached: bool = False
    trials: tuple[Verdict, ...] = ()

    @field_validator("reason", "error", "raw")
    @classmethod
    def _masked(cls, text: str | None) -> str | None:
        return redact(text) if text else text

    @property
    def scored(self) -> bool:
        """Whether the judge produced a usable 0/1 answer."""
        return self.prediction is not None

    @property
    def predictions(self) -> list[int | None]:
        """The verdict of each repetition (the verdict's own when the case was judged once)."""
        return [t.prediction for t in self.trials] if self.trials else [self.prediction]

    @classmethod
    def unscored(cls, error: str, raw: str | None = None, **extra: Any) -> Verdict:
        """A verdict for a case that got no usable answer, keeping its cause."""
        return cls(prediction=None, error=error, raw=raw, **extra)


def parse_verdict(text: str | None) -> Verdict:
    """Parse a model's JSON answer into a Verdict; anything ambiguous becomes unscored."""
    if text is None or not text.strip():
        return Verdict.unscored("empty model output", raw=text)
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        data = json.loads(body, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as exc:
        return Verdict.unscored(f"model output repeats the key {exc.args[0]!r}", raw=text)
    except json.JSONDecodeError:  # also JSON followed by prose, or two JSON objects
        return Verdict.unscored("model output is not JSON", raw=text)
    if not isinstance(data, dict):
        return Verdict.unscored("model output is not a JSON object", raw=text)
    if "consistency" not in data:
        return Verdict.unscored("model output has no 'consistency' field", raw=text)
    prediction = _binary(data["consistency"])
    if prediction is None:
        return Verdict.unscored(f"'consistency' is {data['consistency']!r}, not 0 or 1", raw=text)
    reason = data.get("reason", "")
    return Verdict(prediction=prediction, reason=reason if isinstance(reason, str) else str(reason))


class _DuplicateKey(ValueError):
    """A JSON object that gives one key twice (which value did the model mean?)."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKey(key)
        data[key] = value
    return data


def _binary(value: Any) -> int | None:
    key = value.strip().lower() if isinstance(value, str) else value
    if isinstance(key, float) and key in (0.0, 1.0):
        key = int(key)
    try:
        if key in _TRUE:
            return 1
        if key in _FALSE:
            return 0
    except TypeError:  # unhashable (a list or object)
        return None
    return None
