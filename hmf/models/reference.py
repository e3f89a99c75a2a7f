"""An outside reference for the rating table: Cornac's SGD matrix factorisation.

Not one of the paper's baselines - a clearly labelled extra row, so the book can show where the
paper's MF, IHSR, eTREE and HMF stand against a maintained, widely used implementation trained
on the same split and scored by the same RMSE on the same test rows.

* Library: Cornac (``cornac.models.MF``, CPU backend): plain SGD over the training ratings,
  ``r̂ = μ + b_u + b_i + U_u·V_i`` (``use_bias=True``, model ``ref-mf-biased``) or
  ``r̂ = U_u·V_i`` (``use_bias=False``, model ``ref-mf``), per-rating updates with L2 weight
  ``lambda_reg`` on factors and biases, constant learning rate, factors drawn N(0, 0.01²),
  biases zero. Its defaults are kept except ``k = 20`` (paper: d = 20 for every model):
  ``learning_rate = 0.01``, ``lambda_reg = 0.02``.
* Early stopping: Cornac's own ``early_stop`` watches the *training* loss, not a validation
  metric. Its SGD keeps no state besides the parameters (constant rate, no momentum, the ratings
  visited in the order given), so ``k`` epochs run one at a time, each warm-started from the last
  (``init_params``), are exactly ``max_iter = k`` in one call - the tests check this. That gives
  the paper's protocol: validation RMSE after every epoch, stop after ``patience`` epochs without
  improvement, keep the best epoch's parameters.
* The training rows are shuffled once with ``seed`` before they reach Cornac (it visits them in
  the given order and our split is sorted by time); ``seed`` also seeds Cornac's initialisation,
  which makes it single-threaded and so deterministic.
* Cornac keeps one rating per (user, item) pair - the first it sees, so after the shuffle a
  random one of the repeats (Ciao's training subset has 190 repeated pairs of 23,081 rows;
  ML-100K none). Our own models train on every row.
* Predictions are not clipped to the rating range (as our MF and HMF); Cornac's ``rate`` would
  clip. Inference and metrics go through :func:`hmf.metrics.evaluate`, as for every model.
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING

import jax.numpy as jnp
import numpy as np
import pandas as pd

from hmf import checks, metrics
from hmf.errors import UsageError
from hmf.fitting import EarlyStopping, FitResult
from hmf.models.spec import ModelSpec, Params

if TYPE_CHECKING:
    from hmf.split import Split

__all__ = ["K", "LEARNING_RATE", "LAMBDA_REG", "reference_spec", "reference_score", "fit_reference"]

K = 20  # paper Table 2: d = 20
LEARNING_RATE = 0.01  # Cornac MF default
LAMBDA_REG = 0.02  # Cornac MF default (its docstring says 0.001; the code's default is 0.02)


def reference_score(params: Params, users, items):
    """``μ + b_u + b_i + U_u·V_i`` (biases and μ are zero for the unbiased model)."""
    return (
        params["mean"]
        + params["user_bias"][users]
        + params["item_bias"][items]
        + jnp.sum(params["user"][users] * params["item"][items], axis=-1)
    )


def _not_trainable(key, n_users, n_items):
    raise UsageError("the reference models are trained by Cornac: use fit_reference()")


def reference_spec(biased: bool) -> ModelSpec:
    """The (evaluation-only) spec of ``ref-mf-biased`` (``biased``) or ``ref-mf``."""
    return ModelSpec(
        name="ref-mf-biased" if biased else "ref-mf",
        task="rating",
        init=_not_trainable,
        score=reference_score,
        config={"library": "cornac", "use_bias": bool(biased), "k": K},
    )


def _params(
    model, uid: np.ndarray, iid: np.ndarray, n_users: int, n_items: int, biased: bool
) -> Params:
    """Cornac's factors re-indexed to the split's user/item indices (absent ones: zeros)."""
    k = model.u_factors.shape[1]
    U = np.zeros((n_users, k), np.float32)
    V = np.zeros((n_items, k), np.float32)
    bu = np.zeros(n_users, np.float32)
    bi = np.zeros(n_items, np.float32)
    U[uid] = model.u_factors[np.arange(len(uid))]
    V[iid] = model.i_factors[np.arange(len(iid))]
    if biased:
        bu[uid] = model.u_biases[np.arange(len(uid))]
        bi[iid] = model.i_biases[np.arange(len(iid))]
    mean = np.float32(model.global_mean if biased else 0.0)
    return {
        "user": jnp.asarray(U),
        "item": jnp.asarray(V),
        "user_bias": jnp.asarray(bu),
        "item_bias": jnp.asarray(bi),
        "mean": jnp.asarray(mean),
    }


def fit_reference(
    split: Split,
    *,
    biased: bool,
    lr: float = LEARNING_RATE,
    lambda_reg: float = LAMBDA_REG,
    k: int = K,
    seed: int = 0,
    max_epochs: int = 512,
    patience: int = 5,
    callback=None,
) -> FitResult:
    """Train Cornac's MF on ``split.train``, one epoch at a time, stopping on validation RMSE.

    Returns :class:`hmf.fitting.FitResult`; ``params`` (best epoch) evaluate with
    :func:`reference_score`; ``history`` has ``epoch``, ``train_loss`` (mean squared error of
    the training rows after the epoch, without the L2 term), ``validation_rmse``, ``seconds``.
    """
    try:
        from cornac.data import Dataset
        from cornac.models import MF
    except ImportError as exc:  # pragma: no cover - cornac is a dependency
        raise UsageError(f"the reference models need Cornac (pip install cornac): {exc}") from None
    checks.number(lr, "lr", low=0.0, strict=True)
    checks.number(lambda_reg, "lambda_reg", low=0.0)
    checks.integer(k, "k", low=1)
    checks.integer(seed, "seed", low=0)
    checks.integer(max_epochs, "max_epochs", low=1)
    checks.integer(patience, "patience", low=1)
    if split.implicit:
        raise UsageError(
            f"{split.dataset!r} is implicit feedback: the reference models are "
            "rating models (use a rating split, e.g. ml-100k or ciao)"
        )
    if len(split.train) == 0 or len(split.validation) == 0:
        raise UsageError(f"{split.dataset!r} needs non-empty training and validation subsets")

    spec = reference_spec(biased)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(split.train))
    tu = split.train["user"].to_numpy()[order]
    ti = split.train["item"].to_numpy()[order]
    tr = split.train["rating"].to_numpy(np.float64)[order]
    with warnings.catch_warnings():  # repeated (user, item) pairs: documented above
        warnings.filterwarnings("ignore", message=".*duplicated observations")
        train_set = Dataset.from_uir(list(zip(tu.tolist(), ti.tolist(), tr.tolist())), seed=seed)
    uid = np.fromiter(train_set.uid_map.keys(), np.int64, len(train_set.uid_map))
    iid = np.fromiter(train_set.iid_map.keys(), np.int64, len(train_set.iid_map))
    if not (
        np.array_equal(np.fromiter(train_set.uid_map.values(), np.int64), np.arange(len(uid)))
        and np.array_equal(np.fromiter(train_set.iid_map.values(), np.int64), np.arange(len(iid)))
    ):
        raise RuntimeError("unexpected Cornac id map: indices are not 0..n-1 in insertion order")
    train_eval = (jnp.asarray(tu), jnp.asarray(ti), jnp.asarray(tr.astype(np.float32)))

    state, stopper, rows = None, EarlyStopping(patience), []
    for epoch in range(1, max_epochs + 1):
        t0 = time.perf_counter()
        model = MF(
            k=k,
            max_iter=1,
            learning_rate=lr,
            lambda_reg=lambda_reg,
            use_bias=biased,
            early_stop=False,
            seed=seed,
            init_params=state,
            verbose=False,
        )
        model.fit(train_set)
        state = {
            "U": model.u_factors,
            "V": model.i_factors,
            "Bu": model.u_biases,
            "Bi": model.i_biases,
        }
        params = _params(model, uid, iid, split.n_users, split.n_items, biased)
        value = metrics.evaluate(spec, params, split, "validation")["rmse"]
        train_rmse = float(
            metrics.rmse(reference_score(params, train_eval[0], train_eval[1]), train_eval[2])
        )
        row = {
            "epoch": epoch,
            "train_loss": train_rmse**2,
            "validation_rmse": value,
            "seconds": time.perf_counter() - t0,
        }
        rows.append(row)
        if callback is not None:
            callback(row)
        if stopper.update(epoch, value, lambda p=params: p):
            break
    return FitResult(
        spec=spec,
        params=stopper.best(params),
        history=pd.DataFrame(rows),
        best_epoch=stopper.best_epoch or len(rows),
        epochs=len(rows),
        train_seconds=time.perf_counter() - start,
        validation={"rmse": stopper.best_value if stopper.best_epoch else value},
        metric="rmse",
    )
