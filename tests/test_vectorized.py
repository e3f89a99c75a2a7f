"""Vectorised training (hmf.vectorized, trainers.run_group / execution.sweep(vectorize=True))
against the one-at-a-time trainer, on small synthetic splits.

Tolerance (stated in book/performance.md): every member runs exactly the epochs ``fit`` runs
and stops at the same best epoch; validation metrics, per-epoch history and test metrics agree
to 1e-5 relative; parameters to 1e-4 absolute (a batched product may add in another order, so
bit equality is not promised; measured differences are ~1e-7 relative on metrics).
"""

import jax
import numpy as np
import pytest
from test_train import planted_split

from hmf import models, registry, train
from hmf.errors import UsageError
from hmf.experiments import execution, pool, trainers
from hmf.experiments.records import read_record
from hmf.vectorized import Member, fit_many

RTOL = 1e-5  # metrics, relative
PARAM_ATOL = 1e-4  # parameters, absolute


def _assert_same(vec, ref):
    assert vec.epochs == ref.epochs
    assert vec.best_epoch == ref.best_epoch
    assert vec.metric == ref.metric
    assert vec.validation.keys() == ref.validation.keys()
    for name, value in ref.validation.items():
        np.testing.assert_allclose(vec.validation[name], value, rtol=RTOL)
    assert list(vec.history.columns) == list(ref.history.columns)
    for column in ref.history.columns.drop(["epoch", "seconds"]):
        np.testing.assert_allclose(vec.history[column], ref.history[column], rtol=RTOL)
    np.testing.assert_array_equal(vec.history["epoch"], ref.history["epoch"])
    for a, b in zip(jax.tree.leaves(vec.params), jax.tree.leaves(ref.params), strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=PARAM_ATOL)


# Learning rates chosen so members stop at very different epochs (a few / a dozen / never
# before max_epochs), which exercises per-member early stopping, freezing and compaction.
MEMBERS = [
    Member(lr, wd, seed) for lr in (1e-1, 3e-2, 1e-2) for wd in (1e-2, 0.0) for seed in (0, 3)
]


@pytest.mark.parametrize(
    "name,kwargs,implicit",
    [
        ("mf", {}, False),
        ("hmf", dict(user_clusters=(6, 3), item_clusters=4), False),
        ("bpr-hmf", dict(user_clusters=6, item_clusters=4), True),
    ],
)
def test_vectorised_equals_one_at_a_time(name, kwargs, implicit):
    split, _, _ = planted_split(n_users=80, n_items=150, implicit=implicit)
    spec = registry.make_model(name, **kwargs)
    vec = fit_many(spec, split, MEMBERS, max_epochs=40, patience=3)
    ref = [
        train.fit(
            spec,
            split,
            lr=m.lr,
            weight_decay=m.weight_decay,
            seed=m.seed,
            max_epochs=40,
            patience=3,
        )
        for m in MEMBERS
    ]
    for v, r in zip(vec, ref, strict=True):
        _assert_same(v, r)
    epochs = {r.epochs for r in ref}
    assert len(epochs) > 1 and min(epochs) < 40  # members really stopped on their own


def test_compaction_does_not_change_results():
    split, _, _ = planted_split(n_users=60, n_items=100)
    spec = models.mf()
    members = MEMBERS[::2]
    packed = fit_many(spec, split, members, max_epochs=30, patience=3, compact=True)
    frozen = fit_many(spec, split, members, max_epochs=30, patience=3, compact=False)
    for a, b in zip(packed, frozen, strict=True):
        _assert_same(a, b)
    # a frozen member's history ends at its own stop, whatever the others do
    assert sorted({r.epochs for r in frozen}) != [30]


def test_members_accept_tuples_and_dicts_and_check_values():
    split, _, _ = planted_split(n_users=30, n_items=40)
    spec = models.mf()
    a = fit_many(spec, split, [(1e-2, 0.0, 1)], max_epochs=2)
    b = fit_many(spec, split, [dict(lr=1e-2, weight_decay=0.0, seed=1)], max_epochs=2)
    _assert_same(a[0], b[0])
    for bad in ([(0.0, 0.0, 0)], [(1e-2, -1.0, 0)], [(1e-2, 0.0, -1)], []):
        with pytest.raises(UsageError):
            fit_many(spec, split, bad, max_epochs=2)


