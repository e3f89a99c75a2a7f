"""The paper's case study (Section 5.3, Tables 4-5) as functions of a trained HMF.

* Table 4: for a target user cluster, every item cluster ranked by the inner product of the two
  cluster embeddings ``U_s^(1)T V_t^(1)``, with the item cluster's size (the column sum of the
  connection matrix) and the titles of the items *nearest the cluster in the latent space*
  (smallest Euclidean distance between ``V_j^(0)`` and ``V_t^(1)``); and the same for a target
  item cluster against the user clusters, described by the genders of the nearest users.
* Table 5: the users (items) with the highest connection probability to a cluster.

Everything is computed at level one, as in the paper. Cluster numbers are this run's: they
depend on the random initialisation, so they cannot match the paper's numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import leaves_list, linkage

from hmf import interpret
from hmf.models import embeddings as E
from hmf.split import Split

__all__ = ["nearest_objects", "rank_clusters", "top_members", "gender_contrast", "affinity_order"]


def nearest_objects(emb, k: int = 3) -> np.ndarray:
    """``(m_1, k)`` indices of the ``k`` objects whose embeddings lie nearest each level-1
    cluster."""
    objects = np.asarray(E.materialize(emb).table)  # (n, d)
    clusters = interpret.cluster_embeddings(emb, 1).to_numpy()  # (m, d)
    d2 = (clusters**2).sum(1)[:, None] - 2 * clusters @ objects.T + (objects**2).sum(1)[None, :]
    return np.argsort(d2, axis=1, kind="stable")[:, :k]


def rank_clusters(
    params, split: Split, side: str, target: int, describe, k: int = 3, show: int = 3
) -> pd.DataFrame:
    """Paper Table 4: the other side's clusters ranked by inner product with cluster ``target``.

    ``side`` is the target's side (``"user"`` or ``"item"``); ``describe(indices)`` turns object
    indices of the other side into short labels (titles, genders). Returns the ``show`` highest
    and ``show`` lowest rows.
    """
    if side not in ("user", "item"):
        raise ValueError(f"side must be 'user' or 'item', got {side!r}")
    other = "item" if side == "user" else "user"
    aff = interpret.affinity(params)  # users x items
    scores = aff.iloc[target] if side == "user" else aff.iloc[:, target]
    sizes = interpret.cluster_sizes(params[other], 1)
    near = nearest_objects(params[other], k)
    order = np.argsort(-scores.to_numpy(), kind="stable")
    picked = np.concatenate([order[:show], order[-show:]]) if len(order) > 2 * show else order
    return pd.DataFrame(
        {
            f"{other} cluster": picked,
            f"{other} cluster size": sizes.to_numpy()[picked].round(2),
            f"nearest {other}s": [", ".join(describe(near[c])) for c in picked],
            "inner product": scores.to_numpy()[picked].round(2),
        }
    )


def top_members(params, side: str, cluster: int, n: int = 5) -> pd.DataFrame:
    """Paper Table 5: the objects with the highest connection probability to ``cluster``.

    The probability is the object's row of the connection matrix (its membership of the
    cluster), as in the paper's "Connect. Probab." column.
    """
    members = interpret.connection_table(params[side], 1)
    column = members.iloc[:, cluster].to_numpy()
    order = np.argsort(-column, kind="stable")[:n]
    return pd.DataFrame({"index": order, "connection probability": column[order].round(3)})


def gender_contrast(
    params, users: pd.DataFrame, split: Split, k: int = 9, top: int = 3
) -> pd.Series:
    """For each item cluster: share of men among the ``k`` users nearest the ``top`` user clusters
    with the highest inner product with it - used to pick item clusters that, like the paper's
    374th and 216th, are preferred by mostly male or mostly female user clusters."""
    aff = interpret.affinity(params).to_numpy()  # (m, n)
    near = nearest_objects(params["user"], k)  # (m, k)
    genders = users.loc[split.user_ids, "gender"].to_numpy()
    male = (genders[near] == "M").mean(axis=1)  # per user cluster
    best = np.argsort(-aff, axis=0, kind="stable")[:top]  # (top, n)
    return pd.Series(male[best].mean(axis=0), name="share of men near its favourite user clusters")


def affinity_order(aff: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row and column orders that bring similar clusters together (average-linkage clustering
    on correlation distance), so the block structure of the affinity matrix is visible."""
    values = aff.to_numpy()
    rows = leaves_list(linkage(values, "average", metric="correlation"))
    cols = leaves_list(linkage(values.T, "average", metric="correlation"))
    return rows, cols
