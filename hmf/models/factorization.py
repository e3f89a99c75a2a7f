"""MF, HMF, BPR-MF and BPR-HMF (paper Eq. 1, 2, 5, 9).

All four share one parameter layout, ``{"user": Embedding, "item": Embedding}``, and one score,
the plain inner product ``U_i^(0)T V_j^(0)`` - no biases, no global mean, no clipping (as the
paper). They differ only in the embedding kind (flat or hierarchical) and the objective
(squared error or BPR). The ``λ‖Θ‖²`` terms of the equations are not in the losses: the paper
trains with AdamW and uses its decoupled weight decay instead (Section 4.2), which the trainer
applies.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from hmf import checks
from hmf.models import embeddings as E
from hmf.models.spec import Batch, ModelSpec, Params

__all__ = [
    "DIM",
    "dot_score",
    "squared_error",
    "bpr",
    "default_loss",
    "materialize_params",
    "mf",
    "hmf",
    "bpr_mf",
    "bpr_hmf",
]

DIM = 20  # paper Table 2: embedding size d = 20 for every model


def dot_score(params: Params, users: jax.Array, items: jax.Array) -> jax.Array:
    """``U_i^(0)T V_j^(0)`` for broadcastable index arrays (Eq. 1/5 prediction)."""
    u = E.lookup(params["user"], users)  # (..., d)
    v = E.lookup(params["item"], items)  # (..., d)
    return jnp.sum(u * v, axis=-1)


def squared_error(score_fn, params: Params, batch: Batch) -> jax.Array:
    """Per-example ``(X_ij - score)^2`` (Eq. 1/5 without the λ term), ``(B,)``."""
    return jnp.square(batch["rating"] - score_fn(params, batch["user"], batch["item"]))


def bpr(score_fn, params: Params, batch: Batch) -> jax.Array:
    """Per-example ``-ln σ(x_ij - x_ik)`` (Eq. 2/9 without the λ term), ``(B,)``.

    Positive and negative are scored in one call, ``(B, 1)`` users against ``(B, 2)`` items,
    so a hierarchical user vector is composed once per example.
    """
    items = jnp.stack([batch["item"], batch["negative"]], axis=-1)  # (B, 2)
    s = score_fn(params, batch["user"][:, None], items)  # (B, 2)
    return -jax.nn.log_sigmoid(s[:, 0] - s[:, 1])


def default_loss(spec: ModelSpec):
    """The per-example loss the trainer uses for ``spec``: its own, else the task's default."""
    if spec.loss is not None:
        return spec.loss
    base = squared_error if spec.task == "rating" else bpr
    return functools.partial(base, spec.score)


def materialize_params(params: Params) -> Params:
    """Replace every embedding with its flat table ``U^(0)`` (for fast evaluation)."""
    return {name: E.materialize(emb) for name, emb in params.items()}


def _init_mf(key, n_users: int, n_items: int, *, dim: int) -> Params:
    ku, ki = jax.random.split(key)
    return {"user": E.init_flat(ku, n_users, dim), "item": E.init_flat(ki, n_items, dim)}


def _init_hmf(
    key, n_users: int, n_items: int, *, user_clusters, item_clusters, dim: int, temperature
) -> Params:
    ku, ki = jax.random.split(key)
    return {
        "user": E.init_hierarchical(ku, n_users, user_clusters, dim, temperature=temperature),
        "item": E.init_hierarchical(ki, n_items, item_clusters, dim, temperature=temperature),
    }


def mf(*, dim: int = DIM) -> ModelSpec:
    """Vanilla MF for rating prediction (Eq. 1)."""
    dim = checks.integer(dim, "dim", low=1)
    return ModelSpec(
        name="mf",
        task="rating",
        init=functools.partial(_init_mf, dim=dim),
        score=dot_score,
        config={"dim": dim},
    )


def hmf(
    *,
    user_clusters: int | Sequence[int] = 200,
    item_clusters: int | Sequence[int] = 100,
    dim: int = DIM,
    temperature: float = 1.0,
) -> ModelSpec:
    """HMF for rating prediction (Eq. 5-8).

    ``user_clusters`` / ``item_clusters``: ``m_1`` (depth one) or ``(m_1, …, m_p)``.
    """
    dim = checks.integer(dim, "dim", low=1)
    uc = checks.levels(user_clusters, "user_clusters")
    ic = checks.levels(item_clusters, "item_clusters")
    checks.number(temperature, "temperature", low=0.0, strict=True)
    return ModelSpec(
        name="hmf",
        task="rating",
        init=functools.partial(
            _init_hmf, user_clusters=uc, item_clusters=ic, dim=dim, temperature=temperature
        ),
        score=dot_score,
        prepare=materialize_params,
        config={"user_clusters": uc, "item_clusters": ic, "dim": dim, "temperature": temperature},
    )


def bpr_mf(*, dim: int = DIM) -> ModelSpec:
    """BPR-MF for ranking prediction (Eq. 2)."""
    return dataclasses.replace(mf(dim=dim), name="bpr-mf", task="ranking")


def bpr_hmf(**config) -> ModelSpec:
    """BPR-HMF for ranking prediction (Eq. 9); ``config`` as :func:`hmf`'s."""
    return dataclasses.replace(hmf(**config), name="bpr-hmf", task="ranking")
