"""What model calls cost: a price table per model, and the cost of one answer.

Prices are US dollars per million tokens, input (the prompt) and output (the answer), as Mistral
published them for the models the project's judges use (its pricing page, 2025; check it, and
set your own with ini `llmjudge_prices`). A fine-tuned model (`ft:open-mistral-7b:...`) costs
what its base model costs. The Batch API bills half (`BATCH_DISCOUNT`). A model with no price is
not costed: its cost is unknown (None), never 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

BATCH_DISCOUNT = 0.5  # the Batch API bills half the price of a chat request
MICRO = 1_000_000  # the budget's ledger counts money in micro-dollars (whole numbers)


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float

    def cost(self, prompt_tokens: int, completion_tokens: int, batch: bool = False) -> float:
        """The cost in dollars of one answer."""
        dollars = (prompt_tokens * self.input + completion_tokens * self.output) / MICRO
        return dollars * (BATCH_DISCOUNT if batch else 1.0)


DEFAULT_PRICES: Mapping[str, Price] = {
    "mistral-large-latest": Price(2.0, 6.0),
    "mistral-medium-latest": Price(0.4, 2.0),
    "mistral-small-latest": Price(0.1, 0.3),
    "open-mistral-7b": Price(0.25, 0.25),
    "open-mistral-nemo": Price(0.15, 0.15),
    "ministral-8b-latest": Price(0.1, 0.1),
}
_FINE_TUNED = re.compile(r"^ft:([^:]+):")
_LINE = re.compile(r"^\s*(?P<model>[^=\s]+)\s*=\s*(?P<input>[0-9.]+)\s*,\s*(?P<output>[0-9.]+)\s*$")


def price_of(model: str, prices: Mapping[str, Price]) -> Price | None:
    """The price of `model` (a fine-tune's is its base model's), or None when unknown."""
    if model in prices:
        return prices[model]
    base = _FINE_TUNED.match(model)
    return prices.get(base.group(1)) if base else None


def parse_prices(lines: Iterable[str]) -> dict[str, Price]:
    """Prices from ini lines `model = input, output` (dollars per million tokens), over the
    defaults; a bad line raises ValueError naming it."""
    prices = dict(DEFAULT_PRICES)
    for line in lines:
        if not line.strip():
            continue
        match = _LINE.match(line)
        if not match:
            raise ValueError(
                f"{line!r}: expected 'model = input, output' in dollars per million tokens, "
                "e.g. 'mistral-large-latest = 2.0, 6.0'"
            )
        prices[match["model"]] = Price(float(match["input"]), float(match["output"]))
    return prices
