"""Row-lazy AdamW: the same parameters as ``optax.adamw``, touching only a batch's rows.

A batch of ratings uses the rows of the users and items in it: of an embedding table (MF) or of
the first connection-logit matrix ``C_1`` (HMF). Dense AdamW still reads and writes every row,
its two moments and its gradient at every step. For a row whose gradient is zero for ``k``
steps after step ``t``, AdamW's moments decay geometrically (``m`` by ``b1^k``, ``v`` by
``b2^k``) and, with ``eps`` neglected beside ``sqrt(v̂)`` (its first-order term is kept, see
:func:`window_table`), its parameters after those steps are

    θ_{t+k} = d^k θ_t - lr · (m_t / sqrt(v_t)) · S(t, t+k),
    S(t, e) = Σ_{u=t+1..e} d^(e-u) · c^(u-t) · a_u,   d = 1 - lr·wd,  c = b1 / sqrt(b2),
    a_u = sqrt(1 - b2^u) / (1 - b1^u)   (AdamW's bias corrections at step u).

So a step first catches the batch's rows up over their idle steps, then applies AdamW's own
update to them (zero-gradient rows of the batch included, so those steps are exact); the small
dense leaves (root embeddings, upper connection matrices) are updated every step. ``S`` is read
from a table built by direct summation for a window of steps (no cancellation), and at the end of
every window, so before every evaluation, all rows are caught up: evaluated parameters are dense
AdamW's up to second order in ``eps / sqrt(v̂)`` and rounding.

Applies to models whose parameters are ``{"user": Embedding, "item": Embedding}`` (MF, HMF,
BPR-MF, BPR-HMF).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from hmf.errors import UsageError
from hmf.models.embeddings import Embedding, FlatEmbedding, HierarchicalEmbedding

__all__ = [
    "B1",
    "B2",
    "EPS",
    "CATCH_UP_ROWS",
    "CHUNK_ELEMENTS",
    "LazyAdamState",
    "init",
    "window_table",
    "batch_rows",
    "gather",
    "localize",
    "step",
    "catch_up",
    "chunk_rows",
    "row_leaf",
]

B1, B2, EPS = 0.9, 0.999, 1e-8  # optax.adamw's defaults
_SORTED = dict(indices_are_sorted=True, unique_indices=True)
SIDES = ("user", "item")
CATCH_UP_ROWS = 1024  # rows caught up together at a window's end (see _catch_up_leaf)


def row_leaf(emb: Embedding) -> jax.Array:
    """The leaf whose rows are objects: the table (flat) or ``C_1`` (hierarchical)."""
    if isinstance(emb, FlatEmbedding):
        return emb.table
    if isinstance(emb, HierarchicalEmbedding):
        return emb.logits[0]
    raise UsageError(f"lazy-adamw needs flat or hierarchical embeddings, got {type(emb).__name__}")


def _with_row_leaf(emb: Embedding, rows: jax.Array) -> Embedding:
    if isinstance(emb, FlatEmbedding):
        return FlatEmbedding(rows)
    return dataclasses.replace(emb, logits=(rows, *emb.logits[1:]))


def _check(params) -> None:
    if not isinstance(params, dict) or set(params) != set(SIDES):
        raise UsageError(
            "lazy-adamw trains models with user and item embeddings only (mf, hmf, bpr-mf, bpr-hmf)"
        )
    for side in SIDES:
        row_leaf(params[side])


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class LazyAdamState:
    count: jax.Array  # () int32: steps taken
    origin: jax.Array  # () int32: the step every row was last caught up to (window start)
    lr: jax.Array  # () float32
    weight_decay: jax.Array  # () float32
    mu: dict  # like params
    nu: dict  # like params
    last: dict  # side -> (n,) int32: the step each row's moments are current at


def init(params, lr: float, weight_decay: float) -> LazyAdamState:
    _check(params)
    zeros = jax.tree.map(jnp.zeros_like, params)
    last = {side: jnp.zeros(row_leaf(params[side]).shape[0], jnp.int32) for side in SIDES}
    return LazyAdamState(
        jnp.zeros((), jnp.int32),
        jnp.zeros((), jnp.int32),
        jnp.asarray(lr, jnp.float32),
        jnp.asarray(weight_decay, jnp.float32),
        zeros,
        jax.tree.map(jnp.zeros_like, params),
        last,
    )


def _adamw(theta, m, v, g, count, lr, wd):
    """One AdamW step at step ``count`` (1-based), as ``optax.adamw`` computes it."""
    m = (1 - B1) * g + B1 * m
    v = (1 - B2) * g * g + B2 * v
    m_hat = m / (1 - B1**count).astype(m.dtype)
    v_hat = v / (1 - B2**count).astype(v.dtype)
    update = -lr * (m_hat / (jnp.sqrt(v_hat) + EPS) + wd * theta)
    return theta + update, m, v


def window_table(origin, size: int, lr, wd) -> jax.Array:
    """``T[0, i, j] = S(origin + i, origin + j)`` and ``T[1, i, j] = S_eps(origin + i, origin + j)``
    for ``0 <= i <= j <= size`` (0 below), by direct summation down each column.

    ``S_eps`` is ``S`` with ``c`` replaced by ``b1 / b2`` and ``a_u`` by ``(1 - b2^u) /
    (1 - b1^u)``: the idle-step sum with ``eps`` is ``S - (eps / sqrt(v_t)) · S_eps`` to first
    order in ``eps / sqrt(v̂)``, used in the bounded form ``S / (1 + (eps / sqrt(v_t)) · S_eps /
    S)``, so a rarely seen row (small ``v``) moves as under dense AdamW.
    """
    d = 1.0 - lr * wd
    real = jnp.result_type(float)  # float32, or float64 under jax.enable_x64
    steps = (origin + jnp.arange(size + 1)).astype(real)
    unbias = 1 - B2**steps
    rates = jnp.stack([jnp.asarray(B1 / jnp.sqrt(B2), real), jnp.asarray(B1 / B2, real)])
    terms = jnp.stack([jnp.sqrt(unbias), unbias]) / (1 - B1**steps)  # (2, size + 1); [:, 0] unused
    i = jnp.arange(size + 1)

    def column(prev, j):
        gap = (j - i).astype(real)
        col = d * prev + jnp.where(i < j, rates[:, None] ** gap * terms[:, j, None], 0.0)
        return col, col

    _, cols = jax.lax.scan(column, jnp.zeros((2, size + 1), real), jnp.arange(size + 1))
    return jnp.moveaxis(cols, 0, -1)  # [which, i, j]


def _idle_steps(last, end, dtype) -> jax.Array:
    """``k = end - last`` per row, ``(r, 1)``: the steps a row has sat idle."""
    return (end - last).astype(dtype)[:, None]


def _decay_moments(m, v, k):
    """AdamW's moments after ``k`` idle steps: ``m·b1^k``, ``v·b2^k``."""
    return m * B1**k, v * B2**k


