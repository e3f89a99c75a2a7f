"""Records, resumable sweeps, grids, selection, Tukey's HSD marks and the tables built on them
(hmf.experiments, hmf.report), on hand-made records and a small planted split."""

from __future__ import annotations

import dataclasses
import json
import math
import types

import numpy as np
import pandas as pd
import pytest
from fake_records import fake_record

from hmf import profiles
from hmf.errors import UsageError
from hmf.experiments import execution, grids, studies, trainers
from hmf.experiments.records import (
    Record,
    config_key,
    load_records,
    read_record,
    record_path,
    records_frame,
    write_record,
)
from hmf.experiments.selection import (
    select,
    selected_config,
    selection_check,
    summarize,
    tukey_against,
)
from hmf.report import diagnostics, tables


def _record(
    model="hmf",
    config=None,
    seed=0,
    val=1.0,
    test=1.0,
    metric="rmse",
    dataset="toy",
    profile="book",
    seconds=2.0,
    epochs=3,
    device="cpu:cpu",
) -> Record:
    return fake_record(
        dataset=dataset,
        model=model,
        config=config or {"lr": 0.01},
        seed=seed,
        profile=profile,
        validation={metric: val},
        test={metric: test},
        epochs=epochs,
        train_seconds=seconds,
        inference_seconds=0.5,
        history={"epoch": list(range(1, epochs + 1))},
        environment={"device": device},
    )


# --- records -------------------------------------------------------------------------------


def test_config_key_is_sorted_readable_and_bounded():
    assert (
        config_key({"wd": 1e-4, "lr": 0.001, "levels": [25, 5]}) == "levels=25-5_lr=0.001_wd=0.0001"
    )
    assert config_key({}) == "default"
    long = {f"parameter_{i}": i for i in range(20)}
    key = config_key(long)
    assert len(key) <= 93 and key == config_key(dict(reversed(list(long.items()))))
    assert key != config_key(dict(long, parameter_19=20))  # the hash keeps long keys apart


def test_record_round_trip_and_layout(tmp_path):
    rec = _record(config={"lr": 0.01, "item_levels": (25, 5)}, seed=3)
    path = write_record(tmp_path, rec)
    assert path == tmp_path / "book" / "toy" / "hmf" / "item_levels=25-5_lr=0.01-seed3.json"
    assert path == record_path(tmp_path, "book", "toy", "hmf", rec.config, 3)
    back = read_record(path)
    assert back.config == {"lr": 0.01, "item_levels": [25, 5]}  # JSON has no tuples
    assert (back.validation, back.test, back.seed, back.history) == (
        rec.validation,
        rec.test,
        rec.seed,
        rec.history,
    )
    assert [r.seed for r in load_records(tmp_path, "book", "toy")] == [3]
    assert load_records(tmp_path, "paper") == []


def test_load_records_keeps_the_two_studies_apart(tmp_path):
    write_record(tmp_path, _record(config={"lr": 0.01}))
    write_record(tmp_path, _record(config={"lr": 0.01, "user_depth": 1, "item_depth": 1}))
    assert len(load_records(tmp_path, "book")) == 2
    assert [r.config for r in load_records(tmp_path, "book", study="accuracy")] == [{"lr": 0.01}]
    assert [r.config["user_depth"] for r in load_records(tmp_path, study="depth")] == [1]
    with pytest.raises(UsageError, match="unknown study 'depths': expected one of accuracy, depth"):
        load_records(tmp_path, study="depths")


def test_record_numpy_values_are_stored_as_numbers(tmp_path):
    rec = _record(val=np.float32(0.5), config={"lr": np.float64(0.1)})
    back = read_record(write_record(tmp_path, rec))
    assert back.validation["rmse"] == 0.5 and back.config["lr"] == 0.1


def test_failed_write_leaves_nothing_behind(tmp_path):
    first = write_record(tmp_path, _record(val=1.0))
    bad = _record(val=object())  # not storable: the write fails while serialising
    with pytest.raises(TypeError, match="cannot store object"):
        write_record(tmp_path, bad)
    assert sorted(p.name for p in first.parent.iterdir()) == [first.name]
    assert read_record(first).validation["rmse"] == 1.0  # the earlier record is untouched


@pytest.mark.parametrize("text", ["{not json", json.dumps({"dataset": "toy"}), ""])
def test_corrupt_record_names_its_file(tmp_path, text):
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(ValueError, match="broken.json: not a valid result record"):
        read_record(path)


