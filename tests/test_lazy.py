"""Row-lazy AdamW (hmf.lazy) against dense optax.adamw: the same parameters up to eps and
rounding, on random sparse gradients and in whole training runs."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from test_train import planted_split

from hmf import lazy, metrics, registry, train
from hmf.errors import UsageError
from hmf.models.embeddings import FlatEmbedding, HierarchicalEmbedding
from hmf.vectorized import fit_many

N, D, STEPS = 40, 3, 150


@pytest.fixture
def every_side_lazy(monkeypatch):
    """The trainer updates tables this small densely (:func:`hmf.lazy._is_dense`); these tests
    are about the lazy path, so every side takes it. Programs traced under the patch are
    dropped before and after."""
    monkeypatch.setattr(lazy, "ROWS_PER_SLOT", 0.0)
    train._epoch_program.cache_clear()
    yield
    train._epoch_program.cache_clear()


def test_a_side_is_lazy_only_where_its_rows_per_batch_slot_pay_off():
    """The rule the benchmark calibrated, at the book's data sets' sizes and 1,024 slots."""

    def dense(rows, width):  # np.empty: the shape is what counts, nothing is touched
        params = {side: FlatEmbedding(np.empty((rows, width), np.float32)) for side in lazy.SIDES}
        return lazy._is_dense(params, "user", 1024)

    assert dense(1561, 1000)  # ML-100K's items: most rows are in every batch
    assert dense(4462, 200) and dense(3597, 500)  # ML-1M: HMF 200/100, and 1000/500's items
    assert not dense(4462, 1000)  # ML-1M 1000/500's users
    assert dense(9004, 20) and not dense(9004, 100)  # Ciao's items: MF, HMF 200/100
    assert not dense(24933, 20) and not dense(54859, 20)  # DIGINETICA's size, even MF


def _params(rng, hierarchical: bool):
    def table(n, d):
        return jnp.asarray(rng.normal(size=(n, d)), jnp.float32)

    if hierarchical:
        return {side: HierarchicalEmbedding((table(N, 6),), table(6, D)) for side in lazy.SIDES}
    return {side: FlatEmbedding(table(N, D)) for side in lazy.SIDES}


def test_rows_are_stepped_in_chunks_that_divide_the_slots():
    assert lazy.chunk_rows(1024, 1000) == 128  # ML-1M's and DIGINETICA's users at 1000 clusters
    assert lazy.chunk_rows(1024, 500) == 256 and lazy.chunk_rows(2048, 500) == 256
    assert lazy.chunk_rows(1024, 20) == 1024  # MF: one chunk
    assert lazy.chunk_rows(1000, 1000) == 125  # a batch size that is not a power of two
    assert lazy.chunk_rows(1021, 1000) == 1021  # prime: no divisor near the target, one chunk
    assert lazy.chunk_rows(64, 1000) == 64


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("hierarchical", [False, True])
def test_random_sparse_gradients_match_optax_adamw(hierarchical, chunked, monkeypatch):
    """150 steps, each with gradients on a few random rows of each side (zero elsewhere), with
    a catch-up of every row every 32 steps as the trainer does at each window's end; stepping
    the batch's rows in one chunk, or in chunks of a row or two."""
    if chunked:
        monkeypatch.setattr(lazy, "CHUNK_ELEMENTS", 6)  # rows 3 or 6 wide: chunks of 1-2 rows
    rng = np.random.default_rng(0)
    lr, wd, window = 1e-2, 1e-2, 32
    params = _params(rng, hierarchical)
    opt = optax.adamw(lr, weight_decay=wd)
    dense, dense_state = params, opt.init(params)
    mine, state = params, lazy.init(params, lr, wd)
    gather, step = jax.jit(lazy.gather), jax.jit(lazy.step)  # one compile per row count
    for t in range(STEPS):
        if t % window == 0:
            table = lazy.window_table(state.origin, window, state.lr, state.weight_decay)
        rows = {s: jnp.asarray(np.unique(rng.integers(0, N, 5)), jnp.int32) for s in lazy.SIDES}
        local = jax.tree.map(
            lambda x: jnp.asarray(rng.normal(size=x.shape), jnp.float32),
            lazy.localize(params, {s: (lazy.row_leaf(params[s])[rows[s]],) for s in lazy.SIDES}),
        )
        full = {s: _scatter(params[s], local[s], rows[s]) for s in lazy.SIDES}
        updates, dense_state = opt.update(full, dense_state, dense)
        dense = optax.apply_updates(dense, updates)
        gathered = gather(mine, state, rows, table)
        mine, state = step(mine, state, local, rows, gathered)
        if (t + 1) % window == 0:
            mine, state = lazy.catch_up(mine, state, table)
    mine, state = lazy.catch_up(mine, state, table)
    for a, b in zip(jax.tree.leaves(mine), jax.tree.leaves(dense)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=2e-5)
    for ours, theirs in ((state.mu, dense_state[0].mu), (state.nu, dense_state[0].nu)):
        for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-7)


