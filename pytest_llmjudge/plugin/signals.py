"""SIGTERM ends an evaluating session as Ctrl-C does (pytest glue).

By default SIGTERM kills pytest at once: no sessionfinish, so no report, and the batches in
flight are lost without a word. Once a session evaluates something (its EvalSession exists), a
SIGTERM that would kill the process raises KeyboardInterrupt in the main thread instead, so the
session ends as after Ctrl-C: the batches in flight are cancelled, the answers so far kept, and
the report written with `"interrupted": true`. A second SIGTERM kills at once, as before. The
previous handler is back at unconfigure; a handler someone else installed is left alone.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import pytest

PREVIOUS_KEY = pytest.StashKey[Any]()  # the SIGTERM handler before ours


def _interrupt(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM kills at once
    raise KeyboardInterrupt("SIGTERM")


def handle_sigterm(config: pytest.Config) -> None:
    """Make SIGTERM raise KeyboardInterrupt, when it would kill the process (its default) and
    this is the main thread (the only one that may set a handler)."""
    if PREVIOUS_KEY in config.stash or threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        return
    signal.signal(signal.SIGTERM, _interrupt)
    config.stash[PREVIOUS_KEY] = previous


def restore_sigterm(config: pytest.Config) -> None:
    """Put back the SIGTERM handler from before handle_sigterm (unless another replaced ours)."""
    if PREVIOUS_KEY not in config.stash:
        return
    previous = config.stash[PREVIOUS_KEY]
    del config.stash[PREVIOUS_KEY]
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) in (_interrupt, signal.SIG_DFL):
        signal.signal(signal.SIGTERM, previous)
