"""The one rule for a path a user writes: relative to the file that declares it.

A dataset in a marker resolves against the test file; `local_judge(train=)`,
`few_shot_judge(examples_from=)`, `llmjudge_finetune(train=, validation=)` and `evaluate()`
against the file whose code called them. Code with no file (a notebook cell, the REPL,
`python -c`) resolves against the working directory. Ini paths resolve against the rootdir.
"""

from __future__ import annotations

import sys
from pathlib import Path


def declaring_dir(depth: int = 1) -> Path:
    """The folder of the source file `depth` calls above the caller, else the working directory."""
    filename = sys._getframe(depth + 1).f_code.co_filename
    path = Path(filename)
    if filename.startswith("<") or "ipykernel_" in filename or not path.is_file():
        return Path.cwd()
    return path.parent


def declared(path: Path | str, base: Path) -> Path:
    """`path` as written, made absolute against `base` when it is relative."""
    path = Path(path)
    return path if path.is_absolute() else base / path
