"""Embeddings and model functions (paper Eq. 1-9)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hmf import models, registry
from hmf.errors import UsageError


def _emb(clusters=(6, 4, 3), n=10, dim=5, seed=0, temperature=1.0):
    return models.init_hierarchical(jax.random.key(seed), n, clusters, dim, temperature=temperature)


def test_every_connection_row_sums_to_one():
    emb = _emb()
    for level in range(1, 4):
        p = models.connection(emb, level)
        assert p.shape == ((10, 6, 4, 3)[level - 1], (6, 4, 3)[level - 1])
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
        assert (p >= 0).all()
        for start in range(level):
            q = models.composed_connection(emb, level, start)
            np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-6)


def test_depth_two_composition_equals_explicit_product():
    emb = _emb(clusters=(6, 3))
    c1 = jax.nn.softmax(emb.logits[0], axis=1)
    c2 = jax.nn.softmax(emb.logits[1], axis=1)
    explicit = c1 @ c2 @ emb.root  # Eq. (3) with p = 2
    np.testing.assert_allclose(models.level_embeddings(emb, 0), explicit, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(models.lookup(emb, jnp.arange(10)), explicit, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(models.level_embeddings(emb, 1), c2 @ emb.root, rtol=1e-5)
    np.testing.assert_allclose(models.composed_connection(emb, 2), c1 @ c2, rtol=1e-5)
    np.testing.assert_allclose(models.materialize(emb).table, explicit, rtol=1e-5, atol=1e-6)


def test_lookup_broadcasts_over_index_shapes():
    emb = _emb()
    idx = jnp.array([[0, 3], [9, 9], [1, 2]])
    out = models.lookup(emb, idx)
    assert out.shape == (3, 2, 5)
    np.testing.assert_allclose(out[1, 0], models.level_embeddings(emb, 0)[9], rtol=1e-5)


def test_temperature_divides_logits():
    emb = _emb(temperature=2.0)
    np.testing.assert_allclose(
        models.connection(emb, 1), jax.nn.softmax(emb.logits[0] / 2.0, axis=1), rtol=1e-6
    )
    # static: not a leaf, so neither trained nor decayed
    assert len(jax.tree.leaves(emb)) == 4


def test_initialisation_follows_the_authors_code():
    key = jax.random.key(0)
    flat = models.init_flat(key, 2000, 20)
    assert abs(float(flat.table.std()) - 1 / np.sqrt(20)) < 0.01
    emb = models.init_hierarchical(key, 2000, 100, 20)
    assert abs(float(emb.logits[0].std()) - 1.0) < 0.02
    assert abs(float(emb.root.std()) - 1.0) < 0.1


@pytest.mark.parametrize("name", ["mf", "hmf", "bpr-mf", "bpr-hmf"])
def test_gradients_reach_every_parameter(name):
    config = {"user_clusters": (4, 2), "item_clusters": (3, 2)} if "hmf" in name else {}
    spec = registry.make_model(name, dim=4, **config)
    n_users, n_items = 6, 5
    params = spec.init(jax.random.key(1), n_users, n_items)
    users = jnp.repeat(jnp.arange(n_users), n_items)
    items = jnp.tile(jnp.arange(n_items), n_users)
    batch = {
        "user": users,
        "item": items,
        "rating": jnp.linspace(1, 5, users.size),
        "negative": (items + 1) % n_items,
    }
    loss = models.default_loss(spec)
    grads = jax.grad(lambda p: loss(p, batch).mean())(params)
    leaves = jax.tree_util.tree_leaves_with_path(grads)
    assert len(leaves) == (6 if "hmf" in name else 2)
    for path, g in leaves:
        # every row of every parameter matrix gets a gradient
        assert bool((jnp.abs(g).sum(axis=-1) > 0).all()), jax.tree_util.keystr(path)


def test_rating_score_is_a_plain_dot_product():
    spec = models.mf(dim=3)
    params = {
        "user": models.FlatEmbedding(jnp.array([[1.0, 2.0, 0.0]])),
        "item": models.FlatEmbedding(jnp.array([[3.0, -1.0, 5.0], [0.0, 0.0, 1.0]])),
    }
    np.testing.assert_allclose(spec.score(params, jnp.array([0, 0]), jnp.array([0, 1])), [1.0, 0.0])


def test_bpr_loss_is_minus_log_sigmoid_of_the_difference():
    spec = models.bpr_mf(dim=1)
    params = {
        "user": models.FlatEmbedding(jnp.array([[1.0]])),
        "item": models.FlatEmbedding(jnp.array([[2.0], [0.5]])),
    }
    batch = {
        "user": jnp.array([0]),
        "item": jnp.array([0]),
        "negative": jnp.array([1]),
        "rating": jnp.ones(1),
    }
    expected = -np.log(1 / (1 + np.exp(-1.5)))
    np.testing.assert_allclose(models.default_loss(spec)(params, batch), [expected], rtol=1e-6)


def test_prepare_does_not_change_scores():
    spec = models.hmf(user_clusters=(5, 2), item_clusters=3, dim=4)
    params = spec.init(jax.random.key(3), 7, 9)
    u, i = jnp.array([0, 6, 3]), jnp.array([8, 0, 4])
    np.testing.assert_allclose(
        spec.score(spec.prepare(params), u, i), spec.score(params, u, i), rtol=1e-5, atol=1e-6
    )


def test_halving_clusters():
    assert models.halving_clusters(200, 1) == (200,)
    assert models.halving_clusters(200, 4) == (200, 100, 50, 25)
    assert models.halving_clusters(3, 3) == (3, 1, 1)


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: models.hmf(user_clusters=0), "user_clusters"),
        (lambda: models.hmf(item_clusters=()), "item_clusters"),
        (lambda: models.hmf(temperature=0.0), "temperature"),
        (lambda: models.mf(dim=0), "dim"),
        (lambda: registry.make_model("svd"), "unknown model"),
        (lambda: models.connection(_emb(), 4), "level"),
        (lambda: models.connection(models.init_flat(jax.random.key(0), 3, 2), 1), "hierarchical"),
    ],
)
def test_impossible_values_raise_usage_error(call, word):
    with pytest.raises(UsageError, match=word):
        call()


def test_row_gather_and_full_table_paths_agree():
    # lookup softmaxes only the indexed rows when there are more objects than indices, and
    # builds the whole table otherwise; values and gradients must not depend on the path.
    emb = _emb(clusters=(6, 3), n=10)
    idx = jnp.array([1, 7, 7, 0])  # 4 indices < 10 objects: the row-gather path
    w = jax.random.normal(jax.random.key(5), (4, 5))

    def via_lookup(e):
        return jnp.sum(models.lookup(e, idx) * w)

    def via_table(e):
        return jnp.sum(models.level_embeddings(e, 0)[idx] * w)

    np.testing.assert_allclose(via_lookup(emb), via_table(emb), rtol=1e-5)
    for a, b in zip(
        jax.tree.leaves(jax.grad(via_lookup)(emb)), jax.tree.leaves(jax.grad(via_table)(emb))
    ):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
