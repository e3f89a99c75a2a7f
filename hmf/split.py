"""Training / validation / test splits of paper Section 4.1.

Two rules, both as the paper's text states them:

* the *temporal global split* (ML-100K, ML-1M, Ciao): a stable sort of every interaction by
  timestamp, the last 20 % as test (cut at ``floor(0.8 n)``), the last 20 % of the rest as
  validation (same rule);
* the *calendar split* (DIGINETICA): January-March train, April validation, May to June 1 test,
  and users with fewer than five training views removed from every subset.

In both, validation and test keep only users and items that occur in training (no method of the
paper handles cold start). Users and items are then re-indexed ``0..n-1`` in the order of their
raw ids, so model code never sees raw ids and index order is easy to read back.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from hmf import data
from hmf.data import Dataset

__all__ = [
    "Split",
    "temporal_global_split",
    "calendar_split",
    "paper_split",
    "implicit_split",
    "load_split",
    "split_for",
    "with_validation_in_training",
    "IMPLICIT_SUFFIX",
]

IMPLICIT_SUFFIX = "-implicit"

_COLUMNS = ["user", "item", "rating", "timestamp"]


@dataclasses.dataclass(frozen=True)
class Split:
    """A data set cut into the three subsets, with contiguous ids.

    ``train``, ``validation`` and ``test`` each have the columns ``user`` and ``item``
    (int32 indices into ``user_ids`` / ``item_ids``), ``rating`` (float32; 1.0 for implicit
    feedback) and ``timestamp`` (int64 Unix seconds).
    """

    dataset: str
    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    user_ids: np.ndarray  # (n_users,) raw id of each user index
    item_ids: np.ndarray  # (n_items,) raw id of each item index
    implicit: bool
    verified: bool

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def subset(self, name: str) -> pd.DataFrame:
        """One subset by name: ``"train"``, ``"validation"`` or ``"test"``."""
        if name not in ("train", "validation", "test"):
            raise ValueError(f"unknown subset {name!r}: expected 'train', 'validation' or 'test'")
        return getattr(self, name)

    def stats(self) -> dict:
        """The row of paper Table 1 for this split.

        ``density`` is (training + validation + test interactions) / (users x items), the
        definition that reproduces the paper's column.
        """
        n = len(self.train) + len(self.validation) + len(self.test)
        return {
            "dataset": self.dataset,
            "users": self.n_users,
            "items": self.n_items,
            "train": len(self.train),
            "validation": len(self.validation),
            "test": len(self.test),
            "density": n / (self.n_users * self.n_items),
            "verified": self.verified,
        }


def _cut(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First ``floor(0.8 n)`` rows, and the rest (integer arithmetic: no float rounding)."""
    k = 4 * len(frame) // 5
    return frame.iloc[:k], frame.iloc[k:]


def _index(
    dataset: Dataset,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    test: pd.DataFrame,
    name: str | None = None,
    implicit: bool | None = None,
) -> Split:
    """Drop cold-start rows from evaluation, then map raw ids to ``0..n-1``."""
    if len(train) == 0:
        n = len(dataset.interactions)
        raise data.DataError(
            f"{name or dataset.name}: the split leaves no training interactions ({n} "
            f"interactions in all, {len(validation)} for validation, {len(test)} for test); "
            "expected a training subset that is not empty (the temporal split trains on the "
            "first floor(0.8 x floor(0.8 n)) interactions by time, so n >= 3; the calendar "
            "split on the views before April 2016 of users with at least five of them)"
        )
    user_ids = np.sort(pd.unique(train["user"].to_numpy()))
    item_ids = np.sort(pd.unique(train["item"].to_numpy()))
    user_index = pd.Index(user_ids)
    item_index = pd.Index(item_ids)

    def encode(frame: pd.DataFrame, filter_cold: bool) -> pd.DataFrame:
        if filter_cold:
            keep = frame["user"].isin(user_index) & frame["item"].isin(item_index)
            frame = frame[keep]
        return pd.DataFrame(
            {
                "user": user_index.get_indexer(frame["user"]).astype(np.int32),
                "item": item_index.get_indexer(frame["item"]).astype(np.int32),
                "rating": frame["rating"].to_numpy(np.float32),
                "timestamp": frame["timestamp"].to_numpy(np.int64),
            }
        )

    return Split(
        dataset=name or dataset.name,
        train=encode(train, filter_cold=False),
        validation=encode(validation, filter_cold=True),
        test=encode(test, filter_cold=True),
        user_ids=np.asarray(user_ids),
        item_ids=np.asarray(item_ids),
        implicit=dataset.implicit if implicit is None else implicit,
        verified=dataset.verified,
    )


