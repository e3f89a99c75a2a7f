"""Full-ranking metrics (ours, beside the paper's sampled ones) against brute force by hand."""

import math

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from test_metrics import _toy_split

from hmf import metrics
from hmf.models.ranking_baselines import table_score
from hmf.models.spec import ModelSpec
from hmf.split import Split


def _frame(users, items):
    return pd.DataFrame(
        {
            "user": np.asarray(users, np.int32),
            "item": np.asarray(items, np.int32),
            "rating": np.ones(len(users), np.float32),
            "timestamp": np.arange(len(users), dtype=np.int64),
        }
    )


def _split(train, validation, test, n_users, n_items):
    ids = np.arange(n_users), np.arange(n_items)
    return Split("toy", train, validation, test, *ids, implicit=True, verified=True)


def _table_spec():
    """A model whose score of (user, item) is read from a fixed table."""
    return ModelSpec("table", "ranking", init=None, score=table_score)


def _brute_force_ranks(split, scores):
    """Each test row's rank by a plain loop over the items: candidates are the items the user
    never interacted with in any subset; a candidate scoring at least the positive beats it."""
    every = pd.concat([split.train, split.validation, split.test])
    seen = {u: set(g["item"]) for u, g in every.groupby("user")}
    ranks = []
    for user, positive in zip(split.test["user"], split.test["item"]):
        candidates = [j for j in range(split.n_items) if j not in seen[user]]
        ranks.append(sum(1 for j in candidates if not scores[user, j] < scores[user, positive]))
    return np.array(ranks)


def _hand_split():
    # user 0: trains on 0, 1, validates on 2, tests on 3 and 4; user 1: trains on 2, tests on 0
    return _split(
        _frame([0, 0, 1], [0, 1, 2]), _frame([0], [2]), _frame([0, 0, 1], [3, 4, 0]), 2, 6
    )


HAND_SCORES = np.array(
    [
        [9.0, 9.0, 9.0, 5.0, 2.0, 5.0],  # seen items score highest: they must not count
        [7.0, 1.0, 9.0, 3.0, 7.0, 8.0],  # item 4 ties the positive, item 5 beats it
    ],
    np.float32,
)


def test_full_ranks_by_hand_with_ties_and_seen_items_excluded():
    split = _hand_split()
    excluded = metrics.full_exclusions(split, split.test["user"].to_numpy())
    ranks = metrics.full_positive_rank(
        HAND_SCORES[split.test["user"]], split.test["item"].to_numpy(), excluded
    )
    # row (0, 3): only item 5 is a candidate and ties it; row (0, 4): item 5 beats it (items
    # 0-2 seen in training / validation, item 3 the user's other test item); row (1, 0):
    # candidates 1, 3, 4, 5 - item 4 ties and item 5 beats it.
    np.testing.assert_array_equal(ranks, [1, 1, 2])
    np.testing.assert_array_equal(ranks, _brute_force_ranks(split, HAND_SCORES))
    got = metrics.full_ranking_metrics(
        _table_spec(), {"scores": jnp.asarray(HAND_SCORES)}, split, "test"
    )
    assert got == {
        "full_hit_ratio@10": pytest.approx(1.0),
        "full_mrr@10": pytest.approx((1 / 2 + 1 / 2 + 1 / 3) / 3),
        "full_ndcg@10": pytest.approx((2 / math.log2(3) + 1 / math.log2(4)) / 3),
    }
    at_two = metrics.full_ranking_metrics(
        _table_spec(), {"scores": jnp.asarray(HAND_SCORES)}, split, "test", k=2
    )
    assert at_two["full_hit_ratio@2"] == pytest.approx(2 / 3)
    assert at_two["full_mrr@2"] == pytest.approx((1 / 2 + 1 / 2) / 3)


def test_ndcg_by_hand():
    rank = jnp.array([0, 1, 9, 10])
    assert float(metrics.ndcg(rank)) == pytest.approx(
        (1 + 1 / math.log2(3) + 1 / math.log2(11)) / 4
    )


def test_a_nan_score_counts_against_the_positive():
    scores = np.array([[0.0, np.nan, 1.0, -1.0], [np.nan, 0.0, 1.0, 2.0]])
    excluded = np.zeros_like(scores, bool)
    np.testing.assert_array_equal(metrics.full_positive_rank(scores, [0, 0], excluded), [2, 3])


def _random_split(n_users, n_items, per_user, seed):
    return _toy_split(n_users, n_items, seed, per_user)


def test_blocks_match_brute_force_on_tied_scores(monkeypatch):
    split = _random_split(n_users=9, n_items=40, per_user=12, seed=1)
    scores = np.random.default_rng(2).integers(0, 4, (9, 40)).astype(np.float32)  # many ties
    monkeypatch.setattr(metrics, "_FULL_BLOCK", 3 * 40)  # three users a block: several blocks
    got = metrics.full_ranking_metrics(
        _table_spec(), {"scores": jnp.asarray(scores)}, split, "test"
    )
    rank = jnp.asarray(_brute_force_ranks(split, scores))
    assert got == {
        "full_hit_ratio@10": pytest.approx(float(metrics.hit_ratio(rank))),
        "full_mrr@10": pytest.approx(float(metrics.mrr(rank))),
        "full_ndcg@10": pytest.approx(float(metrics.ndcg(rank))),
    }


def test_sampled_equals_full_when_the_candidates_are_every_unseen_item():
    n_items, per_user = 150, 20
    split = _random_split(n_users=6, n_items=n_items, per_user=per_user, seed=0)
    scores = np.random.default_rng(3).integers(0, 30, (6, n_items)).astype(np.float32)
    params = {"scores": jnp.asarray(scores)}
    spec = _table_spec()
    unseen = n_items - per_user  # the same for every user, so one n_negatives takes them all
    candidates = metrics.sample_candidates(split, "test", seed=0, n_negatives=unseen)
    sampled = metrics.evaluate(spec, params, split, "test", candidates=candidates)
    full = metrics.full_ranking_metrics(spec, params, split, "test")
    assert full["full_hit_ratio@10"] == pytest.approx(sampled["hit_ratio@10"])
    assert full["full_mrr@10"] == pytest.approx(sampled["mrr@10"])
    sampled_rank = metrics.positive_rank(scores[split.test["user"].to_numpy()[:, None], candidates])
    assert full["full_ndcg@10"] == pytest.approx(float(metrics.ndcg(sampled_rank)))
    # and the 100-candidate protocol is a different, easier number on the same scores
    paper = metrics.evaluate(spec, params, split, "test", seed=0)
    assert paper["hit_ratio@10"] >= full["full_hit_ratio@10"]
