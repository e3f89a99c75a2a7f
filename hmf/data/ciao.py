"""Ciao (Tang et al.), the 36,065-row ``rating_with_timestamp.txt`` release the paper uses.

MATLAB ``save -ascii`` text: CRLF lines of six ``%.7e`` fields - user, product, category,
rating, helpfulness, timestamp. Every value is an exact integer (timestamps are multiples of
3600, so eight significant digits lose nothing); anything else is a format error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hmf.data._text import line_of_row, read_delimited, read_text
from hmf.data._types import FormatError

__all__ = ["parse_ciao", "RATINGS_FILE"]

RATINGS_FILE = "ciao/ciao_with_rating_timestamp_txt/rating_with_timestamp.txt"
_COLUMNS = ("user", "item", "category", "rating", "helpfulness", "timestamp")


def parse_ciao(paths: dict[str, Path]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    path = paths[RATINGS_FILE]
    text = read_text(path, "ascii")
    raw = read_delimited(
        path,
        text,
        "whitespace",
        _COLUMNS,
        float_columns=_COLUMNS,
        what="six integral %.7e fields: user product category rating helpfulness timestamp",
    )
    bad = ~raw["rating"].between(1, 5)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(
            f"{path}, line {line_of_row(text, row)}: rating {raw['rating'].iloc[row]} outside 1..5"
        )
    ratings = pd.DataFrame(
        {
            "user": raw["user"].to_numpy(),
            "item": raw["item"].to_numpy(),
            "rating": raw["rating"].to_numpy(np.float32),
            "timestamp": raw["timestamp"].to_numpy(),
        }
    )
    # An item's category is fixed in the release; keep the first seen.
    items = raw.groupby("item", sort=True)["category"].first().to_frame()
    users = pd.DataFrame(index=pd.Index(np.unique(raw["user"]), name="user"))
    return ratings, users, items
