"""The cases of bench/scale.py: FIB-like news documents of about 2,000 characters and summaries.

Generated from a seeded word list, so every run (and the cached rerun) sees the same cases: each
document is a dozen sentences about named people, places, organisations, ages, money and dates,
as in FIB's XSum documents (1,300-2,500 characters, a median of ~1,400); each summary restates
one fact of its document (target 1) or changes a name, number or place to one the document
does not have (target 0), 100-170 characters as FIB's are. The loopback server's toy judge
(`pytest_llmjudge.testing.toy_judge`) is right on these cases; `noisy_judge` then makes the judge
wrong on purpose.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

FIRST = "Anna Ben Carla David Elena Farid Grace Hugo Ines Jonas Karen Liam Maya Nadia Omar Petra"
LAST = "Murdoch Quinn McKinnon Routis Cikos Okafor Lindqvist Moreau Tanaka Novak Brennan Haddad"
PLACES = "Dundee Falkirk Leeds Cardiff Bristol Galway Lyon Porto Gdansk Tampere Bergen Utrecht"
ORGS = "council board club union committee trust hospital university league agency"
ROLES = "midfielder manager spokesperson chairman researcher director nurse engineer teacher"
VERBS = "approved rejected announced postponed confirmed funded reviewed opened closed"
THINGS = "budget plan contract scheme project deal report stadium clinic programme"
MONTHS = "January February March April May June July August September October November December"

_FIRST, _LAST, _PLACES = FIRST.split(), LAST.split(), PLACES.split()
_ORGS, _ROLES, _VERBS = ORGS.split(), ROLES.split(), VERBS.split()
_THINGS, _MONTHS = THINGS.split(), MONTHS.split()


def _fact(rng: random.Random) -> dict[str, str]:
    return {
        "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        "age": str(rng.randint(19, 71)),
        "role": rng.choice(_ROLES),
        "place": rng.choice(_PLACES),
        "org": rng.choice(_ORGS),
        "verb": rng.choice(_VERBS),
        "thing": rng.choice(_THINGS),
        "money": f"{rng.randint(2, 950)}m",
        "month": rng.choice(_MONTHS),
        "year": str(rng.randint(1998, 2024)),
    }


_SENTENCES = (
    "{name}, the {age}-year-old {role} from {place}, said the {org} had {verb} the {thing} "
    "worth £{money} in {month} {year}.",
    '"It is exactly the kind of {thing} we need going into this season," {name} told the '
    "{org}'s website.",
    "The {org} in {place} {verb} the {thing} after a long review, with £{money} set aside "
    "for the first phase.",
    "Critics in {place} argued that the {thing} would cost far more than £{money} and take "
    "years longer than planned.",
    "{name} joined the {org} in {year} after leaving a similar post elsewhere, and has been "
    "its {role} since {month}.",
    "Half of the money is expected to come from local taxes, the {org} said, and the rest "
    "from private partners in {place}.",
)


def document(rng: random.Random, facts: list[dict[str, str]], size: int) -> str:
    """Sentences about `facts` until the document reaches about `size` characters; the first
    states every field of the first fact (the one a summary restates)."""
    lines = [_SENTENCES[0].format(**facts[0])]
    length = len(lines[0])
    while length < size:
        sentence = rng.choice(_SENTENCES).format(**rng.choice(facts))
        lines.append(sentence)
        length += len(sentence) + 1
    return "\n".join(lines)


def summary(fact: dict[str, str], consistent: bool, rng: random.Random) -> str:
    """One fact of the document restated, or changed to a name, number or place it lacks."""
    fact = dict(fact)
    if not consistent:
        field = rng.choice(("name", "money", "place", "year"))
        if field == "name":
            fact["name"] = f"{rng.choice(_FIRST)} Outsider"
        elif field == "money":
            fact["money"] = f"{int(fact['money'][:-1]) + 1000}m"
        elif field == "place":
            fact["place"] = "Atlantis"
        else:
            fact["year"] = str(int(fact["year"]) + 50)
    return (
        f"{fact['name']}, a {fact['role']} from {fact['place']}, said the {fact['org']} "
        f"{fact['verb']} a £{fact['money']} {fact['thing']} in {fact['month']} {fact['year']}."
    )


def rows(n: int, seed: int = 0, size: int = 2000) -> list[dict[str, Any]]:
    """`n` cases (half consistent, half not) with documents of about `size` characters."""
    out = []
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        facts = [_fact(rng) for _ in range(4)]
        target = i % 2
        out.append(
            {
                "id": f"case-{i:05d}",
                "premise": document(rng, facts, size),
                "hypothesis": summary(facts[0], bool(target), rng),
                "target": target,
            }
        )
    return out


def write_cases(path: Path, n: int, size: int = 2000) -> None:
    """The cases as JSONL."""
    path.write_text("".join(json.dumps(row) + "\n" for row in rows(n, size=size)), "utf-8")
