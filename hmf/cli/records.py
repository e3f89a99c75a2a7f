"""``hmf records check|verify``: committed results cannot drift unseen.

``check`` reads every record and compares its stored numbers with its own stored history
(seconds); ``verify`` re-runs records - all of them, this commit's rotation sample, or some by
name - in one process per core and compares what they store with what the code computes now.
Both exit 1 when a record fails, with one line per record saying what differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hmf import checks
from hmf.errors import Interrupted, UsageError
from hmf.experiments import verify as checking
from hmf.experiments.records import default_results_dir


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "records", help="check result records against their history, or re-run them"
    )
    sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))

    check = sub.add_parser("check", help="every record against its own stored history (fast)")
    check.add_argument("--results-dir", help="default: $HMF_RESULTS_DIR or results/")
    check.set_defaults(func=_check)

    verify = sub.add_parser("verify", help="re-run records and compare (all by default)")
    verify.add_argument(
        "records",
        nargs="*",
        metavar="RECORD",
        help="record files or names under the results directory, e.g. "
        "book/ml-100k/mf/lr=0.001_weight_decay=0-seed0 (default: every record)",
    )
    verify.add_argument(
        "--rotation", action="store_true", help="only this commit's rotation sample (as CI)"
    )
    verify.add_argument("--workers", type=int, help="processes (default: cores)")
    verify.add_argument("--results-dir", help="default: $HMF_RESULTS_DIR or results/")
    verify.add_argument("--data-dir")
    verify.set_defaults(func=_verify, interruptible=True)


def _check(args: argparse.Namespace) -> int:
    root = Path(args.results_dir or default_results_dir())
    n = len(list(root.glob("*/*/*/*.json")))
    problems = checking.consistency(root)
    for path, found in problems.items():
        print(f"{path}: {'; '.join(found)}", file=sys.stderr)
    print(f"{n - len(problems)} of {n} records under {root} agree with their own history")
    return 1 if problems else 0


def _verify(args: argparse.Namespace) -> int:
    if args.workers is not None:
        checks.integer(args.workers, "--workers", low=1)
    root = Path(args.results_dir or default_results_dir())
    if args.rotation and args.records:
        raise UsageError("give RECORD names or --rotation, not both")
    if args.rotation:
        paths, about = checking.rotation_sample(root)
        print(
            f"rotation bucket {about['bucket']} of {about['buckets']} ({about['why']}): "
            f"{len(paths)} of {about.get('eligible', 0)} records; "
            f"{len(about['excluded'])} are re-run only by `make verify-records`"
        )
    elif args.records:
        paths = checking.resolve(args.records, root)
    else:
        paths = sorted(root.glob("*/*/*/*.json"))
    total, counts = len(paths), {"same": 0, "differ": 0, "skipped": 0}

    def report(v: checking.Verification) -> None:
        name = v.path.relative_to(root) if v.path.is_relative_to(root) else v.path
        if v.skipped:
            counts["skipped"] += 1
            print(f"skipped {name}: {v.skipped}")
        elif v.differences:
            counts["differ"] += 1
            print(f"DIFFERS {name}: {'; '.join(v.differences)}", file=sys.stderr)
        else:
            counts["same"] += 1
        if sys.stderr.isatty():
            print(
                f"  {sum(counts.values())}/{total} re-run: {counts['same']} same, "
                f"{counts['differ']} differ, {counts['skipped']} skipped",
                file=sys.stderr,
                end="\r",
            )

    try:
        checking.verify(paths, workers=args.workers, data_dir=args.data_dir, on_result=report)
    except Interrupted as stop:
        done = sum(counts.values())
        raise Interrupted(
            stop.signum,
            detail=f"{done} of {total} records re-run ({counts['differ']} differ)",
        ) from None
    print(
        f"{counts['same']} of {total} records reproduce (within {checking.Tolerance()}; "
        f"{', '.join(f'{m}: {t}' for m, t in checking.TOLERANCES.items())}); "
        f"{counts['differ']} differ; {counts['skipped']} skipped"
    )
    return 1 if counts["differ"] else 0