def _scatter(emb, local, rows):
    """A dense gradient: the local row leaf's gradient at ``rows``, zero elsewhere."""
    leaves, treedef = jax.tree.flatten(emb)
    local_leaves = jax.tree.leaves(local)
    full = [jnp.zeros_like(leaves[0]).at[rows].set(local_leaves[0]), *local_leaves[1:]]
    return jax.tree.unflatten(treedef, full)


def test_closed_form_equals_stepping_idle_rows_at_float64_without_eps():
    """S(t, e) of the window table equals stepping AdamW's idle-row recursion one step at a
    time in float64 with eps = 0."""
    lr, wd, origin, size = 3e-3, 0.5, 17, 40
    with jax.enable_x64(True):
        table = np.asarray(lazy.window_table(jnp.asarray(origin), size, lr, wd))[0]
    d = 1 - lr * wd
    for i in (0, 5, 39):
        theta, m, v = 0.7, 0.3, 0.04  # a row current at step origin + i
        for u in range(origin + i + 1, origin + size + 1):
            m, v = lazy.B1 * m, lazy.B2 * v
            m_hat, v_hat = m / (1 - lazy.B1**u), v / (1 - lazy.B2**u)
            theta = d * theta - lr * m_hat / np.sqrt(v_hat)
            k = u - origin - i
            closed = d**k * 0.7 - lr * (0.3 / np.sqrt(0.04)) * table[i, u - origin]
            assert closed == pytest.approx(theta, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "model, kwargs, implicit",
    [
        ("mf", {}, False),
        ("hmf", dict(user_clusters=6, item_clusters=4), False),
        ("bpr-hmf", dict(user_clusters=6, item_clusters=4), True),
    ],
)
def test_whole_runs_stop_at_the_same_epoch_with_the_same_metrics(
    model, kwargs, implicit, every_side_lazy
):
    split, *_ = planted_split(implicit=implicit)
    spec = registry.make_model(model, **kwargs)
    params = train.init_params(spec, jax.random.key(0), split)
    assert not any(lazy._is_dense(params, side, 64) for side in lazy.SIDES)
    runs = [
        train.fit(
            spec,
            split,
            lr=1e-2,
            weight_decay=1e-3,
            seed=1,
            max_epochs=25,
            batch_size=64,
            optimizer=opt,
        )
        for opt in train.OPTIMIZERS
    ]
    dense, mine = runs
    assert (mine.epochs, mine.best_epoch) == (dense.epochs, dense.best_epoch)
    assert len(dense.history) > 5
    for result in runs:
        assert result.spec is spec
    test = [metrics.evaluate(spec, r.params, split, "test") for r in runs]
    for name, value in test[0].items():
        assert test[1][name] == pytest.approx(value, abs=2e-3), name


@pytest.mark.parametrize("chunked", [False, True])
def test_vectorized_lazy_runs_equal_one_at_a_time(chunked, every_side_lazy, monkeypatch):
    if chunked:  # 64 slots of C_1's 6-wide rows in chunks of 16 (traced after the patch)
        monkeypatch.setattr(lazy, "CHUNK_ELEMENTS", 16 * 6)
        assert lazy.chunk_rows(64, 6) == 16
    split, *_ = planted_split()
    spec = registry.make_model("hmf", user_clusters=6, item_clusters=4)
    members = [(1e-2, 1e-3, 0), (1e-3, 0.0, 1)]
    group = fit_many(spec, split, members, max_epochs=8, batch_size=64, optimizer="lazy-adamw")
    for (lr, wd, seed), result in zip(members, group):
        one = train.fit(
            spec,
            split,
            lr=lr,
            weight_decay=wd,
            seed=seed,
            max_epochs=8,
            batch_size=64,
            optimizer="lazy-adamw",
        )
        assert (result.epochs, result.best_epoch) == (one.epochs, one.best_epoch)
        np.testing.assert_allclose(
            result.history["validation_rmse"], one.history["validation_rmse"], rtol=1e-5
        )


