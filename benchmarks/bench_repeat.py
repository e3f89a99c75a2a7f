"""Same seed, same device, twice: are the numbers bit-identical here?

    HMF_DATA_DIR=/path/to/datasets python benchmarks/bench_repeat.py [--dataset ml-100k] \
        [--epochs 3]

Trains MF and HMF 200/100 (learning rate 1e-3, weight decay 1e-4, seed 0) twice in one process,
one at a time, and twice vectorised (two members with the same seed in one batch), and prints
each run's per-epoch validation RMSE with 17 significant digits and whether the repeats are
bit-identical. On a CPU they are; on a GPU, XLA may add a scatter's updates in any order (atomic
adds), and this script is how we check what a given device does.
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    from hmf import registry, train
    from hmf.experiments.records import describe_machine
    from hmf.split import load_split
    from hmf.vectorized import Member, fit_many

    print(describe_machine())
    split = load_split(args.dataset)
    E = args.epochs
    for name, kwargs in (("mf", {}), ("hmf", dict(user_clusters=200, item_clusters=100))):
        spec = registry.make_model(name, **kwargs)
        runs = [
            train.fit(spec, split, lr=1e-3, weight_decay=1e-4, seed=0, max_epochs=E, patience=E)
            for _ in range(2)
        ]
        vec = fit_many(
            spec, split, [Member(1e-3, 1e-4, 0)] * 2, max_epochs=E, patience=E, compact=False
        )
        curves = [r.history["validation_rmse"].tolist() for r in runs + vec]
        for label, curve in zip(("fit #1", "fit #2", "vectorised #1", "vectorised #2"), curves):
            print(f"{name:<4}{label:<15}" + " ".join(f"{v:.17g}" for v in curve))
        same = lambda a, b: "bit-identical" if a == b else "DIFFER"  # noqa: E731
        print(
            f"{name:<4}fit repeat: {same(curves[0], curves[1])}; vectorised repeat: "
            f"{same(curves[2], curves[3])}; max |fit - vectorised| = "
            f"{max(abs(a - b) for a, b in zip(curves[0], curves[2])):.2e}"
        )


if __name__ == "__main__":
    main()
