"""benchmarks/estimate_book_sweep.py prices runs from other devices at this CPU's rate;
benchmarks/estimate_paper_rest.py prices a paper sweep's missing runs from its records."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from conftest import REPO
from fake_records import fake_record


def _module(name: str):
    sys.path.insert(0, str(REPO / "benchmarks"))  # estimate_paper_rest imports its neighbour
    try:
        spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return module


def _config(lr, wd=0.0, clusters=(10, 5), **extra):
    if clusters is None:
        return dict(lr=lr, weight_decay=wd) | extra
    shape = dict(user_clusters=clusters[0], item_clusters=clusters[1])
    return dict(lr=lr, weight_decay=wd) | shape | extra


def _record(config, seed, epochs, seconds, device="cpu:cpu", model="hmf"):
    return fake_record(
        dataset="planted",
        model=model,
        config=config,
        seed=seed,
        epochs=epochs,
        train_seconds=seconds - 1.0,
        inference_seconds=1.0,
        environment={"device": device},
    )


def test_other_devices_are_priced_at_the_cpu_rate_of_the_same_shape():
    records = [
        _record(_config(0.01), 0, 10, 100.0),  # 10 s an epoch
        _record(_config(0.01), 1, 20, 300.0),  # 15 s: pooled 400 / 30
        _record(_config(0.01), 2, 6, 2.0, device="gpu:cuda"),  # 6 epochs -> 80 s
        _record(_config(0.01, clusters=(20, 5)), 0, 6, 2.0, "gpu:cuda"),  # no CPU record
        _record(_config(0.01, clusters=None), 0, 5, 50.0, model="mf"),
    ]
    per_model, unpriced = _module("estimate_book_sweep").estimate(records)
    assert per_model["hmf"][:4] == [2, 400.0, 1, 6]
    assert per_model["hmf"][4] == pytest.approx(6 * 400.0 / 30)
    assert per_model["mf"] == [1, 50.0, 0, 0, 0.0]
    assert len(unpriced) == 1 and unpriced[0].startswith("hmf") and "seed 0" in unpriced[0]


@pytest.fixture(scope="module")
def rest():
    return _module("estimate_paper_rest").rest


def test_epochs_from_the_same_settings_and_seconds_from_long_runs_of_the_same_shape(rest):
    records = [
        _record(_config(1e-4, 0.0), 0, 100, 100.0),  # 1 s an epoch
        _record(_config(1e-4, 0.0), 1, 300, 900.0),  # 3 s
        _record(_config(1e-4, 0.0), 2, 200, 400.0),  # 2 s: the median of the long runs
        _record(_config(1e-2, 0.0), 0, 5, 500.0),  # short: its 100 s an epoch is set-up
        _record(_config(1e-4, 0.1, (20, 5)), 0, 60, 5.0, device="gpu:cuda"),  # epochs only
    ]
    missing = [(_config(1e-4, 0.0), 3), (_config(1e-2, 0.0), 1)]
    per_lr, unpriced = rest(records, missing, "hmf")
    assert per_lr[1e-4] == [1, 200, pytest.approx(200 * 2.0)]
    assert per_lr[1e-2] == [1, 5, pytest.approx(5 * 2.0)]
    assert unpriced == []


def test_unseen_settings_fall_back_to_the_learning_rate_and_unseen_shapes_are_named(rest):
    records = [
        _record(_config(1e-3, 0.0), 0, 40, 40.0),
        _record(_config(1e-3, 0.1), 0, 60, 60.0),
    ]
    missing = [(_config(1e-3, 0.5), 0), (_config(1e-3, 0.0, (99, 5)), 4)]
    per_lr, unpriced = rest(records, missing, "hmf")
    assert per_lr[1e-3] == [1, 50, pytest.approx(50 * 1.0)]
    assert len(unpriced) == 1 and "99" in unpriced[0] and unpriced[0].endswith("seed 4")


def test_the_sweeps_optimizer_prices_its_runs_where_it_has_records(rest):
    records = [
        _record(_config(1e-3, 0.0), 0, 50, 100.0),  # dense: 2 s an epoch
        _record(_config(1e-3, 0.0, optimizer="lazy-adamw"), 1, 50, 50.0),  # lazy: 1 s
    ]
    missing = [(_config(1e-3, 0.0, optimizer="lazy-adamw"), 2)]
    lazy, _ = rest(records, missing, "hmf", "lazy-adamw")
    dense, _ = rest(records, missing, "hmf", "adamw")
    assert lazy[1e-3][2] == pytest.approx(50 * 1.0)
    assert dense[1e-3][2] == pytest.approx(50 * 2.0)
