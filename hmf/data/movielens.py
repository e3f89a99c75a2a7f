"""MovieLens 100K and 1M (GroupLens): ratings plus item and user side tables.

ML-100K: ``u.data`` (tab-separated ``user item rating timestamp``), ``u.item`` (``|``-separated,
24 fields, Latin-1), ``u.user`` (``id|age|gender|occupation|zip``).
ML-1M: ``ratings.dat`` (``user::movie::rating::timestamp``), ``movies.dat``
(``id::title::genres``, Latin-1), ``users.dat`` (``id::gender::age::occupation::zip``, coded).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hmf.data._text import line_of_row, read_delimited, read_text
from hmf.data._types import FormatError

__all__ = ["parse_ml100k", "parse_ml1m"]

ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)

# ML-1M codes, from the archive's README.
ML1M_AGES = {
    1: "Under 18",
    18: "18-24",
    25: "25-34",
    35: "35-44",
    45: "45-49",
    50: "50-55",
    56: "56+",
}
ML1M_OCCUPATIONS = (
    "other",
    "academic/educator",
    "artist",
    "clerical/admin",
    "college/grad student",
    "customer service",
    "doctor/health care",
    "executive/managerial",
    "farmer",
    "homemaker",
    "K-12 student",
    "lawyer",
    "programmer",
    "retired",
    "sales/marketing",
    "scientist",
    "self-employed",
    "technician/engineer",
    "tradesman/craftsman",
    "unemployed",
    "writer",
)

_RATING_COLUMNS = ("user", "item", "rating", "timestamp")


def _ratings(path: Path, sep: str, what: str) -> pd.DataFrame:
    text = read_text(path, "ascii")
    frame = read_delimited(
        path,
        text,
        sep,
        _RATING_COLUMNS,
        integer_columns=_RATING_COLUMNS,
        what=what,
    )
    bad = ~frame["rating"].between(1, 5)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(
            f"{path}, line {line_of_row(text, row)}: rating {frame['rating'].iloc[row]} "
            "outside 1..5"
        )
    frame["rating"] = frame["rating"].astype(np.float32)
    return frame


def parse_ml100k(paths: dict[str, Path]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ratings = _ratings(paths["ml-100k/u.data"], "\t", "user<TAB>item<TAB>rating<TAB>timestamp")

    path = paths["ml-100k/u.item"]
    columns = ("item", "title", "release_date", "video_release_date", "url", *ML100K_GENRES)
    raw = read_delimited(
        path,
        read_text(path, "latin-1"),
        "|",
        columns,
        integer_columns=("item", *ML100K_GENRES),
        what="24 '|'-separated fields",
    )
    flags = raw[list(ML100K_GENRES)].to_numpy(bool)
    items = pd.DataFrame(
        {
            "title": raw["title"].to_numpy(),
            "genres": ["|".join(g for g, f in zip(ML100K_GENRES, row) if f) for row in flags],
            "release_date": raw["release_date"].to_numpy(),
        },
        index=pd.Index(raw["item"].to_numpy(), name="item"),
    )

    path = paths["ml-100k/u.user"]
    raw = read_delimited(
        path,
        read_text(path, "latin-1"),
        "|",
        ("user", "age", "gender", "occupation", "zip"),
        integer_columns=("user", "age"),
        what="id|age|gender|occupation|zip",
    )
    users = raw.set_index("user")
    return ratings, users, items


def parse_ml1m(paths: dict[str, Path]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ratings = _ratings(paths["ml-1m/ratings.dat"], "::", "UserID::MovieID::Rating::Timestamp")

    path = paths["ml-1m/movies.dat"]
    raw = read_delimited(
        path,
        read_text(path, "latin-1"),
        "::",
        ("item", "title", "genres"),
        integer_columns=("item",),
        what="MovieID::Title::Genres",
    )
    items = raw.set_index("item")

    path = paths["ml-1m/users.dat"]
    text = read_text(path, "latin-1")
    raw = read_delimited(
        path,
        text,
        "::",
        ("user", "gender", "age", "occupation", "zip"),
        integer_columns=("user", "age", "occupation"),
        what="UserID::Gender::Age::Occupation::Zip",
    )
    unknown = ~raw["occupation"].between(0, len(ML1M_OCCUPATIONS) - 1)
    if unknown.any():
        line = line_of_row(text, int(np.flatnonzero(unknown.to_numpy())[0]))
        raise FormatError(f"{path}, line {line}: occupation code outside 0..20")
    users = pd.DataFrame(
        {
            "gender": raw["gender"].to_numpy(),
            "age": raw["age"].map(ML1M_AGES).to_numpy(),
            "occupation": np.asarray(ML1M_OCCUPATIONS, dtype=object)[raw["occupation"]],
            "zip": raw["zip"].to_numpy(),
        },
        index=pd.Index(raw["user"].to_numpy(), name="user"),
    )
    return ratings, users, items
