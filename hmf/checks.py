"""Argument checks shared by every layer: one message shape, ``<name> must be …, got <value>``.

Each check returns the value converted (``float`` / ``int``) and raises
:class:`~hmf.errors.UsageError`, which the command line prints as one line with exit code 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

from hmf.errors import UsageError

__all__ = ["number", "integer", "levels", "lookup"]


def _bounds(value, name: str, low, strict: bool, high, what: str) -> None:
    if low is not None and (value < low or (strict and value == low)):
        raise UsageError(f"{name} must be {'>' if strict else '>='} {low}, got {value!r}")
    if high is not None and value > high:
        extra = f" ({what})" if what else ""
        raise UsageError(f"{name} must be <= {high}{extra}, got {value!r}")


def number(value, name: str, *, low=None, strict: bool = False, high=None, what: str = "") -> float:
    """A finite real number within ``[low, high]`` (``low`` excluded when ``strict``); ``what``
    says what ``high`` is."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise UsageError(f"{name} must be a finite number, got {value!r}")
    _bounds(value, name, low, strict, high, what)
    return float(value)


def integer(value, name: str, *, low=None, high=None, what: str = "") -> int:
    """An integer within ``[low, high]``; ``what`` says what ``high`` is."""
    if isinstance(value, bool) or not isinstance(value, Integral) or (low == 1 and value < 1):
        kind = "a positive integer" if low == 1 else "an integer"
        raise UsageError(f"{name} must be {kind}, got {value!r}")
    _bounds(value, name, low, False, high, what)
    return int(value)


def lookup(table, name, what: str, hint: str = ""):
    """``table[name]``; an unknown name is an error that lists the known ones."""
    try:
        return table[name]
    except KeyError:
        raise UsageError(
            f"unknown {what} {name!r}: expected one of {', '.join(table)}"
            + (f" ({hint})" if hint else "")
        ) from None


def levels(value, name: str, *, high=None, what: str = "") -> tuple[int, ...]:
    """Cluster counts per level: one positive integer or a non-empty sequence of them."""
    sizes = (value,) if isinstance(value, Integral) and not isinstance(value, bool) else value
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or not sizes:
        raise UsageError(
            f"{name} must be a positive integer or a non-empty sequence of them, got {value!r}"
        )
    return tuple(integer(v, name, low=1, high=high, what=what) for v in sizes)
