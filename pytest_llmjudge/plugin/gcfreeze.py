"""Keeps Python's cyclic garbage collector off what collection leaves alive, for the run.

Collecting 10,000 cases leaves ~250,000 objects alive (pytest's items, the cases, their
parameters) and every full GC pass re-scans all of them: ~65 ms each, a few per run, each
holding the GIL and so stalling the request loop. `freeze` moves the live objects into the
permanent generation (`gc.freeze`, O(1)) around each llmjudge parametrization and at the end of
collection; objects the run creates are garbage-collected as usual. `thaw` (at unconfigure, after
pytest's own GC pass there) gives them back, so pytest's last cleanup pass scans everything and
reports unraisable exceptions as before. ini `llmjudge_freeze_gc = false` turns it off.
"""

from __future__ import annotations

import gc

import pytest

from pytest_llmjudge.plugin.state import settings_of

FROZEN_KEY = pytest.StashKey[bool]()


def freeze(config: pytest.Config) -> None:
    """Move every object alive now out of the cyclic collector's scans, until `thaw`."""
    if settings_of(config).scale.freeze_gc:
        gc.freeze()
        config.stash[FROZEN_KEY] = True


def thaw(config: pytest.Config) -> None:
    """Give the frozen objects back to the collector (once; nothing if `freeze` never ran)."""
    if config.stash.get(FROZEN_KEY, False):
        gc.unfreeze()
        del config.stash[FROZEN_KEY]
