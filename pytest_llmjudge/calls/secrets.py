"""The secrets rule of model calls: pytest_llmjudge.secrets (one module for every layer)."""

from pytest_llmjudge.secrets import MASK, SECRET_ENV_VARS, clip, clip_line, redact, secret_values

__all__ = ["MASK", "SECRET_ENV_VARS", "clip", "clip_line", "redact", "secret_values"]