def _catch_up_rows(theta, m, v, last, end, state, table):
    """Rows whose moments are current at ``last`` ``(r,)``, advanced over idle steps to ``end``."""
    k = _idle_steps(last, end, theta.dtype)
    s, s_eps = (t[last - state.origin, end - state.origin][:, None] for t in table)
    root = jnp.sqrt(jnp.where(v > 0, v, 1.0))
    # m/√v · S/(1 + (eps/√v)·S_eps/S): first order in eps/√v̂, and bounded where v is tiny
    denominator = root * s + EPS * s_eps
    moved = jnp.where(
        (v > 0) & (denominator > 0), m * s * s / jnp.where(denominator > 0, denominator, 1.0), 0.0
    )
    d = 1.0 - state.lr * state.weight_decay
    return (d**k * theta - state.lr * moved, *_decay_moments(m, v, k))


# When a side is updated densely. A lazy update costs about ROWS_PER_SLOT times more per row
# than a dense one (gathers and scatters read each input once per output), plus ROW_COST
# elements of per-row work; it pays off once the table has more rows than
# ``ROWS_PER_SLOT · (1 + ROW_COST / width)`` per index slot of a batch. Calibrated on
# ``benchmarks/bench_lazy.py`` on a 2-core CPU: ML-1M's sides in MF and HMF 200/100 (4-5 rows
# a slot) and MF's 20-wide item table on Ciao (9 rows a slot) stay dense, where the lazy update
# was slower.
ROWS_PER_SLOT, ROW_COST = 3.5, 60


def _is_dense(params, side: str, slots: int) -> bool:
    leaf = row_leaf(params[side])
    width = leaf.size // max(leaf.shape[0], 1)
    return leaf.shape[0] <= ROWS_PER_SLOT * slots * (1 + ROW_COST / max(width, 1))


def lazy_sides(params, batch_size: int, task: str) -> tuple[str, ...]:
    """The sides that batches of ``batch_size`` ratings update lazily (the others: densely, at
    every step). A ranking batch's item slots also hold its negatives."""
    slots = {"user": batch_size, "item": batch_size * (1 if task == "rating" else 2)}
    return tuple(side for side in SIDES if not _is_dense(params, side, slots[side]))


