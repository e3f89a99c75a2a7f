"""What every training loop shares: the early-stopping rule and the result it returns.

Paper Section 4.3: after every epoch (iteration) the validation metric is measured; training
stops once it has not improved for ``patience`` consecutive epochs, and the parameters of the
best epoch are kept. Here the rule is one pure function over array state, so a vectorised group
(:mod:`hmf.vectorized`) applies it to all its members at once and a single run is a group of one.
A NaN never improves, so a diverged run keeps its last finite best; a run whose every epoch is
NaN reports its last epoch (:meth:`Stopping.reported_epoch`), flagged by its metric.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FitResult", "Stopping", "start_stopping", "update_stopping", "EarlyStopping"]


@dataclasses.dataclass(frozen=True)
class FitResult:
    """Outcome of a training loop (:func:`hmf.train.fit` and the NumPy / Cornac fits).

    ``history`` has one row per epoch run: ``epoch`` (1-based), ``train_loss``,
    ``validation_<metric>`` for each validation metric and ``seconds``. ``params`` are those of
    ``best_epoch``; ``validation`` its validation metrics; ``spec`` evaluates ``params``.
    """

    spec: Any  # hmf.models.spec.ModelSpec
    params: Any
    history: pd.DataFrame
    best_epoch: int
    epochs: int
    train_seconds: float
    validation: dict[str, float]
    metric: str  # the early-stopping metric, e.g. "rmse"


@dataclasses.dataclass(frozen=True)
class Stopping:
    """Early-stopping state of ``n`` runs; arrays of shape ``(n,)``."""

    lower_is_better: bool
    patience: int
    best: np.ndarray  # best value so far (NaN: none yet)
    best_epoch: np.ndarray  # epoch of ``best`` (0: none yet)
    waited: np.ndarray  # epochs since the last improvement
    stopped: np.ndarray  # patience ran out

    def reported_epoch(self, i: int, epochs_run: int) -> int:
        """The epoch whose parameters run ``i`` reports: its best, else (all NaN) its last."""
        return int(self.best_epoch[i]) or epochs_run


def start_stopping(n: int, *, patience: int, lower_is_better: bool) -> Stopping:
    """State before the first epoch of ``n`` runs."""
    zeros = np.zeros(n, int)  # shared: updates build new arrays, never write in place
    return Stopping(lower_is_better, patience, np.full(n, np.nan), zeros, zeros, zeros > 0)


def update_stopping(
    state: Stopping, epoch: int, values, active=None
) -> tuple[Stopping, np.ndarray]:
    """Record epoch ``epoch``'s validation ``values`` ``(n,)`` of the ``active`` runs (default:
    those not stopped); returns the new state and which runs improved."""
    values = np.asarray(values, float).reshape(-1)
    active = ~state.stopped if active is None else np.asarray(active, bool)
    none_yet = state.best_epoch == 0
    with np.errstate(invalid="ignore"):
        better = values < state.best if state.lower_is_better else values > state.best
    improved = active & ~np.isnan(values) & (none_yet | better)
    waited = np.where(improved, 0, state.waited + active)
    new = dataclasses.replace(
        state,
        best=np.where(improved, values, state.best),
        best_epoch=np.where(improved, epoch, state.best_epoch),
        waited=waited,
        stopped=state.stopped | (active & (waited >= state.patience)),
    )
    return new, improved


class EarlyStopping:
    """The rule for one run, keeping a snapshot of its best epoch's state.

    ``update(epoch, value, snapshot)`` calls ``snapshot()`` when ``value`` improves and returns
    whether training should stop; ``best(last)`` is the best snapshot, else (every epoch NaN)
    ``last``. With ``restore_best=False`` (the authors' retrain protocol) the reported epoch is
    the last one run: ``best(last)`` is ``last`` and ``best_epoch`` / ``best_value`` are its.
    """

    def __init__(self, patience: int, *, lower_is_better: bool = True, restore_best: bool = True):
        self.state = start_stopping(1, patience=patience, lower_is_better=lower_is_better)
        self.snapshot, self.restore_best = None, restore_best
        self.best_epoch, self.best_value = 0, float("nan")

    def update(self, epoch: int, value: float, snapshot) -> bool:
        self.state, improved = update_stopping(self.state, epoch, value)
        if improved[0] or not self.restore_best:
            self.best_epoch, self.best_value = epoch, float(value)
            self.snapshot = snapshot() if self.restore_best else None
        return bool(self.state.stopped[0])

    def best(self, last):
        return self.snapshot if self.best_epoch and self.restore_best else last
