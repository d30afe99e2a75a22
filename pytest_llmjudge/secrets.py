"""Secrets come only from the environment and are masked in every text we print or store.

`redact` is the one rule: a secret is masked wherever it appears, plain or escaped (JSON and
Python escapes such as `\\n`, `\\u0041` or `\\x41`, however many backslashes deep, as a bytes
repr or a JSON string quoted again shows them; HTML character references; `%41`). `clip` is the
one way to cut a text that may hold one: it masks first, so that a cut cannot leave part of a
key behind. Texts from outside (an error body, an exception, a model's answer) are masked where
they enter: a CallError, a Verdict and an Answer mask what they are given, and every file and
line the plugin writes is masked again on its way out.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

SECRET_ENV_VARS = ("MISTRAL_API_KEY", "WANDB_API_KEY")
MASK = "***"
MIN_LENGTH = 4  # shorter values would mask ordinary words
_MOST_PER_CHAR = 20  # the longest form one character of a secret takes (8 backslashes, U+8 hex)
_NAMED = {"\n": "n", "\r": "r", "\t": "t", "\f": "f", "\b": "b", "\v": "v", "/": "/"}
_NAMED.update({'"': '"', "'": "'", "\\": "\\"})


def secret_values() -> tuple[str, ...]:
    """The secrets set in the environment now, without the whitespace around them (a key
    pasted with a newline is sent stripped, and so echoed)."""
    values = (os.environ.get(name, "").strip() for name in SECRET_ENV_VARS)
    return tuple(v for v in dict.fromkeys(values) if len(v) >= MIN_LENGTH)


def redact(text: str) -> str:
    """`text` with every secret of the environment masked (`***`), plain or escaped."""
    pattern = _pattern(secret_values())
    return text if pattern is None or not text else pattern.sub(MASK, text)


def redact_optional(text: str | None) -> str | None:
    """redact(), None staying None."""
    return None if text is None else redact(text)


def clip(text: str, limit: int, ellipsis: str = "...") -> str:
    """`text` masked, then cut to `limit` characters (plus `ellipsis` when it was longer).

    Only what the cut keeps is read, and a little more: a secret that starts before the cut
    ends within the longest form a secret can take."""
    pattern = _pattern(secret_values())
    if pattern is None:
        return text if len(text) <= limit else text[:limit] + ellipsis
    margin = max(len(v) for v in secret_values()) * _MOST_PER_CHAR
    need = limit + 1  # characters of the masked text that show whether it is longer than limit
    parts: list[str] = []
    size = pos = 0
    while size < need and pos < len(text):
        found = pattern.search(text, pos, min(len(text), pos + need - size + margin))
        if found is None:  # no secret starts in what is still needed
            piece = text[pos : pos + need - size]
            parts.append(piece)
            size, pos = size + len(piece), pos + len(piece)
            continue
        parts += [text[pos : found.start()], MASK]
        size += found.start() - pos + len(MASK)
        pos = found.end()
    masked = "".join(parts)
    return masked if size < need else masked[:limit] + ellipsis


def clip_line(text: str, limit: int, ellipsis: str = "...") -> str:
    """clip() of `text` on one line (its runs of whitespace as one space)."""
    return clip(" ".join(text.split()), limit, ellipsis)


@lru_cache(maxsize=8)
def _pattern(values: tuple[str, ...]) -> re.Pattern[str] | None:
    if not values:
        return None
    forms = ["".join(_char(c) for c in v) for v in sorted(values, key=len, reverse=True)]
    return re.compile("|".join(forms))


def _char(c: str) -> str:
    """Every form one character of a secret may take in a text (a regular expression)."""
    if c.isspace():
        return r"\s+"  # a one-line text has its whitespace as one space
    code = ord(c)
    escapes = [f"u{_hex(code, 4)}"] if code < 0x10000 else []
    escapes += [f"x{_hex(code, 2)}"] if code < 0x100 else []
    escapes += [f"U{_hex(code, 8)}"]
    if c in _NAMED:
        escapes.append(re.escape(_NAMED[c]))
    forms = [re.escape(c), r"\\{1,8}(?:" + "|".join(escapes) + ")"]
    if code < 0x80:
        forms.append(f"%{_hex(code, 2)}")
    forms += [f"&#0*{code};", f"&#[xX]0*{_hex(code, 1)};"]
    return "(?:" + "|".join(forms) + ")"


def _hex(code: int, width: int) -> str:
    """`code` in hexadecimal, at least `width` digits, letters in either case."""
    digits = f"{code:0{width}x}"
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)