def temporal_global_split(dataset: Dataset) -> Split:
    """Temporal global split (paper Section 4.1, after Meng et al. 2020).

    Sort by timestamp with a stable sort (ties keep file order); test = rows from
    ``floor(0.8 n)`` on; validation = rows from ``floor(0.8 m)`` on of the remaining ``m``.
    """
    ordered = dataset.interactions[_COLUMNS].sort_values("timestamp", kind="stable")
    rest, test = _cut(ordered)
    train, validation = _cut(rest)
    return _index(dataset, train, validation, test)


def _drop_inactive(train, validation, test, min_train_interactions: int):
    counts = train["user"].value_counts()
    active = counts.index[counts >= min_train_interactions]
    return tuple(f[f["user"].isin(active)] for f in (train, validation, test))


def calendar_split(
    dataset: Dataset,
    validation_start: str = "2016-04-01",
    test_start: str = "2016-05-01",
    min_train_interactions: int = 5,
) -> Split:
    """DIGINETICA split (paper Section 4.1): by calendar month, then a user filter.

    Train = before ``validation_start``, validation = up to ``test_start``, test = the rest.
    Users with fewer than ``min_train_interactions`` training rows are removed from all three
    subsets before cold-start filtering.
    """
    frame = dataset.interactions[_COLUMNS].sort_values("timestamp", kind="stable")
    t_val = int(pd.Timestamp(validation_start, tz="UTC").timestamp())
    t_test = int(pd.Timestamp(test_start, tz="UTC").timestamp())
    train = frame[frame["timestamp"] < t_val]
    validation = frame[(frame["timestamp"] >= t_val) & (frame["timestamp"] < t_test)]
    test = frame[frame["timestamp"] >= t_test]
    train, validation, test = _drop_inactive(train, validation, test, min_train_interactions)
    return _index(dataset, train, validation, test)


def paper_split(dataset: Dataset) -> Split:
    """The split the paper uses for ``dataset`` (calendar for DIGINETICA, else temporal)."""
    if dataset.name == "diginetica":
        return calendar_split(dataset)
    return temporal_global_split(dataset)


def implicit_split(dataset: Dataset, min_train_interactions: int = 5) -> Split:
    """An explicit data set as implicit feedback: the stand-in for DIGINETICA's ranking task.

    Every rating counts as a view (rating 1.0); the temporal global split as for ratings; then,
    as for DIGINETICA, users with fewer than ``min_train_interactions`` training interactions are
    removed from all subsets, and cold-start rows from evaluation. Named ``<name>-implicit``.
    """
    frame = dataset.interactions[_COLUMNS].sort_values("timestamp", kind="stable")
    frame = frame.assign(rating=np.float32(1.0))
    rest, test = _cut(frame)
    train, validation = _cut(rest)
    train, validation, test = _drop_inactive(train, validation, test, min_train_interactions)
    return _index(
        dataset, train, validation, test, name=dataset.name + IMPLICIT_SUFFIX, implicit=True
    )


def load_split(name: str, data_dir=None) -> Split:
    """The paper's split of a data set by name; ``<name>-implicit`` gives :func:`implicit_split`.

    Local copies that differ from the official files are used without a warning here; the
    returned split's ``verified`` flag carries the mark instead.
    """
    base = name[: -len(IMPLICIT_SUFFIX)] if name.endswith(IMPLICIT_SUFFIX) else name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.store.UnverifiedCopyWarning)
        dataset = data.load(base, data_dir)
    if base != name:
        if dataset.implicit:
            raise ValueError(f"{base!r} is already implicit feedback; use {base!r}")
        return implicit_split(dataset)
    return paper_split(dataset)


_CACHE: dict[tuple, Split] = {}


def split_for(name: str, data_dir=None) -> Split:
    """:func:`load_split`, once per (name, data directory) in a process: a sweep's worker, a
    chapter and a table all reuse the same split."""
    key = (name, None if data_dir is None else str(data_dir))
    if key not in _CACHE:
        _CACHE[key] = load_split(name, data_dir)
    return _CACHE[key]


def with_validation_in_training(split: Split) -> Split:
    """``split`` with its validation ratings added to the training subset (the authors' code
    retrains the selected configuration this way before scoring the test subset); the validation
    subset itself is kept, for the per-epoch history only - it no longer measures anything held
    out."""
    train = pd.concat([split.train, split.validation], ignore_index=True)
    return dataclasses.replace(split, train=train)
