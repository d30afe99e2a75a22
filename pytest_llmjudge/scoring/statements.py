"""An answer split into statements, as Ragas' faithfulness needs them (here: its sentences).

Ragas has an LLM list the claims of an answer; offline, a sentence is the statement. The split is
on sentence ends (., ! or ? before whitespace and a capital letter or digit) and line breaks; an
abbreviation such as "Dr. Vaik" or a number such as "4.5" stays in one piece.
"""

from __future__ import annotations

import re

_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])|\s*\n+\s*")
_ABBREVIATION = re.compile(
    r"\b(?:[A-Z]|Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Inc|Ltd|Co|Corp|No|vs|etc|e\.g|i\.e)\.$"
)
_WORD = re.compile(r"[A-Za-z0-9]")


def split_statements(text: str) -> list[str]:
    """The statements (sentences) of an answer; a text with none is one statement itself."""
    pieces: list[str] = []
    start = 0
    for match in _END.finditer(text):
        head = text[start : match.start()].strip()
        if _ABBREVIATION.search(head) and "\n" not in match.group(0):
            continue  # "Dr. Vaik": not a sentence end
        if head:
            pieces.append(head)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    statements = [p for p in pieces if _WORD.search(p)]
    return statements or ([text.strip()] if text.strip() else [])


def statement_share(labels: list[int | None], exclude_unscored: bool) -> float | None:
    """The share of an answer's statements the judge found supported (Ragas' faithfulness of
    one answer); an unscored statement counts as unsupported unless excluded (None: nothing
    left to count)."""
    counted = [label for label in labels if label is not None] if exclude_unscored else labels
    if not counted:
        return None
    return sum(1 for label in counted if label == 1) / len(counted)
