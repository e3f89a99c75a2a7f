"""Models of the paper as parameter pytrees and pure functions.

>>> from hmf import models
>>> spec = models.hmf(user_clusters=200, item_clusters=100)
>>> params = spec.init(jax.random.key(0), n_users, n_items)
>>> spec.score(params, users, items)          # predicted ratings, Eq. (5)

See :mod:`hmf.models.spec` for the contract a new model (a baseline) implements.
"""

from hmf.models import etree, ihsr, neumf, protomf, reference  # modules, not re-exported names
from hmf.models.embeddings import (
    Embedding,
    FlatEmbedding,
    HierarchicalEmbedding,
    composed_connection,
    connection,
    depth,
    halving_clusters,
    init_flat,
    init_hierarchical,
    level_embeddings,
    lookup,
    materialize,
)
from hmf.models.factorization import (
    DIM,
    bpr,
    bpr_hmf,
    bpr_mf,
    default_loss,
    dot_score,
    hmf,
    materialize_params,
    mf,
    squared_error,
)
from hmf.models.spec import Batch, ModelSpec, Params, Task

__all__ = [
    "DIM",
    "Batch",
    "Embedding",
    "FlatEmbedding",
    "HierarchicalEmbedding",
    "ModelSpec",
    "Params",
    "Task",
    "bpr",
    "bpr_hmf",
    "bpr_mf",
    "composed_connection",
    "connection",
    "default_loss",
    "depth",
    "dot_score",
    "halving_clusters",
    "hmf",
    "init_flat",
    "init_hierarchical",
    "level_embeddings",
    "lookup",
    "materialize",
    "materialize_params",
    "mf",
    "etree",
    "ihsr",
    "neumf",
    "protomf",
    "reference",
    "squared_error",
]