def test_records_frame_flattens_metrics_and_config():
    frame = records_frame([_record(config={"lr": 0.01, "weight_decay": 0.0}, seed=2, val=0.9)])
    row = frame.iloc[0]
    assert (row["validation rmse"], row["config.lr"], row["seed"]) == (0.9, 0.01, 2)
    assert row["config"] == "lr=0.01_weight_decay=0"


# --- sweeps resume --------------------------------------------------------------------------


def test_sweep_skips_finished_runs_and_resumes(planted_in_runner, tmp_path, monkeypatch):
    grid = [dict(lr=lr, weight_decay=0.0) for lr in (3e-2, 1e-2)]
    kwargs = dict(profile="smoke", root=tmp_path, workers=1, progress=False)
    calls = []
    real = trainers.run_one
    monkeypatch.setattr(trainers, "run_one", lambda *a, **k: calls.append(a[2:4]) or real(*a, **k))

    paths = execution.sweep("planted", "mf", grid, (0, 1), **kwargs)
    assert len(calls) == 4 and all(p.exists() for p in paths)
    before = {p: p.read_bytes() for p in paths}

    calls.clear()
    assert execution.sweep("planted", "mf", grid, (0, 1), **kwargs) == paths
    assert calls == []  # nothing to do
    paths[1].unlink()  # as if the sweep had been interrupted before this run finished
    execution.sweep("planted", "mf", grid, (0, 1), **kwargs)
    assert calls == [(grid[0], 1)]
    for p in (paths[0], paths[2], paths[3]):
        assert p.read_bytes() == before[p]  # finished records are not rewritten
    again = read_record(paths[1])
    assert again.test == json.loads(before[paths[1]])["test"]  # same seed, same numbers


def test_sweep_refuses_unknown_model(planted_in_runner, tmp_path):
    with pytest.raises(UsageError, match="unknown model 'nope'"):
        execution.sweep(
            "planted", "nope", [{}], (0,), profile="smoke", root=tmp_path, workers=1, progress=False
        )


def test_run_plan_takes_a_subset_of_the_profiles_seeds(planted_in_runner, tmp_path):
    kwargs = dict(root=tmp_path, workers=1, progress=False)
    paths = studies.run_plan(["planted"], ["mf"], "smoke", seeds=[0], **kwargs)
    assert [read_record(p).seed for p in paths] == [0]
    for bad in ([], [7]):
        with pytest.raises(
            UsageError,
            match=r"seeds \[.*\]: expected a non-empty subset of the "
            r"smoke profile's seeds \[0\]",
        ):
            studies.run_plan(["planted"], ["mf"], "smoke", seeds=bad, **kwargs)


def test_the_optimizer_is_not_part_of_a_records_name():
    config = {"lr": 0.01, "weight_decay": 0.001}
    assert config_key(dict(config, optimizer="lazy-adamw")) == config_key(config)
    lazy = _record(config=dict(config, optimizer="lazy-adamw"))
    frame = records_frame([_record(config=config, seed=1), lazy])
    assert frame["config"].nunique() == 1
    assert frame["optimizer"].tolist() == ["adamw", "lazy-adamw"]
    # studies built on a selection run under their own sweep's optimizer
    assert selected_config([lazy], "toy", "hmf", "rmse") == config


def test_a_lazy_sweep_resumes_a_dense_one(planted_in_runner, tmp_path):
    kwargs = dict(root=tmp_path, workers=1, progress=False)
    dense = studies.run_plan(["planted"], ["mf"], "smoke", seeds=[0], **kwargs)
    before = {p: p.read_bytes() for p in dense}
    assert studies.run_plan(["planted"], ["mf"], "smoke", optimizer="lazy-adamw", **kwargs) == dense
    assert {p: p.read_bytes() for p in dense} == before  # recorded runs count as done
    dense[0].unlink()
    studies.run_plan(["planted"], ["mf"], "smoke", optimizer="lazy-adamw", **kwargs)
    again = read_record(dense[0])
    assert again.config["optimizer"] == "lazy-adamw"  # the record says what trained it
    first = json.loads(before[dense[0]])
    assert again.epochs == first["epochs"]
    assert again.test["rmse"] == pytest.approx(first["test"]["rmse"], abs=1e-4)


