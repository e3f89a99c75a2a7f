"""IHSR: implicit hierarchical structures for recommendation (Wang, Tang, Wang & Liu, IJCAI 2015;
TKDE 2018), the NumPy baseline of the paper's Table 3.

Model. Non-negative weighted matrix factorisation of the training rating matrix ``X`` (users x
items) into a chain of non-negative factors,

    X ≈ U1 U2 … Up Vq … V2 V1,
    U1: M x m1,  U2: m1 x m2, …,  Up: m_{p-1} x d,
    Vq: d x n_{q-1}, …,  V2: n2 x n1,  V1: n1 x N,

fitted on the observed entries only (``W`` = indicator of the training ratings):

    min  ‖W ⊙ (X − U1…Up Vq…V1)‖²_F + λ (Σ‖Ui‖²_F + Σ‖Vj‖²_F)   subject to all factors ≥ 0.

Row ``u`` of ``U1`` is user ``u``'s soft membership in the ``m1`` user clusters, column ``i`` of
``V1`` item ``i``'s membership in the ``n1`` item clusters; ``U2`` and ``V2`` are the cluster
embeddings. The paper compares every method "with a depth one": one level of user clusters and
one of item clusters, i.e. ``user_clusters=m1``, ``item_clusters=n1`` give ``p = q = 2`` in
IHSR's numbering (``X ≈ U1 U2 V2 V1``). ``p = q = 1`` would be plain weighted NMF.

Algorithm (IHSR's Algorithm 1):

1. Pretraining. ``Ũ1, Ṽ1 ← WNMF(X, d)``; then layer by layer ``Ũi ≈ Ui Ũ(i+1)`` (an NMF of the
   previous factor with inner size ``mi``) and ``Ṽj ≈ Ṽ(j+1) Vj``; finally ``Up = Ũp``,
   ``Vq = Ṽq``.
2. Fine-tuning: every iteration updates ``V1 … Vq`` and then ``U1 … Up``, each by the
   multiplicative rule (square-root form, as in IHSR, which keeps every entry non-negative and
   does not increase the objective)

       Vj ← Vj ⊙ sqrt( [Bjᵀ (W⊙X) Mjᵀ] / [Bjᵀ (W⊙(Bj Vj Mj)) Mjᵀ + λ Vj] ),
       Bj = U1…Up Vq…V(j+1),  Mj = V(j-1)…V1,
       Ui ← Ui ⊙ sqrt( [Aiᵀ (W⊙X) Hiᵀ] / [Aiᵀ (W⊙(Ai Ui Hi)) Hiᵀ + λ Ui] ),
       Ai = U1…U(i-1),  Hi = U(i+1)…Up Vq…V1.

3. Early stopping as the paper (Section 4.3): after each iteration the validation RMSE is
   measured; training stops once it has not improved for ``patience`` (5) consecutive
   iterations, at most ``max_iter`` (64, Table 2) iterations, and the best iteration's factors
   are returned.

Computation. ``W ⊙ X`` is a ``scipy.sparse`` CSR matrix and ``W ⊙ X̂`` is only ever evaluated on
the observed entries (a sparse matrix with the same pattern), so no dense users x items matrix
is formed. Every product ``Bjᵀ S Mjᵀ`` is routed through the rank-``d`` bottleneck
(``S Qᵀ`` or ``Sᵀ P`` with ``P = U1…Up``, ``Q = Vq…V1``): one update costs O(nnz·d) plus dense
products of the (small) factors, which keeps ML-1M and Ciao cheap.

Choices IHSR's papers leave open, fixed here (documented in the book, ``baselines.md``):

* Pretraining runs ``pretrain_iter`` multiplicative iterations of each (W)NMF, with the same λ
  and the same square-root rule; the layer NMFs are unweighted (the factor is dense).
* Initial factors are uniform on ``[0, s)`` with ``s`` chosen so the expected product equals the
  mean of the matrix being factorised; a ratio 0/0 (a row with no observed entries and λ = 0)
  leaves the entry unchanged.
* ``train_loss`` in the history is the objective above divided by the number of training
  ratings.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp

from hmf import checks
from hmf.fitting import EarlyStopping, FitResult
from hmf.models.numpy_base import (
    DIM,
    PATIENCE,
    check_split,
    columns,
    fit_result,
    not_trainable,
    rmse,
    sparse,
)
from hmf.models.spec import ModelSpec

if TYPE_CHECKING:
    from hmf.split import Split

__all__ = ["MAX_ITER", "PATIENCE", "DIM", "fit_ihsr", "predict", "objective", "spec"]

MAX_ITER = 64  # paper Table 2


# --------------------------------------------------------------------------------------------
# IHSR


def _chain(factors: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Product of ``factors`` left to right; the identity of ``size`` when empty."""
    if not factors:
        return np.eye(size)
    out = factors[0]
    for f in factors[1:]:
        out = out @ f
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``sqrt(num / den)``; 1 where ``den == 0`` (no data and no penalty: leave unchanged)."""
    out = np.ones_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return np.sqrt(out, out=out)


class _Observed:
    """The training ratings as sparse matrices plus their coordinates.

    Every training row is one term of the objective. A (user, item) pair rated more than once
    (Ciao's training subset has such pairs) is one sparse entry holding the *sum* of its ratings,
    with weight ``count``: ``Σ_k (r_k − x̂)²`` and ``count·(mean r − x̂)²`` differ by a constant, so
    the updates below see ``W ⊙ X`` = sums and ``W ⊙ X̂`` = ``count·x̂``.
    """

    def __init__(self, users, items, ratings, shape):
        self.users, self.items, self.ratings = users, items, ratings
        self.shape = shape
        keys = users * shape[1] + items
        uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        self.pair_users, self.pair_items = uniq // shape[1], uniq % shape[1]
        self.counts = counts.astype(np.float64)
        sums = np.bincount(inverse, weights=ratings, minlength=len(uniq))
        self.X = sparse(self.pair_users, self.pair_items, sums, shape)
        # same sparsity pattern and order as X: fill predictions into .data directly
        pattern = sparse(
            self.pair_users, self.pair_items, np.arange(1, len(uniq) + 1, dtype=np.float64), shape
        )
        self._pattern = pattern
        self._order = pattern.data.astype(np.int64) - 1

    def weighted(self, P: np.ndarray, Q: np.ndarray) -> sp.csr_matrix:
        """``W ⊙ (P Q)`` on the observed pattern (``P``: M x d, ``Q``: d x N)."""
        values = self.counts * _predict_observed(P, Q, self.pair_users, self.pair_items)
        m = self._pattern.copy()
        m.data = values[self._order]
        return m


def _predict_observed(P: np.ndarray, Q: np.ndarray, users, items) -> np.ndarray:
    """``(P Q)[users, items]`` for ``P`` (M x d), ``Q`` (d x N) without forming ``P Q``."""
    Qt = np.ascontiguousarray(Q.T)  # row gathers from a C-ordered copy are much faster
    return np.einsum("nd,nd->n", P[users], Qt[items])


def _sweep(obs: _Observed, Us: list[np.ndarray], Vs: list[np.ndarray], lam: float) -> None:
    """One IHSR iteration in place: ``V1 … Vq`` then ``U1 … Up`` (``Vs[0]`` is ``V1``)."""
    n_users, n_items = obs.shape
    X = obs.X
    p, q = len(Us), len(Vs)
    P = _chain(Us, n_users)  # M x d
    for j in range(q):
        Qfull = _chain(Vs[::-1], n_items)  # d x N
        S = obs.weighted(P, Qfull)
        # left = P Vq … V(j+1); use the rank-d bottleneck: leftᵀ Y = T_jᵀ (Pᵀ Y)
        T = _chain(Vs[q - 1 : j : -1], P.shape[1])  # d x rows(Vj)
        right = _chain(Vs[j - 1 :: -1], n_items) if j > 0 else None  # cols(Vj) x N
        PX = (X.T @ P).T  # d x N
        PS = (S.T @ P).T
        num, den = T.T @ PX, T.T @ PS
        if right is not None:
            num, den = num @ right.T, den @ right.T
        Vs[j] *= _ratio(num, den + lam * Vs[j])
    Q = _chain(Vs[::-1], n_items)  # d x N
    for i in range(p):
        P = _chain(Us, n_users)
        S = obs.weighted(P, Q)
        XQ = X @ Q.T  # M x d
        SQ = S @ Q.T
        R = _chain(Us[i + 1 :], Q.shape[0])  # cols(Ui) x d
        num, den = XQ @ R.T, SQ @ R.T
        if i > 0:
            A = _chain(Us[:i], n_users)  # M x rows(Ui)
            num, den = A.T @ num, A.T @ den
        Us[i] *= _ratio(num, den + lam * Us[i])


def _objective(obs: _Observed, Us, Vs, lam: float) -> float:
    P = _chain(Us, obs.shape[0])
    Q = _chain(Vs[::-1], obs.shape[1])
    err = obs.ratings - _predict_observed(P, Q, obs.users, obs.items)
    reg = sum(float(np.sum(f * f)) for f in (*Us, *Vs))
    return float(np.sum(err * err)) + lam * reg


def _uniform(rng: np.random.Generator, shape, inner: int, mean: float) -> np.ndarray:
    """Non-negative start whose product with another such factor has expectation ``mean``."""
    scale = 2.0 * math.sqrt(max(mean, 1e-12) / inner)
    return rng.uniform(0.0, scale, size=shape)


def _nmf_dense(Y: np.ndarray, k: int, lam: float, iters: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Unweighted NMF ``Y ≈ L R`` (inner size ``k``) by the same square-root rule."""
    L = _uniform(rng, (Y.shape[0], k), k, float(Y.mean()))
    R = _uniform(rng, (k, Y.shape[1]), k, float(Y.mean()))
    for _ in range(iters):
        L *= _ratio(Y @ R.T, L @ (R @ R.T) + lam * L)
        R *= _ratio(L.T @ Y, (L.T @ L) @ R + lam * R)
    return L, R


def _pretrain(obs: _Observed, dim: int, user_clusters, item_clusters, lam, iters, rng):
    n_users, n_items = obs.shape
    mean = float(obs.ratings.mean())
    Ut = _uniform(rng, (n_users, dim), dim, mean)
    Vt = _uniform(rng, (dim, n_items), dim, mean)
    Us, Vs = [Ut], [Vt]
    for _ in range(iters):  # WNMF(X, d): p = q = 1
        _sweep(obs, Us, Vs, lam)
    Ut, Vt = Us[0], Vs[0]
    users, items = [], []
    for m in user_clusters:  # Ũi ≈ Ui Ũ(i+1)
        Ui, Ut = _nmf_dense(Ut, m, lam, iters, rng)
        users.append(Ui)
    users.append(Ut)
    for n in item_clusters:  # Ṽj ≈ Ṽ(j+1) Vj
        Vt, Vj = _nmf_dense(Vt, n, lam, iters, rng)
        items.append(Vj)
    items.append(Vt)
    return users, items  # items[0] = V1, items[-1] = Vq


def predict(params: dict, users, items) -> np.ndarray:
    """Predicted ratings ``(U1…Up)[users] · (Vq…V1)[:, items]`` (NumPy; any broadcastable index
    arrays)."""
    return _product(np, params, np.asarray(users), np.asarray(items))


def _product(xp, params, users, items):
    """``(U1…Up)[users] · (Vq…V1)[:, items]`` with array module ``xp`` (NumPy or jax.numpy)."""
    u = params["users"][0][users]
    for f in params["users"][1:]:
        u = u @ f
    v = params["items"][0].T[items]
    for f in params["items"][1:]:
        v = v @ f.T
    return xp.sum(u * v, axis=-1)


def _score(params, users, items):
    """JAX twin of :func:`predict` for :mod:`hmf.metrics` (``ModelSpec.score``)."""
    return _product(jnp, params, users, items)


def spec(**config) -> ModelSpec:
    """The :class:`ModelSpec` that :mod:`hmf.metrics` uses to evaluate IHSR parameters."""
    return ModelSpec(name="ihsr", task="rating", init=not_trainable, score=_score, config=config)


def objective(split: Split, params: dict, lam: float) -> float:
    """IHSR's training objective of ``params`` on ``split.train`` (sum, not mean)."""
    obs = _Observed(*columns(split.train), (split.n_users, split.n_items))
    return _objective(obs, list(params["users"]), list(params["items"]), lam)


def fit_ihsr(
    split: Split,
    *,
    lam: float,
    user_clusters: int | Sequence[int],
    item_clusters: int | Sequence[int],
    seed: int = 0,
    max_iter: int = MAX_ITER,
    patience: int = PATIENCE,
    dim: int = DIM,
    pretrain_iter: int | None = None,
    callback=None,
    restore_best: bool = True,
) -> FitResult:
    """Train IHSR on ``split.train`` with early stopping on ``split.validation``.

    ``user_clusters`` (``m1``, or ``(m1, m2, …)`` for a deeper user hierarchy) and
    ``item_clusters`` (``n1``, …) follow paper Table 2; ints give the paper's depth one.
    ``pretrain_iter`` (default ``max_iter``) is the number of multiplicative iterations of each
    pretraining (W)NMF. Returns :class:`hmf.fitting.FitResult` whose ``params`` are
    ``{"users": (U1, …, Up), "items": (V1, …, Vq)}`` (NumPy, float64) of the best iteration;
    ``history`` has one row per fine-tuning iteration. The same ``seed`` gives the same numbers.
    """
    lam = checks.number(lam, "lam", low=0.0)
    checks.integer(seed, "seed", low=0)
    max_iter = checks.integer(max_iter, "max_iter", low=1)
    patience = checks.integer(patience, "patience", low=1)
    dim = checks.integer(dim, "dim", low=1)
    pretrain_iter = (
        max_iter if pretrain_iter is None else checks.integer(pretrain_iter, "pretrain_iter", low=0)
    )
    m = checks.levels(
        user_clusters,
        "user_clusters",
        high=split.n_users,
        what=f"the number of users of {split.dataset!r}",
    )
    n = checks.levels(
        item_clusters,
        "item_clusters",
        high=split.n_items,
        what=f"the number of items of {split.dataset!r}",
    )
    check_split(split)

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    obs = _Observed(*columns(split.train), (split.n_users, split.n_items))
    vu, vi, vr = columns(split.validation)
    Us, Vs = _pretrain(obs, dim, m, n, lam, pretrain_iter, rng)

    stopper = EarlyStopping(patience, restore_best=restore_best)
    rows = []
    for it in range(1, max_iter + 1):
        t0 = time.perf_counter()
        _sweep(obs, Us, Vs, lam)
        loss = _objective(obs, Us, Vs, lam) / obs.ratings.size
        params = {"users": tuple(Us), "items": tuple(Vs)}
        val = rmse(predict(params, vu, vi), vr)
        row = {
            "epoch": it,
            "train_loss": loss,
            "validation_rmse": val,
            "seconds": time.perf_counter() - t0,
        }
        rows.append(row)
        if callback is not None:
            callback(row)
        if stopper.update(
            it,
            val,
            lambda: {"users": tuple(f.copy() for f in Us), "items": tuple(f.copy() for f in Vs)},
        ):
            break
    best = stopper.best({"users": tuple(Us), "items": tuple(Vs)})
    config = {
        "lam": lam,
        "user_clusters": m,
        "item_clusters": n,
        "dim": dim,
        "seed": seed,
        "max_iter": max_iter,
        "patience": patience,
        "pretrain_iter": pretrain_iter,
    }
    return fit_result(spec(**config), best, rows, stopper, time.perf_counter() - start)
