"""Split rules of paper Section 4.1: stable ties, floor cuts, cold-start filtering, calendar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hmf import split
from hmf.data import Dataset


def _dataset(rows, name="toy", implicit=False) -> Dataset:
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    frame["rating"] = frame["rating"].astype(np.float32)
    return Dataset(name, frame, pd.DataFrame(), pd.DataFrame(), implicit=implicit, verified=True)


def _raw(s: split.Split, subset: str) -> list[tuple[int, int]]:
    frame = s.subset(subset)
    return list(zip(s.user_ids[frame["user"]].tolist(), s.item_ids[frame["item"]].tolist()))


@pytest.mark.parametrize(
    "n, sizes", [(10, (6, 2, 2)), (11, (6, 2, 3)), (100, (64, 16, 20)), (7, (4, 1, 2))]
)
def test_floor_cuts(n, sizes):
    # One user and one item everywhere, so no row is filtered as cold start.
    ds = _dataset([(1, 1, 3, t) for t in range(n)])
    s = split.temporal_global_split(ds)
    # test starts at floor(0.8 n); validation starts at floor(0.8 m) of the remaining m.
    assert (len(s.train), len(s.validation), len(s.test)) == sizes


def test_ties_keep_file_order():
    # Ten rows, all at the same time except the first: the stable sort keeps file order, so the
    # cut falls between file rows 8 and 9 - not in an arbitrary place among equal timestamps.
    rows = [(u, u, 3, 5) for u in range(1, 10)] + [(0, 0, 3, 1)]
    s = split.temporal_global_split(_dataset(rows))
    assert _raw(s, "train") == [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]
    assert s.validation.empty  # users 6, 7 are not in training
    assert s.test.empty


def test_cold_start_rows_leave_evaluation_only():
    rows = [
        (1, 10, 5, 1),
        (2, 20, 4, 2),
        (1, 20, 3, 3),
        (2, 10, 2, 4),
        (1, 10, 1, 5),
        (3, 10, 1, 6),
        (1, 30, 2, 7),
        (2, 20, 3, 8),  # validation: unseen user 3, unseen item 30
        (4, 20, 3, 9),
        (2, 10, 4, 10),  # test: unseen user 4
    ]
    s = split.temporal_global_split(_dataset(rows))
    assert len(s.train) == 6  # floor(0.8 * 8) of the first floor(0.8 * 10) rows
    assert _raw(s, "validation") == [(2, 20)]
    assert _raw(s, "test") == [(2, 10)]
    assert s.n_users == 3 and s.n_items == 2  # users 1, 2, 3 (3 is in training); items 10, 20


def test_contiguous_ids_sorted_by_raw_id():
    rows = [(30, 7, 1, 1), (10, 9, 2, 2), (20, 8, 3, 3), (10, 7, 4, 4), (30, 9, 5, 5)]
    s = split.temporal_global_split(_dataset(rows))
    assert s.user_ids.tolist() == [10, 20, 30]
    assert s.item_ids.tolist() == [7, 8, 9]
    assert s.train["user"].dtype == np.int32
    assert s.train["user"].tolist() == [2, 0, 1]


def test_stats_density_counts_all_subsets():
    s = split.temporal_global_split(_dataset([(u % 3, u % 4, 3, u) for u in range(40)]))
    st = s.stats()
    total = st["train"] + st["validation"] + st["test"]
    assert st["density"] == pytest.approx(total / (st["users"] * st["items"]))


def _day(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").timestamp())


def test_calendar_split_months_and_activity_filter():
    rows = []
    for k in range(5):  # user 1: five training views; user 2: four
        rows.append((1, 100 + k, 1, _day(f"2016-01-0{k + 1}")))
    for k in range(4):
        rows.append((2, 100 + k, 1, _day(f"2016-02-0{k + 1}")))
    rows += [
        (1, 100, 1, _day("2016-04-10")),
        (2, 100, 1, _day("2016-04-11")),  # validation
        (1, 101, 1, _day("2016-05-01")),
        (1, 999, 1, _day("2016-06-01")),  # test; 999 unseen
        (2, 102, 1, _day("2016-05-20")),
    ]
    s = split.paper_split(_dataset(rows, name="diginetica", implicit=True))
    assert s.user_ids.tolist() == [1]  # user 2 had only four training views: removed everywhere
    assert len(s.train) == 5
    assert _raw(s, "validation") == [(1, 100)]
    assert _raw(s, "test") == [(1, 101)]
    assert s.implicit


def test_subset_name_checked():
    s = split.temporal_global_split(_dataset([(1, 1, 3, t) for t in range(5)]))
    with pytest.raises(ValueError, match="unknown subset 'valid'"):
        s.subset("valid")


def test_implicit_substitute_drops_light_users_everywhere():
    # user 1: five training rows; user 2: one training row, then later rows in evaluation.
    rows = [(1, 10 + k, 4, k) for k in range(5)] + [(2, 10, 5, 5)]
    rows += [(1, 11, 2, 6), (2, 11, 3, 7), (1, 12, 1, 8), (2, 12, 5, 9)]
    s = split.implicit_split(_dataset(rows, name="toy"))
    assert s.dataset == "toy-implicit" and s.implicit
    assert s.user_ids.tolist() == [1]
    assert set(s.train["rating"]) == {1.0}
    assert _raw(s, "validation") + _raw(s, "test") == [(1, 11), (1, 12)]