def test_run_group_records_match_run_one(planted_in_runner):
    split = planted_in_runner
    jobs = [
        (dict(lr=lr, weight_decay=wd, user_clusters=6, item_clusters=4), seed)
        for lr in (3e-2, 1e-2)
        for wd in (1e-3,)
        for seed in (0, 1)
    ]
    group = trainers.run_group(split, "hmf", jobs, profile="smoke")
    for (config, seed), rec in zip(jobs, group, strict=True):
        one = trainers.run_one(split, "hmf", config, seed, profile="smoke")
        assert (rec.dataset, rec.model, rec.config, rec.seed, rec.profile) == (
            one.dataset,
            one.model,
            one.config,
            one.seed,
            one.profile,
        )
        assert (rec.epochs, rec.best_epoch) == (one.epochs, one.best_epoch)
        assert rec.history.keys() == one.history.keys()
        for part in ("validation", "test"):
            for name, value in getattr(one, part).items():
                np.testing.assert_allclose(getattr(rec, part)[name], value, rtol=RTOL)
    with pytest.raises(UsageError):  # two shapes cannot share a batch
        trainers.run_group(split, "hmf", [jobs[0], (dict(jobs[1][0], user_clusters=5), 0)])
    with pytest.raises(UsageError):
        trainers.run_group(split, "ihsr", [(dict(lam=1.0, user_clusters=4, item_clusters=3), 0)])


def test_sweep_vectorize_writes_the_same_records(planted_in_runner, tmp_path):
    grid = [dict(lr=lr, weight_decay=wd) for lr in (3e-2, 1e-2) for wd in (1e-2, 0.0)]
    kwargs = dict(profile="smoke", workers=1, progress=False)
    plain = execution.sweep("planted", "mf", grid, (0, 1), root=tmp_path / "plain", **kwargs)
    vec = execution.sweep(
        "planted",
        "mf",
        grid,
        (0, 1),
        root=tmp_path / "vec",
        vectorize=True,
        max_members=3,
        **kwargs,
    )
    assert [p.relative_to(tmp_path / "plain") for p in plain] == [
        p.relative_to(tmp_path / "vec") for p in vec
    ]
    for p, v in zip(plain, vec):
        a, b = read_record(p), read_record(v)
        assert (a.config, a.seed, a.epochs, a.best_epoch) == (
            b.config,
            b.seed,
            b.epochs,
            b.best_epoch,
        )
        np.testing.assert_allclose(b.test["rmse"], a.test["rmse"], rtol=RTOL)
        assert a.environment.keys() == b.environment.keys()


def test_vectorized_sweep_on_a_gpu_defaults_to_one_process(
    planted_in_runner, tmp_path, monkeypatch
):
    # Several processes would each claim most of the GPU's memory: with no --workers, one.
    monkeypatch.setattr(execution, "_on_accelerator", lambda: True)
    monkeypatch.setattr(pool, "multiprocessing", None)  # starting worker processes would fail
    grid = [dict(lr=lr, weight_decay=0.0) for lr in (3e-2, 1e-2)]
    paths = execution.sweep(
        "planted",
        "mf",
        grid,
        (0, 1),
        profile="smoke",
        root=tmp_path,
        progress=False,
        vectorize=True,
    )
    assert all(p.exists() for p in paths) and len(paths) == 4


def test_vectorized_jobs_groups_by_shape_and_splits_for_workers():
    jobs = [
        (dict(lr=lr, weight_decay=0.0, user_clusters=u, item_clusters=2), s)
        for u in (4, 8)
        for lr in (1e-2, 1e-3)
        for s in (0, 1, 2)
    ]
    chunks = trainers.plan_chunks("hmf", jobs)
    assert len(chunks) == 2 and all(len({c["user_clusters"] for c, _ in ch}) == 1 for ch in chunks)
    assert len(trainers.plan_chunks("hmf", jobs, parts=4)) >= 4
    assert max(len(c) for c in trainers.plan_chunks("hmf", jobs, max_members=2)) == 2
    assert sorted(map(str, sum(trainers.plan_chunks("hmf", jobs, parts=5), []))) == sorted(
        map(str, jobs)
    )
    assert trainers.plan_chunks("ihsr", jobs[:2]) == [[jobs[0]], [jobs[1]]]
