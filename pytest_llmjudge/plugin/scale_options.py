"""Options of the chat transport and the Mistral Batch API mode (pytest glue)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pytest_llmjudge.settings import TRANSPORTS, ScaleSettings


def add_scale_options(group: Any, parser: pytest.Parser) -> None:
    """--llmjudge-transport and --llmjudge-batch, with their ini keys."""
    group.addoption(
        "--llmjudge-transport",
        default=None,
        metavar="{" + ",".join(TRANSPORTS) + "}",
        help="how Mistral chat requests are sent: http (the plugin's aiohttp client, default; "
        "honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY) or sdk (the official mistralai SDK) "
        "(ini: llmjudge_transport)",
    )
    group.addoption(
        "--llmjudge-batch",
        action="store_true",
        default=None,
        help="send each Mistral judge's uncached requests as one Mistral Batch API job "
        "(ini: llmjudge_batch)",
    )
    parser.addini("llmjudge_transport", "http|sdk: how Mistral chat requests are sent", "string")
    parser.addini("llmjudge_batch", "use the Mistral Batch API", type="bool", default=False)
    parser.addini("llmjudge_batch_poll", "seconds between polls of a batch job", default="10")
    parser.addini(
        "llmjudge_freeze_gc",
        "keep the cyclic garbage collector off what collection leaves alive, for the run",
        type="bool",
        default=True,
    )


def resolve_scale(config: pytest.Config) -> ScaleSettings:
    """ScaleSettings: command line, then ini, then defaults."""
    # precedence: command line > ini > default
    transport = config.getoption("llmjudge_transport") or config.getini("llmjudge_transport")
    transport = transport or "http"
    if transport == "h11":  # the sockets-and-h11 client, removed
        raise pytest.UsageError(
            "llmjudge_transport = 'h11' was removed: 'http' (the plugin's aiohttp client, which "
            "honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY) is the default now; drop the option or "
            f"choose one of {', '.join(TRANSPORTS)}"
        )
    if transport not in TRANSPORTS:
        raise pytest.UsageError(
            f"invalid llmjudge_transport = {transport!r}: expected one of {', '.join(TRANSPORTS)}"
        )
    batch = config.getoption("llmjudge_batch")
    if batch is None:
        batch = bool(config.getini("llmjudge_batch"))
    raw_poll = config.getini("llmjudge_batch_poll")
    try:
        poll = float(raw_poll)
        if poll <= 0:
            raise ValueError
    except ValueError:
        raise pytest.UsageError(
            f"invalid llmjudge_batch_poll = {raw_poll!r}: must be a positive number"
        ) from None
    return ScaleSettings(
        transport=transport,
        batch=batch,
        batch_poll_s=poll,
        freeze_gc=bool(config.getini("llmjudge_freeze_gc")),
    )


def status_writer(config: pytest.Config) -> Callable[[str], None]:
    """Writes a Batch API job's progress lines to the terminal, past output capturing."""
    from pytest_llmjudge.plugin.outputs import line_writer

    return line_writer(config, "llmjudge batch: ")
