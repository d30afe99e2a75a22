"""The budget of a session, its ledger, and the estimate printed before a run.

A budget limits quantities that requests use: requests, tokens and money (micro-dollars, priced
by calls/prices.py), each a `Quantity` and a pair of columns in the ledger. What was used and
what is reserved by requests in flight is kept in a ledger: in memory for a serial run, or, for
the pytest-xdist workers of one run, in one small SQLite file that each reservation updates in a
transaction of its own (`BEGIN IMMEDIATE`), so that all workers together send exactly the
budget's requests.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pytest_llmjudge.calls.prices import DEFAULT_PRICES, MICRO, Price, price_of
from pytest_llmjudge.calls.protocol import ModelResponse

if TYPE_CHECKING:
    import sqlite3


@dataclass(frozen=True)
class Quantity:
    """Something a request uses that a budget may limit.

    Attributes:
        name: its name in the ledger (columns `<name>_used` and `<name>_reserved`).
        refusal: the cause of a case not sent once its limit is reached (`{n}`: the limit).
        scale: ledger units per unit shown (money: micro-dollars per dollar).
    """

    name: str
    refusal: str
    scale: int = 1

    def refused(self, limit: int) -> str:
        """The refusal, with the limit in the units the user set it in."""
        shown = f"{limit / self.scale:g}" if self.scale != 1 else str(limit)
        return self.refusal.format(n=shown)


REQUESTS = Quantity("requests", "request budget of {n} reached")
TOKENS = Quantity("tokens", "token budget of {n} reached")
COST = Quantity("cost_micro", "cost budget of ${n} reached", scale=MICRO)
QUANTITIES = (REQUESTS, TOKENS, COST)

Amounts = Mapping[str, int]


def estimate_tokens(identity: Mapping[str, Any]) -> int:
    """Tokens a request may use: its rendered messages' characters / 4, plus max_tokens."""
    prompt, answer = _token_split(identity)
    return prompt + answer


def _token_split(identity: Mapping[str, Any]) -> tuple[int, int]:
    chars = sum(len(str(m.get("content", ""))) for m in identity.get("messages") or ())
    return chars // 4, int(identity.get("max_tokens") or 0)


@dataclass(frozen=True)
class Estimate:
    """What a request about to be sent may use: tokens, and micro-dollars at its model's price
    (0 when the model has no price), as the budget reserves them until it is settled."""

    tokens: int
    micro: int
    price: Price | None = None
    batch: bool = False
    model: str = ""

    def cost(self, response: ModelResponse) -> float | None:
        """What the answer cost in dollars; None when unpriced or its token split is unknown."""
        prompt, completion = response.prompt_tokens, response.completion_tokens
        if self.price is None or prompt is None or completion is None:
            return None
        return self.price.cost(prompt, completion, self.batch)


def is_budget_cause(error: str | None) -> bool:
    """Whether an unscored case's cause is an exhausted budget."""
    return budget_cause(error) is not None


def budget_cause(error: str | None) -> str | None:
    """The budget refusal in an unscored cause (`request budget of 100 reached`), also when the
    cause quotes it (`no answer to judge: ...`); None when the cause is not a budget."""
    if error is None or not error.endswith("reached"):
        return None
    for quantity in QUANTITIES:
        start = error.find(quantity.refusal.split("{n}")[0])
        if start >= 0:
            return error[start:]
    return None


class Ledger(Protocol):
    """What the requests of a session used, and what those in flight reserved."""

    def reserve(self, amounts: Amounts, limits: Mapping[str, int | None]) -> str | None:
        """Reserve `amounts`, unless a quantity's limit is reached: then its name."""

    def settle(self, reserved: Amounts, used: Amounts) -> None:
        """Release what a finished request reserved, and count what it used."""

    def totals(self) -> dict[str, tuple[int, int]]:
        """Per quantity: (used, reserved)."""

    def close(self) -> None:
        """Release the ledger's resources."""


def _over(totals: Mapping[str, tuple[int, int]], limits: Mapping[str, int | None]) -> str | None:
    """The first quantity whose used and reserved amounts reach its limit (a request may go
    while its budget is not yet reached: one rule for requests, tokens and money)."""
    for name, limit in limits.items():
        if limit is not None and sum(totals[name]) >= limit:
            return name
    return None


class MemoryLedger:
    """The ledger of one process (a serial run): two counters per quantity."""

    def __init__(self) -> None:
        self.used = {q.name: 0 for q in QUANTITIES}
        self.reserved = {q.name: 0 for q in QUANTITIES}

    def reserve(self, amounts: Amounts, limits: Mapping[str, int | None]) -> str | None:
        refused = _over(self.totals(), limits)
        if refused is None:
            for name, amount in amounts.items():
                self.reserved[name] += amount
        return refused

    def settle(self, reserved: Amounts, used: Amounts) -> None:
        for name, amount in reserved.items():
            self.reserved[name] -= amount
        for name, amount in used.items():
            self.used[name] += amount

    def totals(self) -> dict[str, tuple[int, int]]:
        return {name: (self.used[name], self.reserved[name]) for name in self.used}

    def close(self) -> None:
        pass


_COLUMNS = [f"{q.name}_{part}" for q in QUANTITIES for part in ("used", "reserved")]


def create_ledger(path: Path) -> None:
    """Create an empty shared ledger at `path` (before the processes that share it start)."""
    import sqlite3

    with sqlite3.connect(path) as db:
        columns = ", ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in _COLUMNS)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY, {columns})")
        db.execute("INSERT OR IGNORE INTO ledger (id) VALUES (1)")
    db.close()


