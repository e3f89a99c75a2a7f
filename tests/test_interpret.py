"""Cluster-level interpretation (paper Sections 3.3 and 5.3)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hmf import interpret, models
from hmf.errors import UsageError

N_USERS, N_ITEMS = 12, 9


@pytest.fixture(scope="module")
def params():
    spec = models.hmf(user_clusters=(5, 2), item_clusters=4, dim=6)
    return spec.init(jax.random.key(0), N_USERS, N_ITEMS)


def _prediction(params, user, item):
    return float(models.dot_score(params, jnp.array(user), jnp.array(item)))


@pytest.mark.parametrize("user_level, item_level", [(1, 1), (2, 1), (0, 1), (2, 0)])
def test_eq11_contributions_sum_to_the_prediction(params, user_level, item_level):
    for user, item in [(0, 0), (11, 8), (4, 3)]:
        table = interpret.explain(params, user, item, user_level, item_level)
        assert table["contribution"].sum() == pytest.approx(
            _prediction(params, user, item), rel=1e-4, abs=1e-5
        )
        assert table["contribution"].is_monotonic_decreasing
    sizes = {0: 1, 1: 5, 2: 2}
    assert len(table) == sizes[user_level] * {0: 1, 1: 4}[item_level]


def test_explain_columns(params):
    table = interpret.explain(params, 2, 5)
    assert list(table.columns) == [
        "user_cluster",
        "item_cluster",
        "user_weight",
        "item_weight",
        "affinity",
        "contribution",
    ]
    np.testing.assert_allclose(
        table["user_weight"] * table["item_weight"] * table["affinity"],
        table["contribution"],
        rtol=1e-6,
    )


def test_connection_and_membership_tables(params):
    for level in (1, 2):
        table = interpret.connection_table(params["user"], level, name="user")
        np.testing.assert_allclose(table.sum(axis=1), 1.0, rtol=1e-5)
    composed = interpret.membership_table(params["user"], 2, name="user")
    product = (
        interpret.connection_table(params["user"], 1).to_numpy()
        @ interpret.connection_table(params["user"], 2).to_numpy()
    )
    np.testing.assert_allclose(composed.to_numpy(), product, rtol=1e-5)
    assert composed.shape == (N_USERS, 2)
    assert composed.index.name == "user" and composed.columns.name == "user_cluster_l2"
    labelled = interpret.membership_table(
        params["item"], 1, labels=[f"m{j}" for j in range(N_ITEMS)]
    )
    assert labelled.index[3] == "m3"


def test_cluster_sizes_are_column_sums(params):
    for level, m in ((1, 5), (2, 2)):
        sizes = interpret.cluster_sizes(params["user"], level)
        assert len(sizes) == m
        assert sizes.sum() == pytest.approx(N_USERS, rel=1e-5)
    direct = np.asarray(models.connection(params["item"], 1)).sum(axis=0)
    np.testing.assert_allclose(
        interpret.cluster_sizes(params["item"]).to_numpy(), direct, rtol=1e-5
    )


def test_cluster_embeddings_and_affinity(params):
    u1 = interpret.cluster_embeddings(params["user"], 1)
    u2 = interpret.cluster_embeddings(params["user"], 2)
    np.testing.assert_allclose(u2.to_numpy(), params["user"].root, rtol=1e-6)
    assert u1.shape == (5, 6)
    aff = interpret.affinity(params, 2, 1)
    v1 = interpret.cluster_embeddings(params["item"], 1)
    np.testing.assert_allclose(aff.to_numpy(), u2.to_numpy() @ v1.to_numpy().T, rtol=1e-5)
    full = interpret.affinity(params, 0, 0)  # objects: the whole prediction matrix
    assert full.shape == (N_USERS, N_ITEMS)
    assert full.iloc[3, 4] == pytest.approx(_prediction(params, 3, 4), rel=1e-5)


def test_flat_models_and_bad_indices_are_usage_errors(params):
    flat = models.mf(dim=3).init(jax.random.key(0), 4, 4)
    with pytest.raises(UsageError, match="hierarchical"):
        interpret.explain(flat, 0, 0)
    with pytest.raises(UsageError, match="user"):
        interpret.explain(params, N_USERS, 0)
    with pytest.raises(UsageError, match="level"):
        interpret.cluster_embeddings(params["item"], 2)
