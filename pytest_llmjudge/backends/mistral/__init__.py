"""Mistral: one aiohttp client (client.py) for chat, files, batch and fine-tuning jobs, the judge
backend (backend.py), the Batch API mode (batch.py) and the opt-in SDK transport (sdk.py).

Importing this package imports no HTTP library: the client is imported on the first call.
"""

from __future__ import annotations

from pytest_llmjudge.backends.mistral.backend import MistralBackend
from pytest_llmjudge.backends.mistral.wire import DEFAULT_SERVER_URL, server_url

__all__ = ["DEFAULT_SERVER_URL", "MistralBackend", "server_url"]