def test_a_paper_sweep_reuses_the_book_runs(planted_in_runner, tmp_path, monkeypatch):
    grid = [dict(lr=lr, weight_decay=0.0) for lr in (3e-2, 1e-2)]
    kwargs = dict(root=tmp_path, workers=1, progress=False)
    (book,) = execution.sweep("planted", "mf", grid[:1], (0,), profile="book", **kwargs)
    broken = record_path(tmp_path, "book", "planted", "mf", grid[1], 0)
    broken.write_text("{")  # not a record: the paper sweep trains that run, and leaves it be
    calls = []
    real = trainers.run_one
    monkeypatch.setattr(trainers, "run_one", lambda *a, **k: calls.append(a[2:4]) or real(*a, **k))
    paths = execution.sweep("planted", "mf", grid, (0,), profile="paper", reuse="book", **kwargs)
    assert calls == [(grid[1], 0)] and paths[0] == book
    assert paths[1] == record_path(tmp_path, "paper", "planted", "mf", grid[1], 0)
    assert broken.read_text() == "{"
    with pytest.raises(UsageError, match="--reuse smoke: expected another profile"):
        execution.sweep("planted", "mf", grid, (0,), profile="paper", reuse="smoke", **kwargs)


def test_run_plan_refuses_an_optimizer_a_model_cannot_use(planted_in_runner, tmp_path):
    kwargs = dict(root=tmp_path, workers=1, progress=False)
    with pytest.raises(UsageError, match="'etree' trains with the dense adamw only"):
        studies.run_plan(["planted"], ["etree"], "smoke", optimizer="lazy-adamw", **kwargs)
    with pytest.raises(UsageError, match="--optimizer 'sgd': expected one of adamw, lazy-adamw"):
        studies.run_plan(["planted"], ["mf"], "smoke", optimizer="sgd", **kwargs)


def test_sweep_refuses_two_runs_of_one_record(planted_in_runner, tmp_path):
    config = {"lr": 0.01, "weight_decay": 0.0}
    twice = [config, dict(config, optimizer="lazy-adamw")]
    with pytest.raises(UsageError, match="two runs of the grid would write lr=0.01_"):
        execution.sweep("planted", "mf", twice, (0,), profile="smoke", root=tmp_path, workers=1)
    assert not any(tmp_path.rglob("*.json"))


def test_runs_trained_together_share_an_optimizer():
    shape = dict(weight_decay=0.0, user_clusters=4, item_clusters=2)
    jobs = [
        (dict(shape, lr=lr, optimizer=o), 0) for lr in (0.1, 0.01) for o in ("adamw", "lazy-adamw")
    ]
    chunks = trainers.plan_chunks("hmf", jobs)
    assert len(chunks) == 2
    assert all(len({c.get("optimizer") for c, _ in chunk}) == 1 for chunk in chunks)


# --- grids ----------------------------------------------------------------------------------


def test_paper_grid_is_table2():
    assert len(grids.grid("paper", "mf", 10_000, 10_000, dataset="ml-100k")) == 5 * 3
    assert len(grids.grid("paper", "hmf", 10_000, 10_000, dataset="ml-100k")) == 5 * 3 * 5 * 5
    assert len(grids.grid("paper", "ihsr", 10_000, 10_000, dataset="ml-100k")) == 7 * 5 * 5
    assert len(grids.grid("paper", "etree", 10_000, 10_000, dataset="ml-100k")) == 3 * 7 * 7
    assert len(grids.grid("paper", "bpr-hmf", 24_933, 54_859, dataset="diginetica")) == 5 * 3 * 3
    assert grids.ranking_clusters(24_933, 54_859) == [(49, 108), (195, 429), (780, 1715)]


@pytest.mark.parametrize(
    "model", ["mf", "hmf", "ihsr", "etree", "bpr-mf", "neumf", "bpr-hmf", "protomf"]
)
@pytest.mark.parametrize("dataset", ["ml-100k", "ml-1m", "ciao"])
def test_book_grid_is_a_subset_of_the_paper_grid(model, dataset):
    paper = grids.grid("paper", model, 2_000, 3_000, dataset=dataset)
    book = grids.grid("book", model, 2_000, 3_000, dataset=dataset)
    assert book and all(c in paper for c in book)
    assert len(grids.grid("smoke", model, 2_000, 3_000, dataset=dataset)) == 1