def batch_rows(params, batch, task: str):
    """Per side, the rows a batch uses (padded with an out-of-range index; None for a side
    updated densely), and the batch re-indexed into them."""
    users = batch["user"]
    items = (
        batch["item"] if task == "rating" else jnp.concatenate([batch["item"], batch["negative"]])
    )
    uniq, local, lazy = {}, dict(batch), lazy_sides(params, users.shape[0], task)
    for side, index in (("user", users), ("item", items)):
        n = row_leaf(params[side]).shape[0]
        if side not in lazy:
            uniq[side] = None
            continue
        rows, inverse = jnp.unique(index, size=index.shape[0], fill_value=n, return_inverse=True)
        # Padding as distinct out-of-range rows: sorted, unique indices let XLA scatter fast.
        uniq[side] = jnp.where(rows < n, rows, n + jnp.arange(rows.shape[0], dtype=rows.dtype))
        inverse = inverse.reshape(index.shape)
        if side == "user":
            local["user"] = inverse
        elif task == "rating":
            local["item"] = inverse
        else:
            local["item"], local["negative"] = jnp.split(inverse, 2)
    return uniq, local


def gather(params, state: LazyAdamState, uniq, table):
    """Per lazy side, the batch's rows of the row leaf and of its moments, caught up over their
    idle steps to the current step (dense AdamW's forward pass sees every row current)."""
    out = {}
    for side in SIDES:
        rows = uniq[side]
        if rows is not None:
            full = (row_leaf(params[side]), row_leaf(state.mu[side]), row_leaf(state.nu[side]))
            out[side] = _catch_up_rows(
                *(x[rows] for x in full), state.last[side][rows], state.count, state, table
            )
    return out


def localize(params, gathered):
    """Params whose lazy row leaves hold only the gathered rows (differentiate these)."""
    return {
        side: _with_row_leaf(params[side], gathered[side][0]) if side in gathered else params[side]
        for side in SIDES
    }


def step(params, state: LazyAdamState, grads, uniq, gathered):
    """One AdamW step; ``grads`` are those of :func:`localize`'s params."""
    count = state.count + 1
    new_params, new_mu, new_nu, new_last = {}, {}, {}, {}
    for side in SIDES:
        leaves, treedef = jax.tree.flatten(params[side])
        m_leaves, v_leaves = jax.tree.leaves(state.mu[side]), jax.tree.leaves(state.nu[side])
        g_leaves = jax.tree.leaves(grads[side])
        lazy_side = side in gathered
        out = [
            None
            if n == 0 and lazy_side
            else _adamw(t, m, v, g, count, state.lr, state.weight_decay)
            for n, (t, m, v, g) in enumerate(zip(leaves, m_leaves, v_leaves, g_leaves))
        ]
        new_last[side] = state.last[side]
        if lazy_side:  # leaf 0 is the row leaf: the table, or C_1 (logits[0])
            rows = uniq[side]
            # Materialised once: XLA would otherwise recompute the row gradient (the softmax's
            # backward pass, exponentials included) inside each of the three outputs' fusions.
            grad_rows = jax.lax.optimization_barrier(g_leaves[0])
            out[0] = _step_rows(
                (leaves[0], m_leaves[0], v_leaves[0]),
                state.last[side],
                rows,
                gathered[side],
                grad_rows,
                count,
                state,
            )
            new_last[side] = state.last[side].at[rows].set(count, mode="drop", **_SORTED)
        else:  # updated every step: current at every step
            new_last[side] = jnp.full_like(state.last[side], count)
        new_params[side], new_mu[side], new_nu[side] = (
            jax.tree.unflatten(treedef, [o[n] for o in out]) for n in range(3)
        )
    state = dataclasses.replace(state, count=count, mu=new_mu, nu=new_nu, last=new_last)
    return new_params, state


# Rows stepped together (see _step_rows): about this many elements a chunk, so that a chunk's
# rows, moments and results stay in a core's cache between being computed and written back.
CHUNK_ELEMENTS = 128 * 1024


