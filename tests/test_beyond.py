"""The options beyond the paper (L2 term, biases, temperature as a configuration key) and the
study that runs them: each loss against a hand computation, the L2 gradient against autodiff,
biases learned on a planted example, clear errors, and the paper's models unchanged when off."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_train import planted_split

from hmf import models, registry, train
from hmf.errors import UsageError
from hmf.experiments import grids, trainers
from hmf.experiments.records import study_of
from hmf.fitting import EarlyStopping
from hmf.models import factorization as F
from hmf.models.embeddings import FlatEmbedding
from hmf.report.beyond import _from_start, reduced_grid_text, trade_verdict
from hmf.split import with_validation_in_training


def _tiny_mf(biases=False):
    params = {
        "user": FlatEmbedding(jnp.array([[1.0, 2.0], [0.5, -1.0]])),
        "item": FlatEmbedding(jnp.array([[3.0, 0.0], [1.0, 1.0], [-2.0, 0.5]])),
    }
    if biases:
        params["bias"] = F.Bias(jnp.array([0.1, -0.2]), jnp.array([0.0, 0.3, -0.4]), mean=3.5)
    batch = {
        "user": jnp.array([0, 1, 1]),
        "item": jnp.array([0, 1, 2]),
        "rating": jnp.array([4.0, 1.0, 2.0]),
    }
    return params, batch


def test_l2_loss_equals_a_hand_computation():
    params, batch = _tiny_mf()
    spec = models.mf(l2=0.01)
    # scores: 1*3+2*0 = 3; 0.5*1-1*1 = -0.5; 0.5*-2-1*0.5 = -1.5
    errors = np.array([4.0 - 3.0, 1.0 + 0.5, 2.0 + 1.5]) ** 2
    theta = 1 + 4 + 0.25 + 1 + 9 + 0 + 1 + 1 + 4 + 0.25  # every parameter squared
    np.testing.assert_allclose(spec.loss(params, batch), errors + 0.01 * theta, rtol=1e-6)


def test_l2_gradient_matches_autodiff_of_the_closed_form():
    params, batch = _tiny_mf(biases=True)
    lam = 0.05
    spec = models.mf(l2=lam, biases=True)
    grad = jax.grad(lambda p: jnp.mean(spec.loss(p, batch)))(params)
    plain = jax.grad(lambda p: jnp.mean(F.squared_error(F.biased_score, p, batch)))(params)
    for got, data, theta in zip(
        jax.tree.leaves(grad), jax.tree.leaves(plain), jax.tree.leaves(params)
    ):
        np.testing.assert_allclose(got, data + 2 * lam * theta, rtol=1e-5, atol=1e-6)


def test_biased_score_adds_mean_and_biases():
    params, batch = _tiny_mf(biases=True)
    got = F.biased_score(params, batch["user"], batch["item"])
    np.testing.assert_allclose(
        got, [3.5 + 0.1 + 0.0 + 3.0, 3.5 - 0.2 + 0.3 - 0.5, 3.5 - 0.2 - 0.4 - 1.5], rtol=1e-6
    )


def test_biases_are_learned_on_a_planted_example():
    """Ratings = 3 + user offset + item offset (+ noise): biased MF's mean is the training mean
    and its learned biases track the planted offsets; it fits them far better than plain MF."""
    split, _, _ = planted_split(n_users=80, n_items=60, density=0.5, noise=0.05)
    rng = np.random.default_rng(1)
    bu, bi = rng.normal(0, 0.5, 80), rng.normal(0, 0.5, 60)
    for frame in (split.train, split.validation, split.test):
        frame["rating"] = 3.0 + bu[frame["user"]] + bi[frame["item"]]
    result = train.fit(models.mf(biases=True), split, lr=1e-2, weight_decay=0.0, seed=0)
    bias = result.params["bias"]
    assert bias.mean == pytest.approx(split.train["rating"].mean(), rel=1e-6)
    learned = np.asarray(bias.user) + np.asarray(bias.item).mean()
    assert np.corrcoef(learned, bu)[0, 1] > 0.9  # seed 0: 0.93; the factors absorb some
    assert np.corrcoef(np.asarray(bias.item), bi)[0, 1] > 0.9
    plain = train.fit(models.mf(), split, lr=1e-2, weight_decay=0.0, seed=0)
    assert result.validation["rmse"] < 0.5 * plain.validation["rmse"]


def test_options_off_leave_the_paper_models_as_they_were():
    for spec in (models.mf(), models.hmf(), models.mf(l2=0.0, biases=False)):
        assert spec.loss is None and spec.score is F.dot_score and spec.data_init is None
        assert "l2" not in spec.config and "biases" not in spec.config
    assert registry.gradient_spec("hmf", dict(lr=1e-3, weight_decay=0.0)).config == (
        models.hmf().config
    )


def test_equal_options_reuse_one_compiled_epoch():
    a, b = models.mf(l2=1e-4), models.mf(l2=1e-4)
    assert a.loss is b.loss
    assert train.epoch_program(a, 1024, 10) is train.epoch_program(b, 1024, 10)


@pytest.mark.parametrize(
    "model, config, word",
    [
        ("mf", dict(l2=-1.0), "l2"),
        ("hmf", dict(temperature=0.0), "temperature"),
        ("hmf", dict(biases=2), "biases"),
        ("bpr-hmf", dict(biases=1), "biases"),
        ("bpr-mf", dict(l2=1e-3), "l2"),
        ("mf", dict(temperature=2.0), "temperature"),
        ("mf", dict(l2=1e-3, optimizer="lazy-adamw"), "adamw"),
    ],
)
def test_bad_options_raise_one_clear_error(model, config, word):
    entry = registry.get(model)
    config = dict(lr=1e-3, weight_decay=0.0, **config)
    with pytest.raises(UsageError, match=word):
        entry.check_config(config)
        registry.gradient_spec(model, config)


def test_study_of_tells_the_studies_apart():
    assert study_of(dict(lr=1e-3, weight_decay=0.0)) == "accuracy"
    assert study_of(dict(lr=1e-3, weight_decay=0.0, user_depth=2)) == "depth"
    assert study_of(dict(lr=1e-3, weight_decay=10.0, l2=0.0)) == "beyond"
    assert study_of(dict(lr=1e-3, weight_decay=0.0, temperature=2.0)) == "beyond"
    assert study_of(dict(lr=1e-3, weight_decay=0.0, patience=20)) == "beyond"


def test_beyond_questions_keep_the_selection_and_state_their_options():
    base = dict(lr=1e-2, weight_decay=1e-4, user_clusters=1000, item_clusters=500)
    questions = grids.beyond_questions("book", "hmf", base, dataset="ml-100k")
    assert set(questions) == {"l2", "decay", "biases", "patience", "temperature"}
    for configs in questions.values():
        assert configs and all(study_of(c) == "beyond" for c in configs)
        assert all(c["user_clusters"] == 1000 and c["item_clusters"] == 500 for c in configs)
    assert {c["weight_decay"] for c in questions["l2"]} == {0.0}
    assert {c["l2"] for c in questions["l2"]} == set(grids.L2_WEIGHTS)
    assert min(c["weight_decay"] for c in questions["decay"]) > max(grids.WEIGHT_DECAYS)
    assert all(c["lr"] == 1e-2 and c["weight_decay"] == 1e-4 for c in questions["temperature"])
    assert set(grids.beyond_questions("book", "mf", dict(lr=1e-3), dataset="ciao")) == {
        "l2",
        "decay",
        "biases",
        "patience",
    }
    assert {c["patience"] for c in questions["patience"]} == set(grids.PATIENCES)
    assert set(grids.beyond_questions("book", "bpr-hmf", base, dataset="x")) == {"temperature"}
    assert grids.beyond_questions("book", "ihsr", base, dataset="x") == {}


# -- the authors' test protocol: retrain on training + validation, score the last epoch ------


def test_early_stopping_can_report_the_last_epoch():
    stopper = EarlyStopping(10, restore_best=False)
    for epoch, value in enumerate([3.0, 1.0, 2.0], start=1):
        stopper.update(epoch, value, lambda e=epoch: e)
    assert stopper.best("last") == "last" and stopper.best_epoch == 3
    assert stopper.best_value == 2.0


def test_retrain_runs_its_epochs_on_training_and_validation():
    split, _, _ = planted_split(n_users=60, n_items=50)
    merged = with_validation_in_training(split)
    assert len(merged.train) == len(split.train) + len(split.validation)
    assert merged.test is split.test and merged.validation is split.validation
    config = dict(lr=1e-2, weight_decay=0.0, retrain_epochs=4)
    result = registry.get("mf").fit(split, config, seed=0, max_epochs=512, patience=1)
    assert result.epochs == result.best_epoch == 4  # patience 1 would have stopped it earlier
    last = result.history["validation_rmse"].iloc[-1]
    assert result.validation["rmse"] == pytest.approx(last)
    direct = train.fit(
        models.mf(),
        merged,
        lr=1e-2,
        weight_decay=0.0,
        max_epochs=4,
        patience=5,
        restore_best=False,
    )
    np.testing.assert_array_equal(direct.params["user"].table, result.params["user"].table)


def test_retrain_runs_are_never_vectorised():
    jobs = [(dict(lr=1e-2, weight_decay=0.0, retrain_epochs=3), s) for s in range(3)]
    assert trainers.plan_chunks("mf", jobs, vectorize=True) == [[j] for j in jobs]
    assert study_of(jobs[0][0]) == "retrain"


def test_ml1m_asks_the_declared_reduced_grid():
    base = dict(lr=1e-2, weight_decay=1e-2, user_clusters=1000, item_clusters=500)
    full = grids.beyond_grid("book", "hmf", base, dataset="ml-100k")
    reduced = grids.beyond_grid("book", "hmf", base, dataset="ml-1m")
    assert len(reduced) < len(full) and {c["lr"] for c in reduced} == {1e-2}
    mf = grids.beyond_grid("book", "mf", dict(lr=1e-4, weight_decay=1e-2), dataset="ml-1m")
    assert {c["lr"] for c in mf if "patience" not in c} == {1e-3}
    assert {(c["lr"], c["patience"]) for c in mf if "patience" in c} == {(1e-4, 20)}


def test_a_configuration_sets_its_patience():
    split, _, _ = planted_split(n_users=60, n_items=50)
    entry = registry.get("mf")
    short = entry.fit(split, dict(lr=1e-2, weight_decay=0.0, patience=1), 0, 512, 50)
    long = entry.fit(split, dict(lr=1e-2, weight_decay=0.0), 0, 512, 3)
    assert short.epochs == short.best_epoch + 1  # stopped one epoch after its best
    assert long.epochs == long.best_epoch + 3


def test_ml1m_asks_for_more_clusters_at_the_selection():
    base = dict(lr=1e-2, weight_decay=1e-2, user_clusters=1000, item_clusters=500)
    asked = grids.beyond_questions("book", "hmf", base, dataset="ml-1m")["clusters"]
    assert [(c["user_clusters"], c["item_clusters"]) for c in asked] == [(2000, 1000), (4000, 2000)]
    assert all(c["lr"] == 1e-2 and c["weight_decay"] == 1e-2 for c in asked)
    assert {study_of(c) for c in asked} == {"beyond"}
    assert "clusters" not in grids.beyond_questions("book", "hmf", base, dataset="ml-100k")
    assert "clusters" not in grids.beyond_questions("book", "mf", base, dataset="ml-1m")


def test_initial_metrics_are_those_fit_starts_from():
    split, _, _ = planted_split(n_users=60, n_items=50)
    spec = registry.make_model("mf")
    start = train.initial_metrics(spec, split, seed=3)["rmse"]
    # a learning rate too small to move anything: epoch 1 is the start, to rounding
    moved = train.fit(spec, split, lr=1e-12, weight_decay=0.0, seed=3, max_epochs=1)
    np.testing.assert_allclose(moved.history["validation_rmse"][0], start, rtol=1e-6)
    other = train.initial_metrics(spec, split, seed=4)["rmse"]
    assert other != start  # the seed draws the start


@pytest.mark.parametrize(
    "values, start, patience, expected",
    [
        ([3.0, 2.9, 2.8], 4.0, 2, (3, 3)),  # epoch 1 beats the start: nothing changes
        ([3.0, 3.1, 3.2, 2.0], 2.5, 2, (0, 2)),  # the start stays best: stops at epoch 2
        ([3.0, 2.4, 2.6, 2.7], 2.5, 2, (2, 4)),  # epoch 2 beats the start
        ([3.0, float("nan"), 3.1], 2.5, 3, (0, 3)),  # NaN never improves
    ],
)
def test_counting_from_the_start_on_a_recorded_history(values, start, patience, expected):
    assert _from_start(values, start, patience) == expected


def test_smoke_asks_one_configuration_per_question():
    base = dict(lr=1e-3, weight_decay=1e-4, user_clusters=200, item_clusters=100)
    smoke = grids.beyond_questions("smoke", "hmf", base, dataset="ml-100k")
    assert all(len(c) == 1 for c in smoke.values()) and "clusters" in smoke
    assert (smoke["clusters"][0]["user_clusters"], smoke["clusters"][0]["item_clusters"]) == (
        400,
        200,
    )


def _moved(hr, hr_sig, mrr, mrr_sig):
    return {
        "hit_ratio@10": dict(diff=(hr, 0.01), dagger=hr_sig),
        "mrr@10": dict(diff=(mrr, 0.01), dagger=mrr_sig),
    }


@pytest.mark.parametrize(
    "settings, verdict",
    [
        ([_moved(0.02, True, -0.01, True)], "reproduced"),  # a trade, both significant
        ([_moved(0.02, True, -0.01, False)], "partly"),
        ([_moved(-0.1, True, -0.02, True)], "not reproduced"),  # worse at both: no trade
        ([_moved(0.001, False, -0.001, False), _moved(-0.1, True, -0.1, True)], "not reproduced"),
    ],
)
def test_a_trade_needs_opposite_significant_moves(settings, verdict):
    assert trade_verdict(settings) == verdict


def test_the_chapter_declares_ml1m_reduced_grid():
    text = reduced_grid_text()  # from hmf.experiments.grids.BEYOND_REDUCED
    assert text.startswith("On ML-1M,")
    assert "T {0.5, 2} (elsewhere {0.25, 0.5, 2, 4})" in text
    assert "λ of the L2 term {1e-5, 1e-4, 1e-3} (elsewhere {1e-6, 1e-5, 1e-4, 1e-3, 1e-2})" in text
    assert "learning rate 1e-3 for MF and 1e-2 for HMF" in text
