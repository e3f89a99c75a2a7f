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


def test_a_claim_on_a_partly_finished_grid_says_so(planted_in_runner):
    from hmf.experiments.grids import grid

    configs = grid("book", "hmf", planted_in_runner.n_users, planted_in_runner.n_items,
                   dataset="planted")
    records = [Record(dataset="planted", model=model, config=config, seed=s, profile="book",
                      validation={"rmse": 1.0}, test={"rmse": value}, epochs=3, best_epoch=3,
                      train_seconds=1.0, inference_seconds=0.1, history={}, verified=True,
                      environment={})
               for model, config, value in (("hmf", configs[0], 0.9), ("hmf", configs[1], 0.9),
                                            ("mf", dict(lr=1e-2, weight_decay=0.0), 1.2))
               for s in range(5)]
    row = claims._rmse_claim(records_frame(records), "planted", "claim", "paper",
                             lambda ours: "reproduced" if claims._best_is(ours, "hmf") else "no")
    assert row["verdict"] == "reproduced, on a partly finished grid"
    assert f"HMF: 2 / {len(configs)} configurations" in row["ours"]
    assert "MF: 1 / 15" in row["ours"]
