"""Sweeps handed to a Dask cluster (hmf.experiments.distributed) write the records a local
sweep writes: a ``LocalCluster`` of two worker processes, started offline."""

import numpy as np
import pytest
from test_train import planted_split

from hmf import split as splits
from hmf.errors import UsageError
from hmf.experiments import execution
from hmf.experiments.records import load_records

distributed = pytest.importorskip("distributed")

RTOL = 1e-5


@pytest.fixture(scope="module")
def cluster():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    yield cluster
    cluster.close()


def _inject(split):  # runs on every worker: the synthetic split under the name "planted"
    from hmf import split as remote_splits

    remote_splits._CACHE[("planted", None)] = split


def _same(local, remote):
    assert [(r.model, r.key, r.seed) for r in local] == [(r.model, r.key, r.seed) for r in remote]
    for a, b in zip(local, remote):
        assert (a.epochs, a.best_epoch, a.profile, a.dataset) == (
            b.epochs,
            b.best_epoch,
            b.profile,
            b.dataset,
        )
        for part in ("validation", "test"):
            for name, value in getattr(a, part).items():
                np.testing.assert_allclose(getattr(b, part)[name], value, rtol=RTOL)
        assert a.environment.keys() == b.environment.keys()


@pytest.mark.parametrize("vectorize", [False, True])
def test_two_worker_cluster_writes_the_local_records(cluster, tmp_path, monkeypatch, vectorize):
    split, _, _ = planted_split(n_users=60, n_items=100)
    monkeypatch.setitem(splits._CACHE, ("planted", None), split)
    with distributed.Client(cluster) as client:
        client.run(_inject, split)
        assert len(client.scheduler_info()["workers"]) == 2
    grids = {
        "mf": [dict(lr=lr, weight_decay=1e-3) for lr in (3e-2, 1e-2)],
        "hmf": [
            dict(lr=3e-2, weight_decay=wd, user_clusters=6, item_clusters=4) for wd in (1e-3, 0.0)
        ],
    }
    for model, grid in grids.items():
        kwargs = dict(profile="smoke", progress=False, vectorize=vectorize)
        execution.sweep(
            "planted", model, grid, (0, 1), root=tmp_path / "local", workers=1, **kwargs
        )
        paths = execution.sweep(
            "planted",
            model,
            grid,
            (0, 1),
            root=tmp_path / "dask",
            scheduler=cluster.scheduler_address,
            **kwargs,
        )
        assert all(p.exists() for p in paths) and len(paths) == 4
        _same(
            load_records(tmp_path / "local", "smoke", "planted", model),
            load_records(tmp_path / "dask", "smoke", "planted", model),
        )
    # a second sweep finds every record and sends nothing
    again = execution.sweep(
        "planted",
        "mf",
        grids["mf"],
        (0, 1),
        profile="smoke",
        progress=False,
        root=tmp_path / "dask",
        scheduler="tcp://127.0.0.1:9",
    )
    assert len(again) == 4


def test_unreachable_scheduler_is_a_usage_error(tmp_path, monkeypatch):
    split, _, _ = planted_split(n_users=30, n_items=40)
    monkeypatch.setitem(splits._CACHE, ("planted", None), split)
    monkeypatch.setattr("hmf.experiments.distributed._CONNECT_TIMEOUT", "2s")
    with pytest.raises(UsageError, match="Dask scheduler"):
        execution.sweep(
            "planted",
            "mf",
            [dict(lr=1e-2, weight_decay=0.0)],
            (0,),
            profile="smoke",
            progress=False,
            root=tmp_path,
            scheduler="tcp://127.0.0.1:9",
        )
