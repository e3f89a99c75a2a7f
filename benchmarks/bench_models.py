"""Seconds per epoch and per full run, MF vs HMF (issue 3's speed goals).

    HMF_DATA_DIR=/path/to/datasets python benchmarks/bench_models.py [--datasets ml-100k ciao]

Each configuration runs in a fresh Python process, so its "full run" includes every
compilation, as a user's first ``hmf train`` would. Settings: lr 1e-3 (and 1e-2 for
HMF 1000/500, also in the paper's grid), weight decay 1e-4, seed 0, the paper's 512-epoch cap
and patience 5. Columns:

* ``epochs`` - epochs run before early stopping;
* ``s/epoch`` - median wall seconds of epochs 2.. (epoch 1 includes compilation);
* ``full run s`` - ``fit`` wall time: initialisation, compilation and every epoch;
* ``test RMSE`` - of the best validation epoch.

Goals: HMF with 1000/500 clusters on ML-100K in under 10 s on a 2-core CPU (paper: 82.7 s on a
14-core Xeon), and HMF's s/epoch within 3x of MF's at 200/100 clusters.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

# (model, user clusters, item clusters, learning rate); weight decay 1e-4 throughout
CONFIGS = [
    ("mf", None, None, 1e-3),
    ("hmf", 200, 100, 1e-3),
    ("hmf", 1000, 500, 1e-3),
    ("hmf", 1000, 500, 1e-2),
]


def run_one(dataset: str, model: str, user_clusters, item_clusters, lr: float) -> dict:
    import time

    t0 = time.perf_counter()
    from hmf import data, metrics, models, train
    from hmf.split import paper_split

    split = paper_split(data.load(dataset))
    load_seconds = time.perf_counter() - t0
    if model == "mf":
        spec = models.mf()
    else:
        spec = models.hmf(user_clusters=user_clusters, item_clusters=item_clusters)
    result = train.fit(spec, split, lr=lr, weight_decay=1e-4, seed=0)
    test = metrics.evaluate(spec, result.params, split, "test")
    seconds = result.history["seconds"]
    return {
        "dataset": dataset,
        "model": model,
        "clusters": "-" if model == "mf" else f"{user_clusters}/{item_clusters}",
        "lr": lr,
        "epochs": result.epochs,
        "first_epoch_s": float(seconds.iloc[0]),
        "s_per_epoch": float(seconds.iloc[1:].median()) if len(seconds) > 1 else float("nan"),
        "full_run_s": result.train_seconds,
        "test_rmse": test["rmse"],
        "load_s": load_seconds,
        "verified": split.verified,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "ciao"])
    parser.add_argument("--json", action="store_true", help="print JSON records, not a table")
    parser.add_argument(
        "--one", nargs=5, metavar=("DATASET", "MODEL", "UC", "IC", "LR"), help=argparse.SUPPRESS
    )  # internal: run one configuration
    args = parser.parse_args(argv)
    if args.one:
        dataset, model, uc, ic, lr = args.one
        uc, ic = (None, None) if model == "mf" else (int(uc), int(ic))
        print(json.dumps(run_one(dataset, model, uc, ic, float(lr))))
        return 0

    records = []
    for dataset in args.datasets:
        for model, uc, ic, lr in CONFIGS:
            out = subprocess.run(
                [sys.executable, __file__, "--one", dataset, model, str(uc), str(ic), str(lr)],
                capture_output=True,
                text=True,
                env=os.environ.copy(),
                check=True,
            )
            record = json.loads(out.stdout.strip().splitlines()[-1])
            records.append(record)
            if not args.json:
                print(f"done {dataset} {model} {record['clusters']} lr {lr:g}", file=sys.stderr)
    if args.json:
        print(json.dumps(records, indent=2))
        return 0
    print(
        f"{'dataset':9} {'model':5} {'clusters':9} {'lr':>6} {'epochs':>6} {'s/epoch':>8} "
        f"{'1st epoch s':>11} {'full run s':>10} {'test RMSE':>9}"
    )
    for r in records:
        print(
            f"{r['dataset']:9} {r['model']:5} {r['clusters']:9} {r['lr']:6g} {r['epochs']:6d} "
            f"{r['s_per_epoch']:8.3f} {r['first_epoch_s']:11.2f} {r['full_run_s']:10.2f} "
            f"{r['test_rmse']:9.3f}"
        )
    for dataset in args.datasets:
        by = {(r["model"], r["clusters"], r["lr"]): r for r in records if r["dataset"] == dataset}
        ratio = by["hmf", "200/100", 1e-3]["s_per_epoch"] / by["mf", "-", 1e-3]["s_per_epoch"]
        print(
            f"{dataset}: HMF 200/100 s/epoch = {ratio:.2f} x MF "
            f"(goal <= 3); HMF 1000/500 full run {by['hmf', '1000/500', 1e-3]['full_run_s']:.1f} s "
            f"at lr 1e-3, {by['hmf', '1000/500', 1e-2]['full_run_s']:.1f} s at lr 1e-2 (goal < 10)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
