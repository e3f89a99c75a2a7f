"""Your own ratings as a :class:`~hmf.data.Dataset`, ready for the paper's splits and models.

>>> from hmf import data, split
>>> ds = data.read_ratings("ratings.csv")        # header: user,item,rating,timestamp
>>> sp = split.temporal_global_split(ds)

Both entry points check the four columns the rest of ``hmf`` relies on and say exactly what is
wrong (the column, the row or file line, the value, and what was expected):

* ``user``, ``item`` - ids: integers, or strings (``"u17"``). String ids are replaced by integers
  ``0..n-1`` in order of first appearance, and the strings are kept in the side tables
  (``ds.users["label"]``, ``ds.items["label"]``);
* ``rating`` - a finite number (any scale). With ``implicit=True`` it may be absent and is
  ignored: every row counts as one positive interaction (rating 1.0), as in DIGINETICA;
* ``timestamp`` - whole Unix seconds, or dates (datetime values or ISO 8601 strings such as
  ``2016-01-31 12:00``; dates without a time zone are taken as UTC). The temporal split orders
  interactions by it, ties keeping row order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hmf.data._types import Dataset, FormatError

__all__ = ["COLUMNS", "from_frame", "read_ratings"]

COLUMNS = ("user", "item", "rating", "timestamp")

_INTEGER = re.compile(r"^[+-]?\d+$")

# Where a bad value is: "row 3" for a data frame, "ratings.csv, line 5" for a file.
Locate = Callable[[int], str]


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _shown(value) -> str:
    if isinstance(value, str):
        return repr(value) if value.strip() else "an empty field"
    return repr(value.item() if isinstance(value, np.generic) else value)


def _missing(values: pd.Series) -> np.ndarray:
    missing = values.isna().to_numpy(dtype=bool, copy=True)
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        blank = values[~missing].astype(str).str.strip().eq("").to_numpy(dtype=bool)
        missing[~missing] = blank
    return missing


def _check_present(values: pd.Series, column: str, name: str, locate: Locate, expected: str):
    missing = _missing(values)
    if missing.any():
        i = _first(missing)
        raise FormatError(
            f"{name}: {locate(i)}: column {column!r} has no value; expected {expected}"
        )


def _ids(values: pd.Series, column: str, name: str, locate: Locate):
    """Integer ids as int64, or string ids coded 0..n-1 (first appearance) plus their labels."""
    expected = "an integer or string id"
    _check_present(values, column, name, locate, expected)
    if pd.api.types.is_bool_dtype(values.dtype):
        raise FormatError(f"{name}: column {column!r} holds booleans; expected {expected}s")
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.to_numpy(np.int64), None
    if pd.api.types.is_float_dtype(values.dtype):
        x = values.to_numpy(np.float64)
        bad = ~np.isfinite(x) | (x != np.round(x))
        if bad.any():
            i = _first(bad)
            raise FormatError(
                f"{name}: {locate(i)}: column {column!r} has {float(x[i])!r}; expected {expected} "
                "(a float id must be a whole number)"
            )
        return x.astype(np.int64), None
    if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
        raise FormatError(
            f"{name}: column {column!r} has dtype {values.dtype}; expected {expected}s"
        )
    text = values.astype(str).str.strip()
    if text.str.fullmatch(_INTEGER).all():
        return text.astype(np.int64).to_numpy(), None
    codes, labels = pd.factorize(text, sort=False)
    return codes.astype(np.int64), np.asarray(labels, dtype=object)


def _refuse_first(
    bad, values: pd.Series, column: str, name: str, locate: Locate, expected: str, sep: str = ";"
) -> None:
    """The first row of ``bad`` (if any) as a FormatError naming the file, row and value."""
    if bad.any():
        i = _first(bad)
        raise FormatError(
            f"{name}: {locate(i)}: column {column!r} has "
            f"{_shown(values.iloc[i])}{sep} expected {expected}"
        )


def _ratings(values: pd.Series, name: str, locate: Locate) -> np.ndarray:
    expected = "a finite number"
    _check_present(values, "rating", name, locate, expected)
    if pd.api.types.is_bool_dtype(values.dtype):
        raise FormatError(f"{name}: column 'rating' holds booleans; expected numbers")
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    _refuse_first(~np.isfinite(numbers), values, "rating", name, locate, expected)
    return numbers.astype(np.float32)


def _seconds_from_dates(dates: pd.Series) -> np.ndarray:
    if dates.dt.tz is None:
        dates = dates.dt.tz_localize("UTC")
    seconds = (dates.dt.tz_convert("UTC") - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    return seconds.to_numpy(np.int64)


# Unix seconds that pandas' datetimes (nanoseconds in an int64) can hold: years 1677-2262. Past
# them a value would wrap around to INT64_MIN instead of failing.
_SECONDS = (
    int(pd.Timestamp.min.ceil("s").timestamp()),
    int(pd.Timestamp.max.floor("s").timestamp()),
)


def _timestamps(values: pd.Series, name: str, locate: Locate) -> np.ndarray:
    expected = "whole Unix seconds or an ISO 8601 date such as '2016-01-31 12:00'"
    _check_present(values, "timestamp", name, locate, expected)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _seconds_from_dates(values)
    if pd.api.types.is_bool_dtype(values.dtype):
        raise FormatError(f"{name}: column 'timestamp' holds booleans; expected {expected}")
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(np.float64)
    else:
        text = values.astype(str).str.strip()
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
        is_number = ~np.isnan(numbers)
        if is_number.any() and not is_number.all():
            i, j = _first(is_number), _first(~is_number)
            raise FormatError(
                f"{name}: column 'timestamp' mixes Unix seconds ({locate(i)}: "
                f"{_shown(values.iloc[i])}) and other values ({locate(j)}: "
                f"{_shown(values.iloc[j])}); expected {expected}, the same kind in every row"
            )
        if not is_number.any():  # dates; those without a time zone are UTC
            try:
                dates = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
            except (ValueError, TypeError) as exc:
                raise FormatError(
                    f"{name}: column 'timestamp' cannot be read as dates ({exc}); "
                    f"expected {expected}"
                ) from None
            _refuse_first(dates.isna().to_numpy(), values, "timestamp", name, locate, expected)
            return _seconds_from_dates(dates)
    bad = ~np.isfinite(numbers) | (numbers != np.round(numbers))
    _refuse_first(bad, values, "timestamp", name, locate, expected)
    low, high = _SECONDS
    _refuse_first(
        (numbers < low) | (numbers > high),
        values,
        "timestamp",
        name,
        locate,
        f"{low} to {high} (years 1677-2262)",
        ", outside the Unix seconds a date can hold;",
    )
    return numbers.astype(np.int64)


def _side_table(labels, index_name: str) -> pd.DataFrame:
    if labels is None:
        return pd.DataFrame(index=pd.Index([], dtype=np.int64, name=index_name))
    return pd.DataFrame(
        {"label": labels}, index=pd.Index(np.arange(len(labels), dtype=np.int64), name=index_name)
    )


def _build(frame, name: str, implicit: bool, locate: Locate, notes=(), files=()) -> Dataset:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"{name}: expected a pandas DataFrame with columns {', '.join(COLUMNS)}, "
            f"got {type(frame).__name__}"
        )
    required = [c for c in COLUMNS if not (implicit and c == "rating")]
    found = [str(c) for c in frame.columns]
    for column in required:
        if column not in frame.columns:
            hint = (
                " (or pass implicit=True for feedback without ratings)"
                if column == "rating"
                else ""
            )
            raise FormatError(
                f"{name}: column {column!r} is missing; expected columns "
                f"{', '.join(COLUMNS)}{hint}, found {', '.join(found) or 'none'}"
            )
    if frame.columns.duplicated().any():
        twice = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise FormatError(f"{name}: column(s) {', '.join(map(repr, twice))} appear more than once")
    if len(frame) == 0:
        raise FormatError(f"{name}: no interactions; expected at least one row")

    users, user_labels = _ids(frame["user"], "user", name, locate)
    items, item_labels = _ids(frame["item"], "item", name, locate)
    if implicit:  # every row is one positive interaction; a rating column is ignored
        ratings = np.ones(len(frame), dtype=np.float32)
    else:
        ratings = _ratings(frame["rating"], name, locate)
    timestamps = _timestamps(frame["timestamp"], name, locate)

    interactions = pd.DataFrame(
        {"user": users, "item": items, "rating": ratings, "timestamp": timestamps}
    )
    return Dataset(
        name=name,
        interactions=interactions,
        users=_side_table(user_labels, "user"),
        items=_side_table(item_labels, "item"),
        implicit=bool(implicit),
        verified=True,  # the reader's own data: there is no official copy to compare with
        files=tuple(files),
        notes=tuple(notes),
    )


def from_frame(frame: pd.DataFrame, name: str = "custom", implicit: bool = False) -> Dataset:
    """A :class:`~hmf.data.Dataset` from a data frame with columns ``user``, ``item``,
    ``rating`` and ``timestamp`` (other columns are ignored; row order is kept).

    Raises :class:`~hmf.data.FormatError` naming the column, the row (0-based position) and
    what was expected when a column is missing or a value is not usable.
    """
    return _build(frame, name, implicit, lambda i: f"row {i}")


def read_ratings(
    path: str | os.PathLike,
    sep: str = ",",
    columns: Mapping[str, str] | Sequence[str] | None = None,
    *,
    name: str | None = None,
    implicit: bool = False,
    encoding: str = "utf-8",
) -> Dataset:
    """Read a delimited ratings file (CSV by default) into a :class:`~hmf.data.Dataset`.

    ``columns`` says how the file's columns map to ``user``, ``item``, ``rating`` and
    ``timestamp``:

    * ``None`` (default): the first line is a header that names them;
    * a mapping from the file's header names to ours, e.g. MovieLens' ``ratings.csv``:
      ``{"userId": "user", "movieId": "item"}`` (``rating`` and ``timestamp`` already match);
    * a sequence: the file has **no** header and these are its columns, in order, e.g.
      ``("user", "item", "rating", "timestamp")``; name any other column ``"_"`` to skip it.

    ``name`` defaults to the file's stem. Errors name the file and line.
    """
    path = Path(path)
    name = name or path.stem
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such ratings file")
    if isinstance(columns, (str, bytes)):
        raise TypeError(
            "columns: expected a mapping {file column: ours} or a sequence of column names, "
            f"got the string {columns!r}"
        )
    header = columns is None or isinstance(columns, Mapping)
    try:
        frame = pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding=encoding,
            engine="python" if len(sep) > 1 else "c",
            header=0 if header else None,
            index_col=False,
        )
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not valid {encoding} text ({exc.reason})") from None
    except pd.errors.EmptyDataError:
        what = "a header line naming user, item, rating, timestamp" if header else "rows"
        raise FormatError(
            f"{path}: is empty; expected {what} and one interaction per line"
        ) from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except pd.errors.ParserError as exc:
        raise FormatError(
            f"{path}: cannot be read as {sep!r}-separated columns ({exc}); "
            f"expected {'a header and ' if header else ''}one interaction per line"
        ) from None
    if not header:
        columns = list(columns)
        if frame.shape[1] != len(columns):
            raise FormatError(
                f"{path}, line 1: {frame.shape[1]} {sep!r}-separated fields, but columns= names "
                f"{len(columns)} ({', '.join(columns)})"
            )
        frame.columns = [f"_{i}" if c == "_" else c for i, c in enumerate(columns)]
    elif isinstance(columns, Mapping):
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            raise FormatError(
                f"{path}: header has no column {absent[0]!r} (named in columns=); "
                f"found {', '.join(map(str, frame.columns))}"
            )
        frame = frame.rename(columns=dict(columns))
    frame = frame.replace("", np.nan)
    first_line = 2 if header else 1
    return _build(
        frame,
        name,
        implicit,
        lambda i: f"{path}, line {i + first_line}",
        notes=(f"read from {path}",),
        files=(str(path),),
    )