def chunk_rows(slots: int, width: int) -> int:
    """Rows per chunk for ``slots`` gathered rows ``width`` wide: the largest divisor of
    ``slots`` up to ``CHUNK_ELEMENTS / width`` rows, or all of them when that divisor is under
    half of it (a batch size with no divisor near it)."""
    target = max(1, min(slots, CHUNK_ELEMENTS // max(width, 1)))
    best = max(c for c in range(1, target + 1) if slots % c == 0)
    return best if 2 * best >= target else slots


def _step_rows(tables, last, rows, gathered, grad_rows, count, state: LazyAdamState):
    """AdamW's step ``count`` on the ``rows`` ``(r,)`` of ``tables`` (parameters and moments),
    whose caught-up values :func:`gather` gave (``gathered``, each ``(r, w)``), written back in
    place.

    A chunk of rows at a time: its moments are read from the tables again (caught up as they
    are read: ``m·b1^k``, ``v·b2^k``), stepped and written back while they are still in cache.
    One pass over all ``r`` rows would write the three results out to memory and read them back
    for the scatter. Where the rows make one chunk, the gathered moments are used as they are.
    """
    theta_rows = gathered[0]
    size = chunk_rows(*theta_rows.shape)
    if size == theta_rows.shape[0]:
        return _write_rows(
            tables, rows, _adamw(*gathered, grad_rows, count, state.lr, state.weight_decay)
        )

    def chunk(i, tables):
        index, theta_part, grad_part = (
            jax.lax.dynamic_slice_in_dim(x, i * size, size) for x in (rows, theta_rows, grad_rows)
        )
        _, m, v = tables
        k = _idle_steps(last[index], state.count, theta_part.dtype)
        moments = _decay_moments(m[index], v[index], k)
        stepped = _adamw(theta_part, *moments, grad_part, count, state.lr, state.weight_decay)
        return _write_rows(tables, index, stepped)

    return jax.lax.fori_loop(0, theta_rows.shape[0] // size, chunk, tables)


def _write_rows(tables, rows, values):
    """``values`` written into ``tables`` at ``rows`` (sorted and unique; out of range: dropped)."""
    return tuple(x.at[rows].set(y, mode="drop", **_SORTED) for x, y in zip(tables, values))


def catch_up(params, state: LazyAdamState, table, sides=SIDES):
    """Every row of the lazy ``sides`` advanced to the current step (the others are current at
    every step); the next window starts there."""
    new_params, new_mu, new_nu = dict(params), dict(state.mu), dict(state.nu)
    for side in sides:
        emb = params[side]
        theta, m, v = _catch_up_leaf(
            row_leaf(emb),
            row_leaf(state.mu[side]),
            row_leaf(state.nu[side]),
            state.last[side],
            state,
            table,
        )
        new_params[side] = _with_row_leaf(emb, theta)
        new_mu[side] = _with_row_leaf(state.mu[side], m)
        new_nu[side] = _with_row_leaf(state.nu[side], v)
    last = {side: jnp.full_like(state.last[side], state.count) for side in SIDES}
    return new_params, dataclasses.replace(
        state, origin=state.count, mu=new_mu, nu=new_nu, last=last
    )


def _catch_up_leaf(theta, m, v, last, state: LazyAdamState, table):
    """:func:`_catch_up_rows` over all rows (``θ ← d^k θ - lr·(m/√v)·S``, ``m ← b1^k m``,
    ``v ← b2^k v`` with ``k`` each row's idle steps), ``CATCH_UP_ROWS`` at a time, in place.

    One pass over whole arrays writes three new tables: XLA gives them fresh buffers, and on a
    large table (DIGINETICA: 25k x 1000 and 55k x 500) first touching those pages costs more
    than the arithmetic. Here each chunk is written into the arrays themselves. Its rows of the
    moments are read in the step before (after the previous chunk was written): read in the
    same step as their update, they would make XLA copy both whole moment arrays. The last
    chunk ends at the last row and overlaps the one before; the overlap is left as it is.
    """
    n = theta.shape[0]
    size = min(n, CATCH_UP_ROWS)

    def start(i):
        return jnp.minimum(i * size, n - size)

    def rows(x, i):
        return jax.lax.dynamic_slice_in_dim(x, start(i), size)

    def advance(i, carry):
        theta, m, v, m_rows, v_rows = carry
        old = (rows(theta, i), m_rows, v_rows)
        new = _catch_up_rows(*old, rows(last, i), state.count, state, table)
        fresh = (start(i) + jnp.arange(size) >= i * size)[:, None]
        theta, m, v = (
            jax.lax.dynamic_update_slice_in_dim(x, jnp.where(fresh, y, x_rows), start(i), 0)
            for x, y, x_rows in zip((theta, m, v), new, old)
        )
        return theta, m, v, rows(m, i + 1), rows(v, i + 1)

    steps = -(-n // size)
    theta, m, v, _, _ = jax.lax.fori_loop(0, steps, advance, (theta, m, v, rows(m, 0), rows(v, 0)))
    return theta, m, v
