"""Plain words for counts, shared by every line the plugin writes."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """'1 case', '2 cases'."""
    return f"{count} {noun}" + ("" if count == 1 else "s")