class SharedLedger:
    """A ledger that the processes of one run share: one row of a SQLite file.

    A reservation reads and updates the row in one `BEGIN IMMEDIATE` transaction (the file's
    write lock), so that two processes cannot both take the last request of a budget. The file
    lives only as long as its run, so it is written without fsync.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            import sqlite3

            db = sqlite3.connect(
                self.path, timeout=60, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA synchronous=OFF")
            self._db = db
        return self._db

    def reserve(self, amounts: Amounts, limits: Mapping[str, int | None]) -> str | None:
        with self._lock:
            db = self._connection()
            refused = _over(self._read(db), limits)  # a spent budget needs no write lock
            if refused is not None:
                return refused
            db.execute("BEGIN IMMEDIATE")
            try:
                refused = _over(self._read(db), limits)
                if refused is None and amounts:
                    sets = ", ".join(f"{n}_reserved = {n}_reserved + ?" for n in amounts)
                    db.execute(f"UPDATE ledger SET {sets} WHERE id = 1", list(amounts.values()))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return refused

    def settle(self, reserved: Amounts, used: Amounts) -> None:
        changes = [(f"{n}_reserved", -a) for n, a in reserved.items()]
        changes += [(f"{n}_used", a) for n, a in used.items()]
        sets = ", ".join(f"{column} = {column} + ?" for column, _ in changes)
        with self._lock:  # one statement: atomic on its own
            self._connection().execute(
                f"UPDATE ledger SET {sets} WHERE id = 1", [a for _, a in changes]
            )

    def totals(self) -> dict[str, tuple[int, int]]:
        with self._lock:
            return self._read(self._connection())

    @staticmethod
    def _read(db: sqlite3.Connection) -> dict[str, tuple[int, int]]:
        row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM ledger WHERE id = 1").fetchone()
        return {q.name: (row[2 * i], row[2 * i + 1]) for i, q in enumerate(QUANTITIES)}

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class Budget:
    """The limits of a session on requests, tokens and money; refuses requests once one is
    reached.

    In-flight requests count with their estimate until their real token count is known, so that
    concurrent requests cannot overshoot the token budget by much. A request counts when it is
    reserved, before it is sent: a retry is one more request.

    Args:
        max_requests: the request budget (None: none).
        max_tokens: the token budget (None: none).
        ledger: the shared ledger file of a pytest-xdist run (None: this process's memory).
        max_cost: the money budget in dollars (None: none).
        prices: the price table requests are costed with (None: calls/prices.py's defaults).
    """

    def __init__(
        self,
        max_requests: int | None = None,
        max_tokens: int | None = None,
        ledger: Path | None = None,
        max_cost: float | None = None,
        prices: Mapping[str, Price] | None = None,
    ) -> None:
        self.max_requests = max_requests
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.prices = DEFAULT_PRICES if prices is None else prices
        micro = None if max_cost is None else round(max_cost * MICRO)
        self.limits = {REQUESTS.name: max_requests, TOKENS.name: max_tokens, COST.name: micro}
        limited = any(limit is not None for limit in self.limits.values())
        self.ledger: Ledger = (
            SharedLedger(ledger) if ledger is not None and limited else MemoryLedger()
        )
        self.refused = 0

    def estimate(self, identity: Mapping[str, Any], batch: bool = False) -> Estimate:
        """What a request of this identity may use (a Batch API line is billed at a discount)."""
        prompt, answer = _token_split(identity)
        model = str(identity.get("model") or "")
        price = price_of(model, self.prices)
        dollars = price.cost(prompt, answer, batch) if price is not None else 0.0
        return Estimate(prompt + answer, math.ceil(dollars * MICRO), price, batch, model)

    def reserve(self, estimate: Estimate) -> str | None:
        """Count one request about to be sent; or the reason it may not be sent."""
        if self.max_cost is not None and estimate.price is None:  # not a spent budget
            return (
                f"not sent: model {estimate.model!r} has no price, so the cost budget cannot be "
                "kept (add it to llmjudge_prices)"
            )
        refused = self.ledger.reserve(self._amounts(estimate), self.limits)
        if refused is None:
            return None
        self.refused += 1
        quantity = next(q for q in QUANTITIES if q.name == refused)
        return quantity.refused(self.limits[refused] or 0)

    def settle(self, estimate: Estimate, response: ModelResponse | None) -> float | None:
        """A request reserved with `estimate` finished with `response` (None: no answer, nothing
        billed); what it cost in dollars, None when unknown. An answer whose cost is unknown
        counts in the ledger with its estimate."""
        cost = None if response is None else estimate.cost(response)
        tokens = (response.tokens if response is not None else None) or 0
        if response is None:
            micro = 0
        else:
            micro = estimate.micro if cost is None else math.ceil(cost * MICRO)
        used = {REQUESTS.name: 1, TOKENS.name: tokens, COST.name: micro}
        self.ledger.settle(self._amounts(estimate), used)
        return cost

    @staticmethod
    def _amounts(estimate: Estimate) -> dict[str, int]:
        return {REQUESTS.name: 1, TOKENS.name: estimate.tokens, COST.name: estimate.micro}

    @property
    def requests(self) -> int:
        """Requests sent or in flight (in every process sharing the ledger)."""
        return sum(self.ledger.totals()[REQUESTS.name])

    @property
    def tokens(self) -> int:
        """Tokens used by the requests that finished."""
        return self.ledger.totals()[TOKENS.name][0]

    @property
    def spent(self) -> float:
        """Dollars the requests that finished cost (in every process sharing the ledger)."""
        return self.ledger.totals()[COST.name][0] / MICRO

    @property
    def exhausted(self) -> bool:
        """Whether this process refused a request for lack of budget."""
        return self.refused > 0

    def close(self) -> None:
        """Close the ledger (a shared one's file stays for the other processes)."""
        self.ledger.close()
