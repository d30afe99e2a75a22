"""The registry of finished fine-tunes: a JSON file committed to the repo, keyed by fingerprint."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_llmjudge.finetune.spec import FineTuneError

REGISTRY_FORMAT = "pytest-llmjudge/finetunes"
REGISTRY_VERSION = 1


@dataclass(frozen=True)
class Entry:
    """A finished fine-tune.

    Attributes:
        name: the judge name it was trained for.
        backend: the backend that trained it.
        base: the base model.
        model: the model id to call ("mistral"), or a label.
        artifact: the trained artifact (adapter folder, model file), relative to the registry's
            folder when inside it; None for a hosted model.
        metrics: training metrics (first/last train loss, validation loss, CV accuracy, ...).
        date: when it finished (UTC, ISO 8601).
        inputs: a readable summary of the fingerprinted inputs (files, weights, settings).
    """

    name: str
    backend: str
    base: str
    model: str
    artifact: str | None
    metrics: dict[str, Any] = field(default_factory=dict)
    date: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)


class Registry:
    """Reads and updates the registry file; writes are atomic and merge with what is on disk."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FineTuneError(f"fine-tune registry {self.path} is not readable: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != REGISTRY_FORMAT:
            raise FineTuneError(f"fine-tune registry {self.path} is not a {REGISTRY_FORMAT!r} file")
        entries = document.get("finetunes", {})
        if not isinstance(entries, dict):
            raise FineTuneError(f"fine-tune registry {self.path}: 'finetunes' is not an object")
        return entries

    def entries(self) -> dict[str, Entry]:
        """Every recorded fine-tune by fingerprint (unknown keys in an entry are ignored)."""
        known = set(Entry.__dataclass_fields__)
        result = {}
        for key, raw in self._read().items():
            if not isinstance(raw, dict):
                raise FineTuneError(
                    f"fine-tune registry {self.path}: entry {key!r} is not an object"
                )
            try:
                result[key] = Entry(**{k: v for k, v in raw.items() if k in known})
            except TypeError as exc:
                raise FineTuneError(
                    f"fine-tune registry {self.path}: entry {key!r}: {exc}"
                ) from None
        return result

    def get(self, fingerprint: str) -> Entry | None:
        """The fine-tune recorded for `fingerprint`, or None."""
        return self.entries().get(fingerprint)

    def put(self, fingerprint: str, entry: Entry) -> None:
        """Record `entry` under `fingerprint`, keeping every other entry already in the file."""
        entries = self._read()
        entries[fingerprint] = asdict(entry)
        document = {
            "format": REGISTRY_FORMAT,
            "version": REGISTRY_VERSION,
            "finetunes": dict(sorted(entries.items())),
        }
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=".finetunes-", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def artifact_path(self, entry: Entry) -> Path | None:
        """The entry's artifact as an absolute path (relative: from the registry's folder)."""
        if entry.artifact is None:
            return None
        path = Path(entry.artifact)
        return path if path.is_absolute() else self.path.parent / path

    def relative(self, path: Path) -> str:
        """`path` relative to the registry's folder (so the committed file is portable)."""
        try:
            return Path(
                os.path.relpath(Path(path).resolve(), self.path.parent.resolve())
            ).as_posix()
        except ValueError:  # another drive (Windows)
            return str(path)
