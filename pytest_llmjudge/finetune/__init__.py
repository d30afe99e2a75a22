"""Fine-tune a judge before the evals run (local, hf LoRA or the hosted jobs API), reuse it after.

The pytest glue is `fixture.py` (the `llmjudge_finetune` fixture and its options); everything else
here is plain library code: `FineTuner` can be used without pytest.
"""

from pytest_llmjudge.finetune.registry import Entry, Registry
from pytest_llmjudge.finetune.spec import (
    FineTuneError,
    FineTuneFailed,
    FineTuneMissing,
    FineTuneSpec,
    TrainFile,
    build_records,
    fingerprint,
    record,
)
from pytest_llmjudge.finetune.tuner import FineTuner

__all__ = [
    "Entry",
    "FineTuneError",
    "FineTuneFailed",
    "FineTuneMissing",
    "FineTuneSpec",
    "FineTuner",
    "Registry",
    "TrainFile",
    "build_records",
    "fingerprint",
    "record",
]
