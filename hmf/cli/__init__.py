"""The ``hmf`` command line: ``hmf data …``, ``hmf train …``, ``hmf sweep …``, ``hmf records …``
(also ``python -m hmf``).

Each sub-command lives in its own module with a ``register(subparsers)`` function; errors the
user can fix (bad names, impossible values, missing or malformed data, a run that diverged) end
as one line on stderr and exit status 2, never as a traceback. A sweep stopped by a signal exits
with 128 + the signal's number (130 for Ctrl-C) after saying how to resume it.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import warnings

from hmf.cli import clusters, data, records, sweep, train
from hmf.data import DataError
from hmf.errors import Interrupted, UsageError
from hmf.experiments.pool import stop_on_signals

# argparse takes "-1e-4" for an option (its own pattern knows only "-1" and "-.5"), so
# `--weight-decay -1e-4` failed with "expected one argument"; any negative number is a value.
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|nan)$", re.IGNORECASE)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str) -> None:  # argparse prints usage + message; keep one line
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hmf", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in (data, train, sweep, records, clusters):
        command.register(sub)
    return parser


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"hmf: warning: {' '.join(str(message).split())}", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    showwarning, warnings.showwarning = warnings.showwarning, _one_line_warning
    try:
        try:
            if getattr(args, "interruptible", False):  # sweeps: stop cleanly on a signal
                with stop_on_signals(exiting=True):
                    return int(args.func(args) or 0)
            return int(args.func(args) or 0)
        except (UsageError, DataError, ValueError, OSError) as exc:
            message = " ".join(str(exc).split())
            print(f"hmf {args.command}: error: {message}", file=sys.stderr)
            return 2
        except Interrupted as stop:
            print(
                f"hmf {args.command}: {stop}; resume with: {shlex.join(['hmf', *argv])}",
                file=sys.stderr,
            )
            return stop.exit_status
        except KeyboardInterrupt:
            return 130
    finally:
        warnings.showwarning = showwarning


if __name__ == "__main__":
    sys.exit(main())
