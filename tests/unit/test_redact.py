"""secrets.redact and clip: every form a key may take is masked, and masked before any cut."""

from __future__ import annotations

import json
import random

import pytest

from pytest_llmjudge.errors import CallError
from pytest_llmjudge.model.gen_run import Answer
from pytest_llmjudge.model.verdict import Verdict
from pytest_llmjudge.secrets import clip, redact, secret_values

KEY = "sk-unit-Qm2Zr9Lx4Wp8Vn3T"
FORMS = {
    "plain": KEY,
    "json": json.dumps(KEY),
    "unicode escapes": "".join(f"\\u{ord(c):04x}" for c in KEY),
    "upper-case escapes": "".join(f"\\u{ord(c):04X}" for c in KEY),
    "bytes repr": repr(f"Bearer {KEY}\n".encode()),
    "escaped twice": json.dumps(json.dumps("".join(f"\\u{ord(c):04x}" for c in KEY))),
    "html references": "".join(f"&#{ord(c)};" for c in KEY),
    "url-encoded": "".join(f"%{ord(c):02X}" for c in KEY),
    "mixed": KEY[:5] + "\\x" + f"{ord(KEY[5]):02x}" + KEY[6:],
}


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", f" {KEY}\n")  # pasted with whitespace around it
    monkeypatch.delenv("WANDB_API_KEY", raising=False)


def test_the_key_is_known_without_its_whitespace() -> None:
    assert secret_values() == (KEY,)


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_every_form_of_the_key_is_masked(form: str) -> None:
    masked = redact(f"before {form} after")
    assert "Qm2Zr9" not in masked and "Vn3T" not in masked
    assert "***" in masked and masked.startswith("before ") and masked.endswith(" after")


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_a_cut_through_the_key_leaves_none_of_it(form: str) -> None:
    for shift in range(len(form) + 2):
        text = "x" * (100 - shift) + form + "y" * 40
        cut = clip(text, 100)
        assert len(cut) <= 103  # (masked, a long form may fit whole)
        assert redact(cut) == cut and "Qm2Z" not in cut and "Vn3T" not in cut, cut[-30:]


def test_clip_is_mask_then_cut() -> None:
    rng = random.Random(7)
    pieces = [*FORMS.values(), "zz", "q" * 30, " \n "]
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        limit = rng.randint(0, len(text) + 5)
        whole = redact(text)
        assert clip(text, limit) == (whole if len(whole) <= limit else whole[:limit] + "...")


def test_nothing_is_masked_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY")
    assert redact(KEY) == KEY
    assert clip("abcdef", 3) == "abc..."


def test_errors_verdicts_and_answers_mask_what_they_are_given() -> None:
    echoed = FORMS["unicode escapes"]
    error = CallError(f"HTTP 401: {echoed}", 401, raw=f"body {KEY}")
    assert KEY not in error.message + str(error) + (error.raw or "")
    assert "\\u0073" not in error.message
    verdict = Verdict(prediction=1, reason=f"called with {KEY}", raw=echoed)
    assert verdict.reason == "called with ***" and verdict.raw == "***"
    assert Verdict.unscored(f"failed: {KEY}").error == "failed: ***"
    answer = Answer(id="c1#1", case="c1", sample=1, text=f"the key is {KEY}", error=KEY)
    assert answer.text == "the key is ***" and answer.error == "***"
