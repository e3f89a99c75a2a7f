"""The README's "Use hmf on your own ratings" example runs as written, and `hmf.data.custom`
reports bad input clearly (column, row or line, and what was expected)."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from hmf import data
from hmf.data import FormatError


def readme_example() -> str:
    """The first ```python block of the README section "Use hmf on your own ratings"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Use hmf on your own ratings\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section, "README.md has no section '## Use hmf on your own ratings'"
    block = re.search(r"^```python\n(.*?)^```", section.group(1), re.M | re.S)
    assert block, "the README section 'Use hmf on your own ratings' has no ```python block"
    return block.group(1)


def synthetic_ratings(n_users=60, n_items=40, n=2400, seed=0) -> pd.DataFrame:
    """Ratings with a planted block structure, in time order."""
    rng = np.random.default_rng(seed)
    user = rng.integers(0, n_users, n)
    item = rng.integers(0, n_items, n)
    signal = (user % 3 - 1) * (2 * (item % 2) - 1)
    rating = np.clip(np.round(3 + signal + rng.normal(0, 0.5, n)), 1, 5)
    timestamp = 1_600_000_000 + np.sort(rng.integers(0, 10_000_000, n))
    return pd.DataFrame({"user": user, "item": item, "rating": rating, "timestamp": timestamp})


def test_readme_example_is_short():
    code = [line for line in readme_example().splitlines() if line.strip()]
    assert len(code) <= 12, f"the README example has {len(code)} lines; keep it about ten"


def test_readme_example_runs(tmp_path, monkeypatch, capsys):
    code = readme_example()
    files = re.findall(r'read_ratings\("([^"]+)"', code)
    assert files, 'the README example does not call data.read_ratings("FILE")'
    synthetic_ratings().to_csv(tmp_path / files[0], index=False)
    monkeypatch.chdir(tmp_path)

    namespace: dict = {"__name__": "readme_example"}
    exec(compile(code, "README.md (Use hmf on your own ratings)", "exec"), namespace)

    result, split = namespace["result"], namespace["split"]
    assert split.n_users > 0 and len(split.test) > 0
    assert result.epochs <= 20
    out = capsys.readouterr().out
    match = re.search(r"'rmse': ([0-9.eE+-]+)", out)
    assert match, f"the example did not print the test RMSE; it printed:\n{out}"
    assert math.isfinite(float(match.group(1))) and 0 < float(match.group(1)) < 4.0
    assert "user_cluster_l1" in out, f"the example did not print the affinity table:\n{out}"

    from hmf import interpret

    affinity = interpret.affinity(result.params)
    assert affinity.shape == (8, 4), "user_clusters=8, item_clusters=4 -> an 8 x 4 affinity table"


# --- from_frame -----------------------------------------------------------------------------


def frame(**changes) -> pd.DataFrame:
    base = {
        "user": [1, 2, 2],
        "item": [10, 10, 11],
        "rating": [4.0, 3.0, 5.0],
        "timestamp": [100, 200, 150],
    }
    base.update(changes)
    return pd.DataFrame(base)


def test_from_frame_tidy_dataset():
    ds = data.from_frame(frame(extra=["a", "b", "c"]), name="mine")
    assert ds.name == "mine" and not ds.implicit and ds.verified and ds.mark == ""
    assert list(ds.interactions.columns) == ["user", "item", "rating", "timestamp"]
    assert ds.interactions.dtypes.astype(str).tolist() == ["int64", "int64", "float32", "int64"]
    assert ds.interactions["timestamp"].tolist() == [100, 200, 150]  # row order kept
    assert ds.users.empty and ds.items.empty


def test_from_frame_string_ids_are_coded_and_kept():
    ds = data.from_frame(frame(user=["ann", "bob", "ann"], item=["x", "y", "x"]))
    assert ds.interactions["user"].tolist() == [0, 1, 0]
    assert ds.users["label"].tolist() == ["ann", "bob"]
    assert ds.items.loc[1, "label"] == "y"


def test_from_frame_dates_become_unix_seconds():
    ds = data.from_frame(
        frame(
            timestamp=pd.to_datetime(
                ["1970-01-01 00:00:10", "2016-01-01 00:00:00", "2016-01-02 00:00:00"]
            )
        )
    )
    assert ds.interactions["timestamp"].tolist() == [10, 1451606400, 1451692800]
    ds = data.from_frame(
        frame(timestamp=["2016-01-01T09:00+09:00", "2016-01-01", "2016-01-01 00:00:05"])
    )
    assert ds.interactions["timestamp"].tolist() == [1451606400, 1451606400, 1451606405]