def test_ciao_etree_book_grid_has_its_own_lambdas():
    """A data-set-specific subset: Ciao's eTREE λ are 0.5 and 1 (see grids.py for why)."""
    elsewhere = grids.grid("book", "etree", 2_000, 3_000, dataset="ml-100k")
    ciao = grids.grid("book", "etree", 2_000, 3_000, dataset="ciao")
    assert {c["lam"] for c in elsewhere} == {0.5, 20.0} and len(elsewhere) == 12
    assert {c["lam"] for c in ciao} == {0.5, 1.0} and len(ciao) == 12
    assert [c for c in ciao if c["lam"] == 0.5] == [c for c in elsewhere if c["lam"] == 0.5]
    assert grids.grid("paper", "etree", 2_000, 3_000, dataset="ciao") == grids.grid(
        "paper", "etree", 2_000, 3_000, dataset="ml-100k"
    )


def test_ihsr_clusters_are_capped_at_the_rows():
    configs = grids.grid("paper", "ihsr", 625, 1_561, dataset="ml-100k")
    assert max(c["user_clusters"] for c in configs) == 625
    assert len(configs) == 7 * 4 * 5  # 800 and 1000 user clusters both become 625


def test_grid_errors_name_the_problem():
    with pytest.raises(UsageError, match="unknown profile 'full'"):
        grids.grid("full", "hmf", 10, 10, dataset="ml-100k")
    with pytest.raises(UsageError, match="no grid for model 'svd'"):
        grids.grid("book", "svd", 10, 10, dataset="ml-100k")


def test_ml1m_hmf_book_grids_keep_learning_rate_1e2_only():
    """ML-1M's HMF subsets (see grids.py for why): Table 3 without lr 1e-3; the depth study
    retunes weight decay (1e-2, 1e-4) at lr 1e-2 instead of the learning rate at 1e-4."""
    elsewhere = grids.grid("book", "hmf", 6_040, 3_706, dataset="ml-100k")
    ml1m = grids.grid("book", "hmf", 6_040, 3_706, dataset="ml-1m")
    assert ml1m == [c for c in elsewhere if c["lr"] == 1e-2] and len(ml1m) == 5 * 2
    base = dict(lr=0.01, weight_decay=0.01, user_clusters=1000, item_clusters=500)
    depth = grids.depth_grid("book", "hmf", base, dataset="ml-1m")
    assert {(c["lr"], c["weight_decay"]) for c in depth} == {(1e-2, 1e-2), (1e-2, 1e-4)}
    assert len(depth) == 4 * 2
    assert grids.depth_grid("paper", "hmf", base, dataset="ml-1m") == grids.depth_grid(
        "paper", "hmf", base, dataset="ml-100k"
    )
    ranking = grids.depth_grid("book", "bpr-hmf", base, dataset="ml-1m")  # HMF's subset only
    assert {(c["lr"], c["weight_decay"]) for c in ranking} == {(1e-2, 1e-4), (1e-3, 1e-4)}


def test_depth_grid_keeps_level_one_clusters_and_sets_depths():
    base = dict(lr=0.01, weight_decay=0.0, user_clusters=1000, item_clusters=500)
    configs = grids.depth_grid("book", "hmf", base, dataset="ml-100k")
    assert {c["user_depth"] for c in configs} == {1, 2, 3, 4}
    assert all(c["user_depth"] == c["item_depth"] and c["user_clusters"] == 1000 for c in configs)
    assert {(c["lr"], c["weight_decay"]) for c in configs} == {(1e-2, 1e-4), (1e-3, 1e-4)}
    assert len(grids.depth_grid("paper", "hmf", base, dataset="ml-100k")) == 4 * 15
    book = grids.depth_grid("book", "hmf", base, dataset="ml-1m")
    assert all(c in grids.depth_grid("paper", "hmf", base, dataset="ml-1m") for c in book)


# --- selection and significance ------------------------------------------------------------


def _frame(rows):
    return records_frame([_record(**r) for r in rows])


def test_select_takes_the_best_mean_not_the_best_seed():
    a, b = {"lr": 0.01}, {"lr": 0.001}
    rows = [dict(config=a, seed=s, val=v) for s, v in enumerate([0.80, 1.20, 1.20])] + [
        dict(config=b, seed=s, val=v) for s, v in enumerate([0.95, 0.95, 0.95])
    ]
    chosen = select(_frame(rows), "rmse")
    assert set(chosen["config"]) == {config_key(b)} and len(chosen) == 3


