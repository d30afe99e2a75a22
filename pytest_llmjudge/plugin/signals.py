"""SIGTERM ends an evaluating session as Ctrl-C does; a pytest-xdist worker is interrupted once
(pytest glue).

By default SIGTERM kills pytest at once: no sessionfinish, so no report, and the batches in
flight are lost without a word. Once a session evaluates something (its EvalSession exists), a
SIGTERM that would kill the process raises KeyboardInterrupt in the main thread instead, so the
session ends as after Ctrl-C: the batches in flight are cancelled, the answers so far kept, and
the report written with `"interrupted": true`. A pytest-xdist controller evaluates nothing
itself (its EvalSession holds what its workers send at their end), so it handles SIGTERM from
the start of its session. A second SIGTERM kills at once, as before.

An interrupted controller interrupts its workers (plugin/xdist.py), which a Ctrl-C in a
terminal has reached already: on a worker, the first SIGINT (or handled SIGTERM) raises
KeyboardInterrupt and later SIGINTs are ignored, so that the worker's session ends once and
sends what it judged. The previous handlers are back at unconfigure; a handler someone else
installed is left alone.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import pytest

PREVIOUS_KEY = pytest.StashKey[Any]()  # the SIGTERM handler before ours
PREVIOUS_INT_KEY = pytest.StashKey[Any]()  # a worker's SIGINT handler before ours


def _interrupt(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM kills at once
    if signal.getsignal(signal.SIGINT) is _interrupt_once:  # a worker: interrupted once
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt("SIGTERM")


def _interrupt_once(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the controller's SIGINT after a Ctrl-C's
    raise KeyboardInterrupt


def _main_thread() -> bool:
    """Only the main thread may set a signal handler."""
    return threading.current_thread() is threading.main_thread()


def handle_sigterm(config: pytest.Config) -> None:
    """Make SIGTERM raise KeyboardInterrupt, when it would kill the process (its default) and
    this is the main thread."""
    if PREVIOUS_KEY in config.stash or not _main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        return
    signal.signal(signal.SIGTERM, _interrupt)
    config.stash[PREVIOUS_KEY] = previous


def interrupt_worker_once(config: pytest.Config) -> None:
    """On a pytest-xdist worker whose SIGINT raises KeyboardInterrupt (Python's default): the
    first SIGINT still does, later ones are ignored."""
    if not hasattr(config, "workerinput") or PREVIOUS_INT_KEY in config.stash:
        return
    if not _main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return
    config.stash[PREVIOUS_INT_KEY] = signal.default_int_handler
    signal.signal(signal.SIGINT, _interrupt_once)


def restore_signals(config: pytest.Config) -> None:
    """Put back the handlers from before handle_sigterm and interrupt_worker_once (unless
    another replaced ours)."""
    for signum, key, ours in (
        (signal.SIGTERM, PREVIOUS_KEY, (_interrupt, signal.SIG_DFL)),  # SIG_DFL: ours fired
        (signal.SIGINT, PREVIOUS_INT_KEY, (_interrupt_once, signal.SIG_IGN)),
    ):
        if key not in config.stash:
            continue
        previous = config.stash[key]
        del config.stash[key]
        if _main_thread() and signal.getsignal(signum) in ours:
            signal.signal(signum, previous)
