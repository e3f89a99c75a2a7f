"""Wall time of one data set's whole `book` sweep from nothing, and whether it reproduces the
committed records.

    HMF_DATA_DIR=/path/to/datasets python benchmarks/time_book_sweep.py --dataset ml-100k \\
        [--workers 2] [--results-dir DIR] [--skip MODEL ...] [--steps accuracy] [--seeds K]

Runs what ``scripts/book_sweep.sh`` runs for the data set - the accuracy grid of every rating
method and the outside reference (Table 3), then the depth study (Table 6) - into an empty
results directory (a temporary one unless ``--results-dir`` is given), with ``--workers``
processes (default: one per core). Prints the wall time of each step and in all, then compares
every fresh record with the committed one of the same configuration and seed
(``compare_records.py``: same epochs and best epoch, bit-identical metrics, the largest relative
difference; the same code on the same machine, only the processes' thread layout may differ),
and the wall time over the compared runs' process seconds (the efficiency that
``estimate_book_sweep.py`` takes).
``--skip`` leaves a model out of the accuracy step, to time the rest of a data set whose sweep one
model dominates (Ciao's eTREE); the printout names what was skipped. ``--steps`` runs only the
accuracy or the depth step, ``--seeds K`` only the first K of the five seeds (the five-seed sweep
then takes about 5 / K times as long: seeds are independent runs of equal cost on average).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def _models(dataset: str) -> list[str]:
    from hmf import registry

    if dataset.endswith("-implicit"):
        return list(registry.RANKING_METHODS)
    return list(registry.RATING_METHODS + registry.REFERENCE_MODELS)


DATASETS = ("ml-100k", "ciao", "ml-1m", "ml-100k-implicit")
DEPTH_MODEL = {"ml-100k-implicit": "bpr-hmf"}


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--dataset", required=True, choices=DATASETS)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--results-dir", default=None)
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="MODEL",
        help="leave this model out of the accuracy step (repeatable)",
    )
    parser.add_argument(
        "--steps",
        choices=("accuracy", "depth"),
        action="append",
        help="run only this step (repeatable; default both)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        metavar="K",
        help="only the first K seeds of every configuration (default all)",
    )
    args = parser.parse_args()
    from hmf.profiles import get_profile

    book_seeds = get_profile("book").seeds
    if args.seeds is not None and not 1 <= args.seeds <= len(book_seeds):
        parser.error(
            f"--seeds {args.seeds}: expected 1 to {len(book_seeds)} (the book profile's "
            f"seeds are {list(book_seeds)})"
        )
    unknown = sorted(set(args.skip) - set(_models(args.dataset)))
    if unknown:
        parser.error(
            f"--skip {', '.join(unknown)}: not in {args.dataset}'s book sweep "
            f"({', '.join(_models(args.dataset))})"
        )

    from compare_records import compare, describe

    from hmf.experiments import default_results_dir, run_plan
    from hmf.experiments.records import describe_machine

    print(describe_machine())
    root = Path(args.results_dir or tempfile.mkdtemp(prefix="hmf-book-sweep-"))
    print(f"results: {root}")
    models = [m for m in _models(args.dataset) if m not in args.skip]
    steps = [
        (f"accuracy: {', '.join(models)}", models, "accuracy"),
        (
            f"depth: {DEPTH_MODEL.get(args.dataset, 'hmf')}",
            [DEPTH_MODEL.get(args.dataset, "hmf")],
            "depth",
        ),
    ]
    steps = [s for s in steps if s[2] in (args.steps or ("accuracy", "depth"))]
    seeds = None if args.seeds is None else book_seeds[: args.seeds]
    if seeds is not None:
        print(f"seeds: {list(seeds)} of every configuration")
    total = time.perf_counter()
    for label, models, study in steps:
        start = time.perf_counter()
        paths = run_plan(
            [args.dataset],
            models,
            "book",
            root=root,
            workers=args.workers,
            progress=False,
            study=study,
            seeds=seeds,
        )
        print(f"{label}: {len(paths)} runs, {time.perf_counter() - start:,.0f} s wall", flush=True)
    skipped = f" without {', '.join(args.skip)}" if args.skip else ""
    if args.steps:
        skipped += f", {' and '.join(args.steps)} only"
    if args.seeds is not None:
        skipped += f", seeds {list(seeds)} only"
    wall = time.perf_counter() - total
    print(f"{args.dataset} book sweep{skipped}: {wall:,.0f} s wall ({wall / 60:.1f} min)")

    result = compare(root, default_results_dir(), "book", args.dataset)
    print("against the committed records: " + describe(result))
    if result["compared"]:
        # wall time over process seconds: what estimate_book_sweep.py's --efficiency takes
        print(
            f"efficiency (wall time / process seconds): {wall / result['fresh seconds']:.2f} of "
            f"the fresh runs' seconds, {wall / result['committed seconds']:.2f} of the committed "
            f"records' (the compared runs only)"
        )


if __name__ == "__main__":
    main()