def test_select_ignores_half_finished_configurations():
    a, b = {"lr": 0.01}, {"lr": 0.001}
    rows = [dict(config=a, seed=s, val=1.0) for s in range(3)] + [
        dict(config=b, seed=0, val=0.1)
    ]  # better, but one seed of three
    assert set(select(_frame(rows), "rmse")["config"]) == {config_key(a)}


def test_select_maximises_ranking_metrics():
    a, b = {"lr": 0.01}, {"lr": 0.001}
    rows = [
        dict(config=c, seed=s, val=v, metric="hit_ratio@10")
        for c, v in ((a, 0.4), (b, 0.5))
        for s in range(2)
    ]
    assert set(select(_frame(rows), "hit_ratio@10")["config"]) == {config_key(b)}
    recs = [_record(**r) for r in rows]
    assert selected_config(recs, "toy", "hmf", "hit_ratio@10") == b
    assert selected_config(recs, "toy", "mf", "hit_ratio@10") is None


def test_summarize_uses_the_sample_std():
    rows = [dict(seed=s, test=t) for s, t in enumerate([1.0, 2.0, 3.0])]
    summary = summarize(_frame(rows), ("rmse",))
    assert summary.loc[("toy", "hmf"), "rmse"] == 2.0
    assert summary.loc[("toy", "hmf"), "rmse std"] == pytest.approx(1.0)  # ddof = 1
    assert summary.loc[("toy", "hmf"), "seeds"] == 3


def _methods(values: dict[str, list[float]]) -> pd.DataFrame:
    return _frame(
        [dict(model=m, seed=s, test=v) for m, vs in values.items() for s, v in enumerate(vs)]
    )


def test_tukey_marks_clear_differences_only():
    close = [1.000, 1.002, 0.998, 1.001, 0.999]
    frame = _methods(
        {"hmf": close, "mf": [1.20, 1.21, 1.19, 1.22, 1.18], "ihsr": [c + 0.0005 for c in close]}
    )
    result = tukey_against(frame, "rmse", "hmf")
    assert result["mf"][1] and result["mf"][0] < 1e-3
    assert not result["ihsr"][1] and result["ihsr"][0] > 0.5
    one_seed = _methods({"hmf": close, "mf": [1.2]})
    assert math.isnan(tukey_against(one_seed, "rmse", "hmf")["mf"][0])


def test_accuracy_table_puts_ours_beside_the_papers_and_marks_daggers():
    frame = _methods({"hmf": [1.000, 1.002, 0.998], "mf": [1.20, 1.21, 1.19]})
    frame = pd.concat([frame, frame.assign(dataset="ml-100k")])  # the paper has no 'toy'
    table = tables.accuracy_table(frame, ["toy", "ml-100k"], ["mf", "hmf", "ihsr"])
    assert list(table.columns[:2]) == ["rmse", "paper rmse"]
    assert table.loc[("toy", "MF"), "rmse"] == "1.200 ± 0.010 †"
    assert table.loc[("toy", "HMF"), "rmse"] == "1.000 ± 0.002"
    assert table.loc[("toy", "IHSR"), "rmse"] == "not run"
    assert table.loc[("toy", "IHSR"), "seeds"] == 0
    assert table.loc[("toy", "MF"), "paper rmse"] == ""
    assert table.loc[("toy", "MF"), "paper train s (CPU / GPU)"] == ""
    # The paper's columns are hmf.paper's Table 3 (a), looked up by the table itself.
    assert table.loc[("ML-100K", "MF"), "rmse"] == "1.200 ± 0.010 †"
    assert table.loc[("ML-100K", "MF"), "paper rmse"] == "1.113 ± 0.013 †"
    assert table.loc[("ML-100K", "HMF"), "paper rmse"] == "1.066 ± 0.002"
    assert table.loc[("ML-100K", "IHSR"), "paper rmse"] == "1.080 ± 0.002 †"
    assert table.loc[("ML-100K", "IHSR"), "paper train s (CPU / GPU)"] == "0.6 / -"
    assert table.loc[("ML-100K", "MF"), "paper inference s (CPU / GPU)"] == "0.006 / 0.009"


