"""Seconds per epoch of the options beyond the paper beside plain MF and HMF.

    HMF_DATA_DIR=/path/to/datasets python benchmarks/bench_options.py [--datasets ml-100k ciao]

Every variant trains ``--epochs`` epochs (early stopping off) in this process, at lr 1e-3 and
weight decay 0, seed 0; HMF has 200/100 clusters. ``s/epoch`` is the median of epochs 2.. (the
first includes compilation); ``x plain`` is the ratio to the same model without options. The L2
term reads every parameter at every step, and the biases add two lookups per rating; the
temperature only divides the logits.
"""

from __future__ import annotations

import argparse
import sys

VARIANTS = [
    ("mf", {}),
    ("mf", {"l2": 1e-4}),
    ("mf", {"biases": 1}),
    ("mf", {"biases": 1, "l2": 1e-4}),
    ("hmf", {}),
    ("hmf", {"l2": 1e-4}),
    ("hmf", {"biases": 1}),
    ("hmf", {"temperature": 2.0}),
]
CLUSTERS = {"user_clusters": 200, "item_clusters": 100}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "ciao"])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error(f"--epochs must be at least 2, got {args.epochs}")

    from hmf import registry, split, train

    print(f"{'dataset':9} {'model':5} {'options':24} {'s/epoch':>8} {'x plain':>8}")
    for dataset in args.datasets:
        data = split.load_split(dataset)
        plain = {}
        for model, options in VARIANTS:
            config = dict(options, **(CLUSTERS if model == "hmf" else {}))
            spec = registry.gradient_spec(model, dict(config, lr=1e-3, weight_decay=0.0))
            result = train.fit(
                spec,
                data,
                lr=1e-3,
                weight_decay=0.0,
                max_epochs=args.epochs,
                patience=args.epochs + 1,
            )
            seconds = float(result.history["seconds"].iloc[1:].median())
            plain.setdefault(model, seconds)
            shown = ", ".join(f"{k}={v}" for k, v in options.items()) or "(paper)"
            print(f"{dataset:9} {model:5} {shown:24} {seconds:8.4f} {seconds / plain[model]:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
