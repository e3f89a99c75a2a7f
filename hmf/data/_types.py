"""The tidy data set every parser returns, and the errors the data layer raises."""

from __future__ import annotations

import dataclasses

import pandas as pd

__all__ = ["Dataset", "DataError", "DatasetMissingError", "ChecksumError", "FormatError"]


class DataError(Exception):
    """Base class of every data-layer error; its message says what to do."""


class DatasetMissingError(DataError, FileNotFoundError):
    """A file a data set needs is not in any place we look."""


class ChecksumError(DataError):
    """A download's digest differs from the published one (the file is deleted)."""


class FormatError(DataError, ValueError):
    """A raw file does not have the format its source documents (names file and line)."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One data set as tidy tables.

    ``interactions`` has one row per interaction, in file order, with columns ``user``,
    ``item`` (raw ids, int64), ``rating`` (float32; 1.0 for implicit feedback) and
    ``timestamp`` (int64 Unix seconds, UTC). ``users`` and ``items`` are side tables indexed by
    raw id (empty when the source has none). ``verified`` is False when a file's digest differs
    from the official one; everything computed from such a copy must say so.
    """

    name: str
    interactions: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame
    implicit: bool
    verified: bool
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def mark(self) -> str:
        """Short label for tables: empty for a verified copy, else ``"unverified copy"``."""
        return "" if self.verified else "unverified copy"
