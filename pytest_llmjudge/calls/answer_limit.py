"""The size limit of a model's answer (a judge's verdict or a generated answer).

An answer longer than `max_answer_chars` is unscored with its cause (`answer too long: N
characters, limit M`) and kept cut to the limit: in the response cache, the report, the HTML and
the JUnit XML alike, so that a server that answers megabytes cannot fill the disk or memory. The
cut answer is stored with a last line that says so; read back from the cache it gives the same
cause, and under a limit raised past its length it is asked for again.
"""

from __future__ import annotations

import re
from dataclasses import replace

from pytest_llmjudge.calls.protocol import ModelBackend, ModelResponse
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.secrets import clip

DEFAULT_MAX_ANSWER_CHARS = 20_000
_MARK = re.compile(r"\n\[llmjudge: (answer too long: (\d+) characters, limit \d+)\]\Z")
_MARK_TAIL = 120  # the mark is at most this long


def too_long(chars: int, limit: int) -> str:
    """The cause of an answer over the limit."""
    return f"answer too long: {chars} characters, limit {limit}"


def fit(response: ModelResponse, limit: int) -> ModelResponse:
    """`response` as it is, or, when its text is longer than `limit`, cut to `limit` characters
    (secrets masked before the cut) with the cause as its last line."""
    text = response.text
    if text is None or len(text) <= limit:
        return response
    cut = clip(text, limit, ellipsis="")
    return replace(response, text=f"{cut}\n[llmjudge: {too_long(len(text), limit)}]")


def answer_verdict(backend: ModelBackend, response: ModelResponse, limit: int) -> Verdict:
    """The backend's verdict on `response`, or unscored with the cause when it is over the limit
    (cut before, or stored whole under a larger limit)."""
    text = response.text
    if text is not None:
        mark = _MARK.search(text, max(0, len(text) - _MARK_TAIL))
        if mark is not None:
            return Verdict.unscored(mark.group(1), raw=text[: mark.start()], tokens=response.tokens)
        if len(text) > limit:
            raw = clip(text, limit, ellipsis="")
            return Verdict.unscored(too_long(len(text), limit), raw=raw, tokens=response.tokens)
    return backend.parse(response)


def fits_now(text: str | None, limit: int) -> bool:
    """Whether a cached answer holds what `limit` allows: False for one cut under a smaller
    limit that it would now fit (it is asked for again)."""
    if text is None:
        return True
    mark = _MARK.search(text, max(0, len(text) - _MARK_TAIL))
    return mark is None or int(mark.group(2)) > limit
