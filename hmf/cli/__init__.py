"""The ``hmf`` command line: ``hmf data …``, ``hmf train …`` (also ``python -m hmf``).

Each sub-command lives in its own module with a ``register(subparsers)`` function; errors the
user can fix (bad names, impossible values, missing data) end as one line on stderr and exit
status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys

from hmf.cli import data, sweep, train
from hmf.data import DataError
from hmf.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + message; keep one line
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hmf", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in (data, train, sweep):
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UsageError, DataError, ValueError) as exc:
        message = " ".join(str(exc).split())
        print(f"hmf {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
