"""How much of an eTREE iteration a low-rank inverse could save on a sparse data set (a lead, not
the code the model runs).

    HMF_DATA_DIR=/path/to/datasets python benchmarks/bench_etree_solve.py [--dataset ciao]

eTREE inverts one R x R Gram matrix per item every iteration, ``G_j = E_jᵀE_j + cI`` with
``E_j`` (k_j x R) the embeddings of the k_j users who rated item j (``hmf/models/etree.py``,
``_grams`` and ``_admm``). For an item with k_j < R ratings the Woodbury identity gives the same
inverse from a k_j x k_j one:

    (cI + EᵀE)⁻¹ = (I − Eᵀ (cI_k + E Eᵀ)⁻¹ E) / c

Prints the seconds of ``np.linalg.inv`` on every item's Gram matrix against Woodbury for the items
with k_j <= ``--max-k`` (the rest still inverted directly), and the largest relative difference
of the two inverses - not zero: another order of floating-point operations, so adopting it would
change every eTREE record's last bits.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def woodbury_inverses(E: np.ndarray, c: float) -> np.ndarray:
    """``(cI + EᵀE)⁻¹`` for a batch ``E`` of shape (n, k, R), through (n, k, k) inverses."""
    n, k, R = E.shape
    Et = E.transpose(0, 2, 1)
    inner = np.linalg.inv(E @ Et + c * np.eye(k))
    return (np.eye(R) - Et @ inner @ E) / c


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--dataset", default="ciao")
    parser.add_argument("--max-k", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    from hmf.models.etree import ETA, _Data, _grams
    from hmf.models.ihsr import DIM, _columns
    from hmf.split import split_for

    if not 1 <= args.max_k < DIM:
        parser.error(
            f"--max-k {args.max_k}: expected 1 to {DIM - 1} (below the embedding size, {DIM})"
        )

    split = split_for(args.dataset, None)
    data = _Data(*_columns(split.train), (split.n_users, split.n_items))
    rng = np.random.default_rng(0)
    A = rng.uniform(size=(split.n_users, DIM))  # any embeddings: the cost does not depend on them
    c = ETA + 1.0  # η + a typical ρ: the scale of eTREE's item-side shift
    G = _grams(data.WT, A, c)
    WT = data.WT  # CSR: the users who rated each item
    counts = np.diff(WT.indptr)
    groups = {k: np.flatnonzero(counts == k) for k in range(1, args.max_k + 1)}
    rest = np.flatnonzero((counts == 0) | (counts > args.max_k))
    # a repeated (user, item) pair is one stored entry of weight 2: its row counts twice
    E = {}
    for k, rows in groups.items():
        at = WT.indptr[rows][:, None] + np.arange(k)
        E[k] = A[WT.indices[at]] * np.sqrt(WT.data[at])[:, :, None]

    def direct():
        return np.linalg.inv(G)

    def lowrank():
        out = np.empty_like(G)
        for k, rows in groups.items():
            out[rows] = woodbury_inverses(E[k], c)
        out[rest] = np.linalg.inv(G[rest])
        return out

    names = ("np.linalg.inv, every item", f"Woodbury for k <= {args.max_k}")
    timings = {
        name: min(_seconds(fn) for _ in range(args.repeat))
        for name, fn in zip(names, (direct, lowrank))
    }
    ref, low = direct(), lowrank()
    rel = float(np.max(np.abs(low - ref)) / np.max(np.abs(ref)))
    covered = sum(len(r) for r in groups.values())
    print(
        f"{args.dataset}: {split.n_items} items, {covered} ({covered / split.n_items:.0%}) "
        f"with 1-{args.max_k} training ratings"
    )
    for name, seconds in timings.items():
        print(f"{name}: {seconds * 1e3:.1f} ms (best of {args.repeat})")
    print(
        f"speed-up {timings[names[0]] / timings[names[1]]:.1f}x; "
        f"largest difference {rel:.1e} of the largest entry"
    )


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
