"""DIGINETICA (CIKM Cup 2016, track 2): item views of logged-in users, as implicit feedback.

``train-item-views.csv`` is ``;``-separated with header ``sessionId;userId;itemId;timeframe;
eventdate`` (snake_case in some copies) and ``NA`` for an anonymous view. Paper Section 4.1: a
session's user is the last user id seen in it, sessions without one are dropped, and only views
from 2016-01-01 to 2016-06-01 are used. The timestamp of a view is its event date (the file has
no clock time; ``timeframe`` only orders views inside a session).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from hmf.data._text import line_of_row, read_text
from hmf.data._types import FormatError

__all__ = ["parse_diginetica", "VIEWS_FILE", "FIRST_DAY", "LAST_DAY"]

VIEWS_FILE = "diginetica/train-item-views.csv"
FIRST_DAY, LAST_DAY = "2016-01-01", "2016-06-01"
_HEADERS = {
    ("sessionId", "userId", "itemId", "timeframe", "eventdate"),  # the CIKM Cup release
    ("session_id", "user_id", "item_id", "timeframe", "eventdate"),  # SR-GNN's sample copy
}
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
_COLUMNS = ("session", "user", "item", "timeframe", "eventdate")


def _fail(path: Path, lines: list[str], problem_row: int, problem: str) -> FormatError:
    # Row r follows the header; blank lines hold no row, so count non-blank lines.
    line = line_of_row("\n".join(lines), problem_row + 1)
    return FormatError(f"{path}, line {line}: {problem} (got {lines[line - 1]!r})")


def parse_diginetica(paths: dict[str, Path]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    path = paths[VIEWS_FILE]
    text = read_text(path, "ascii")
    lines = text.split("\n")
    header = tuple(lines[0].strip().split(";"))
    if header not in _HEADERS:
        raise FormatError(
            f"{path}, line 1: header {';'.join(header)!r}; expected "
            "'sessionId;userId;itemId;timeframe;eventdate'"
        )
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            sep=";",
            header=0,
            names=list(_COLUMNS),
            dtype=str,
            keep_default_na=False,
            on_bad_lines="error",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise FormatError(f"{path}: {exc}") from None
    for column in ("session", "item", "timeframe"):
        values = pd.to_numeric(raw[column], errors="coerce")
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise _fail(path, lines, row, f"{column} is not an integer")
        raw[column] = values.astype(np.int64)
    user = raw["user"].replace("NA", "")
    numeric_user = pd.to_numeric(user.where(user != "", None), errors="coerce")
    if (numeric_user.isna() & (user != "")).any():
        row = int(np.flatnonzero((numeric_user.isna() & (user != "")).to_numpy())[0])
        raise _fail(path, lines, row, "userId is neither an integer nor NA")
    raw["user"] = numeric_user
    dates = pd.to_datetime(raw["eventdate"], format="%Y-%m-%d", errors="coerce", utc=True)
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise _fail(path, lines, row, "eventdate is not YYYY-MM-DD")

    raw["day"] = dates
    raw = raw[
        (dates >= pd.Timestamp(FIRST_DAY, tz="UTC")) & (dates <= pd.Timestamp(LAST_DAY, tz="UTC"))
    ]
    # Views in the order they happened: by day, then session, then position in the session.
    raw = raw.sort_values(["day", "session", "timeframe"], kind="stable")
    session_user = raw.dropna(subset=["user"]).groupby("session")["user"].last()
    raw = raw[raw["session"].isin(session_user.index)]
    interactions = pd.DataFrame(
        {
            "user": raw["session"].map(session_user).to_numpy(np.int64),
            "item": raw["item"].to_numpy(np.int64),
            "rating": np.ones(len(raw), np.float32),
            "timestamp": ((raw["day"] - _EPOCH) // pd.Timedelta(seconds=1)).to_numpy(np.int64),
        }
    )
    users = pd.DataFrame(index=pd.Index(np.unique(interactions["user"]), name="user"))
    items = pd.DataFrame(index=pd.Index(np.unique(interactions["item"]), name="item"))
    return interactions, users, items
