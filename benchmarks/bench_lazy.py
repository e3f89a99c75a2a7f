"""Seconds per epoch, dense AdamW against the row-lazy AdamW (hmf.lazy), same process.

    HMF_DATA_DIR=/path/to/datasets python benchmarks/bench_lazy.py [--datasets ml-100k ciao ml-1m]
        [--synthetic] [--epochs 3] [--csv PATH]

For HMF 200/100 and 1000/500 (and MF) on each data set, both optimisers train ``--epochs``
epochs from the same start (learning rate 1e-3, weight decay 1e-4, seed 0, early stopping off);
the figure is the median wall seconds of epochs 2.. (epoch 1 includes compilation), and the
ratio dense / lazy. ``--synthetic`` adds a random data set with DIGINETICA's numbers of users,
items and training interactions (Table 1: 24,933 / 54,859 / 180,894). The last column is the
largest difference in validation RMSE over the epochs run. ``--csv PATH`` also writes the
table there (the performance appendix shows ``benchmarks/results/bench_lazy.csv``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hmf import registry, train
from hmf.experiments.records import describe_machine
from hmf.report.common import dataset_label
from hmf.split import Split, load_split

CONFIGS = [("mf", None, None), ("hmf", 200, 100), ("hmf", 1000, 500)]
SYNTHETIC = "random, DIGINETICA's size"
DIGINETICA = (24_933, 54_859, 180_894)


def synthetic(n_users: int, n_items: int, n_train: int, seed: int = 0) -> Split:
    """Random ratings 1-5 with DIGINETICA's shape; 1 % each for validation and test."""
    rng = np.random.default_rng(seed)
    n = int(n_train * 1.02)
    frame = pd.DataFrame(
        {
            "user": np.concatenate([np.arange(n_users), rng.integers(0, n_users, n - n_users)]),
            "item": np.concatenate(
                [np.arange(n_items) % n_items, rng.integers(0, n_items, n - n_items)]
            )[:n],
            "rating": rng.integers(1, 6, n).astype(np.float32),
            "timestamp": np.arange(n),
        }
    )
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    cut = n_train + (n - n_train) // 2
    parts = (frame.iloc[:n_train], frame.iloc[n_train:cut], frame.iloc[cut:])
    return Split(
        "synthetic-diginetica",
        *parts,
        np.arange(n_users),
        np.arange(n_items),
        implicit=False,
        verified=True,
    )


def seconds_per_epoch(split, model, uc, ic, optimizer, epochs) -> tuple[float, list]:
    config = dict(lr=1e-3, weight_decay=1e-4)
    if uc:
        config.update(user_clusters=uc, item_clusters=ic)
    spec = registry.gradient_spec(model, config)
    result = train.fit(
        spec,
        split,
        lr=1e-3,
        weight_decay=1e-4,
        seed=0,
        max_epochs=epochs,
        patience=epochs,
        optimizer=optimizer,
    )
    return float(np.median(result.history["seconds"].iloc[1:])), list(
        result.history["validation_rmse"]
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["ml-100k", "ciao", "ml-1m"])
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--csv", type=Path, help="also write the table to this CSV file")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error(f"--epochs {args.epochs}: expected at least 2 (epoch 1 compiles)")
    print(describe_machine())
    splits = {name: load_split(name) for name in args.datasets}
    if args.synthetic:
        splits[SYNTHETIC] = synthetic(*DIGINETICA)
    print(
        f"{'data set':<32} {'model':<14} {'dense s':>8} {'lazy s':>8} {'ratio':>6} "
        f"{'max |dRMSE|':>11}"
    )
    rows = []
    for name, split in splits.items():
        for model, uc, ic in CONFIGS:
            t0 = time.perf_counter()
            dense, curve_d = seconds_per_epoch(split, model, uc, ic, "adamw", args.epochs)
            lazy, curve_l = seconds_per_epoch(split, model, uc, ic, "lazy-adamw", args.epochs)
            label = model if uc is None else f"{model} {uc}/{ic}"
            gap = max(abs(a - b) for a, b in zip(curve_d, curve_l))
            print(
                f"{name:<32} {label:<14} {dense:>8.3f} {lazy:>8.3f} {dense / lazy:>6.2f} "
                f"{gap:>11.2e}   ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
            rows.append(
                {
                    "data set": dataset_label(name),
                    "model": registry.label(model) + label.removeprefix(model),
                    "dense s": round(dense, 3),
                    "lazy s": round(lazy, 3),
                    "ratio": round(dense / lazy, 2),
                    "max Δ RMSE": f"{gap:.1e}",
                }
            )
    if args.csv:  # written whole or not at all
        part = args.csv.with_name(f".{args.csv.name}.part")
        pd.DataFrame(rows).to_csv(part, index=False)
        os.replace(part, args.csv)


if __name__ == "__main__":
    main()
