"""Secrets come only from the environment and are scrubbed from anything we print or store."""

from __future__ import annotations

import os

SECRET_ENV_VARS = ("MISTRAL_API_KEY", "WANDB_API_KEY")
MASK = "***"


def redact(text: str) -> str:
    """`text` with the value of every secret environment variable masked (also without the
    whitespace around it: a key pasted with a newline is sent, and echoed, stripped)."""
    for name in SECRET_ENV_VARS:
        raw = os.environ.get(name) or ""
        for value in dict.fromkeys((raw, raw.strip())):
            if len(value) >= 4:
                text = text.replace(value, MASK)
    return text