def test_from_frame_implicit_needs_no_rating():
    ds = data.from_frame(frame().drop(columns="rating"), implicit=True)
    assert ds.implicit and ds.interactions["rating"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            frame().drop(columns="timestamp"),
            r"column 'timestamp' is missing; expected columns user, item, rating, timestamp, "
            r"found user, item, rating",
        ),
        (frame().drop(columns="rating"), r"column 'rating' is missing.*implicit=True"),
        (frame().iloc[:0], r"no interactions"),
        (
            frame(user=[1, None, 2]),
            r"row 1: column 'user' has no value; expected an integer or string id",
        ),
        (
            frame(item=[1.0, 2.5, 3.0]),
            r"row 1: column 'item' has 2\.5; expected an integer or string id",
        ),
        (frame(item=["a", " ", "b"]), r"row 1: column 'item' has no value"),
        (
            frame(rating=[4.0, np.inf, 1.0]),
            r"row 1: column 'rating' has inf; expected a finite number",
        ),
        (
            frame(rating=["4", "good", "1"]),
            r"row 1: column 'rating' has 'good'; expected a finite number",
        ),
        (
            frame(timestamp=[1.5, 2.0, 3.0]),
            r"row 0: column 'timestamp' has 1\.5; expected whole Unix seconds",
        ),
        (
            frame(timestamp=["2016-01-01", "yesterday", "2016-01-03"]),
            r"row 1: column 'timestamp' has 'yesterday'; "
            r"expected whole Unix seconds or an ISO 8601 date",
        ),
        (
            frame(timestamp=["100", "2016-01-01", "200"]),
            r"column 'timestamp' mixes Unix seconds \(row 0: '100'\) "
            r"and other values \(row 1: '2016-01-01'\)",
        ),
    ],
)
def test_from_frame_errors_name_column_and_row(bad, message):
    with pytest.raises(FormatError, match=message):
        data.from_frame(bad)


def test_from_frame_rejects_non_frames():
    with pytest.raises(TypeError, match="expected a pandas DataFrame with columns user, item"):
        data.from_frame([(1, 2, 3.0, 4)])


# --- read_ratings ---------------------------------------------------------------------------


def test_read_ratings_header_and_name(tmp_path):
    path = tmp_path / "shop.csv"
    path.write_text("user,item,rating,timestamp\nu1,7,4,100\nu2,7,2.5,101\n")
    ds = data.read_ratings(path)
    assert ds.name == "shop" and ds.files == (str(path),)
    assert ds.interactions["rating"].tolist() == [4.0, 2.5]
    assert ds.users["label"].tolist() == ["u1", "u2"]


def test_read_ratings_renames_header_fields(tmp_path):
    path = tmp_path / "ratings.csv"  # the layout of MovieLens' ratings.csv releases
    path.write_text("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n")
    ds = data.read_ratings(path, columns={"userId": "user", "movieId": "item"})
    assert ds.interactions["item"].tolist() == [31, 1029]


def test_read_ratings_without_header(tmp_path):
    path = tmp_path / "u.data"
    path.write_text("196\t242\t3\t881250949\tx\n186\t302\t3\t891717742\ty\n")
    ds = data.read_ratings(path, sep="\t", columns=("user", "item", "rating", "timestamp", "_"))
    assert ds.interactions["user"].tolist() == [196, 186]


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        (
            "user,item,score,timestamp\n1,2,3,4\n",
            {},
            r"column 'rating' is missing; expected columns "
            r"user, item, rating, timestamp .*found user, item, score, timestamp",
        ),
        (
            "user,item,rating,timestamp\n1,2,3,4\n1,2,x,5\n",
            {},
            r"r\.csv, line 3: column 'rating' has 'x'",
        ),
        (
            "user,item,rating,timestamp\n1,2,3,4\n\n1,2,3,5\n",
            {},
            r"r\.csv, line 3: column 'user' has no value",
        ),
        ("user,item,rating,timestamp\n1,,3,4\n", {}, r"r\.csv, line 2: column 'item' has no value"),
        (
            "1,2,3,4\n",
            {"columns": ("user", "item", "rating")},
            r"r\.csv, line 1: 4 ','-separated fields, but columns= names 3",
        ),
        (
            "uid,iid,rating,timestamp\n1,2,3,4\n",
            {"columns": {"userId": "user"}},
            r"header has no column 'userId' \(named in columns=\)",
        ),
    ],
)
def test_read_ratings_errors_name_file_and_line(tmp_path, text, kwargs, message):
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(FormatError, match=message):
        data.read_ratings(path, **kwargs)


def test_read_ratings_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such ratings file"):
        data.read_ratings(tmp_path / "absent.csv")
