"""The transformers models that hf judges and generators share: one cache, one lock."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

GENERATION_LOCK = threading.Lock()  # one generation at a time: CPU models gain nothing from threads
KEEP = 2  # models kept loaded: a base and its fine-tune, compared in one session
_MODELS: OrderedDict[tuple[str, str], tuple[Any, Any]] = OrderedDict()


def model_and_tokenizer(
    base: str, cache_dir: Path, adapter: Path | None = None
) -> tuple[Any, Any, bool]:
    """The loaded (model, tokenizer) for base + adapter, and whether this call loaded it.

    Call with GENERATION_LOCK held; the least recently used model is dropped past KEEP.
    """
    key = (base, str(adapter or ""))
    if key in _MODELS:
        _MODELS.move_to_end(key)
        return (*_MODELS[key], False)
    from pytest_llmjudge.finetune.hf import load

    while len(_MODELS) >= KEEP:
        _MODELS.popitem(last=False)
    model, tokenizer = load(base, cache_dir, adapter)
    model.eval()
    _MODELS[key] = (model, tokenizer)
    return model, tokenizer, True
