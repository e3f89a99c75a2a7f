"""One trainer for every gradient-trained model (paper Sections 4.2-4.3, Table 2).

* ``optax.adamw(learning_rate, weight_decay)`` with default betas and eps, constant rate,
  decay on every parameter; no separate L2 term (the paper's λ‖Θ‖² *is* the weight decay).
* Batches of 1024 from a fresh permutation each epoch; the last, partial batch is padded and
  masked, so every training row is used every epoch.
* The loss of a batch is the *mean* over its rows. The paper writes a sum; with Adam the two
  give almost the same updates (Adam divides by the running gradient scale, and the decoupled
  decay does not see the loss), so this only moves ``eps``'s relative size.
* BPR: one negative per training row, drawn uniformly among the items its user has not
  interacted with in training, redrawn every epoch.
* At most 512 epochs (rating) / 128 (ranking); stop once the validation metric (RMSE, or
  HitRatio@10 for ranking) has not improved for ``patience`` (5) consecutive epochs; return the
  parameters of the best validation epoch.

One epoch - sampling, shuffling, every optimiser step (a ``jax.lax.scan``) and the validation
metric - is one compiled call. The compiled program depends only on the model's functions and
the array shapes: learning rate and weight decay live in the optimiser state
(``optax.inject_hyperparams``), so a grid over them compiles once.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from hmf import checks, lazy
from hmf import metrics as M
from hmf.errors import UsageError
from hmf.fitting import EarlyStopping, FitResult
from hmf.models.factorization import bpr, squared_error
from hmf.models.spec import ModelSpec

if TYPE_CHECKING:
    from hmf.split import Split

__all__ = [
    "BATCH_SIZE",
    "MAX_EPOCHS",
    "PATIENCE",
    "OPTIMIZERS",
    "MODEL_PASS",
    "FitResult",
    "epoch_program",
    "fit",
    "init_optimizer",
    "init_params",
    "initial_metrics",
    "run_keys",
    "sample_negatives",
]

BATCH_SIZE = 1024  # paper Table 2
MAX_EPOCHS = {"rating": 512, "ranking": 128}  # paper Table 2
PATIENCE = 5  # paper Section 4.3


def sample_negatives(
    key: jax.Array, users: jax.Array, interacted: jax.Array, n_items: int
) -> jax.Array:
    """One item per row of ``users`` ``(n,)`` that the user has not interacted with.

    ``interacted`` is the sorted int32 array of ``user * n_items + item`` over training.
    Rejection sampling: draw all rows, redraw the rows that hit an interacted item, until none
    do (each user must have at least one such item; :func:`fit` checks).
    """

    def hits(neg):
        query = users * n_items + neg
        pos = jnp.clip(jnp.searchsorted(interacted, query), 0, interacted.shape[0] - 1)
        return interacted[pos] == query

    def body(carry):
        key, neg, bad = carry
        key, sub = jax.random.split(key)
        neg = jnp.where(bad, jax.random.randint(sub, users.shape, 0, n_items), neg)
        return key, neg, hits(neg)

    init = (key, jnp.zeros_like(users), jnp.ones(users.shape, dtype=bool))
    _, neg, _ = jax.lax.while_loop(lambda c: c[2].any(), body, init)
    return neg


OPTIMIZERS = ("adamw", "lazy-adamw")
# Not an optimiser: the lazy optimiser's epoch with its updates left out (each side's batch
# rows or whole table differentiated, nothing changed), which :func:`epoch_program` also
# builds. What it costs is what the lazy optimiser pays besides its updates;
# benchmarks/bench_lazy.py times it.
MODEL_PASS = "model-pass"
LAZY_WINDOW = 512  # at most this many steps between two catch-ups of every row


def init_optimizer(optimizer: str, params, lr: float, weight_decay: float):
    """The optimiser state of ``params``: dense ``optax.adamw`` (the paper's) or
    :mod:`hmf.lazy`'s row-lazy AdamW; both hold the learning rate and decay as values."""
    checks.lookup(dict.fromkeys(OPTIMIZERS), optimizer, "optimizer")
    if optimizer == "lazy-adamw":
        return lazy.init(params, lr, weight_decay)
    return optax.inject_hyperparams(optax.adamw)(learning_rate=lr, weight_decay=weight_decay).init(
        params
    )


def epoch_program(spec: ModelSpec, batch_size: int, n_items: int, optimizer: str = "adamw"):
    """The jitted epoch of ``spec`` (one compile per model functions and shapes):
    ``(params, opt_state, key, train, val) -> (params, opt_state, mean loss, val metrics)``.

    ``optimizer`` is one of :data:`OPTIMIZERS`, or :data:`MODEL_PASS`, whose state is a scalar
    (``jnp.zeros(())``) and whose parameters never change."""
    return _epoch_program(
        spec.score, spec.loss, spec.prepare, spec.task, batch_size, n_items, optimizer
    )


@functools.lru_cache(maxsize=64)
def _epoch_program(
    score, loss, prepare, task: str, batch_size: int, n_items: int, optimizer_name: str
):
    # Keyed on the functions, not the spec: a spec's ``init`` is a new partial per call.
    if loss is None:
        loss = functools.partial(squared_error if task == "rating" else bpr, score)
    # Placeholder values: the real rate and decay are read from the optimiser state.
    optimizer = optax.inject_hyperparams(optax.adamw)(learning_rate=0.0, weight_decay=0.0)

    def batch_objective(params, batch, mask):
        per_row = loss(params, batch) * mask  # (B,)
        total = jnp.sum(per_row)
        return total / jnp.maximum(jnp.sum(mask), 1.0), total

    grad_fn = jax.value_and_grad(batch_objective, has_aux=True)

    def step(carry, xs):
        params, opt_state = carry
        batch, mask = xs
        (_, total), grads = grad_fn(params, batch, mask)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), total

    def lazy_step(table):
        def one(carry, xs):
            params, state = carry
            batch, mask = xs
            rows, local_batch = lazy.batch_rows(params, batch, task)
            gathered = lazy.gather(params, state, rows, table)
            (_, total), grads = grad_fn(lazy.localize(params, gathered), local_batch, mask)
            return lazy.step(params, state, grads, rows, gathered), total

        return one

    def model_pass(carry, xs):
        params, spent = carry
        batch, mask = xs
        # Each side as the lazy optimiser takes it: the batch's rows, or the whole table.
        rows, local_batch = lazy.batch_rows(params, batch, task)
        gathered = {
            side: (lazy.row_leaf(params[side])[index],)
            for side, index in rows.items()
            if index is not None
        }
        (_, total), grads = grad_fn(lazy.localize(params, gathered), local_batch, mask)
        # Summed into the carry, so that XLA computes the gradients it would otherwise drop.
        spent = spent + sum(jnp.sum(g) for g in jax.tree.leaves(grads))
        return (params, spent), total

    def lazy_window(carry, xs):
        params, state = carry
        size = xs[1].shape[0]
        table = lazy.window_table(state.origin, size, state.lr, state.weight_decay)
        carry, totals = jax.lax.scan(lazy_step(table), carry, xs)
        return lazy.catch_up(*carry, table, lazy.lazy_sides(params, batch_size, task)), totals

    def train_steps(params, opt_state, batches, mask):
        if optimizer_name == "adamw":
            return jax.lax.scan(step, (params, opt_state), (batches, mask))
        if optimizer_name == MODEL_PASS:
            return jax.lax.scan(model_pass, (params, opt_state), (batches, mask))
        if not lazy.lazy_sides(params, batch_size, task):
            # Every side dense: AdamW at every step, no windows to catch up.
            return jax.lax.scan(lazy_step(None), (params, opt_state), (batches, mask))
        # Whole windows of LAZY_WINDOW steps, then the rest as one shorter window.
        n_steps = mask.shape[0]
        size = min(n_steps, LAZY_WINDOW)
        whole = n_steps // size * size
        xs = jax.tree.map(lambda x: x[:whole].reshape((-1, size) + x.shape[1:]), (batches, mask))
        carry, totals = jax.lax.scan(lazy_window, (params, opt_state), xs)
        totals = totals.reshape(-1)
        if whole < n_steps:
            carry, rest = lazy_window(carry, jax.tree.map(lambda x: x[whole:], (batches, mask)))
            totals = jnp.concatenate([totals, rest])
        return carry, totals

    def validate(params, val):
        if prepare is not None:
            params = prepare(params)
        if task == "rating":
            return M.rating_metrics(score, params, val["user"], val["item"], val["rating"])
        return M.ranking_metrics(score, params, val["user"], val["candidates"])

    def epoch(params, opt_state, key, train, val):
        n = train["user"].shape[0]
        n_batches = -(-n // batch_size)
        pad = n_batches * batch_size - n
        k_perm, k_neg = jax.random.split(key)
        order = jnp.concatenate([jax.random.permutation(k_perm, n), jnp.zeros(pad, jnp.int32)])
        mask = jnp.concatenate([jnp.ones(n), jnp.zeros(pad)]).reshape(n_batches, batch_size)
        rows = {name: train[name] for name in ("user", "item", "rating")}
        if task == "ranking":
            rows["negative"] = sample_negatives(k_neg, train["user"], train["interacted"], n_items)
        batches = {
            name: col[order].reshape(n_batches, batch_size) for name, col in rows.items()
        }  # each (n_batches, B)
        (params, opt_state), totals = train_steps(params, opt_state, batches, mask)
        return params, opt_state, jnp.sum(totals) / n, validate(params, val)

    # The parameters and moments are replaced every epoch: XLA reuses their buffers rather
    # than mapping fresh pages for each epoch's (a large table's first touch costs more than
    # its update). Callers keep a copy of what they need afterwards.
    return jax.jit(epoch, donate_argnums=(0, 1))


def device_data(spec: ModelSpec, split: Split, seed: int, candidates):
    train = {
        "user": jnp.asarray(split.train["user"].to_numpy(np.int32)),
        "item": jnp.asarray(split.train["item"].to_numpy(np.int32)),
        "rating": jnp.asarray(split.train["rating"].to_numpy(np.float32)),
    }
    val_frame = split.validation
    val = {"user": jnp.asarray(val_frame["user"].to_numpy(np.int32))}
    if spec.task == "rating":
        val["item"] = jnp.asarray(val_frame["item"].to_numpy(np.int32))
        val["rating"] = jnp.asarray(val_frame["rating"].to_numpy(np.float32))
        return train, val
    if split.n_users * split.n_items >= 2**31:
        raise UsageError(
            f"{split.dataset!r} has {split.n_users} users x {split.n_items} items, more pairs "
            "than the int32 negative sampler can index (2^31)"
        )
    keys = M.interaction_keys(
        split.train["user"].to_numpy(), split.train["item"].to_numpy(), split.n_items
    )
    full = np.flatnonzero(
        np.bincount(keys // split.n_items, minlength=split.n_users) >= split.n_items
    )
    if full.size:
        raise UsageError(
            f"user {int(full[0])} interacted with every item in training: no BPR negative exists"
        )
    train["interacted"] = jnp.asarray(keys.astype(np.int32))
    if candidates is None:
        candidates = M.sample_candidates(split, "validation", seed)
    if candidates.shape[0] != len(val_frame):
        raise UsageError(
            f"candidates has {candidates.shape[0]} rows but the validation subset has "
            f"{len(val_frame)}: draw them with sample_candidates(split, 'validation', seed)"
        )
    val["candidates"] = jnp.asarray(candidates, dtype=jnp.int32)
    return train, val


def run_keys(seed: int) -> tuple[jax.Array, jax.Array]:
    """A run's initialisation and training keys, both from its seed (:func:`fit`,
    :func:`hmf.vectorized.fit_many` and :func:`initial_metrics` derive them alike)."""
    k_init, k_train = jax.random.split(jax.random.key(seed))
    return k_init, k_train


def init_params(spec: ModelSpec, key: jax.Array, split: Split):
    """``spec.init``'s parameters, with what they take from the training ratings
    (``spec.data_init``) set."""
    params = spec.init(key, split.n_users, split.n_items)
    if spec.data_init is not None:
        params = spec.data_init(params, split.train["rating"].to_numpy(np.float32))
    return params


def initial_metrics(
    spec: ModelSpec, split: Split, seed: int = 0, subset: str = "validation"
) -> dict[str, float]:
    """The metrics on ``subset`` of the parameters :func:`fit` with this ``seed`` starts from,
    before its first epoch (what an early-stopping rule counting from epoch 0 would compare
    the first epoch with)."""
    k_init, _ = run_keys(seed)
    return M.evaluate(spec, init_params(spec, k_init, split), split, subset, seed=seed)


def check_run_settings(spec: ModelSpec, split: Split, patience, batch_size, max_epochs) -> int:
    """Validate the settings every training loop shares; returns ``max_epochs`` with the
    task's default filled in."""
    checks.integer(patience, "patience", low=1)
    checks.integer(batch_size, "batch_size", low=1)
    if max_epochs is None:
        max_epochs = MAX_EPOCHS[spec.task]
    checks.integer(max_epochs, "max_epochs", low=1)
    if len(split.train) == 0 or len(split.validation) == 0:
        raise UsageError(f"{split.dataset!r} needs non-empty training and validation subsets")
    return max_epochs


def fit(
    spec: ModelSpec,
    split: Split,
    *,
    lr: float,
    weight_decay: float,
    seed: int = 0,
    max_epochs: int | None = None,
    patience: int = PATIENCE,
    batch_size: int = BATCH_SIZE,
    candidates: np.ndarray | None = None,
    callback=None,
    optimizer: str = "adamw",
    restore_best: bool = True,
) -> FitResult:
    """Train ``spec`` on ``split.train`` with early stopping on ``split.validation``.

    ``optimizer``: ``"adamw"`` (the paper's) or ``"lazy-adamw"`` (:mod:`hmf.lazy`: the same
    parameters up to ``eps`` and rounding, touching only each batch's rows).
    ``max_epochs`` defaults to the paper's 512 (rating) / 128 (ranking). ``candidates``
    (ranking only) are the validation candidates of :func:`hmf.metrics.sample_candidates`,
    drawn from ``seed`` when not given. ``callback(row)`` is called with each history row.
    ``restore_best=False`` returns the last epoch's parameters instead of the best one's.
    The same ``seed`` gives the same parameters and history (except ``seconds``).
    """
    checks.number(lr, "lr", low=0.0, strict=True)
    checks.number(weight_decay, "weight_decay", low=0.0)
    checks.integer(seed, "seed", low=0)
    max_epochs = check_run_settings(spec, split, patience, batch_size, max_epochs)

    start = time.perf_counter()
    train, val = device_data(spec, split, seed, candidates)
    k_init, k_train = run_keys(seed)
    params = init_params(spec, k_init, split)
    opt_state = init_optimizer(optimizer, params, lr, weight_decay)
    program = epoch_program(spec, batch_size, split.n_items, optimizer)

    metric = M.primary_metric(spec.task)
    lower = spec.task == "rating"
    stopper, rows = EarlyStopping(patience, lower_is_better=lower, restore_best=restore_best), []
    for epoch in range(1, max_epochs + 1):
        t0 = time.perf_counter()
        params, opt_state, loss, val_metrics = program(
            params, opt_state, jax.random.fold_in(k_train, epoch), train, val
        )
        val_metrics = {name: float(v) for name, v in val_metrics.items()}  # waits for device
        row = {"epoch": epoch, "train_loss": float(loss)}
        row.update({f"validation_{name}": v for name, v in val_metrics.items()})
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
        if callback is not None:
            callback(row)
        # A copy: the next epoch's call takes over these parameters' buffers.
        snapshot = lambda p=params, v=val_metrics: (jax.tree.map(jnp.copy, p), v)  # noqa: E731
        if stopper.update(epoch, val_metrics[metric], snapshot):
            break
    best_params, best_val = stopper.best((params, val_metrics))
    seconds = time.perf_counter() - start
    return FitResult(
        spec=spec,
        params=best_params,
        history=pd.DataFrame(rows),
        best_epoch=stopper.best_epoch or len(rows),
        epochs=len(rows),
        train_seconds=seconds,
        validation=best_val,
        metric=metric,
    )
