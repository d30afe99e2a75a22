"""Numbers in text: digits, money amounts, ages, years and number words, with their values."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pytest_llmjudge.local.lexicon import NUMBER_WORDS

_NUMBER = re.compile(
    r"(?P<cur>[£$€])?\s?(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)(?:st|nd|rd|th)?"
    r"(?:\s?(?P<mult>bn|billion|m|million|k|thousand|%|per cent)\b)?"
    r"(?P<age>-year-old|\s?years? old)?"
)
_AGED = re.compile(r"\baged\s+(\d+)")
_MULTIPLIERS = {"bn": 1e9, "billion": 1e9, "m": 1e6, "million": 1e6, "k": 1e3, "thousand": 1e3}


@dataclass(frozen=True)
class Quantity:
    """A number found in a text: its text, its value, and what kind it is."""

    text: str
    value: float
    kind: str  # "money", "age", "year", "number" (digits) or "count" (words)


def quantities(text: str) -> list[Quantity]:
    """Numbers, money amounts, ages and years written with digits or number words."""
    found: list[Quantity] = []
    for m in _NUMBER.finditer(text):
        value = float(m["num"].replace(",", ""))
        mult = (m["mult"] or "").lower()
        value *= _MULTIPLIERS.get(mult, 1.0)
        if m["cur"]:
            kind = "money"
        elif m["age"]:
            kind = "age"
        elif re.fullmatch(r"(1[89]|20)\d\d", m["num"]):
            kind = "year"
        else:
            kind = "number"
        found.append(Quantity(m.group(0).strip(), value, kind))
    for m in _AGED.finditer(text):
        found.append(Quantity(m.group(0), float(m[1]), "age"))
    for token in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)?", text):
        parts = token.lower().split("-")
        if all(p in NUMBER_WORDS for p in parts):
            found.append(Quantity(token, float(sum(NUMBER_WORDS[p] for p in parts)), "count"))
    return found
