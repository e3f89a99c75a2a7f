"""``hmf clusters``: compute what is missing of the cluster study on a data set (resumable).

Trains HMF, MF and IHSR at the accuracy study's selections once per seed and writes what the
cluster measures find under ``results/<profile>/<dataset>/clusters/``
(:func:`hmf.experiments.clusters.run_cluster_study`).
"""

from __future__ import annotations

import sys
import warnings

from hmf.data.store import UnverifiedCopyWarning
from hmf.errors import UsageError
from hmf.experiments.clusters import run_cluster_study


def register(subparsers) -> None:
    what = "HMF, k-means on MF's embeddings, IHSR and random clusters, over the profile's seeds"
    parser = subparsers.add_parser("clusters", help=__doc__.splitlines()[0], description=what)
    parser.add_argument("--dataset", required=True, help="ml-100k or ml-1m (items need genres)")
    parser.add_argument("--profile", default="book", help="run profile (book)")
    parser.add_argument("--seeds", help="comma-separated subset of the profile's seeds (all)")
    parser.add_argument("--data-dir", help="directory holding the data sets")
    parser.set_defaults(func=run)


def _seeds(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(s) for s in text.split(",")]
    except ValueError:
        raise UsageError(f"--seeds must be comma-separated integers, got {text!r}") from None


def run(args) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnverifiedCopyWarning)  # marked in every file instead
        paths = run_cluster_study(
            args.dataset,
            args.profile,
            data_dir=args.data_dir,
            seeds=_seeds(args.seeds),
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    print(f"{len(paths)} cluster-study files for {args.dataset} under {paths[0].parents[1]}")
    return 0