def test_depth_table_selects_per_depth_and_says_how_much_of_its_grid_ran():
    def cfg(depth, lr):
        return dict(
            lr=lr,
            weight_decay=1e-4,
            user_clusters=8,
            item_clusters=4,
            user_depth=depth,
            item_depth=depth,
        )

    rows = [
        dict(config=cfg(1, lr), seed=s, val=v, test=t)
        for lr, v, t in ((1e-2, 0.9, 1.00), (1e-3, 1.1, 2.00))
        for s in range(3)
    ] + [dict(config=cfg(2, 1e-2), seed=s, val=0.9, test=1.5 + 0.01 * s) for s in range(3)]
    frame = _frame(rows)
    table = tables.depth_table(frame, ["toy"], ["rmse"])
    assert table.loc[("toy", 1), "rmse"] == "1.000 ± 0.000"  # lr 1e-2 wins on validation
    assert table.loc[("toy", 1), "configurations run"] == "2 / 2"
    assert table.loc[("toy", 2), "rmse"] == "1.510 ± 0.010 †"  # far from depth 1
    assert table.loc[("toy", 2), "configurations run"] == "1 / 2"  # a partial selection shows
    assert table.loc[("toy", 2), "paper rmse"] == ""  # the paper has no 'toy'
    theirs = tables.depth_table(frame.assign(dataset="ml-1m"), ["ml-1m"], ["rmse"])  # hmf.paper's
    assert theirs.loc[("ML-1M", 2), "paper rmse"] == "0.930 ± 0.003 †"
    assert theirs.loc[("ML-1M", 1), "paper rmse"] == "0.920 ± 0.003"
    assert theirs.loc[("ML-1M", 2), "rmse"] == "1.510 ± 0.010 †"
    assert table.loc[("toy", 3), "rmse"] == "not run" and table.loc[("toy", 3), "seeds"] == 0
    smoke = _frame([dict(config=cfg(1, 1e-2), seed=0, profile="smoke")])  # one per depth
    assert (
        tables.depth_table(smoke, ["toy"], ["rmse"]).loc[("toy", 1), "configurations run"]
        == "1 / 1"
    )


def test_weight_decay_spread_is_measured_at_the_selected_clusters_and_learning_rate():
    def cfg(lr, wd, clusters=8):
        return dict(lr=lr, weight_decay=wd, user_clusters=clusters, item_clusters=4)

    rows = (
        [
            dict(config=cfg(1e-2, wd), seed=s, val=v)
            for wd, v in ((1e-2, 0.90), (1e-4, 0.95))
            for s in range(2)
        ]
        + [dict(config=cfg(1e-3, 0.0), seed=s, val=2.0) for s in range(2)]  # other lr
        + [dict(config=cfg(1e-2, 0.0, 16), seed=s, val=3.0) for s in range(2)]
    )  # other clusters
    row = diagnostics.weight_decay_spread(_frame(rows), ["toy", "absent"]).loc["toy"]
    assert row["weight decays"] == 2 and row["gap"] == 0.05 and row["at"] == "8/4 clusters, lr 0.01"
    assert (row["best validation rmse"], row["worst validation rmse"]) == (0.9, 0.95)
    assert diagnostics.weight_decay_spread(_frame(rows), ["absent"]).empty


def test_record_cost_sums_what_the_records_measured():
    frame = _frame(
        [dict(model="mf", seed=s, seconds=10.0, epochs=4) for s in range(3)]
        + [dict(model="hmf", config={"lr": lr}, seed=0, seconds=100.0) for lr in (0.1, 0.01)]
    )
    cost = diagnostics.record_cost(frame)
    mf = cost.loc[("toy", "mf", "cpu:cpu")]
    assert mf["runs"] == 3 and mf["epochs"] == 12
    assert cost.loc[("toy", "hmf", "cpu:cpu"), "configurations"] == 2
    total = cost.loc[("toy", "(all)", "cpu:cpu")]
    assert total["runs"] == 5
    assert total["hours"] == round((3 * 10.5 + 2 * 100.5) / 3600, 2)


def test_record_cost_keeps_devices_apart():
    frame = _frame(
        [dict(model="hmf", seed=s, seconds=100.0) for s in range(2)]
        + [
            dict(model="hmf", config={"lr": 0.001}, seed=s, seconds=1.0, device="gpu:H200")
            for s in range(4)
        ]
    )
    cost = diagnostics.record_cost(frame)
    assert cost.loc[("toy", "hmf", "cpu:cpu"), "runs"] == 2
    assert cost.loc[("toy", "hmf", "gpu:H200"), "runs"] == 4
    assert cost.loc[("toy", "(all)", "gpu:H200"), "seconds per run"] == 1.5


