"""`python -m pytest_llmjudge COMMAND`: commands that need no pytest run.

regate   recompute metrics, thresholds and baseline comparisons from a saved JSON report
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pytest_llmjudge.outputs import regate

_USAGE = "usage: python -m pytest_llmjudge regate REPORT [options]  (regate --help for more)"


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a command; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "regate":
        return regate.main(rest)
    print(f"unknown command {command!r}\n{_USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
