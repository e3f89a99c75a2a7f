"""Reading a trained HMF (paper Sections 3.3 and 5.3) as tables.

Level numbering follows the paper: level 0 holds the objects (users or items), level ``l``
the clusters whose embeddings are ``U^(l)``; the root is level ``p``. Every function takes an
embedding (``params["user"]`` or ``params["item"]``) or the whole parameter dict, and returns a
pandas object whose index and columns are object or cluster numbers - pass ``labels`` (e.g.
``split.user_ids``) to show raw ids for objects instead.

Because ``U^(0) = P U^(l)`` with ``P`` the composed connection from objects to level ``l``
(Eq. 3), the decomposition of Eq. (11) holds at every level:
``U_i^(0)T V_j^(0) = Σ_s Σ_t P_is Q_jt U_s^(l)T V_t^(k)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hmf.errors import UsageError
from hmf.models import embeddings as E
from hmf.models.spec import Params

__all__ = [
    "connection_table",
    "membership_table",
    "cluster_sizes",
    "cluster_embeddings",
    "affinity",
    "explain",
]


def _hier(emb, what: str) -> E.HierarchicalEmbedding:
    if not isinstance(emb, E.HierarchicalEmbedding):
        raise UsageError(
            f"{what} needs a hierarchical embedding (an HMF model), got {type(emb).__name__}"
        )
    return emb


def _index(n: int, level: int, labels: Sequence | None, name: str) -> pd.Index:
    if level == 0:
        if labels is not None:
            if len(labels) != n:
                raise UsageError(f"labels has {len(labels)} entries, expected {n}")
            return pd.Index(np.asarray(labels), name=name)
        return pd.RangeIndex(n, name=name)
    return pd.RangeIndex(n, name=f"{name}_cluster_l{level}")


def connection_table(
    emb, level: int = 1, labels: Sequence | None = None, name: str = "node"
) -> pd.DataFrame:
    """Connection probabilities ``softmax(C_level)``: rows level ``level-1``, columns level
    ``level`` (Eq. 7/8); each row sums to one."""
    emb = _hier(emb, "connection_table")
    p = np.asarray(E.connection(emb, level))
    return pd.DataFrame(
        p,
        index=_index(p.shape[0], level - 1, labels, name),
        columns=_index(p.shape[1], level, None, name),
    )


def membership_table(
    emb, level: int = 1, start: int = 0, labels: Sequence | None = None, name: str = "node"
) -> pd.DataFrame:
    """Composed connection from level ``start`` (objects when 0) up to level ``level``:
    ``softmax(C_{start+1}) … softmax(C_level)``; each row sums to one."""
    emb = _hier(emb, "membership_table")
    p = np.asarray(E.composed_connection(emb, level, start))
    return pd.DataFrame(
        p,
        index=_index(p.shape[0], start, labels, name),
        columns=_index(p.shape[1], level, None, name),
    )


def cluster_sizes(emb, level: int = 1, name: str = "node") -> pd.Series:
    """Size of each level-``level`` cluster: the column sums of the composed connection from
    objects (Section 5.3: ``Σ_i Ũ_is``), i.e. how many objects' worth of weight it holds.
    The sizes sum to the number of objects."""
    table = membership_table(emb, level, 0, name=name)
    return table.sum(axis=0).rename("size")


def cluster_embeddings(emb, level: int = 1, name: str = "node") -> pd.DataFrame:
    """Embeddings ``U^(level)`` of the level-``level`` clusters, ``(m_level, d)`` (Eq. 3)."""
    emb = _hier(emb, "cluster_embeddings")
    x = np.asarray(E.level_embeddings(emb, level))
    return pd.DataFrame(
        x,
        index=_index(x.shape[0], level, None, name),
        columns=pd.RangeIndex(x.shape[1], name="factor"),
    )


def _vectors(emb, level: int, labels, name: str) -> pd.DataFrame:
    if level == 0:
        x = np.asarray(E.materialize(emb).table)
        return pd.DataFrame(x, index=_index(x.shape[0], 0, labels, name))
    return cluster_embeddings(emb, level, name)


def affinity(params: Params, user_level: int = 1, item_level: int = 1) -> pd.DataFrame:
    """Inner products ``U_s^(l)T V_t^(k)`` of user clusters (rows) and item clusters
    (columns), as Table 4 of the paper; level 0 on either side means the objects."""
    u = _vectors(params["user"], user_level, None, "user")
    v = _vectors(params["item"], item_level, None, "item")
    return pd.DataFrame(u.to_numpy() @ v.to_numpy().T, index=u.index, columns=v.index)


def explain(
    params: Params, user: int, item: int, user_level: int = 1, item_level: int = 1
) -> pd.DataFrame:
    """Eq. (11): the prediction for ``(user, item)`` as a sum over cluster pairs.

    One row per (user cluster ``s``, item cluster ``t``) with ``user_weight`` ``P_is``,
    ``item_weight`` ``Q_jt``, ``affinity`` ``U_s^T V_t`` and ``contribution`` (their
    product), sorted by contribution, largest first. ``contribution.sum()`` is the prediction.
    """
    for value, n, what in ((user, params["user"], "user"), (item, params["item"], "item")):
        size = E.materialize(n).table.shape[0]
        if not 0 <= int(value) < size:
            raise UsageError(f"{what} must be an index in 0..{size - 1}, got {value}")
    sides = []
    for emb, idx, level, name in (
        (params["user"], int(user), user_level, "user"),
        (params["item"], int(item), item_level, "item"),
    ):
        if level == 0:  # the object itself, with weight 1
            vectors = _vectors(emb, 0, None, name).iloc[[idx]]
            weights = pd.Series([1.0], index=vectors.index)
        else:
            vectors = cluster_embeddings(emb, level, name)
            weights = membership_table(emb, level, 0, name=name).iloc[idx]
        sides.append((weights, vectors))
    (pu, u), (qv, v) = sides
    aff = u.to_numpy() @ v.to_numpy().T  # (m_l, n_k)
    out = pd.DataFrame(
        {
            "user_cluster": np.repeat(pu.index.to_numpy(), len(qv)),
            "item_cluster": np.tile(qv.index.to_numpy(), len(pu)),
            "user_weight": np.repeat(pu.to_numpy(), len(qv)),
            "item_weight": np.tile(qv.to_numpy(), len(pu)),
            "affinity": aff.reshape(-1),
        }
    )
    out["contribution"] = out["user_weight"] * out["item_weight"] * out["affinity"]
    return out.sort_values("contribution", ascending=False, ignore_index=True)
