"""Our MF and HMF against a maintained peer, Cornac's MF, on the same split and machine.

    HMF_DATA_DIR=/path/to/datasets python benchmarks/bench_peer.py \\
        [--dataset ml-100k] [--target 1.05] [--seed 0]

Each model trains with the paper's protocol (validation RMSE after every epoch, patience 5,
at most 512 epochs) through the code the records use: ``hmf.train.fit`` for ``mf`` (lr 1e-3,
weight decay 1e-4) and ``hmf`` 200/100 and 1000/500 (lr 1e-3 and 1e-2, weight decay 1e-4), and
``hmf.models.reference.fit_reference`` for Cornac's SGD MF (its defaults, lr 0.01, lambda
0.02, k = 20; biased and unbiased). Printed per model:

* ``s to target`` - wall seconds from the start of training (set-up and compilation included)
  until the end of the first epoch whose validation RMSE is <= ``--target``; ``-`` if never;
* ``best val RMSE`` and the epoch it was reached, ``epochs`` run;
* ``s/epoch`` - median wall seconds of epochs 2.. (Cornac's include its per-epoch validation
  and parameter copy, as ours include the compiled validation);
* ``interactions/s`` - training interactions / s per epoch.

The device JAX uses is printed first; Cornac runs on the CPU.
"""

from __future__ import annotations

import argparse
import time


def _timed(train):
    """Run ``train(callback)``; return (result, [(elapsed seconds at end of epoch, row)])."""
    marks = []
    start = time.perf_counter()
    result = train(lambda row: marks.append((time.perf_counter() - start, row)))
    return result, marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--target", type=float, default=1.05, help="validation RMSE to reach")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np

    from hmf import models, train
    from hmf.experiments.records import describe_machine
    from hmf.models.reference import fit_reference
    from hmf.split import load_split

    print(describe_machine())
    split = load_split(args.dataset)
    n = len(split.train)
    print(f"{args.dataset}: {n} training interactions; target validation RMSE {args.target}\n")

    runs = {
        "ours mf lr1e-3": lambda cb: train.fit(
            models.mf(), split, lr=1e-3, weight_decay=1e-4, seed=args.seed, callback=cb
        ),
        "ours hmf 200/100 lr1e-3": lambda cb: train.fit(
            models.hmf(user_clusters=200, item_clusters=100),
            split,
            lr=1e-3,
            weight_decay=1e-4,
            seed=args.seed,
            callback=cb,
        ),
        "ours hmf 1000/500 lr1e-2": lambda cb: train.fit(
            models.hmf(user_clusters=1000, item_clusters=500),
            split,
            lr=1e-2,
            weight_decay=1e-4,
            seed=args.seed,
            callback=cb,
        ),
        "cornac mf biased": lambda cb: fit_reference(
            split, biased=True, seed=args.seed, callback=cb
        ),
        "cornac mf unbiased": lambda cb: fit_reference(
            split, biased=False, seed=args.seed, callback=cb
        ),
    }
    print(
        f"{'model':<26}{'s to target':>12}{'best val RMSE':>15}{'@epoch':>8}{'epochs':>8}"
        f"{'s/epoch':>10}{'interactions/s':>16}"
    )
    for label, run in runs.items():
        result, marks = _timed(run)
        reached = next((t for t, row in marks if row["validation_rmse"] <= args.target), None)
        seconds = np.array([row["seconds"] for _, row in marks])
        per_epoch = float(np.median(seconds[1:])) if len(seconds) > 1 else float(seconds[0])
        print(
            f"{label:<26}{'-' if reached is None else f'{reached:.2f}':>12}"
            f"{result.validation['rmse']:>15.4f}{result.best_epoch:>8}{result.epochs:>8}"
            f"{per_epoch:>10.3f}{n / per_epoch:>16,.0f}"
        )


if __name__ == "__main__":
    main()
