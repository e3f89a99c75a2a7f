"""UI-ProtoMF (Melchiorre et al., RecSys 2022), the prototype ranking baseline of Table 3b.

Users and items have ``d``-dimensional embeddings ``u``, ``v``; there are ``L_U`` user
prototypes ``p_k`` and ``L_I`` item prototypes ``q_l`` in the same space, and two linear maps,
``W_I`` (``d -> L_U``, items into the user-prototype space) and ``W_U`` (``d -> L_I``).

    sim(a, b) = 1 + cos(a, b)                            shifted cosine, in [0, 2]
    u* = [sim(u, p_1), …, sim(u, p_{L_U})]               user as similarities to user prototypes
    i* = [sim(v, q_1), …, sim(v, q_{L_I})]               item as similarities to item prototypes
    score(u, i) = u* · (W_I^T v)  +  (W_U^T u) · i*      U-ProtoMF part + I-ProtoMF part

One embedding per user (and per item) feeds both parts, as ProtoMF's UI variant with tied
embeddings. The score is evaluated in an algebraically equal O(d) form per pair: with unit
vectors ``û``, ``v̂`` and unit prototypes ``P̂``, ``Q̂`` (rows),

    score = (W_I u*) · v  +  sum(W_U^T u)  +  (Q̂^T W_U^T u) · v̂

where every vector in front of ``v`` depends on the user only, so a ``(B, 1)`` user against
``(B, 100)`` candidates never forms a ``(B, 100, L_I)`` similarity tensor.
:func:`representations` gives ``u*``, ``i*`` and the two projections explicitly.

Regularisers (ProtoMF Sec. 3, the "pull" terms), on the entities of a training batch ``B``
(for items: the positives and the sampled negatives) and ``S[b, k] = sim(entity_b, proto_k)``:

    R_1 = -(1/L) Σ_k max_b S[b, k]     every prototype close to at least one entity
    R_2 = -(1/|B|) Σ_b max_k S[b, k]   every entity close to at least one prototype

for users and for items. The objective per batch is BPR + λ (R_U1 + R_U2 + R_I1 + R_I2), one
λ for the four terms (Table 2 tunes a single λ*). ProtoMF itself trains with sampled softmax;
here it is the shared trainer's BPR, as for every ranking model (book/ranking_baselines.md).

``λ`` is not a parameter (AdamW's decay would shrink it) but part of the loss function: the loss
is a frozen dataclass, equal and equally hashed for equal λ, so the trainer's compiled-epoch
cache (keyed on the spec's functions) reuses one compilation per λ value across runs.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from hmf import checks
from hmf.models.factorization import DIM, bpr
from hmf.models.spec import Batch, ModelSpec, Params

__all__ = [
    "ProtoMFLoss",
    "protomf",
    "protomf_score",
    "representations",
    "regularisers",
    "shifted_cosine",
]

_EPS = 1e-12  # floor of a squared norm before normalising (zero vectors stay zero)


def _unit(x: jax.Array) -> jax.Array:
    return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(jnp.square(x), axis=-1, keepdims=True), _EPS))


def shifted_cosine(a: jax.Array, protos: jax.Array) -> jax.Array:
    """``1 + cos(a, p_k)`` for every prototype: ``(..., d)`` x ``(L, d)`` -> ``(..., L)``."""
    return 1.0 + _unit(a) @ _unit(protos).T


def _init(
    key, n_users: int, n_items: int, *, user_prototypes: int, item_prototypes: int, dim: int
) -> Params:
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())

    def normal(shape, std):
        return jnp.asarray(rng.standard_normal(shape, dtype=np.float32) * np.float32(std))

    return {
        "user": normal((n_users, dim), 1 / math.sqrt(dim)),  # as BPR-MF
        "item": normal((n_items, dim), 1 / math.sqrt(dim)),
        "user_protos": normal((user_prototypes, dim), 1.0),  # ProtoMF: standard normal
        "item_protos": normal((item_prototypes, dim), 1.0),
        # Glorot-normal projections, as ProtoMF's code
        "item_to_user_space": normal(
            (dim, user_prototypes), math.sqrt(2 / (dim + user_prototypes))
        ),
        "user_to_item_space": normal(
            (dim, item_prototypes), math.sqrt(2 / (dim + item_prototypes))
        ),
    }


def representations(params: Params, users: jax.Array, items: jax.Array) -> dict[str, jax.Array]:
    """The explicit UI-ProtoMF vectors of ``users`` and ``items`` (each of their own shape):
    ``user_sim`` ``u*`` (…, L_U), ``item_in_user_space`` ``W_I^T v`` (…, L_U), ``item_sim``
    ``i*`` (…, L_I) and ``user_in_item_space`` ``W_U^T u`` (…, L_I)."""
    u = params["user"][users]
    v = params["item"][items]
    return {
        "user_sim": shifted_cosine(u, params["user_protos"]),
        "item_in_user_space": v @ params["item_to_user_space"],
        "item_sim": shifted_cosine(v, params["item_protos"]),
        "user_in_item_space": u @ params["user_to_item_space"],
    }


def protomf_score(params: Params, users: jax.Array, items: jax.Array) -> jax.Array:
    """``u* · W_I^T v + W_U^T u · i*`` for broadcastable index arrays (O(d) per pair)."""
    u = params["user"][users]  # (..u, d)
    v = params["item"][items]  # (..i, d)
    user_sim = shifted_cosine(u, params["user_protos"])  # (..u, L_U)
    a = user_sim @ params["item_to_user_space"].T  # (..u, d): W_I u*
    w = u @ params["user_to_item_space"]  # (..u, L_I): W_U^T u
    b = w @ _unit(params["item_protos"])  # (..u, d): Q̂^T W_U^T u
    c = jnp.sum(w, axis=-1)  # (..u,)
    return jnp.sum(a * v, axis=-1) + c + jnp.sum(b * _unit(v), axis=-1)


def _pull_terms(sim: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(R_1, R_2)`` of a batch-by-prototype similarity matrix ``(n, L)``."""
    return -jnp.mean(jnp.max(sim, axis=0)), -jnp.mean(jnp.max(sim, axis=1))