def test_the_paper_rule_table_says_whether_the_full_grid_changes_the_pick():
    def table(book, full):
        rule = diagnostics.paper_rule(book, _frame(full), ["toy"], ["hmf"], "rmse")
        return diagnostics.paper_rule_table(rule)

    book = _frame(
        [
            dict(config={"lr": lr}, seed=s, val=val, test=1.00 + s / 100)
            for lr, val in ((0.01, 0.90), (0.001, 0.95))
            for s in range(3)
        ]
    )
    # the paper profile reruns a book configuration on a GPU: its runs count, not the book's
    rerun = [
        dict(config={"lr": 0.01}, seed=s, val=0.90, test=1.0, profile="paper", device="gpu:H200")
        for s in range(3)
    ]
    same = table(book, rerun).iloc[0]
    assert same["same selection"] == "yes" and same["paper protocol: devices"] == "gpu:H200"
    assert same["change in test rmse"] == -0.01 and same["book: rmse"] == "1.010 ± 0.010"
    assert same["Table 2 configurations run"] == "2"  # 'toy' has no grid: the count alone
    better = [
        dict(config={"lr": 0.0001}, seed=s, val=0.80, test=0.95, profile="paper") for s in range(3)
    ]
    changed = table(book, better).iloc[0]
    assert changed["same selection"] == "no" and changed["change in test rmse"] == -0.06
    assert (same["runs by optimizer"], changed["runs by optimizer"]) == ("adamw: 6", "adamw: 9")
    # a run of the row-lazy AdamW is the same configuration's run, and is counted as its own
    lazy = [dict(r, config={"lr": 0.0001, "optimizer": "lazy-adamw"}) for r in better]
    mixed = table(book, lazy[:1] + better[1:])
    assert mixed.iloc[0]["same selection"] == "no"
    assert mixed.iloc[0]["runs by optimizer"] == "adamw: 8; lazy-adamw: 1"
    assert changed["paper protocol: selected configuration"] == config_key({"lr": 0.0001})
    one_seed = [dict(config={"lr": 0.0001}, seed=0, val=0.5, profile="paper")]  # cannot compete
    assert table(book, one_seed).iloc[0]["same selection"] == "yes"
    assert table(book, []).columns[0] == "status"


def test_the_paper_rule_sentence_says_how_much_ran_and_whether_the_pick_moved(monkeypatch):
    from hmf.report import findings

    def book_runs(clusters):
        return [
            dict(config=dict(lr=0.01, user_clusters=clusters, item_clusters=5), seed=s, val=0.9)
            for s in range(3)
        ]

    book = _frame(book_runs(10))
    better = [
        dict(
            config=dict(lr=0.0001, user_clusters=20, item_clusters=5, optimizer="lazy-adamw"),
            seed=s,
            val=0.8,
            test=1.1 + s / 100,
            profile="paper",
        )
        for s in range(3)
    ]

    def sentence(full):
        rule = diagnostics.paper_rule(book, _frame(full), ["toy"], ["hmf"], "rmse")
        return findings.paper_rule_sentences(rule + [dict(rule[0], method="mf")])

    moved = sentence(better)
    assert moved.count("On toy") == 1  # HMF's grid alone is spoken of
    assert moved.startswith("On toy, 2 of Table 2's HMF configurations have every seed so far;")
    assert "picks 20 user and 5 item clusters, lr 0.0001 (test RMSE 1.110 ± 0.010)" in moved
    assert "instead of the book grid's 10 user and 5 item clusters, lr 0.01 (1.000" in moved
    assert moved.endswith("0.1100 higher.") and "optimizer" not in moved
    assert sentence([dict(r, test=1.0) for r in better]).endswith(": equal to four decimals.")
    kept = sentence([dict(r, val=1.0) for r in better])
    assert kept.endswith("keeps the book grid's pick (test RMSE 1.000 ± 0.000).")
    sizes = types.SimpleNamespace(n_users=20, n_items=5)
    monkeypatch.setattr(diagnostics, "split_for", lambda name: sizes)
    monkeypatch.setattr(diagnostics, "grid", lambda *a, **k: [{}, {}])  # a grid of two: all ran
    whole = sentence(better)
    assert whole.startswith("On toy, all 2 of Table 2's HMF configurations have every seed, and")
    assert "the paper's rule over them picks 20 user" in whole


