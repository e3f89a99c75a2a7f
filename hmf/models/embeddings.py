"""Flat and hierarchical embeddings (paper Section 3.1, Eq. 3-8).

An embedding maps integer indices (users or items) of any shape ``(...)`` to vectors
``(..., d)``. Two kinds, both plain pytrees:

* :class:`FlatEmbedding` - one free vector per object (vanilla MF, Fig. 1 b);
* :class:`HierarchicalEmbedding` - connection logits ``C1 … Cp`` and root-cluster embeddings
  ``Up``; object vectors are ``U0 = softmax(C1) softmax(C2) … softmax(Cp) Up`` (Eq. 3/4, with
  the row softmax of Eq. 7/8), so every object is a convex combination of level-1 clusters,
  every level-1 cluster one of level-2 clusters, and so on.

The functions dispatch on the embedding type with ``isinstance``; the type is static under
``jax.jit``, so this costs nothing at run time and needs no class hierarchy.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from hmf import checks
from hmf.errors import UsageError

__all__ = [
    "FlatEmbedding",
    "HierarchicalEmbedding",
    "Embedding",
    "init_flat",
    "init_hierarchical",
    "halving_clusters",
    "connection",
    "composed_connection",
    "level_embeddings",
    "lookup",
    "materialize",
    "depth",
]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class FlatEmbedding:
    """One free ``d``-vector per object: ``table`` ``(n, d)``."""

    table: jax.Array  # (n, d)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class HierarchicalEmbedding:
    """Hierarchical embedding of depth ``p = len(logits)`` (Eq. 3/4 with Eq. 7/8).

    ``logits[l-1]`` is the unconstrained matrix whose row softmax is the connection matrix
    from level ``l-1`` to level ``l``, shape ``(m_{l-1}, m_l)`` with ``m_0`` the number of
    objects. ``root`` holds the level-``p`` cluster embeddings ``(m_p, d)``.

    ``temperature`` divides the logits before the softmax. It is static (not trained, not
    decayed); the paper has none, i.e. ``1.0``.
    """

    logits: tuple[jax.Array, ...]  # ((m0, m1), (m1, m2), ..., (m_{p-1}, m_p))
    root: jax.Array  # (m_p, d)
    temperature: float = dataclasses.field(default=1.0, metadata=dict(static=True))


Embedding = FlatEmbedding | HierarchicalEmbedding


def _normal(key: jax.Array, shape: tuple[int, ...], std: float = 1.0) -> jax.Array:
    """N(0, std²) float32 draws, determined by ``key``.

    Drawn with NumPy's PCG64 seeded from the key's bits: XLA compiles every new shape of
    ``jax.random.normal`` separately (about 0.3 s each on a 2-core CPU), which would dominate
    the set-up of a short run; NumPy draws a million numbers in milliseconds.
    """
    seed = np.asarray(jax.random.key_data(key)).ravel().tolist()
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.standard_normal(shape, dtype=np.float32) * np.float32(std))


def init_flat(key: jax.Array, n: int, dim: int) -> FlatEmbedding:
    """MF embedding: N(0, 1/d) entries (variance scaling, std ``1/sqrt(d)``; paper README)."""
    checks.integer(n, "n", low=1)
    checks.integer(dim, "dim", low=1)
    return FlatEmbedding(_normal(key, (n, dim), 1 / math.sqrt(dim)))


def init_hierarchical(
    key: jax.Array,
    n: int,
    clusters: int | Sequence[int],
    dim: int,
    *,
    temperature: float = 1.0,
) -> HierarchicalEmbedding:
    """HMF embedding: connection logits and root embeddings all N(0, 1) (paper README).

    ``clusters`` gives ``(m_1, …, m_p)``; an int means depth one.
    """
    checks.integer(n, "n", low=1)
    checks.integer(dim, "dim", low=1)
    sizes = (clusters,) if isinstance(clusters, int) else tuple(clusters)
    if not sizes:
        raise UsageError("clusters must name at least one level, got an empty sequence")
    for level, m in enumerate(sizes, start=1):
        checks.integer(m, f"clusters at level {level}", low=1)
    checks.number(temperature, "temperature", low=0.0, strict=True)
    keys = jax.random.split(key, len(sizes) + 1)
    rows = (n,) + sizes
    logits = tuple(_normal(k, (rows[level], rows[level + 1])) for level, k in enumerate(keys[:-1]))
    root = _normal(keys[-1], (sizes[-1], dim))
    return HierarchicalEmbedding(logits, root, float(temperature))


def halving_clusters(first: int, depth: int) -> tuple[int, ...]:
    """Cluster counts ``m_l = m_1 / 2^(l-1)`` of paper Section 5.4 (floored, at least 1)."""
    checks.integer(first, "clusters", low=1)
    checks.integer(depth, "depth", low=1)
    return tuple(max(1, first // 2**level) for level in range(depth))


def depth(emb: Embedding) -> int:
    """Number of cluster levels (0 for a flat embedding)."""
    return len(emb.logits) if isinstance(emb, HierarchicalEmbedding) else 0


def connection(emb: HierarchicalEmbedding, level: int) -> jax.Array:
    """Connection matrix ``softmax(C_level)`` from level ``level-1`` to ``level`` (Eq. 7/8).

    Shape ``(m_{level-1}, m_level)``; every row sums to one.
    """
    _check_level(emb, level, low=1)
    return jax.nn.softmax(emb.logits[level - 1] / emb.temperature, axis=-1)


def composed_connection(emb: HierarchicalEmbedding, level: int, start: int = 0) -> jax.Array:
    """Product ``softmax(C_{start+1}) … softmax(C_level)``: membership of level-``start``
    nodes (objects when ``start = 0``) in level-``level`` clusters, ``(m_start, m_level)``.

    Rows sum to one (a product of row-stochastic matrices is row-stochastic).
    """
    _check_level(emb, level, low=1)
    if not 0 <= start < level:
        raise UsageError(f"start must be in 0..{level - 1} for level {level}, got {start}")
    out = connection(emb, start + 1)
    for k in range(start + 2, level + 1):
        out = out @ connection(emb, k)
    return out


def level_embeddings(emb: HierarchicalEmbedding, level: int) -> jax.Array:
    """Embeddings of the level-``level`` clusters, ``U^(l) = softmax(C_{l+1}) … U^(p)``.

    Shape ``(m_level, d)``; ``level = p`` gives the root, ``level = 0`` every object (Eq. 3).
    """
    _check_level(emb, level, low=0)
    out = emb.root
    for k in range(depth(emb), level, -1):  # right to left: (m_{k-1}, m_k) @ (m_k, d)
        out = connection(emb, k) @ out
    return out


def lookup(emb: Embedding, index: jax.Array) -> jax.Array:
    """Vectors of the objects ``index`` ``(...)`` -> ``(..., d)`` (rows of ``U^(0)``).

    For a hierarchical embedding only the level-1 rows that ``index`` names are softmaxed;
    levels above are small (``m_l x m_{l+1}``) and composed in full. When there are no more
    objects than indices (e.g. 625 users in a batch of 1024), all of ``U^(0)`` costs no more
    rows than the batch and avoids scattering the gradient into ``C1``, so that is used.
    """
    if isinstance(emb, FlatEmbedding):
        return emb.table[index]
    if emb.logits[0].shape[0] <= math.prod(jnp.shape(index)):
        return level_embeddings(emb, 0)[index]
    weights = jax.nn.softmax(emb.logits[0][index] / emb.temperature, axis=-1)  # (..., m1)
    return weights @ level_embeddings(emb, 1)  # (..., m1) @ (m1, d)


def materialize(emb: Embedding) -> FlatEmbedding:
    """The flat table ``U^(0)`` ``(n, d)``: same vectors, cheaper repeated look-ups."""
    if isinstance(emb, FlatEmbedding):
        return emb
    return FlatEmbedding(level_embeddings(emb, 0))


def _check_level(emb: Embedding, level: int, low: int) -> None:
    if not isinstance(emb, HierarchicalEmbedding):
        raise UsageError("connections and cluster levels exist only for a hierarchical embedding")
    p = depth(emb)
    if not low <= level <= p:
        raise UsageError(f"level must be in {low}..{p} for this depth-{p} hierarchy, got {level}")
