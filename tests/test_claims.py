"""The landing page's claim checks (hmf.claims) on hand-made records."""

from __future__ import annotations

import itertools

from hmf import claims
from hmf.experiments.records import Record, records_frame


def _depth_records(dataset: str, means: dict[int, float], spread: float = 0.002, seeds: int = 5):
    """The `book` depth grid: per depth, learning rate 1e-2 (``means``) and 1e-3 (worse)."""
    out = []
    for (depth, mean), (lr, offset) in itertools.product(means.items(), ((1e-2, 0.0), (1e-3, 0.05))):
        config = dict(lr=lr, weight_decay=1e-4, user_clusters=8, item_clusters=4,
                      user_depth=depth, item_depth=depth)
        for s in range(seeds):
            value = mean + offset + spread * (s - (seeds - 1) / 2)
            out.append(Record(dataset=dataset, model="hmf", config=config, seed=s, profile="book",
                              validation={"rmse": value}, test={"rmse": value}, epochs=3,
                              best_epoch=3, train_seconds=1.0, inference_seconds=0.1,
                              history={}, verified=True, environment={}))
    return out


FLAT = {1: 1.000, 2: 1.001, 3: 0.999, 4: 1.000}
WORSE = {1: 0.920, 2: 0.930, 3: 0.929, 4: 0.931}


def test_depth_claim_reproduced_when_only_ml1m_gets_worse():
    frame = records_frame(_depth_records("ml-100k", FLAT) + _depth_records("ciao", FLAT)
                          + _depth_records("ml-1m", WORSE))
    row = claims._depth(frame)
    assert row["verdict"] == "reproduced"
    assert "ML-1M: 0.920, 0.930 †, 0.929 †, 0.931 †" in row["ours"]
    assert "ML-100K: 1.000, 1.001, 0.999, 1.000" in row["ours"]
    assert "partly finished" not in row["ours"]


def test_depth_claim_partly_when_a_data_set_is_missing_or_differs():
    flat_only = records_frame(_depth_records("ml-100k", FLAT) + _depth_records("ciao", FLAT))
    row = claims._depth(flat_only)
    assert row["verdict"] == "partly" and "ML-1M: not run" in row["ours"]
    # ML-100K clearly better deeper: a significant change the paper does not have
    frame = records_frame(_depth_records("ml-100k", {1: 1.0, 2: 0.95, 3: 0.95, 4: 0.95})
                          + _depth_records("ciao", FLAT) + _depth_records("ml-1m", FLAT))
    assert claims._depth(frame)["verdict"] == "partly"
    wrong = records_frame(_depth_records("ml-100k", {1: 1.0, 2: 0.95, 3: 0.95, 4: 0.95}))
    assert claims._depth(wrong)["verdict"] == "not reproduced"


def test_depth_claim_without_records_is_not_computed():
    assert claims._depth(records_frame([]))["verdict"] == "not computed"


def test_depth_claim_says_when_a_grid_is_partly_finished():
    recs = [r for r in _depth_records("ml-100k", FLAT)  # depth 2 at lr 1e-3: one seed of five
            if not (r.config["user_depth"] == 2 and r.config["lr"] == 1e-3 and r.seed > 0)]
    row = claims._depth(records_frame(recs))
    assert "ML-100K on a partly finished grid" in row["ours"]


def test_depth_claim_needs_seeds_to_test():
    frame = records_frame(_depth_records("ml-100k", FLAT, seeds=1))
    row = claims._depth(frame)
    assert row["verdict"] == "not computed" and "one seed: no significance test" in row["ours"]
