"""The outside reference (Cornac's SGD MF, biased and unbiased): runs on synthetic ratings,
epoch-wise early stopping equals Cornac's own multi-epoch fit, reproducibility, argument checks,
and (real data, skipped when absent) its test RMSE on ML-100K."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from hmf import metrics, registry
from hmf.errors import UsageError
from hmf.experiments import run_one
from hmf.models import reference as R
from hmf.split import Split

pytest.importorskip("cornac")


def rating_split(seed=0, n_users=40, n_items=50, density=0.4):
    """Biased low-rank ratings on 1..5 stars, cut 80/10/10 at random, every user and item in
    training."""
    rng = np.random.default_rng(seed)
    U, V = rng.normal(size=(n_users, 3)), rng.normal(size=(n_items, 3))
    full = (
        3.5
        + 0.5 * rng.normal(size=(n_users, 1))
        + 0.5 * rng.normal(size=(1, n_items))
        + 0.5 * U @ V.T
    )
    full = np.clip(np.rint(full + 0.3 * rng.normal(size=full.shape)), 1, 5)
    mask = rng.random(full.shape) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    u, i = np.nonzero(mask)
    order = rng.permutation(len(u))
    frame = pd.DataFrame(
        {
            "user": u[order].astype(np.int32),
            "item": i[order].astype(np.int32),
            "rating": full[u, i][order].astype(np.float32),
            "timestamp": np.arange(len(u), dtype=np.int64),
        }
    )
    first = ~frame.duplicated("user") | ~frame.duplicated("item")
    rest = frame[~first]
    n = len(rest) // 10
    train = pd.concat([frame[first], rest.iloc[2 * n :]]).reset_index(drop=True)
    return Split(
        "synthetic",
        train,
        rest.iloc[:n].reset_index(drop=True),
        rest.iloc[n : 2 * n].reset_index(drop=True),
        np.arange(n_users),
        np.arange(n_items),
        implicit=False,
        verified=False,
    )


@pytest.fixture(scope="module")
def split():
    return rating_split()


@pytest.fixture(scope="module")
def biased(split):
    return R.fit_reference(split, biased=True, seed=1, max_epochs=40, patience=5)


def test_registered_as_extra_rows():
    assert registry.REFERENCE_MODELS == ("ref-mf-biased", "ref-mf")
    assert R.reference_spec(True).config == {"library": "cornac", "use_bias": True, "k": 20}


def test_runs_and_beats_the_global_mean(split, biased):
    assert 1 <= biased.best_epoch <= biased.epochs <= 40
    assert biased.history["validation_rmse"].min() == pytest.approx(biased.validation["rmse"])
    test = metrics.evaluate(biased.spec, biased.params, split, "test")["rmse"]
    mean = float(split.train["rating"].mean())
    baseline = float(np.sqrt(np.mean((split.test["rating"].to_numpy() - mean) ** 2)))
    assert np.isfinite(test) and test < baseline, (test, baseline)


def test_epoch_by_epoch_equals_one_cornac_fit(split):
    """The early-stopping loop warm-starts Cornac one epoch at a time; its SGD is stateless
    between epochs, so this must equal ``MF(max_iter=k)`` exactly."""
    from cornac.data import Dataset
    from cornac.models import MF

    run = R.fit_reference(split, biased=True, seed=2, max_epochs=3, patience=10)
    assert run.best_epoch == 3  # validation RMSE still falls here, so these are epoch 3's
    order = np.random.default_rng(2).permutation(len(split.train))
    rows = split.train.iloc[order]
    data = list(
        zip(rows["user"].tolist(), rows["item"].tolist(), rows["rating"].astype(float).tolist())
    )
    one = MF(
        k=20,
        max_iter=3,
        learning_rate=R.LEARNING_RATE,
        lambda_reg=R.LAMBDA_REG,
        use_bias=True,
        seed=2,
    ).fit(Dataset.from_uir(data, seed=2))
    users, items = split.test["user"].to_numpy(), split.test["item"].to_numpy()
    expected = [one.score(one.uid_map[u], one.iid_map[i]) for u, i in zip(users, items)]
    got = np.asarray(R.reference_score(run.params, users, items))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_unbiased_has_no_biases_and_same_seed_repeats(split):
    a = R.fit_reference(split, biased=False, seed=0, max_epochs=6, patience=6)
    b = R.fit_reference(split, biased=False, seed=0, max_epochs=6, patience=6)
    assert float(a.params["mean"]) == 0.0
    assert not np.any(np.asarray(a.params["user_bias"]))
    pd.testing.assert_frame_equal(
        a.history.drop(columns="seconds"), b.history.drop(columns="seconds")
    )


def test_run_one_gives_a_record(split):
    record = run_one(split, "ref-mf-biased", {"sgd_lr": 0.01, "sgd_reg": 0.02}, 0, profile="smoke")
    assert record.model == "ref-mf-biased" and record.epochs <= 5
    assert set(record.test) == {"rmse"} and record.inference_seconds >= 0


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"lr": 0.0}, "lr"),
        ({"lambda_reg": -1.0}, "lambda_reg"),
        ({"k": 0}, "k"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"seed": -1}, "seed"),
        ({"lr": float("nan")}, "lr"),
    ],
)
def test_bad_values_are_usage_errors(split, kwargs, word):
    with pytest.raises(UsageError, match=word):
        R.fit_reference(split, biased=True, **kwargs)


def test_rejects_implicit_data_and_unknown_keys(split):
    implicit = Split(
        "imp",
        split.train,
        split.validation,
        split.test,
        split.user_ids,
        split.item_ids,
        implicit=True,
        verified=False,
    )
    with pytest.raises(UsageError, match="implicit"):
        R.fit_reference(implicit, biased=True)
    with pytest.raises(UsageError, match="sgd_lr"):
        registry.get("ref-mf").fit(split, {"lr": 1e-3}, 0, 5, 5)
    with pytest.raises(UsageError, match="trained by Cornac"):
        R.reference_spec(False).init(None, 1, 1)


@pytest.mark.realdata
def test_biased_reference_on_ml100k():
    """Cornac's biased SGD MF (k 20, its default lr 0.01 and lambda_reg 0.02), seed 0, early
    stopped on validation RMSE: measured test RMSE 1.064 (paper, for comparison: MF 1.113,
    HMF 1.066). Band: 1.03-1.10."""
    from conftest import load_real

    from hmf.split import paper_split

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = paper_split(load_real("ml-100k"))
    result = R.fit_reference(s, biased=True, seed=0)
    test = metrics.evaluate(result.spec, result.params, s, "test")["rmse"]
    assert 1.03 < test < 1.10, test
