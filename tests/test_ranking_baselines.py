"""The ranking baselines (ours, not the paper's) and the full-ranking study that reports them."""

import jax.numpy as jnp
import numpy as np
import pytest
from test_train import planted_split

from hmf import metrics, registry
from hmf import split as splits
from hmf.cli import main
from hmf.errors import UsageError
from hmf.experiments import grids, load_records, run_one, write_record
from hmf.experiments.grids import grid
from hmf.experiments.records import study_of
from hmf.experiments.studies import check_study, study_configs
from hmf.models import ranking_baselines as rb


@pytest.fixture(scope="module")
def implicit():
    split, _, _ = planted_split(n_users=80, n_items=200, density=0.15, implicit=True)
    return split


def test_most_popular_scores_training_counts_for_every_user(implicit):
    result = rb.fit_popularity(implicit, seed=0)
    counts = np.bincount(implicit.train["item"], minlength=implicit.n_items)
    users = jnp.arange(implicit.n_users)[:, None]
    scores = np.asarray(result.spec.score(result.params, users, jnp.arange(implicit.n_items)))
    np.testing.assert_array_equal(scores, np.broadcast_to(counts, scores.shape))  # no user in it


def test_most_popular_is_deterministic_and_the_seed_only_picks_candidates(implicit):
    a, b = rb.fit_popularity(implicit, seed=0), rb.fit_popularity(implicit, seed=0)
    np.testing.assert_array_equal(a.params["count"], b.params["count"])
    assert a.validation == b.validation
    other = rb.fit_popularity(implicit, seed=1)
    np.testing.assert_array_equal(a.params["count"], other.params["count"])
    cand = metrics.sample_candidates(implicit, "validation", 0)
    assert metrics.evaluate(a.spec, a.params, implicit, "validation", candidates=cand) == (
        a.validation
    )


def test_ease_is_steck_closed_form_in_the_split_order(implicit):
    lam = 20.0
    result = rb.fit_ease(implicit, lam=lam, seed=0)
    X = np.zeros((implicit.n_users, implicit.n_items))
    X[implicit.train["user"], implicit.train["item"]] = 1.0
    P = np.linalg.inv(X.T @ X + lam * np.eye(implicit.n_items))
    B = -P / np.diag(P)
    np.fill_diagonal(B, 0.0)
    np.testing.assert_allclose(np.asarray(result.params["scores"]), X @ B, rtol=1e-4, atol=1e-5)
    assert result.epochs == result.best_epoch == 1 and "validation_hit_ratio@10" in result.history


def test_baselines_refuse_ratings_and_are_labelled_outside_the_paper():
    rating_split, _, _ = planted_split(n_users=30, n_items=40)
    with pytest.raises(UsageError, match="holds ratings: most-popular is a ranking baseline"):
        rb.fit_popularity(rating_split)
    assert registry.RANKING_BASELINES == ("most-popular", "ease")
    assert registry.REFERENCE_MODELS == ("ref-mf-biased", "ref-mf")
    for name in registry.RANKING_BASELINES:
        entry = registry.get(name)
        assert not entry.in_paper and entry.task == "ranking" and "not in the paper" in entry.label
    assert grid("book", "most-popular", 10, 10, dataset="x") == [{}]
    assert [c["ease_lambda"] for c in grid("book", "ease", 10, 10, dataset="x")] == list(
        rb.EASE_LAMBDAS
    )


def test_protocol_full_adds_the_full_metrics_and_keeps_the_sampled_ones(implicit, tmp_path):
    paper = run_one(implicit, "most-popular", {}, 2, profile="smoke")
    both = run_one(implicit, "most-popular", {"protocol": "full"}, 2, profile="smoke")
    assert set(paper.test) == {"hit_ratio@10", "mrr@10"}
    assert {k: both.test[k] for k in paper.test} == paper.test  # the paper's numbers unchanged
    result = rb.fit_popularity(implicit, seed=2)
    assert {k: v for k, v in both.test.items() if k.startswith("full_")} == (
        metrics.full_ranking_metrics(result.spec, result.params, implicit, "test")
    )
    for record in (paper, both):
        write_record(tmp_path, record)
    assert [r.key for r in load_records(tmp_path, study="full-ranking")] == ["protocol=full"]
    assert [r.key for r in load_records(tmp_path, study="accuracy")] == ["default"]
    assert study_of({"protocol": "full", "user_depth": 2}) == "depth"
    with pytest.raises(UsageError, match="protocol must be one of sampled, full, got 'all'"):
        registry.get("bpr-mf").check_config(dict(lr=1e-3, weight_decay=0.0, protocol="all"))


def test_the_full_ranking_study_builds_on_the_accuracy_selection(implicit, tmp_path):
    with pytest.raises(UsageError, match="the full-ranking study ranks items"):
        check_study("full-ranking", "mf")
    configs = study_configs("full-ranking", "smoke", "planted", "bpr-mf", implicit, tmp_path)
    assert configs is None  # no accuracy records yet
    for seed in (0,):
        write_record(tmp_path, run_one(implicit, "bpr-mf", dict(lr=1e-2, weight_decay=0.0), seed))
        write_record(tmp_path, run_one(implicit, "bpr-mf", dict(lr=1e-3, weight_decay=0.0), seed))
    best = max(load_records(tmp_path, study="accuracy"), key=lambda r: r.validation["hit_ratio@10"])
    configs = study_configs("full-ranking", "book", "planted", "bpr-mf", implicit, tmp_path)
    assert configs == [dict(best.config, protocol="full")]
    ease = study_configs("full-ranking", "book", "planted", "ease", implicit, tmp_path)
    assert ease == [dict(ease_lambda=lam, protocol="full") for lam in rb.EASE_LAMBDAS]


def test_hmf_train_takes_the_protocol_for_ranking_models_only(implicit, monkeypatch, capsys):
    monkeypatch.setattr(splits, "load_split", lambda name, data_dir=None: implicit)
    argv = ["train", "--dataset", "planted-implicit", "--model", "most-popular", "--json"]
    assert main([*argv, "--protocol", "full"]) == 0
    assert '"full_hit_ratio@10"' in capsys.readouterr().out
    assert main([*argv, "--protocol", "every"]) == 2
    assert "protocol must be one of sampled, full, got 'every'" in capsys.readouterr().err
    assert main(["train", "--dataset", "planted-implicit", "--model", "mf", "--protocol", "full"])
    assert "--protocol does not apply to 'mf'" in capsys.readouterr().err


def test_unscaled_counts_join_the_book_grid_where_the_scaled_ones_collapse():
    scaled = grids.ranking_clusters(1235, 8592)  # Ciao implicit's training users and items
    assert scaled == [(3, 17), (10, 68), (39, 269)]
    assert grids.book_ranking_clusters(1235, 8592, "ciao-implicit") == [*scaled, (49, 108)]
    assert grids.book_ranking_clusters(1235, 8592, "ml-100k-implicit") == scaled
    tiny = grids.book_ranking_clusters(30, 8592, "ciao-implicit")  # every scaled pair collapses
    assert tiny[3:] == [(30, 108), (30, 429), (30, 1715)]  # capped at the 30 users
    pairs = {
        (c["user_clusters"], c["item_clusters"])
        for c in grid("book", "bpr-hmf", 1235, 8592, dataset="ciao-implicit")
    }
    assert pairs == {*scaled, (49, 108)}
