"""The paper's tables as views: our numbers computed from code, the paper's beside them.

Columns holding the paper's values are always prefixed ``paper``; a missing data set is a row of
gaps whose ``note`` gives the command that fetches it.
"""

from __future__ import annotations

import warnings
from typing import Iterable

import pandas as pd

from hmf import data, paper, split

__all__ = ["table1", "TABLE1_FIELDS"]

TABLE1_FIELDS = ("users", "items", "train", "validation", "test", "density")


def table1(names: Iterable[str] = tuple(paper.TABLE1), data_dir=None) -> pd.DataFrame:
    """Paper Table 1 (statistics after the paper's split and filters), ours vs the paper's.

    One row per data set, indexed by its label; columns ``users`` ... ``density`` (ours),
    ``paper users`` ... ``paper density``, ``copy`` (official / unverified copy / missing) and
    ``note``. A data set that is not available is a row of gaps, not an error.
    """
    rows = []
    for name in names:
        spec = data.get_spec(name)
        row: dict = {"dataset": paper.DATASET_LABELS.get(name, name)}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", data.store.UnverifiedCopyWarning)
                dataset = data.load(name, data_dir)
        except data.DatasetMissingError:
            row.update({f: None for f in TABLE1_FIELDS})
            row["copy"] = "missing"
            row["note"] = (
                f"run `hmf data fetch {name}`" if spec.archive else "needs the manual download"
            )
        else:
            stats = split.paper_split(dataset).stats()
            row.update({f: stats[f] for f in TABLE1_FIELDS})
            row["copy"] = "official" if dataset.verified else "unverified copy"
            row["note"] = "; ".join(dataset.notes)
        for f in TABLE1_FIELDS:
            row[f"paper {f}"] = paper.TABLE1.get(name, {}).get(f)
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("dataset")
    ours = list(TABLE1_FIELDS)
    theirs = [f"paper {f}" for f in TABLE1_FIELDS]
    frame = frame[ours + theirs + ["copy", "note"]]
    for column in ours[:-1] + theirs[:-1]:
        frame[column] = frame[column].astype("Int64")
    return frame
