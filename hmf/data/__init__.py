"""The paper's four data sets: locate (or download), verify, parse.

>>> from hmf import data
>>> ds = data.load("ml-100k")            # HMF_DATA_DIR, else the per-user cache
>>> ds.interactions.head()               # user, item, rating, timestamp

Look-up order for a data set's files: the ``data_dir`` argument, then ``$HMF_DATA_DIR``, then the
download cache (``$HMF_CACHE_DIR`` or the per-user cache directory). ``hmf data fetch NAME``
downloads the official archive into the cache.

Your own ratings: ``data.read_ratings("ratings.csv")`` or ``data.from_frame(frame)`` (columns
``user``, ``item``, ``rating``, ``timestamp``) give a ``Dataset`` like the paper's.
"""

from hmf.data._types import (
    ChecksumError,
    DataError,
    Dataset,
    DatasetMissingError,
    FormatError,
)
from hmf.data.custom import from_frame, read_ratings
from hmf.data.registry import DATASETS, get_spec
from hmf.data.store import cache_dir, fetch, load, locate

__all__ = [
    "DATASETS",
    "ChecksumError",
    "DataError",
    "Dataset",
    "DatasetMissingError",
    "FormatError",
    "cache_dir",
    "fetch",
    "from_frame",
    "get_spec",
    "load",
    "locate",
    "read_ratings",
]
