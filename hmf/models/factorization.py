"""MF, HMF, BPR-MF and BPR-HMF (paper Eq. 1, 2, 5, 9).

All four share one parameter layout, ``{"user": Embedding, "item": Embedding}``, and one score,
the plain inner product ``U_i^(0)T V_j^(0)`` - no biases, no global mean, no clipping (as the
paper). They differ only in the embedding kind (flat or hierarchical) and the objective
(squared error or BPR). The ``λ‖Θ‖²`` terms of the equations are not in the losses: the paper
trains with AdamW and uses its decoupled weight decay instead (Section 4.2), which the trainer
applies.

Two options go beyond the paper (both off by default, leaving the paper's models unchanged):
``l2 = λ`` adds the equations' ``λ‖Θ‖²`` to the mean loss (:func:`penalised`), and ``biases``
adds the training mean and learned user and item biases to the rating score
(:func:`biased_score`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from hmf import checks
from hmf.errors import UsageError
from hmf.models import embeddings as E
from hmf.models.spec import Batch, ModelSpec, Params

__all__ = [
    "DIM",
    "Bias",
    "dot_score",
    "biased_score",
    "squared_error",
    "bpr",
    "l2_penalty",
    "penalised",
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


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Bias:
    """Rating offsets ``μ + b_i + b_j``: learned ``user`` ``(n_users,)`` and ``item``
    ``(n_items,)`` biases, and the training ratings' mean ``mean``, static (set from the data by
    :func:`with_training_mean`, never trained or decayed)."""

    user: jax.Array  # (n_users,)
    item: jax.Array  # (n_items,)
    mean: float = dataclasses.field(default=0.0, metadata=dict(static=True))


def biased_score(params: Params, users: jax.Array, items: jax.Array) -> jax.Array:
    """``μ + b_i + b_j + U_i^(0)T V_j^(0)`` (the biased factorisation of Koren et al.; not in
    the paper)."""
    bias = params["bias"]
    return bias.mean + bias.user[users] + bias.item[items] + dot_score(params, users, items)


def with_training_mean(params: Params, ratings) -> Params:
    """``params`` with ``μ`` set to the mean of the training ``ratings``."""
    bias = dataclasses.replace(params["bias"], mean=float(jnp.mean(jnp.asarray(ratings))))
    return dict(params, bias=bias)


def l2_penalty(params: Params) -> jax.Array:
    """``‖Θ‖²``: the sum of squares of every trained parameter (Eq. 1/5's regulariser)."""
    return sum(jnp.sum(jnp.square(leaf)) for leaf in jax.tree.leaves(params))


def penalised(base, lam: float, params: Params, batch: Batch) -> jax.Array:
    """Per-example ``base`` loss plus ``λ‖Θ‖²`` (:func:`l2_penalty`), ``(B,)``.

    The trainer averages the per-example losses, so a batch's objective is its mean loss plus
    ``λ‖Θ‖²``: Eq. 1/5 divided by the number of ratings ``N``, with ``λ`` in those units (Eq. 1's
    own λ is ``N`` times this one).
    """
    return base(params, batch) + lam * l2_penalty(params)


@functools.cache
def _loss(score, task: str, lam: float):
    """One loss function per (score, task, λ), equal across calls, so compiled epochs are
    reused between runs."""
    base = functools.partial(squared_error if task == "rating" else bpr, score)
    return functools.partial(penalised, base, lam) if lam else None


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
    return {name: E.materialize(v) if name in ("user", "item") else v for name, v in params.items()}


def _init_mf(key, n_users: int, n_items: int, *, dim: int, biases: bool = False) -> Params:
    ku, ki = jax.random.split(key)
    params = {"user": E.init_flat(ku, n_users, dim), "item": E.init_flat(ki, n_items, dim)}
    return _with_bias(params, n_users, n_items) if biases else params


def _init_hmf(
    key,
    n_users: int,
    n_items: int,
    *,
    user_clusters,
    item_clusters,
    dim: int,
    temperature,
    biases: bool = False,
) -> Params:
    ku, ki = jax.random.split(key)
    params = {
        "user": E.init_hierarchical(ku, n_users, user_clusters, dim, temperature=temperature),
        "item": E.init_hierarchical(ki, n_items, item_clusters, dim, temperature=temperature),
    }
    # One flat bias per user and item, not per cluster: the offsets are not part of what HMF's
    # clusters explain, and the same biases in MF and HMF keep the comparison about the factors.
    return _with_bias(params, n_users, n_items) if biases else params


def _with_bias(params: Params, n_users: int, n_items: int) -> Params:
    return dict(params, bias=Bias(jnp.zeros(n_users), jnp.zeros(n_items)))


def _rating_spec(name: str, init, score_prepare, config: dict, l2, biases) -> ModelSpec:
    """A rating model with the options beyond the paper: ``l2`` (λ of :func:`penalised`) and
    ``biases`` (:func:`biased_score`; μ set from the training data)."""
    lam = checks.number(l2, "l2", low=0.0)
    if not isinstance(biases, (bool, int)) or biases not in (0, 1):
        raise UsageError(f"biases must be 0 or 1 (False or True), got {biases!r}")
    score = biased_score if biases else dot_score
    extra = {k: v for k, v in (("l2", lam), ("biases", bool(biases))) if v}
    return ModelSpec(
        name=name,
        task="rating",
        init=functools.partial(init, biases=bool(biases)),
        score=score,
        loss=_loss(score, "rating", lam),
        prepare=score_prepare,
        data_init=with_training_mean if biases else None,
        config={**config, **extra},
    )


def mf(*, dim: int = DIM, l2: float = 0.0, biases: bool = False) -> ModelSpec:
    """Vanilla MF for rating prediction (Eq. 1); ``l2`` and ``biases`` go beyond the paper
    (module docstring)."""
    dim = checks.integer(dim, "dim", low=1)
    init = functools.partial(_init_mf, dim=dim)
    return _rating_spec("mf", init, None, {"dim": dim}, l2, biases)


def hmf(
    *,
    user_clusters: int | Sequence[int] = 200,
    item_clusters: int | Sequence[int] = 100,
    dim: int = DIM,
    temperature: float = 1.0,
    l2: float = 0.0,
    biases: bool = False,
) -> ModelSpec:
    """HMF for rating prediction (Eq. 5-8).

    ``user_clusters`` / ``item_clusters``: ``m_1`` (depth one) or ``(m_1, …, m_p)``.
    ``temperature`` T divides the connection logits before their softmax (1: the paper's);
    ``l2`` and ``biases`` go beyond the paper (module docstring).
    """
    dim = checks.integer(dim, "dim", low=1)
    uc = checks.levels(user_clusters, "user_clusters")
    ic = checks.levels(item_clusters, "item_clusters")
    checks.number(temperature, "temperature", low=0.0, strict=True)
    init = functools.partial(
        _init_hmf, user_clusters=uc, item_clusters=ic, dim=dim, temperature=temperature
    )
    config = {"user_clusters": uc, "item_clusters": ic, "dim": dim, "temperature": temperature}
    return _rating_spec("hmf", init, materialize_params, config, l2, biases)


def bpr_mf(*, dim: int = DIM) -> ModelSpec:
    """BPR-MF for ranking prediction (Eq. 2)."""
    return dataclasses.replace(mf(dim=dim), name="bpr-mf", task="ranking")


def bpr_hmf(**config) -> ModelSpec:
    """BPR-HMF for ranking prediction (Eq. 9); ``config`` as :func:`hmf`'s less ``l2`` and
    ``biases`` (rating options)."""
    rating_only = sorted({"l2", "biases"} & set(config))
    if rating_only:
        raise UsageError(f"bpr-hmf has no {' or '.join(rating_only)}: they are HMF's (rating)")
    return dataclasses.replace(hmf(**config), name="bpr-hmf", task="ranking")
