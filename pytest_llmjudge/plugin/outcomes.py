"""Mismatched and unscored items report their message without pytest's traceback filter.

`results.miss()` raises pytest's xfail (or, strict, fail) exception with `pytrace=False`, so
pytest shows only its message. Before it formats that message, though, pytest's
`Function._traceback_filter` walks the whole traceback (pluggy's and pytest's frames included)
and checks that each frame's source file exists: ~0.3 ms a mismatched case, half the items of a
typical judge run. With `pytrace=False` the report holds only the last entry's message
(style "value"), which that filter cannot change, so the item's `repr_failure` builds the same
report without it. `--fulltrace` (which shows the full traceback even then) keeps pytest's own.
"""

from __future__ import annotations

from typing import Any

import pytest


def report_without_traceback(item: pytest.Item) -> None:
    """Let `item` format a pytrace=False failure without walking its traceback."""
    if "repr_failure" in vars(item) or item.config.getoption("fulltrace", False):
        return
    pytest_repr = item.repr_failure

    def repr_failure(
        excinfo: pytest.ExceptionInfo[BaseException], *args: Any, **kwargs: Any
    ) -> Any:
        value = excinfo.value
        if isinstance(value, pytest.fail.Exception) and not value.pytrace and not (args or kwargs):
            return excinfo.getrepr(style="value", tbfilter=False)
        return pytest_repr(excinfo, *args, **kwargs)

    item.repr_failure = repr_failure  # type: ignore[method-assign]
