"""benchmarks/estimate_paper_rest.py prices a paper sweep's missing runs from its records."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from conftest import REPO
from fake_records import fake_record


@pytest.fixture(scope="module")
def rest():
    sys.path.insert(0, str(REPO / "benchmarks"))  # it imports estimate_book_sweep beside it
    try:
        spec = importlib.util.spec_from_file_location(
            "estimate_paper_rest", REPO / "benchmarks" / "estimate_paper_rest.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return module.rest


def _config(lr, wd, clusters=(10, 5), **extra):
    return (
        dict(lr=lr, weight_decay=wd, user_clusters=clusters[0], item_clusters=clusters[1]) | extra
    )


def _record(config, seed, epochs, seconds, device="cpu:cpu"):
    return fake_record(
        config=config,
        seed=seed,
        epochs=epochs,
        train_seconds=seconds - 1.0,
        inference_seconds=1.0,
        environment={"device": device},
    )


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
