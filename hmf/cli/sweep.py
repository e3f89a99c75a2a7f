"""``hmf sweep``: run a profile's grid for data sets and models, resuming where it stopped."""

from __future__ import annotations

import argparse
from pathlib import Path

from hmf import checks
from hmf.errors import UsageError
from hmf.experiments.records import default_results_dir
from hmf.experiments.studies import run_plan
from hmf.profiles import current_profile, get_profile


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="train a profile's grid x seeds; finished runs are skipped",
        description="Run every configuration of a profile's grid with every seed and write one "
        "record per run under the results directory. Rerunning skips finished runs; Ctrl-C "
        "stops it, keeping every finished record. At a terminal it draws a progress bar; "
        "elsewhere (a log) it writes a line of runs done and time left at most once a minute.",
    )
    parser.add_argument("--dataset", action="append", required=True, help="repeatable")
    parser.add_argument("--model", action="append", required=True, help="repeatable")
    parser.add_argument("--profile", help="smoke, book or paper (default $HMF_PROFILE or book)")
    parser.add_argument("--results-dir", help="default: $HMF_RESULTS_DIR or results/")
    parser.add_argument("--workers", type=int, help="processes (default: one per core)")
    parser.add_argument(
        "--study",
        choices=("accuracy", "depth", "full-ranking", "beyond", "retrain"),
        default="accuracy",
        help="accuracy: the Table 3 grid; depth: Table 6 (needs accuracy records); "
        "full-ranking: ranking selections and baselines, test metrics of both protocols; "
        "beyond: L2, biases, strong decay, temperature; retrain: the selection retrained on "
        "training + validation, scored at its last epoch (both need accuracy records)",
    )
    parser.add_argument("--data-dir")
    parser.add_argument(
        "--optimizer",
        help="adamw (default) or lazy-adamw: train the missing runs with the row-lazy AdamW "
        "(MF and HMF models; the same parameters up to eps, book/performance); a run recorded "
        "under either counts as done, and each record says which it used",
    )
    parser.add_argument(
        "--vectorize",
        action="store_true",
        help="train runs of one model shape together (jax.vmap over lr, weight "
        "decay and seed); same records; meant for a GPU - on a CPU it is "
        "slower than the default (book/performance)",
    )
    parser.add_argument(
        "--max-members",
        type=int,
        help="with --vectorize: at most this many runs per batch (memory)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address (tcp://host:8786): run on that cluster "
        "instead of local processes (needs the 'cluster' extra)",
    )
    parser.add_argument(
        "--reuse",
        metavar="PROFILE",
        help="count the runs PROFILE's records already hold as done (a profile with the same "
        "epoch caps and patience: book for paper); the paper's selection rule reads both",
    )
    parser.set_defaults(func=run, interruptible=True)


def run(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile) if args.profile else current_profile()
    for flag, value in (("--workers", args.workers), ("--max-members", args.max_members)):
        if value is not None:
            checks.integer(value, flag, low=1)
    root = Path(args.results_dir or default_results_dir())
    if root.exists() and not root.is_dir():
        raise UsageError(f"--results-dir {root}: is a file; expected a directory")
    paths = run_plan(
        args.dataset,
        args.model,
        profile.name,
        root=root,
        data_dir=args.data_dir,
        workers=args.workers,
        study=args.study,
        vectorize=args.vectorize,
        scheduler=args.scheduler,
        max_members=args.max_members,
        optimizer=args.optimizer,
        reuse=args.reuse,
        progress="log",  # a sweep left running in the background says how far it is
    )
    print(f"{len(paths)} records under {profile.name} profile in {root}")
    return 0
