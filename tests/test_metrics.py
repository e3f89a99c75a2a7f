"""Metrics of paper Section 4.3 on hand-made examples."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from hmf import metrics, models
from hmf.errors import UsageError
from hmf.split import Split


def _frame(users, items, ratings=None):
    n = len(users)
    return pd.DataFrame(
        {
            "user": np.asarray(users, np.int32),
            "item": np.asarray(items, np.int32),
            "rating": np.asarray(ratings if ratings is not None else np.ones(n), np.float32),
            "timestamp": np.arange(n, dtype=np.int64),
        }
    )


def _split(train, validation, test, n_users, n_items):
    return Split(
        "toy",
        train,
        validation,
        test,
        np.arange(n_users),
        np.arange(n_items),
        implicit=True,
        verified=True,
    )


def test_rmse_by_hand():
    assert float(
        metrics.rmse(jnp.array([1.0, 2.0, 4.0]), jnp.array([1.0, 4.0, 4.0]))
    ) == pytest.approx(np.sqrt(4 / 3))


def test_positive_rank_counts_ties_against_the_positive():
    scores = jnp.array(
        [
            [3.0, 1.0, 2.0, 0.0],  # best: rank 0
            [2.0, 2.0, 1.0, 0.0],  # one tie: rank 1
            [1.0, 1.0, 1.0, 1.0],  # all tied: last
            [0.0, 1.0, 2.0, 3.0],  # worst
            [jnp.nan, 0.0, 0.0, 0.0],  # NaN positive never wins
            [1.0, jnp.nan, 0.0, 0.0],  # a NaN negative counts against the positive
        ]
    )
    np.testing.assert_array_equal(metrics.positive_rank(scores), [0, 1, 3, 3, 3, 1])


def test_hit_ratio_and_mrr_by_hand():
    rank = jnp.array([0, 4, 9, 10, 50])
    assert float(metrics.hit_ratio(rank, 10)) == pytest.approx(3 / 5)
    assert float(metrics.mrr(rank, 10)) == pytest.approx((1 + 1 / 5 + 1 / 10) / 5)
    assert float(metrics.hit_ratio(rank, 1)) == pytest.approx(1 / 5)


def test_all_equal_scores_give_zero_hit_ratio():
    scores = jnp.zeros((7, 100))
    rank = metrics.positive_rank(scores)
    assert float(metrics.hit_ratio(rank)) == 0.0 and float(metrics.mrr(rank)) == 0.0


def _toy_split(n_users=5, n_items=150, seed=0, per_user=20):
    """Every user interacts with ``per_user`` distinct items, spread over the three subsets."""
    rng = np.random.default_rng(seed)
    rows = [(u, i) for u in range(n_users) for i in rng.choice(n_items, per_user, replace=False)]
    users, items = map(np.array, zip(*rows))
    return _split(
        _frame(users[::2], items[::2]),
        _frame(users[1::4], items[1::4]),
        _frame(users[3::4], items[3::4]),
        n_users,
        n_items,
    )


def test_candidates_avoid_every_interaction_and_repeat_nothing():
    split = _toy_split()
    cand = metrics.sample_candidates(split, "test", seed=3)
    assert cand.shape == (len(split.test), 100) and cand.dtype == np.int32
    np.testing.assert_array_equal(cand[:, 0], split.test["item"])
    every = pd.concat([split.train, split.validation, split.test])
    seen = set(zip(every["user"], every["item"]))
    for user, row in zip(split.test["user"], cand):
        assert len(set(row[1:])) == 99
        assert not any((user, item) in seen for item in row[1:])


def test_candidates_are_fixed_by_the_seed():
    split = _toy_split()
    a = metrics.sample_candidates(split, "validation", seed=1)
    np.testing.assert_array_equal(a, metrics.sample_candidates(split, "validation", seed=1))
    assert not np.array_equal(a, metrics.sample_candidates(split, "validation", seed=2))


def test_too_few_unseen_items_is_a_usage_error():
    split = _toy_split(n_items=60)
    with pytest.raises(UsageError, match="n_negatives"):
        metrics.sample_candidates(split, "test")


def test_ranking_metrics_chunking_matches_direct_computation():
    n_users, n_items, n = 50, 300, 2500  # more rows than one chunk
    spec = models.bpr_mf(dim=3)
    params = spec.init(jax.random.key(0), n_users, n_items)
    rng = np.random.default_rng(0)
    users = jnp.asarray(rng.integers(0, n_users, n))
    cand = jnp.asarray(rng.integers(0, n_items, (n, 100)))
    got = metrics.ranking_metrics(spec.score, params, users, cand)
    rank = metrics.positive_rank(spec.score(params, users[:, None], cand))
    assert float(got["hit_ratio@10"]) == pytest.approx(float(metrics.hit_ratio(rank)))
    assert float(got["mrr@10"]) == pytest.approx(float(metrics.mrr(rank)))


def test_evaluate_rating_by_hand():
    spec = models.mf(dim=1)
    params = {
        "user": models.FlatEmbedding(jnp.array([[1.0], [2.0]])),
        "item": models.FlatEmbedding(jnp.array([[3.0], [1.0]])),
    }
    test = _frame([0, 1, 1], [0, 0, 1], [3.0, 5.0, 2.0])  # predictions 3, 6, 2
    split = _split(test, test, test, 2, 2)
    assert metrics.evaluate(spec, params, split, "test") == {"rmse": pytest.approx(np.sqrt(1 / 3))}


def test_evaluate_ranking_with_a_model_that_prefers_the_positive():
    split = _toy_split()
    spec = models.bpr_mf(dim=1)
    n_items = split.n_items
    # item vectors: test positives score 1, everything else 0
    item = np.zeros((n_items, 1), np.float32)
    item[split.test["item"].to_numpy(), 0] = 1.0
    params = {
        "user": models.FlatEmbedding(jnp.ones((split.n_users, 1))),
        "item": models.FlatEmbedding(jnp.asarray(item)),
    }
    cand = metrics.sample_candidates(split, "test", seed=0)
    got = metrics.evaluate(spec, params, split, "test", candidates=cand)
    # a positive ties with negatives that are another row's positive: those count against it
    rank = (item[cand[:, 1:], 0] >= 1.0).sum(axis=1)
    assert got["hit_ratio@10"] == pytest.approx(np.mean(rank < 10))
    assert got["mrr@10"] == pytest.approx(np.mean(np.where(rank < 10, 1 / (rank + 1), 0)))
    with pytest.raises(UsageError, match="candidates"):
        metrics.evaluate(spec, params, split, "test", candidates=cand[:3])
