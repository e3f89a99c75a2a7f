"""Seconds per training run of the NumPy rating baselines (IHSR, eTREE) on ML-100K and Ciao.

Not a test: prints one line per (model, data set) with the training time (pretraining or NMF
initialisation included), the iterations run, the per-iteration time and the test RMSE, for the
configurations documented in book/baselines.md. Paper Table 3 (CPU, Xeon Gold 6132) reports
IHSR 0.6 s / 84.9 s and eTREE 182.6 s / 105.1 s on ML-100K / Ciao.

    HMF_DATA_DIR=/work/shared/datasets python benchmarks/bench_baselines.py [--datasets ml-100k ciao]
        [--models ihsr etree] [--seeds 0]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "ciao"])
    parser.add_argument("--models", nargs="+", default=["ihsr", "etree"], choices=list(FIT))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"HMF_DATA_DIR={os.environ.get('HMF_DATA_DIR', '')}")
    metrics.rmse(jnp.zeros(1), jnp.zeros(1))  # JAX start-up outside the timings
    for name in args.datasets:
        s = split.paper_split(data.load(name))
        for model in args.models:
            for seed in args.seeds:
                t0 = time.perf_counter()
                config = CONFIGS.get((name, model), CONFIGS[("ml-100k", model)])
                r = FIT[model](s, seed=seed, **config)
                wall = time.perf_counter() - t0
                t1 = time.perf_counter()
                test = metrics.evaluate(r.spec, r.params, s, "test")["rmse"]
                infer = time.perf_counter() - t1
                print(f"{name:8s} {model:6s} seed={seed} train_seconds={r.train_seconds:7.2f} "
                      f"(wall {wall:7.2f}) iterations={r.epochs:4d} best={r.best_epoch:4d} "
                      f"s/iter={r.history.seconds.mean():.3f} val_rmse={r.validation['rmse']:.4f} "
                      f"test_rmse={test:.4f} inference_seconds={infer:.3f}  {config}",
                      flush=True)


if __name__ == "__main__":
    main()
