"""NeuMF (He et al., WWW 2017), the neural ranking baseline of paper Table 3b.

Two branches with their own embeddings, fused by one linear layer::

    GMF:  g = p_u ⊙ q_i                                   (d = 20)
    MLP:  z_0 = [p'_u ; q'_i]                               (40 = 2 x 20)
          z_1 = ReLU(W_1 z_0 + b_1)                         (20)
          z_2 = ReLU(W_2 z_1 + b_2)                         (10)
    score(u, i) = h^T [g ; z_2]

Table 2's "layer sizes {40, 20, 10}" is read as in NeuMF's own code (``layers[0]`` is the
width of the concatenated MLP input, each side's MLP embedding ``layers[0] / 2``): a 40-wide
input from two 20-dimensional embeddings (the paper's d = 20 for every model), then hidden
layers of 20 and 10 units. The GMF embeddings are 20-dimensional too.

Choices (see book/ranking_baselines.md):

* Objective: the shared trainer's BPR loss on the raw score, the same as BPR-MF (NeuMF's paper
  uses pointwise log loss on ``σ(score)`` with 4 sampled negatives per positive). ``σ`` is
  monotone, so the ranking it induces is that of the raw score; no output sigmoid is kept.
* No bias on the output layer: a constant shifts every score of every item equally, so it
  cancels in BPR's score differences and in every ranking.
* No GMF/MLP pretraining (optional in NeuMF's paper; the comparison paper does not mention it).
* Initialisation: the embeddings as BPR-MF's (N(0, 1/d)); dense layers Glorot-uniform with zero
  biases (Keras' default in NeuMF's code); the output layer LeCun-uniform, as NeuMF's code.
* The first MLP layer is applied per side before broadcasting: ``W_1 [p'; q'] = W_1u p' + W_1i q'``
  (the same function, but a ``(B, 1)`` user against ``(B, 100)`` items runs the user half once).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from hmf import checks
from hmf.errors import UsageError
from hmf.models.factorization import DIM
from hmf.models.spec import ModelSpec, Params

__all__ = ["LAYERS", "neumf", "neumf_score"]

LAYERS = (40, 20, 10)  # paper Table 2: MLP input width, then the hidden layers


def _rng(key: jax.Array) -> np.random.Generator:
    """NumPy generator seeded from a JAX key (as :func:`hmf.models.embeddings._normal`: XLA
    would compile every new shape of a ``jax.random`` draw, ~0.3 s each on 2 cores)."""
    return np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], limit: float) -> jax.Array:
    return jnp.asarray(rng.uniform(-limit, limit, size=shape).astype(np.float32))


def _init(key, n_users: int, n_items: int, *, dim: int, layers: tuple[int, ...]) -> Params:
    rng = _rng(key)
    half = layers[0] // 2

    def table(n, d):  # BPR-MF's embedding initialisation, N(0, 1/d)
        return jnp.asarray(rng.standard_normal((n, d), dtype=np.float32) / np.float32(math.sqrt(d)))

    params = {
        "gmf_user": table(n_users, dim),
        "gmf_item": table(n_items, dim),
        "mlp_user": table(n_users, half),
        "mlp_item": table(n_items, half),
    }
    params["mlp"] = [
        {
            "w": _uniform(rng, (fan_in, fan_out), math.sqrt(6.0 / (fan_in + fan_out))),  # Glorot
            "b": jnp.zeros((fan_out,), jnp.float32),
        }
        for fan_in, fan_out in zip(layers[:-1], layers[1:])
    ]
    fan_in = dim + layers[-1]
    params["out"] = _uniform(rng, (fan_in,), math.sqrt(3.0 / fan_in))  # LeCun uniform
    return params


def neumf_score(params: Params, users: jax.Array, items: jax.Array) -> jax.Array:
    """``h^T [p_u ⊙ q_i ; MLP([p'_u ; q'_i])]`` for broadcastable index arrays."""
    gmf = params["gmf_user"][users] * params["gmf_item"][items]  # (..., d)
    first, rest = params["mlp"][0], params["mlp"][1:]
    half = params["mlp_user"].shape[-1]
    # W_1 [p'; q'] split into its user and item halves, each applied before broadcasting
    zu = params["mlp_user"][users] @ first["w"][:half]  # (..u, h1)
    zi = params["mlp_item"][items] @ first["w"][half:]  # (..i, h1)
    z = jax.nn.relu(zu + zi + first["b"])
    for layer in rest:
        z = jax.nn.relu(z @ layer["w"] + layer["b"])
    d = gmf.shape[-1]
    return gmf @ params["out"][:d] + z @ params["out"][d:]


def _layers(layers: Sequence[int]) -> tuple[int, ...]:
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise UsageError(f"layers must be a sequence of positive integers, got {layers!r}")
    sizes = tuple(checks.integer(m, "layers", low=1) for m in layers)
    if len(sizes) < 2:
        raise UsageError(f"layers needs the input width and at least one layer, got {layers!r}")
    if sizes[0] % 2:
        raise UsageError(
            f"layers[0] is the concatenated user+item input, so must be even, got {sizes[0]}"
        )
    return sizes


def neumf(*, dim: int = DIM, layers: Sequence[int] = LAYERS) -> ModelSpec:
    """NeuMF for ranking (trained on BPR by the shared trainer).

    ``dim``: GMF embedding size (Table 2: 20). ``layers``: MLP widths, the first being the
    concatenated input (so each side's MLP embedding is ``layers[0] // 2``; Table 2: 40, 20, 10).
    """
    dim = checks.integer(dim, "dim", low=1)
    sizes = _layers(layers)
    return ModelSpec(
        name="neumf",
        task="ranking",
        init=functools.partial(_init, dim=dim, layers=sizes),
        score=neumf_score,
        config={"dim": dim, "layers": sizes},
    )
