"""What the NumPy baselines (IHSR, eTREE) share: input checks, sparse data, their fit result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax.numpy as jnp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from hmf import metrics as M
from hmf.errors import UsageError
from hmf.fitting import EarlyStopping, FitResult
from hmf.models.spec import ModelSpec

if TYPE_CHECKING:
    from hmf.split import Split

__all__ = ["check_split", "columns", "sparse", "rmse", "not_trainable", "fit_result"]

PATIENCE = 5  # paper Section 4.3
DIM = 20  # paper Table 2


def check_split(split: Split) -> None:
    if len(split.train) == 0 or len(split.validation) == 0:
        raise UsageError(f"{split.dataset!r} needs non-empty training and validation subsets")
    if split.implicit:
        raise UsageError(
            f"{split.dataset!r} is implicit feedback; IHSR and eTREE are rating-prediction "
            "baselines and need explicit ratings"
        )


def columns(frame: pd.DataFrame):
    return (
        frame["user"].to_numpy(np.int64),
        frame["item"].to_numpy(np.int64),
        frame["rating"].to_numpy(np.float64),
    )


def sparse(users, items, values, shape) -> sp.csr_matrix:
    """CSR matrix with one entry per (user, item); duplicates are summed (the splits have
    none)."""
    return sp.csr_matrix((values, (users, items)), shape=shape)


def rmse(prediction: np.ndarray, target: np.ndarray) -> float:
    """Validation RMSE through the project's one definition (:func:`hmf.metrics.rmse`)."""
    return float(M.rmse(jnp.asarray(prediction), jnp.asarray(target)))


def not_trainable(key, n_users, n_items):  # pragma: no cover - guard only
    raise UsageError("NumPy baselines are trained by their own fit_* function, not hmf.train.fit")


def fit_result(
    spec: ModelSpec, params, rows: list[dict], stopper: EarlyStopping, seconds: float
) -> FitResult:
    """The trainer's result type, so the experiment layer treats every model alike."""
    history = pd.DataFrame(rows, columns=["epoch", "train_loss", "validation_rmse", "seconds"])
    best = stopper.best_value if stopper.best_epoch else float(rows[-1]["validation_rmse"])
    return FitResult(
        spec=spec,
        params=params,
        history=history,
        best_epoch=stopper.best_epoch or len(rows),
        epochs=len(rows),
        train_seconds=seconds,
        validation={"rmse": best},
        metric="rmse",
    )