def test_device_agreement_pairs_the_same_run_on_two_devices():
    cpu = [_record(config={"lr": 0.01}, seed=s, test=1.0, epochs=4) for s in range(3)]
    gpu = [
        _record(
            config={"lr": 0.01},
            seed=s,
            test=1.0 + 1e-6 * s,
            epochs=4 + (s == 2),
            device="gpu:H200",
            profile="paper",
        )
        for s in range(3)
    ]
    lone = [_record(config={"lr": 0.1}, seed=0, device="gpu:H200")]  # on one device only
    short = [
        _record(config={"lr": 0.01}, seed=0, test=3.0, device="tpu", profile="smoke")
    ]  # other cap
    row = diagnostics.device_agreement(cpu + gpu + lone + short, "rmse").loc[
        ("toy", "HMF", "cpu:cpu / gpu:H200")
    ]
    assert row["pairs"] == 3 and row["same epochs"] == 2 and row["same best epoch"] == 2
    assert row["max |difference| in test rmse"] == pytest.approx(2e-6)
    assert diagnostics.device_agreement(cpu, "rmse").columns[0] == "status"


def test_selection_check_compares_means_over_the_same_seeds():
    book_cfg, rival_cfg = {"lr": 0.01}, {"lr": 0.0001}
    book = [_record(config=book_cfg, seed=s, val=v) for s, v in enumerate([1.00, 0.90, 0.95])]
    book += [_record(config={"lr": 0.1}, seed=s, val=1.5) for s in range(3)]
    # better than the book selection's seed 0 (1.00), worse than its mean over seeds 0-1 (0.95)
    rival = [
        _record(config=rival_cfg, seed=s, val=v, test=1.1, profile="paper")
        for s, v in ((0, 0.97), (1, 0.96))
    ]
    row = selection_check(book, rival, "rmse").iloc[0]
    assert row["book selection"] == config_key(book_cfg)
    assert row["seeds compared"] == "0, 1"
    assert row["book selection's mean validation rmse"] == 0.95
    assert row["its mean validation rmse"] == 0.965
    assert (row["book selection's mean test rmse"], row["its mean test rmse"]) == (1.0, 1.1)
    assert row["book selection still best"] == "yes"
    row = selection_check(book, rival[:1], "rmse").iloc[0]  # seed 0 alone: the rival wins
    assert (row["seeds compared"], row["book selection still best"]) == ("0", "no")
    level = [_record(config=rival_cfg, seed=0, val=1.00 + 1e-6, profile="paper")]
    assert selection_check(book, level, "rmse").iloc[0]["book selection still best"] == "tie"
    assert selection_check(book, [], "rmse").empty
    # a configuration the book holds is no rival, even when its paper-profile twin is better
    twin = [_record(config=book_cfg, seed=0, val=0.5, profile="paper")]
    assert selection_check(book, twin, "rmse").empty


def test_selection_check_per_depth_compares_each_depth_with_its_own_selection():
    def cfg(lr, depth):
        return {"lr": lr, "user_depth": depth, "item_depth": depth}

    book = [
        _record(config=cfg(0.01, d), seed=s, val=v)
        for d, v in ((1, 0.90), (2, 1.00))
        for s in range(2)
    ]
    # at depth 2 it beats depth 2's selection (1.00), though not depth 1's (0.90)
    rival = [_record(config=cfg(0.001, 2), seed=s, val=0.95, profile="paper") for s in range(2)]
    table = selection_check(book, rival, "rmse", by=("dataset", "model", "config.user_depth"))
    assert list(table["config.user_depth"]) == [2]
    row = table.iloc[0]
    assert row["book selection"] == config_key(cfg(0.01, 2))
    assert row["book selection's mean validation rmse"] == 1.0
    assert row["book selection still best"] == "no"
    assert selection_check(book, rival, "rmse").iloc[0]["book selection still best"] == "yes"


def test_chapters_train_only_on_the_profiles_training_data_sets(planted_in_runner, tmp_path):
    kwargs = dict(root=tmp_path, progress=False, workers=1)
    assert studies.ensure_records(["planted"], ["mf"], "smoke", **kwargs) == ([], {})
    assert not list(tmp_path.rglob("*.json"))  # smoke trains ML-100K and its substitute only
    smoke = dataclasses.replace(profiles.PROFILES["smoke"], train_datasets=("planted",))
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(profiles.PROFILES, "smoke", smoke)
        records, missing = studies.ensure_records(["planted"], ["mf"], "smoke", **kwargs)
    assert missing == {} and [r.seed for r in records] == [0]
