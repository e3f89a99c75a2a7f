"""Seconds per epoch, dense AdamW against the row-lazy AdamW (hmf.lazy), and the model's pass
alone, in one process.

    HMF_DATA_DIR=/path/to/datasets python benchmarks/bench_lazy.py [--datasets ml-100k ciao ml-1m]
        [--synthetic] [--epochs 5] [--csv PATH]

For MF, HMF 200/100 and HMF 1000/500 on each data set, three epoch programs start from the same
parameters (learning rate 1e-3, weight decay 1e-4, seed 0): dense AdamW, the row-lazy AdamW, and
the model's pass alone (``train.MODEL_PASS``: each batch's rows gathered and differentiated,
nothing updated). Each runs one epoch to compile, then the three take turns, one epoch each, for
``--epochs`` rounds, so a slow spell of the machine falls on all three alike. The figures are
the median seconds of those epochs; ``ratio`` is dense / lazy (above 1: the lazy one is
faster) and ``bound`` is dense / model pass, the ratio an optimiser whose update cost nothing
would reach. ``--synthetic`` adds a random data set with DIGINETICA's numbers of users, items
and training interactions (Table 1: 24,933 / 54,859 / 180,894). The last column is the largest
difference between the two optimisers' validation RMSE over the epochs run. ``--csv PATH`` also
writes the table there (the performance appendix shows ``benchmarks/results/bench_lazy.csv``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp
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


PROGRAMS = ("adamw", "lazy-adamw", train.MODEL_PASS)


def epoch_seconds(split, model, uc, ic, rounds) -> tuple[dict, dict]:
    """Median seconds per epoch of each of :data:`PROGRAMS`, and each one's validation RMSE
    per epoch (the model pass's never changes)."""
    config = dict(lr=1e-3, weight_decay=1e-4)
    if uc:
        config.update(user_clusters=uc, item_clusters=ic)
    spec = registry.gradient_spec(model, config)
    data, val = train.device_data(spec, split, 0, None)
    k_init, k_train = train.run_keys(0)
    carry, programs = {}, {}
    for name in PROGRAMS:
        params = train.init_params(spec, k_init, split)
        if name == train.MODEL_PASS:
            state = jnp.zeros(())
        else:
            state = train.init_optimizer(name, params, config["lr"], config["weight_decay"])
        carry[name] = (params, state)
        programs[name] = train.epoch_program(spec, train.BATCH_SIZE, split.n_items, name)
    seconds = {name: [] for name in PROGRAMS}
    curves = {name: [] for name in PROGRAMS}
    for epoch in range(rounds + 1):  # epoch 0 compiles and is not timed
        for name in PROGRAMS:
            t0 = time.perf_counter()
            params, state, _, metrics = programs[name](
                *carry[name], jax.random.fold_in(k_train, epoch), data, val
            )
            curves[name].append(float(metrics["rmse"]))  # waits for the device
            if epoch:
                seconds[name].append(time.perf_counter() - t0)
            carry[name] = (params, state)
    return {name: float(np.median(t)) for name, t in seconds.items()}, curves


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["ml-100k", "ciao", "ml-1m"])
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--csv", type=Path, help="also write the table to this CSV file")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs {args.epochs}: expected at least 1 timed round")
    print(describe_machine())
    splits = {name: load_split(name) for name in args.datasets}
    if args.synthetic:
        splits[SYNTHETIC] = synthetic(*DIGINETICA)
    print(
        f"{'data set':<28} {'model':<14} {'dense s':>8} {'lazy s':>8} {'ratio':>6} "
        f"{'pass s':>7} {'bound':>6} {'max |dRMSE|':>11}"
    )
    rows = []
    for name, split in splits.items():
        for model, uc, ic in CONFIGS:
            t0 = time.perf_counter()
            seconds, curves = epoch_seconds(split, model, uc, ic, args.epochs)
            dense, lazy, floor = (seconds[p] for p in PROGRAMS)
            label = model if uc is None else f"{model} {uc}/{ic}"
            gap = max(abs(a - b) for a, b in zip(curves["adamw"], curves["lazy-adamw"]))
            print(
                f"{name:<28} {label:<14} {dense:>8.3f} {lazy:>8.3f} {dense / lazy:>6.2f} "
                f"{floor:>7.3f} {dense / floor:>6.2f} {gap:>11.2e}   "
                f"({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
            rows.append(
                {
                    "data set": dataset_label(name),
                    "model": registry.label(model) + label.removeprefix(model),
                    "dense s": round(dense, 3),
                    "lazy s": round(lazy, 3),
                    "ratio": round(dense / lazy, 2),
                    "model pass s": round(floor, 3),
                    "bound": round(dense / floor, 2),
                    "max Δ RMSE": f"{gap:.1e}",
                }
            )
    if args.csv:  # written whole or not at all
        part = args.csv.with_name(f".{args.csv.name}.part")
        pd.DataFrame(rows).to_csv(part, index=False)
        os.replace(part, args.csv)


if __name__ == "__main__":
    main()
