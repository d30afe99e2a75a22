"""Secrets come only from the environment and are scrubbed from anything we print or store."""

from __future__ import annotations

import os

SECRET_ENV_VARS = ("MISTRAL_API_KEY", "WANDB_API_KEY")
MASK = "***"


def redact(text: str) -> str:
    """`text` with the value of every secret environment variable masked."""
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name)
        if value and len(value) >= 4:
            text = text.replace(value, MASK)
    return text
