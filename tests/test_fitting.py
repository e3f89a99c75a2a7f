"""The one early-stopping rule (hmf.fitting) that every trainer uses."""

from __future__ import annotations

import math

import numpy as np

from hmf.fitting import EarlyStopping, start_stopping, update_stopping


def _run(values, patience=2, lower_is_better=True):
    stopper, epochs = EarlyStopping(patience, lower_is_better=lower_is_better), 0
    for epoch, value in enumerate(values, start=1):
        epochs = epoch
        if stopper.update(epoch, value, lambda e=epoch: e):
            break
    return stopper, epochs


def test_stops_after_patience_epochs_without_improvement_and_keeps_the_best():
    stopper, epochs = _run([3.0, 2.0, 2.5, 2.0, 1.0])  # 2.0 again is no improvement
    assert (epochs, stopper.best_epoch, stopper.best_value, stopper.best(None)) == (4, 2, 2.0, 2)


def test_higher_is_better_for_ranking_metrics():
    stopper, epochs = _run([0.1, 0.3, 0.2, 0.2, 0.4], lower_is_better=False)
    assert (epochs, stopper.best_epoch, stopper.best_value) == (4, 2, 0.3)


def test_nan_never_improves_and_all_nan_reports_the_last_state():
    stopper, epochs = _run([math.nan, 2.0, math.nan, math.nan])
    assert (epochs, stopper.best_epoch, stopper.best("last")) == (4, 2, 2)
    stopper, epochs = _run([math.nan, math.nan, math.nan])
    assert (epochs, stopper.best_epoch, stopper.best("last")) == (2, 0, "last")
    assert stopper.state.reported_epoch(0, epochs) == epochs


def test_array_state_equals_runs_one_at_a_time():
    rng = np.random.default_rng(0)
    curves = rng.normal(size=(6, 12))
    curves[2, 3:] = np.nan
    state = start_stopping(len(curves), patience=3, lower_is_better=True)
    epochs = np.zeros(len(curves), int)
    for epoch in range(1, curves.shape[1] + 1):
        active = ~state.stopped
        epochs += active
        state, improved = update_stopping(state, epoch, curves[:, epoch - 1], active)
        assert not (improved & ~active).any()
    for i, curve in enumerate(curves):
        single, ran = _run(curve, patience=3)
        assert (ran, single.best_epoch) == (epochs[i], state.best_epoch[i])
