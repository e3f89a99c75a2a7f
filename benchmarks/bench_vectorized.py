"""Vectorised (hmf.vectorized.fit_many) vs one-at-a-time (hmf.train.fit) training throughput.

    HMF_DATA_DIR=/path/to/datasets python benchmarks/bench_vectorized.py \\
        [--dataset ml-100k] [--models mf hmf] [--clusters 200 100] \\
        [--seeds 5] [--lrs 1e-2 1e-3 1e-4] [--wds 1e-2 1e-3 1e-4 1e-5 0] [--epochs 3] [--sample 5]

Members = seeds x learning rates x weight decays (default 5 x 3 x 5 = 75) of one model shape.
Both paths run exactly ``--epochs`` epochs per member (patience = epochs, so nothing stops
early and both do the same work); the one-at-a-time path runs ``--sample`` of the members
(spread over the grid) and its cost is scaled per member. Printed per model:

* ``first epoch s`` - wall seconds of epoch 1 (includes compilation) for the whole batch /
  for one ``fit``;
* ``s per member-epoch`` - median of epochs 2.. divided by the members that ran them;
* ``speed-up`` - one-at-a-time s per member-epoch / vectorised s per member-epoch
  (steady state; > 1 means the vectorised path is faster).

Both are measured back to back in one process, so a loaded machine slows both alike; the
device JAX uses is printed first.
"""

from __future__ import annotations

import argparse
import itertools
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--models", nargs="+", default=["mf", "hmf"])
    parser.add_argument(
        "--clusters",
        nargs=2,
        type=int,
        default=[200, 100],
        metavar=("USER", "ITEM"),
        help="HMF level-1 cluster counts",
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--lrs", nargs="+", type=float, default=[1e-2, 1e-3, 1e-4])
    parser.add_argument("--wds", nargs="+", type=float, default=[1e-2, 1e-3, 1e-4, 1e-5, 0.0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sample", type=int, default=5, help="members run one at a time")
    parser.add_argument(
        "--max-members",
        type=int,
        default=None,
        help="vectorise in consecutive batches of at most this many members",
    )
    args = parser.parse_args()

    import numpy as np

    from hmf import registry, train
    from hmf.experiments.records import describe_machine
    from hmf.split import load_split
    from hmf.vectorized import Member, fit_many, memory_per_member

    print(describe_machine())
    split = load_split(args.dataset)
    print(
        f"{args.dataset}: {split.n_users} users, {split.n_items} items, "
        f"{len(split.train)} training interactions"
    )
    members = [
        Member(lr, wd, seed)
        for lr, wd, seed in itertools.product(args.lrs, args.wds, range(args.seeds))
    ]
    step = max(1, len(members) // max(1, args.sample))
    sample = members[::step][: args.sample]
    E = args.epochs
    print(f"{len(members)} members, {E} epochs each; one-at-a-time sample: {len(sample)}\n")
    print(
        f"{'model':<16}{'path':<16}{'first epoch s':>14}{'s/member-epoch':>16}"
        f"{'interactions/s':>16}{'speed-up':>10}"
    )
    for name in args.models:
        kwargs = (
            {}
            if name in ("mf", "bpr-mf")
            else dict(user_clusters=args.clusters[0], item_clusters=args.clusters[1])
        )
        spec = registry.make_model(name, **kwargs)
        label = name if not kwargs else f"{name} {args.clusters[0]}/{args.clusters[1]}"
        mb = memory_per_member(spec, split.n_users, split.n_items) / 2**20

        size = args.max_members or len(members)
        t0 = time.perf_counter()
        firsts, steadies = [], []
        for i in range(0, len(members), size):
            batch = members[i : i + size]
            vec = fit_many(spec, split, batch, max_epochs=E, patience=E, compact=False)
            per_epoch = vec[0].history["seconds"].to_numpy() * len(batch)  # batch wall/epoch
            firsts.append(per_epoch[0])
            steadies.append(float(np.median(per_epoch[1:])) / len(batch) if E > 1 else np.nan)
        vec_wall = time.perf_counter() - t0
        per_epoch = [firsts[0]]
        vec_steady = float(np.median(steadies))

        one_first, one_steady = [], []
        for m in sample:
            r = train.fit(
                spec,
                split,
                lr=m.lr,
                weight_decay=m.weight_decay,
                seed=m.seed,
                max_epochs=E,
                patience=E,
            )
            s = r.history["seconds"].to_numpy()
            one_first.append(s[0])
            one_steady.append(float(np.median(s[1:])) if E > 1 else float("nan"))
        one = float(np.median(one_steady))
        n = len(split.train)
        print(
            f"{label:<16}{'one-at-a-time':<16}{np.median(one_first):>14.2f}{one:>16.4f}"
            f"{n / one:>16,.0f}{'':>10}"
        )
        print(
            f"{label:<16}{'vectorised':<16}{per_epoch[0]:>14.2f}{vec_steady:>16.4f}"
            f"{n / vec_steady:>16,.0f}{one / vec_steady:>9.2f}x"
        )
        print(
            f"{'':<16}(vectorised: batches of {min(size, len(members))} x {mb:.1f} MiB state, "
            f"{vec_wall:.1f} s wall for {E} epochs of {len(members)} members)"
        )


if __name__ == "__main__":
    main()
