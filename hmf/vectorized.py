"""Train many configurations of one model shape at once: ``jax.vmap`` over members.

A *member* is one ``(lr, weight_decay, seed)`` of a model whose parameter shapes are fixed (the
same spec: same cluster counts and depth). :func:`fit_many` stacks the members' parameters,
optimiser states (Adam moments *and* the ``inject_hyperparams`` learning rate and weight decay)
and training keys along a leading axis and runs :func:`hmf.train.epoch_program`'s epoch under
``jax.vmap``: one compiled call trains every member for one epoch and returns every member's
validation metrics. Everything else is :func:`hmf.train.fit`'s, member by member:

* Keys: ``k_init, k_train = split(key(seed))``; parameters ``spec.init(k_init, …)``; the key of
  epoch ``e`` is ``fold_in(k_train, e)`` - so shuffles and BPR negatives are each member's own,
  and bit-identical to what ``fit(seed=…)`` draws.
* Early stopping is kept on the host with ``fit``'s exact rule (NaN never improves; stop after
  ``patience`` epochs without improvement; keep the best epoch's parameters). A member that
  stops is *frozen*: the compiled epoch is told which members are active and keeps the old
  parameters and optimiser state of the others (``jnp.where``), so its numbers stop changing
  while the rest of the batch goes on.
* Frozen members still cost compute. When at most half of a batch is still active, the active
  members are gathered into a smaller batch (one recompile per size; at most ``log2(members)``
  of them), so a group whose members stop at very different epochs (lr 1e-2 after ~8 epochs,
  lr 1e-4 after hundreds) does not pay for the finished ones.
* The best epoch's parameters are kept per member on the device: the next call of the epoch
  first copies the previous epoch's parameters into the best slots of the members that improved.

Results equal ``fit``'s up to floating-point reassociation (a batched matrix product or sum may
add in another order than the unbatched one): ``tests/test_vectorized.py`` checks that every
member runs the same epochs, stops at the same best epoch and has the same metrics to 1e-5
relative. ``history["seconds"]`` and ``train_seconds`` are the member's *share* of the batch's
wall time (an epoch's time divided by the members that ran it; set-up and compilation divided by
all members), so summed over a group they give its wall time.

Nothing here assumes a CPU: on a GPU the same compiled program runs there (the device is
recorded by the benchmark scripts and in every record's ``environment``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from hmf import checks
from hmf import metrics as M
from hmf.errors import UsageError
from hmf.fitting import FitResult, start_stopping, update_stopping
from hmf.models.spec import ModelSpec
from hmf.train import (
    BATCH_SIZE,
    PATIENCE,
    check_run_settings,
    device_data,
    epoch_program,
    init_optimizer,
    init_params,
    run_keys,
)

if TYPE_CHECKING:
    from hmf.split import Split

__all__ = ["Member", "fit_many", "memory_per_member"]


@dataclasses.dataclass(frozen=True)
class Member:
    """One configuration of a vectorised group: optimiser hyper-parameters and seed."""

    lr: float
    weight_decay: float
    seed: int = 0


def _members(members) -> list[Member]:
    out = []
    for m in members:
        if isinstance(m, Member):
            pass
        elif isinstance(m, dict):
            m = Member(lr=m["lr"], weight_decay=m["weight_decay"], seed=m.get("seed", 0))
        else:
            m = Member(*m)
        checks.number(m.lr, "lr", low=0.0, strict=True)
        checks.number(m.weight_decay, "weight_decay", low=0.0)
        checks.integer(m.seed, "seed", low=0)
        out.append(m)
    if not out:
        raise UsageError("fit_many needs at least one member")
    return out


def _stack(trees):
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _take(tree, index):
    """Rows ``index`` of every leaf's member axis (``index`` an int array or an int)."""
    return jax.tree.map(lambda x: x[index], tree)


def _where(mask, new, old):
    def pick(n, o):
        m = mask.reshape(mask.shape + (1,) * (n.ndim - 1))
        return jnp.where(m, n, o)

    return jax.tree.map(pick, new, old)


