"""Seconds per training run of the baselines: IHSR, eTREE (NumPy, rating), NeuMF, ProtoMF
(JAX, ranking) and the outside reference ref-mf-biased / ref-mf (Cornac SGD MF, rating).

Not a test: prints one line per (model, data set) with the training time (pretraining or NMF
initialisation included), the iterations run, the per-iteration time and the test metrics, for the
configurations documented in book/baselines.md and book/ranking_baselines.md. Paper Table 3 (CPU,
Xeon Gold 6132) reports IHSR 0.6 s / 84.9 s and eTREE 182.6 s / 105.1 s on ML-100K / Ciao, and
on DIGINETICA NeuMF 1094.2 s and ProtoMF 891.6 s. The ranking models run on ``<data set>-implicit``
(the ratings as views; DIGINETICA itself where it is available, as ``diginetica``).

    HMF_DATA_DIR=/path/to/datasets python benchmarks/bench_baselines.py [--datasets ml-100k ciao]
        [--models ihsr etree neumf protomf ref-mf-biased ref-mf] [--seeds 0]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax.numpy as jnp

from hmf import data, metrics, split
from hmf.models import etree, ihsr

# the configurations of book/baselines.md: best validation RMSE of a small grid per data set
# (ML-100K: both models; Ciao: eTREE re-tuned, IHSR kept at its ML-100K configuration)
CONFIGS = {
    ("ml-100k", "ihsr"): dict(lam=10.0, user_clusters=200, item_clusters=100),
    ("ml-100k", "etree"): dict(item_levels=(25, 5), lam=20.0, mu=20.0),
    ("ciao", "ihsr"): dict(lam=10.0, user_clusters=200, item_clusters=100),
    ("ciao", "etree"): dict(item_levels=(25, 5), lam=0.001, mu=0.001),
}
FIT = {"ihsr": ihsr.fit_ihsr, "etree": etree.fit_etree}
# Through hmf.experiments.run_one (the path of `hmf train` and the sweeps). Ranking: lr 1e-3,
# weight decay 1e-4 and, for ProtoMF, Table 2's k = 32 prototype counts ceil(n/32), lambda 1e-2.
RUN_ONE = ("neumf", "protomf", "ref-mf-biased", "ref-mf")


def _run_one_config(model: str, s) -> dict:
    from hmf.experiments.grids import ranking_clusters

    if model == "neumf":
        return dict(lr=1e-3, weight_decay=1e-4)
    if model == "protomf":
        users, items = ranking_clusters(s.n_users, s.n_items)[-1]
        return dict(
            lr=1e-3,
            weight_decay=1e-4,
            user_prototypes=users,
            item_prototypes=items,
            proto_lambda=1e-2,
        )
    return dict(sgd_lr=0.01, sgd_reg=0.02)  # Cornac's defaults


def _bench_run_one(name: str, model: str, seed: int) -> None:
    from hmf.experiments import run_one

    ranking = model in ("neumf", "protomf")
    dataset = name if (not ranking or name == "diginetica") else f"{name}-implicit"
    s = split.load_split(dataset)
    config = _run_one_config(model, s)
    t0 = time.perf_counter()
    r = run_one(s, model, config, seed)
    wall = time.perf_counter() - t0
    test = " ".join(f"test_{k}={v:.4f}" for k, v in r.test.items())
    val = " ".join(f"val_{k}={v:.4f}" for k, v in r.validation.items())
    per_epoch = sum(r.history["seconds"]) / max(r.epochs, 1)
    print(
        f"{dataset:8s} {model:6s} seed={seed} train_seconds={r.train_seconds:7.2f} "
        f"(wall {wall:7.2f}) iterations={r.epochs:4d} best={r.best_epoch:4d} "
        f"s/iter={per_epoch:.3f} {val} {test} inference_seconds={r.inference_seconds:.3f}  "
        f"{config}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "ciao"])
    parser.add_argument("--models", nargs="+", default=["ihsr", "etree"], choices=[*FIT, *RUN_ONE])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args()
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"HMF_DATA_DIR={os.environ.get('HMF_DATA_DIR', '')}"
    )
    metrics.rmse(jnp.zeros(1), jnp.zeros(1))  # JAX start-up outside the timings
    for name in args.datasets:
        s = split.paper_split(data.load(name)) if set(args.models) & set(FIT) else None
        for model in args.models:
            for seed in args.seeds:
                if model in RUN_ONE:
                    _bench_run_one(name, model, seed)
                    continue
                t0 = time.perf_counter()
                config = CONFIGS.get((name, model), CONFIGS[("ml-100k", model)])
                r = FIT[model](s, seed=seed, **config)
                wall = time.perf_counter() - t0
                t1 = time.perf_counter()
                test = metrics.evaluate(r.spec, r.params, s, "test")["rmse"]
                infer = time.perf_counter() - t1
                print(
                    f"{name:8s} {model:6s} seed={seed} train_seconds={r.train_seconds:7.2f} "
                    f"(wall {wall:7.2f}) iterations={r.epochs:4d} best={r.best_epoch:4d} "
                    f"s/iter={r.history.seconds.mean():.3f} val_rmse={r.validation['rmse']:.4f} "
                    f"test_rmse={test:.4f} inference_seconds={infer:.3f}  {config}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
