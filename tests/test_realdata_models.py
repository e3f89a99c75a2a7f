"""Paper Table 3 claims on the real data (skipped when the data sets are absent).

Thresholds, with what seed 0 gave when they were set (2-core CPU):

* ML-100K, HMF, lr 1e-3, weight decay 1e-4, 200 / 100 clusters: test RMSE within 0.03 of the
  paper's 1.066 (we measured 1.062).
* Ciao, same HMF configuration: test RMSE below 1.0 (paper 0.939; we measured 0.936).
* Ciao, MF at lr 1e-3, weight decay 1e-4 (the grid's middle row): test RMSE above 2.0, i.e. far
  from converged (paper 2.306 for its best grid cell; we measured 4.34 - its validation RMSE never
  improves on epoch 1, so early stopping ends it at epoch 6).
"""

import json

import pytest

from hmf import data, metrics, models, train
from hmf.cli import main
from hmf.split import paper_split

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

PAPER = {("ml-100k", "hmf"): 1.066, ("ciao", "hmf"): 0.939, ("ciao", "mf"): 2.306}


def _split(name):
    try:
        return paper_split(data.load(name))
    except data.DataError as exc:
        pytest.skip(f"{name} not available: {exc}")


@pytest.fixture(scope="module")
def ml100k():
    return _split("ml-100k")


@pytest.fixture(scope="module")
def ciao():
    return _split("ciao")


def _test_rmse(spec, split):
    result = train.fit(spec, split, lr=1e-3, weight_decay=1e-4, seed=0)
    return metrics.evaluate(spec, result.params, split, "test")["rmse"]


def test_hmf_ml100k_matches_the_paper(ml100k):
    rmse = _test_rmse(models.hmf(user_clusters=200, item_clusters=100), ml100k)
    assert abs(rmse - PAPER["ml-100k", "hmf"]) <= 0.03, rmse


def test_hmf_converges_on_ciao_where_mf_does_not(ciao):
    hmf_rmse = _test_rmse(models.hmf(user_clusters=200, item_clusters=100), ciao)
    mf_rmse = _test_rmse(models.mf(), ciao)
    assert hmf_rmse < 1.0, hmf_rmse
    assert mf_rmse > 2.0, mf_rmse


def test_cli_train_json(ml100k, capsys):
    assert (
        main(["train", "--dataset", "ml-100k", "--model", "bpr-hmf", "--epochs", "2", "--json"])
        == 0
    )
    record = json.loads(capsys.readouterr().out)
    assert set(record["validation"]) == set(record["test"]) == {"hit_ratio@10", "mrr@10"}
    assert record["epochs"] == 2 and record["verified"] is True
    assert record["train_seconds"] > 0 and record["inference_seconds"] > 0