_PROGRAMS: dict = {}


def _batched_program(program, val_axes):
    """One compiled call: keep the improved members' best parameters, train the active members
    one epoch, leave the others exactly as they were."""
    key = (program, tuple(sorted(val_axes.items())))
    if key in _PROGRAMS:
        return _PROGRAMS[key]

    def member(params, opt_state, k_train, active, epoch, train, val):
        new_p, new_s, loss, metrics = program(
            params, opt_state, jax.random.fold_in(k_train, epoch), train, val
        )
        new_p = jax.tree.map(lambda n, o: jnp.where(active, n, o), new_p, params)
        new_s = jax.tree.map(lambda n, o: jnp.where(active, n, o), new_s, opt_state)
        return new_p, new_s, loss, metrics

    vmapped = jax.vmap(member, in_axes=(0, 0, 0, 0, None, None, val_axes))

    def step(params, opt_state, best, improved, k_train, active, epoch, train, val):
        best = _where(improved, params, best)
        params, opt_state, loss, metrics = vmapped(
            params, opt_state, k_train, active, epoch, train, val
        )
        return params, opt_state, best, loss, metrics

    # params, opt_state and best are replaced every epoch: let XLA reuse their buffers.
    compiled = jax.jit(step, donate_argnums=(0, 1, 2))
    _PROGRAMS[key] = compiled
    return compiled


@jax.jit
def _final_best(params, best, improved):
    return _where(improved, params, best)


def memory_per_member(spec: ModelSpec, n_users: int, n_items: int) -> int:
    """Bytes one member keeps on the device: parameters, best parameters and Adam's two moments
    (gradients and the epoch's temporaries come on top, about one more copy)."""
    params = spec.init(jax.random.key(0), n_users, n_items)  # NumPy draws: milliseconds
    size = sum(math.prod(x.shape) * x.dtype.itemsize for x in jax.tree.leaves(params))
    return 5 * size


