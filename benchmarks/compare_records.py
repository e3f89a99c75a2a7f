"""Do two sets of records of the same runs agree? (A rerun against the committed records, or two
runs of one group on a GPU.)

    python benchmarks/compare_records.py FRESH_RESULTS_DIR [--against COMMITTED_RESULTS_DIR]

Pairs every record under ``FRESH_RESULTS_DIR`` with the one of the same profile, data set, model,
configuration and seed under ``--against`` (the committed ``results/`` by default) and prints how
many pairs there are, in how many both stopped after the same epoch with the same best epoch,
in how many every validation and test metric is bit-identical, the largest relative
difference of any metric, and the seconds the paired runs took on either side.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def compare(
    fresh_root: Path, committed_root: Path, profile: str | None = None, dataset: str | None = None
) -> dict[str, float]:
    """Counts, the largest relative metric difference and the runs' seconds (training plus
    inference) on either side, over the records both roots hold."""
    from hmf.experiments import load_records, read_record
    from hmf.experiments.records import record_path

    out = {
        "compared": 0,
        "same epochs": 0,
        "identical": 0,
        "largest relative difference": 0.0,
        "fresh seconds": 0.0,
        "committed seconds": 0.0,
    }
    for fresh in load_records(fresh_root, profile, dataset):
        path = record_path(
            committed_root, fresh.profile, fresh.dataset, fresh.model, fresh.config, fresh.seed
        )
        if not path.exists():
            continue
        old = read_record(path)
        out["compared"] += 1
        out["fresh seconds"] += fresh.train_seconds + fresh.inference_seconds
        out["committed seconds"] += old.train_seconds + old.inference_seconds
        out["same epochs"] += (old.epochs, old.best_epoch) == (fresh.epochs, fresh.best_epoch)
        pairs = [
            (value, getattr(fresh, part)[name])
            for part in ("validation", "test")
            for name, value in getattr(old, part).items()
        ]
        out["identical"] += all(a == b for a, b in pairs)
        for a, b in pairs:
            diff = abs(b - a) / abs(a) if a else abs(b)
            out["largest relative difference"] = max(out["largest relative difference"], diff)
    return out


def describe(result: dict[str, float]) -> str:
    return (
        f"{result['compared']} compared, {result['same epochs']} with the same epochs and best "
        f"epoch, {result['identical']} with every metric bit-identical, largest relative "
        f"difference of a metric {result['largest relative difference']:.1e}; their runs' "
        f"seconds {result['fresh seconds']:,.0f} here, {result['committed seconds']:,.0f} "
        f"in the records compared against"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("fresh", type=Path)
    parser.add_argument("--against", type=Path, default=None)
    args = parser.parse_args()
    from hmf.experiments import default_results_dir

    if not args.fresh.is_dir():
        parser.error(
            f"{args.fresh}: not a directory of results (expected PROFILE/DATASET/MODEL/*.json)"
        )
    print(describe(compare(args.fresh, args.against or default_results_dir())))


if __name__ == "__main__":
    main()
