"""Whole runs with the row-lazy AdamW against the committed dense records, at the book selections.

    HMF_DATA_DIR=/path/to/datasets python benchmarks/lazy_whole_runs.py
        [--datasets ml-100k ciao ml-1m] [--models mf hmf] [--seeds 0] [--csv PATH]

For each data set and model, the accuracy study's selected configuration (the ``book``
records) is trained again with ``optimizer="lazy-adamw"``, same seed, same split, same stopping
rule, and compared with the committed record of that seed, which dense ``optax.adamw``
trained: epochs run, best epoch, and test RMSE (the issue's bar: the same stopping epoch and
|difference| within 1e-4). ``--csv PATH`` also writes the table there, whole or not at all (the
performance appendix shows ``benchmarks/results/lazy_whole_runs.csv``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd

from hmf.experiments import trainers
from hmf.experiments.records import default_results_dir, describe_machine, load_records
from hmf.experiments.selection import selected_config
from hmf.registry import label
from hmf.report.common import dataset_label
from hmf.split import split_for

TOLERANCE = 1e-4


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["ml-100k", "ciao", "ml-1m"])
    parser.add_argument("--models", nargs="*", default=["hmf"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--csv", type=Path, help="also write the table to this CSV file")
    args = parser.parse_args(argv)
    print(describe_machine())
    print(
        f"{'data set':<9} {'model':<6} {'seed':>4} {'epochs d/l':>10} {'best d/l':>9} "
        f"{'test dense':>10} {'test lazy':>10} {'|diff|':>9} {'lazy s':>7}  verdict"
    )
    root, rows = default_results_dir(), []
    for dataset in args.datasets:
        split = split_for(dataset)
        for model in args.models:
            records = load_records(root, "book", dataset, model, study="accuracy")
            config = selected_config(records, dataset, model, "rmse")
            for seed in args.seeds:
                dense = next(r for r in records if r.config == config and r.seed == seed)
                lazy_config = dict(config, optimizer="lazy-adamw")
                result = trainers.fit_config(split, model, lazy_config, seed)
                lazy = trainers.to_record(split, model, lazy_config, seed, "book", result, {})
                diff = abs(lazy.test["rmse"] - dense.test["rmse"])
                same = lazy.epochs == dense.epochs and lazy.best_epoch == dense.best_epoch
                verdict = "equal" if same and diff <= TOLERANCE else "DIFFERENT"
                print(
                    f"{dataset:<9} {model:<6} {seed:>4} {dense.epochs:>4}/{lazy.epochs:<5} "
                    f"{dense.best_epoch:>4}/{lazy.best_epoch:<4} {dense.test['rmse']:>10.5f} "
                    f"{lazy.test['rmse']:>10.5f} {diff:>9.1e} {lazy.train_seconds:>7.0f}  "
                    f"{verdict}",
                    flush=True,
                )
                rows.append(  # narrow columns: the appendix shows them on a phone
                    {
                        "data set": dataset_label(dataset),
                        "model": label(model),
                        "seed": seed,
                        "epochs d/l": f"{dense.epochs}/{lazy.epochs}",
                        "best d/l": f"{dense.best_epoch}/{lazy.best_epoch}",
                        "test RMSE (dense)": round(dense.test["rmse"], 5),
                        "|Δ test RMSE|": f"{diff:.1e}",
                        "equal": "yes" if verdict == "equal" else "no",
                    }
                )
    if args.csv:
        part = args.csv.with_name(f".{args.csv.name}.part")
        pd.DataFrame(rows).to_csv(part, index=False)
        os.replace(part, args.csv)


if __name__ == "__main__":
    main()