def regularisers(params: Params, users: jax.Array, items: jax.Array) -> dict[str, jax.Array]:
    """ProtoMF's four pull terms on a batch's ``users`` and ``items`` (any shapes; flattened)."""
    su = shifted_cosine(params["user"][users.reshape(-1)], params["user_protos"])
    si = shifted_cosine(params["item"][items.reshape(-1)], params["item_protos"])
    r_u1, r_u2 = _pull_terms(su)
    r_i1, r_i2 = _pull_terms(si)
    return {"user_protos": r_u1, "users": r_u2, "item_protos": r_i1, "items": r_i2}


@dataclasses.dataclass(frozen=True)
class ProtoMFLoss:
    """Per-example BPR plus ``proto_lambda`` times the batch's four pull terms.

    The pull terms are one number per batch; adding it to every row makes the trainer's mean
    over the batch ``mean BPR + λ ΣR``. (The padded rows of the last, partial batch - copies of
    a real row, masked out of the BPR mean - do take part in the batch's max similarities.)
    """

    proto_lambda: float

    def __call__(self, params: Params, batch: Batch) -> jax.Array:
        per_row = bpr(protomf_score, params, batch)
        if self.proto_lambda == 0.0:
            return per_row
        items = jnp.concatenate([batch["item"], batch["negative"]])
        reg = sum(regularisers(params, batch["user"], items).values())
        return per_row + self.proto_lambda * reg


def protomf(
    *,
    user_prototypes: int,
    item_prototypes: int,
    proto_lambda: float = 1e-3,
    dim: int = DIM,
) -> ModelSpec:
    """UI-ProtoMF for ranking, trained on BPR + ``proto_lambda`` x the pull regularisers.

    Table 2: ``user_prototypes`` = ⌈n_users / k⌉ and ``item_prototypes`` = ⌈n_items / k⌉ for
    k in (512, 128, 32) (see :func:`hmf.experiments.grids.ranking_clusters`), ``proto_lambda``
    in {1e-3, 1e-2, 1e-1, 1, 10}, ``dim`` 20.
    """
    up = checks.integer(user_prototypes, "user_prototypes", low=1)
    ip = checks.integer(item_prototypes, "item_prototypes", low=1)
    dim = checks.integer(dim, "dim", low=1)
    lam = checks.number(proto_lambda, "proto_lambda", low=0.0)
    return ModelSpec(
        name="protomf",
        task="ranking",
        init=functools.partial(_init, user_prototypes=up, item_prototypes=ip, dim=dim),
        score=protomf_score,
        loss=ProtoMFLoss(lam),
        config={"user_prototypes": up, "item_prototypes": ip, "proto_lambda": lam, "dim": dim},
    )
