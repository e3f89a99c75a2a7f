"""Where one training step's time goes: gradient (forward + backward) vs the AdamW update.

    HMF_DATA_DIR=/path/to/datasets python benchmarks/bench_step.py [--datasets ml-100k ml-1m ciao]

For MF and HMF at both ends of Table 2's cluster range, on each data set's real split: the
trainable parameter count, the median milliseconds of a jitted gradient of one batch of 1024
(the trainer's loss), of one AdamW update of every parameter (what ``optax.adamw`` does at every
step, whether or not a row was in the batch), and of the whole step; and the steps per epoch.
The AdamW update reads and writes every connection logit, so its cost grows with
users x user clusters + items x item clusters, not with the batch: on the larger data sets it
is most of an HMF step on a CPU, which is memory-bound there (a GPU's memory bandwidth is what
makes the paper's GPU times short).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time


def _median_ms(fn, *args, repeats: int) -> float:
    import jax

    jax.block_until_ready(fn(*args))  # compile
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def measure(split, model: str, clusters, repeats: int, batch_size: int = 1024) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    from hmf import models
    from hmf.models.factorization import squared_error

    spec = (
        models.mf()
        if model == "mf"
        else models.hmf(user_clusters=clusters[0], item_clusters=clusters[1])
    )
    params = spec.init(jax.random.key(0), split.n_users, split.n_items)
    optimizer = optax.adamw(1e-3, weight_decay=1e-4)
    state = optimizer.init(params)
    rows = split.train.iloc[:batch_size]
    batch = {
        "user": jnp.asarray(rows["user"].to_numpy(np.int32)),
        "item": jnp.asarray(rows["item"].to_numpy(np.int32)),
        "rating": jnp.asarray(rows["rating"].to_numpy(np.float32)),
    }
    loss = functools.partial(squared_error, spec.score)

    @jax.jit
    def gradient(p, b):
        return jax.grad(lambda q: jnp.mean(loss(q, b)))(p)

    @jax.jit
    def update(p, s, g):
        updates, s = optimizer.update(g, s, p)
        return optax.apply_updates(p, updates), s

    @jax.jit
    def step(p, s, b):
        return update(p, s, gradient(p, b))

    grads = gradient(params, batch)
    n_params = sum(int(x.size) for x in jax.tree.leaves(params))
    return {
        "dataset": split.dataset,
        "model": model if model == "mf" else f"hmf {clusters[0]}/{clusters[1]}",
        "parameters": n_params,
        "gradient_ms": _median_ms(gradient, params, batch, repeats=repeats),
        "adamw_ms": _median_ms(update, params, state, grads, repeats=repeats),
        "step_ms": _median_ms(step, params, state, batch, repeats=repeats),
        "steps_per_epoch": -(-len(split.train) // batch_size),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "ml-1m", "ciao"])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)

    import warnings

    from hmf import data
    from hmf.experiments.records import describe_machine
    from hmf.split import load_split

    warnings.simplefilter("ignore", data.store.UnverifiedCopyWarning)
    print(describe_machine())
    print(
        "| data set | model | parameters | gradient ms | AdamW update ms | step ms "
        "| AdamW share | steps/epoch | step time per epoch s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.datasets:
        split = load_split(name)
        for model, clusters in (("mf", None), ("hmf", (200, 100)), ("hmf", (1000, 500))):
            r = measure(split, model, clusters, args.repeats)
            print(
                f"| {name} | {r['model']} | {r['parameters']:,} | {r['gradient_ms']:.1f} "
                f"| {r['adamw_ms']:.1f} | {r['step_ms']:.1f} "
                f"| {r['adamw_ms'] / r['step_ms']:.0%} | {r['steps_per_epoch']} "
                f"| {r['step_ms'] * r['steps_per_epoch'] / 1000:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