def fit_many(
    spec: ModelSpec,
    split: Split,
    members: Sequence,
    *,
    max_epochs: int | None = None,
    patience: int = PATIENCE,
    batch_size: int = BATCH_SIZE,
    candidates: Sequence[np.ndarray] | None = None,
    compact: bool = True,
    callback=None,
    optimizer: str = "adamw",
) -> list[FitResult]:
    """:func:`hmf.train.fit` for every member at once; one :class:`FitResult` per member, in
    order, each meaning what ``fit(spec, split, lr=…, weight_decay=…, seed=…)`` returns.

    ``members``: :class:`Member` s, ``(lr, weight_decay, seed)`` tuples or dicts with those keys.
    ``optimizer``: as :func:`hmf.train.fit`'s, one for every member.
    ``candidates`` (ranking only): one validation candidate array per member (default: drawn
    from each member's seed, as ``fit``). ``compact``: gather the active members into a smaller
    batch once at most half are active (same numbers, less work). ``callback(index, row)`` is
    called with each member's history rows.
    """
    members = _members(members)
    max_epochs = check_run_settings(spec, split, patience, batch_size, max_epochs)
    if candidates is not None and len(candidates) != len(members):
        raise UsageError(
            f"candidates: one array per member expected, got {len(candidates)} "
            f"for {len(members)} members"
        )

    start = time.perf_counter()
    n = len(members)
    train, val = device_data(
        spec, split, members[0].seed, None if candidates is None else candidates[0]
    )
    val_axes = {name: None for name in val}
    if spec.task == "ranking":  # validation candidates are drawn per seed, as in fit
        cands = []
        for i, m in enumerate(members):
            c = (
                M.sample_candidates(split, "validation", m.seed)
                if candidates is None
                else candidates[i]
            )
            if np.shape(c)[0] != len(split.validation):
                raise UsageError(
                    f"candidates of member {i} has {np.shape(c)[0]} rows but the "
                    f"validation subset has {len(split.validation)}"
                )
            cands.append(np.asarray(c, dtype=np.int32))
        val["candidates"] = jnp.asarray(np.stack(cands))
        val_axes["candidates"] = 0

    inits, states, k_trains = [], [], []
    for m in members:
        k_init, k_train = run_keys(m.seed)
        params = init_params(spec, k_init, split)
        inits.append(params)
        states.append(init_optimizer(optimizer, params, m.lr, m.weight_decay))
        k_trains.append(k_train)
    params, opt_state = _stack(inits), _stack(states)
    best = jax.tree.map(jnp.copy, params)
    del inits, states
    k_train = jnp.stack(k_trains)
    program = _batched_program(epoch_program(spec, batch_size, split.n_items, optimizer), val_axes)

    metric = M.primary_metric(spec.task)
    stop = start_stopping(n, patience=patience, lower_is_better=spec.task == "rating")
    last_val: list[dict] = [{} for _ in range(n)]
    best_val: list[dict] = [{} for _ in range(n)]
    rows: list[list[dict]] = [[] for _ in range(n)]
    seconds = np.zeros(n)
    out_params: list = [None] * n  # per member, once it leaves the batch

    slots = np.arange(n)  # slots[j] = member held in batch row j
    improved = np.zeros(n, bool)
    setup = time.perf_counter() - start

    def release(rows_idx):
        """Best parameters of batch rows ``rows_idx`` (members that will leave the batch)."""
        for j in rows_idx:
            i = int(slots[j])
            out_params[i] = _take(best if stop.best_epoch[i] else params, j)

    for epoch in range(1, max_epochs + 1):
        active = ~stop.stopped[slots]
        if not active.any():
            break
        if compact and 2 * int(active.sum()) <= len(slots) and len(slots) > 1:
            best = _final_best(params, best, jnp.asarray(improved[slots]))  # best up to date
            improved = np.zeros(n, bool)
            release(np.flatnonzero(~active))
            keep = jnp.asarray(np.flatnonzero(active))
            params, opt_state, best, k_train = (
                _take(params, keep),
                _take(opt_state, keep),
                _take(best, keep),
                _take(k_train, keep),
            )
            if val_axes.get("candidates") == 0:
                val = dict(val, candidates=val["candidates"][keep])
            slots, active = slots[active], active[active]
        t0 = time.perf_counter()
        params, opt_state, best, loss, val_metrics = program(
            params,
            opt_state,
            best,
            jnp.asarray(improved[slots]),
            k_train,
            jnp.asarray(active),
            jnp.asarray(epoch, jnp.uint32),
            train,
            val,
        )
        val_metrics = {name: np.asarray(v, dtype=np.float64) for name, v in val_metrics.items()}
        loss = np.asarray(loss, dtype=np.float64)  # waits for the device
        share = (time.perf_counter() - t0) / int(active.sum())
        values, running = np.full(n, np.nan), np.zeros(n, bool)
        for j in np.flatnonzero(active):
            i = int(slots[j])
            vm = {name: float(v[j]) for name, v in val_metrics.items()}
            row = {"epoch": epoch, "train_loss": float(loss[j])}
            row.update({f"validation_{name}": v for name, v in vm.items()})
            row["seconds"] = share
            rows[i].append(row)
            seconds[i] += share
            last_val[i], values[i], running[i] = vm, vm[metric], True
            if callback is not None:
                callback(i, row)
        stop, improved = update_stopping(stop, epoch, values, running)
        for i in np.flatnonzero(improved):
            best_val[i] = last_val[i]
    best = _final_best(params, best, jnp.asarray(improved[slots]))
    release(range(len(slots)))

    results = []
    for i in range(n):
        results.append(
            FitResult(
                spec=spec,
                params=out_params[i],
                history=pd.DataFrame(rows[i]),
                best_epoch=stop.reported_epoch(i, len(rows[i])),
                epochs=len(rows[i]),
                train_seconds=seconds[i] + setup / n,
                validation=best_val[i] if stop.best_epoch[i] else last_val[i],
                metric=metric,
            )
        )
    return results