def test_lazy_adamw_is_refused_where_it_does_not_apply():
    split, *_ = planted_split(implicit=True)
    with pytest.raises(UsageError, match="unknown optimizer 'sgd': expected one of adamw"):
        train.fit(registry.make_model("mf"), split, lr=1e-2, weight_decay=0.0, optimizer="sgd")
    with pytest.raises(UsageError, match="user and item embeddings only"):
        train.fit(
            registry.make_model("neumf"),
            split,
            lr=1e-2,
            weight_decay=0.0,
            max_epochs=1,
            optimizer="lazy-adamw",
        )
    with pytest.raises(UsageError, match="does not fit model 'neumf'"):
        registry.get("neumf").check_config(dict(lr=1e-2, weight_decay=0.0, optimizer="lazy-adamw"))


def test_chunked_catch_up_equals_one_pass_over_all_rows():
    """The end-of-window catch-up goes through the rows ``CATCH_UP_ROWS`` at a time (the last
    chunk overlapping the one before); it gives what one pass over every row gives, up to
    rounding (the compiled loop may contract multiply-adds differently)."""
    rng = np.random.default_rng(3)
    n = 2 * lazy.CATCH_UP_ROWS + 300
    params = {
        side: FlatEmbedding(jnp.asarray(rng.normal(size=(n, D)), jnp.float32))
        for side in lazy.SIDES
    }
    state = lazy.init(params, 1e-2, 1e-2)
    moments = [
        jnp.asarray(rng.normal(size=(n, D)), jnp.float32),
        jnp.asarray(rng.random((n, D)), jnp.float32),
    ]
    last = jnp.asarray(rng.integers(10, 41, n), jnp.int32)
    state = dataclasses.replace(state, count=jnp.int32(40), origin=jnp.int32(10))
    table = lazy.window_table(state.origin, 30, state.lr, state.weight_decay)
    theta = params["user"].table
    chunked = lazy._catch_up_leaf(theta, *moments, last, state, table)
    whole = lazy._catch_up_rows(theta, *moments, last, state.count, state, table)
    for a, b in zip(chunked, whole):  # a skipped or twice-advanced row would be far off
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_a_run_whose_sides_are_all_dense_follows_adamw():
    """Tables this small are dense under the rule: the lazy optimiser then steps every row
    at every step with no windows, and its history is dense AdamW's up to rounding."""
    split, *_ = planted_split()
    spec = registry.make_model("hmf", user_clusters=6, item_clusters=4)
    params = train.init_params(spec, jax.random.key(0), split)
    assert lazy.lazy_sides(params, train.BATCH_SIZE, "rating") == ()
    runs = [
        train.fit(spec, split, lr=1e-2, weight_decay=1e-3, seed=2, max_epochs=6, optimizer=opt)
        for opt in train.OPTIMIZERS
    ]
    assert runs[0].epochs == runs[1].epochs
    np.testing.assert_allclose(
        runs[1].history["validation_rmse"], runs[0].history["validation_rmse"], rtol=1e-5
    )


def test_the_model_pass_differentiates_every_batch_and_changes_nothing(every_side_lazy):
    """``train.MODEL_PASS`` (what benchmarks/bench_lazy.py times as the lazy optimiser's cost
    besides its updates): the parameters come back as they went in, the epoch's mean loss is
    the training loss of those parameters, and the gradients were computed."""
    split, *_ = planted_split()
    spec = registry.make_model("hmf", user_clusters=6, item_clusters=4)
    params = train.init_params(spec, jax.random.key(0), split)
    before = jax.tree.map(np.asarray, params)  # the program takes over the input buffers
    data, val = train.device_data(spec, split, 0, None)
    program = train.epoch_program(spec, 64, split.n_items, train.MODEL_PASS)
    after, spent, loss, val_metrics = program(params, jnp.zeros(()), jax.random.key(1), data, val)
    for a, b in zip(jax.tree.leaves(after), jax.tree.leaves(before)):
        np.testing.assert_array_equal(np.asarray(a), b)
    frame = split.train
    scores = spec.score(
        jax.tree.map(jnp.asarray, before),
        jnp.asarray(frame["user"].to_numpy()),
        jnp.asarray(frame["item"].to_numpy()),
    )
    mse = float(np.mean((frame["rating"].to_numpy() - np.asarray(scores)) ** 2))
    assert float(loss) == pytest.approx(mse, rel=1e-5)
    assert np.isfinite(float(spent)) and float(spent) != 0.0
    validation = metrics.evaluate(spec, jax.tree.map(jnp.asarray, before), split, "validation")
    assert float(val_metrics["rmse"]) == pytest.approx(validation["rmse"], rel=1e-5)
