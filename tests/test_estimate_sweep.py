"""benchmarks/estimate_book_sweep.py prices runs from other devices at this CPU's rate."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import REPO
from fake_records import fake_record


def _module():
    spec = importlib.util.spec_from_file_location(
        "estimate_book_sweep", REPO / "benchmarks" / "estimate_book_sweep.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _record(model, clusters, seed, device, seconds, epochs):
    config = (
        {"lr": 0.01}
        if clusters is None
        else {"lr": 0.01, "user_clusters": clusters[0], "item_clusters": clusters[1]}
    )
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
        _record("hmf", (10, 5), 0, "cpu:cpu", 100.0, 10),  # 10 s an epoch
        _record("hmf", (10, 5), 1, "cpu:cpu", 300.0, 20),  # 15 s: pooled 400 / 30
        _record("hmf", (10, 5), 2, "gpu:cuda", 2.0, 6),  # 6 epochs -> 80 s
        _record("hmf", (20, 5), 0, "gpu:cuda", 2.0, 6),  # no CPU record of its shape
        _record("mf", None, 0, "cpu:cpu", 50.0, 5),
    ]
    per_model, unpriced = _module().estimate(records)
    assert per_model["hmf"][:4] == [2, 400.0, 1, 6]
    assert per_model["hmf"][4] == pytest.approx(6 * 400.0 / 30)
    assert per_model["mf"] == [1, 50.0, 0, 0, 0.0]
    assert len(unpriced) == 1 and unpriced[0].startswith("hmf") and "seed 0" in unpriced[0]
