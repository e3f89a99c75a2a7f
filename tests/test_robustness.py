"""Bad input and broken state end in one clear line and exit status 2, with nothing half-written:
broken records, concurrent sweeps, diverged runs, impossible flags, empty / tiny / unreadable
data, a cache path that is a file, out-of-range timestamps, too many clusters for memory."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest
from conftest import REPO
from rawfiles import write_ml100k, write_ml100k_planted

from hmf import data, split
from hmf.cli import main
from hmf.errors import RunsFailed, TrainingDiverged
from hmf.experiments import execution, pool, progress, records, trainers
from hmf.experiments.records import (
    BrokenRecordWarning,
    RecordError,
    RunLock,
    read_record,
    record_path,
)

pytestmark = pytest.mark.filterwarnings("ignore::hmf.data.store.UnverifiedCopyWarning")

GRID = [dict(lr=lr, weight_decay=0.0) for lr in (3e-2, 1e-2)]
SWEEP = dict(profile="smoke", workers=1, progress=False)


def _one_line_error(capsys, *words) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


# --- records: a broken one is never trusted -------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: "",  # empty: an interrupted copy, a full disk
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: text.replace('"rmse": ', '"rmse": NaN, "x": ', 1),  # a NaN metric
        lambda text: text.replace('"epochs": ', '"epochs": 9', 1),  # epochs != history length
    ],
    ids=["empty", "truncated", "nan-metric", "epochs-vs-history"],
)
def test_a_broken_record_is_moved_aside_and_run_again(planted_in_runner, tmp_path, damage):
    paths = execution.sweep("planted", "mf", GRID, (0,), root=tmp_path, **SWEEP)
    good = paths[0].read_text()
    paths[0].write_text(damage(good))
    with pytest.raises(RecordError, match=f"{paths[0].name}: not a valid result record"):
        read_record(paths[0])
    with pytest.warns(BrokenRecordWarning, match="moved to .*broken and run again"):
        assert execution.sweep("planted", "mf", GRID, (0,), root=tmp_path, **SWEEP) == paths
    assert read_record(paths[0]).test == json.loads(good)["test"]  # same seed, same numbers
    assert (paths[0].parent / (paths[0].name + ".broken")).read_text() == damage(good)


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda d: d["config"].update(lr=0.5), "belong in lr=0.5_weight_decay=0-seed0.json"),
        (lambda d: d.update(seed=3), "-seed3.json"),
        (lambda d: d.update(model="hmf"), "its model is 'hmf' but it lies under mf/"),
        (lambda d: d.update(best_epoch=0), "expected 1 <= best_epoch <= epochs"),
        (lambda d: d["test"].update(rmse=math.inf), "test rmse is inf"),
        (lambda d: d["history"]["train_loss"].pop(), "column 'train_loss' has"),
        (lambda d: d.pop("environment"), "fields environment missing"),
    ],
)
def test_a_record_must_match_its_path_and_its_shape(planted_in_runner, tmp_path, edit, problem):
    (path,) = execution.sweep("planted", "mf", GRID[:1], (0,), root=tmp_path, **SWEEP)
    payload = json.loads(path.read_text())
    edit(payload)
    path.write_text(json.dumps(payload, allow_nan=True))
    with pytest.raises(RecordError, match=problem.replace("(", r"\(").replace(".", r"\.")):
        read_record(path)


def test_record_files_get_the_usual_mode(planted_in_runner, tmp_path):
    old = os.umask(0o022)
    try:
        (path,) = execution.sweep("planted", "mf", GRID[:1], (0,), root=tmp_path, **SWEEP)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # was 0600, mkstemp's private mode


def test_installed_copy_keeps_results_out_of_site_packages(tmp_path, monkeypatch):
    site = tmp_path / "lib" / "python3.11" / "site-packages" / "hmf" / "experiments"
    site.mkdir(parents=True)
    assert records._checkout_root(site / "records.py") is None
    assert records._checkout_root(REPO / "hmf" / "experiments" / "records.py") == REPO
    monkeypatch.delenv("HMF_RESULTS_DIR", raising=False)
    monkeypatch.setattr(records, "_checkout_root", lambda *a: None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert records.default_results_dir() == tmp_path / "share" / "hmf" / "results"


# --- locks: two sweeps never train one run twice --------------------------------------------

_HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from hmf.experiments.records import RunLock
    assert RunLock(Path(sys.argv[1])).acquire()
    print("held", flush=True)
    time.sleep(120)
    """
)


def test_a_run_another_live_sweep_holds_is_skipped_then_taken_over(planted_in_runner, tmp_path):
    target = record_path(tmp_path, "smoke", "planted", "mf", GRID[0], 0)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.warns(execution.BusyRunWarning, match=f"pid {holder.pid}"):
            paths = execution.sweep("planted", "mf", GRID, (0,), root=tmp_path, **SWEEP)
        assert not paths[0].exists() and read_record(paths[1])
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    lock = records.lock_path(target)
    assert lock.exists() and json.loads(lock.read_text())["pid"] == holder.pid  # stale now
    execution.sweep("planted", "mf", GRID, (0,), root=tmp_path, **SWEEP)
    assert read_record(paths[0]) and not lock.exists()  # taken over, trained, released


def test_a_lock_is_exclusive_and_released():
    path = Path("/tmp") / f"hmf-lock-test-{os.getpid()}" / "x.json"
    lock = RunLock(path)
    assert lock.acquire() and lock.acquire()  # re-entrant in its own process
    assert lock.owner()["pid"] == os.getpid()
    lock.release()
    assert not lock.path.exists()
    path.parent.rmdir()


_CONCURRENT = textwrap.dedent(
    """
    import json, sys, time
    from hmf.experiments import execution, trainers
    log, data_dir, root = sys.argv[1:4]
    real = trainers.run_one

    def logged(split, model, config, seed, **kw):
        with open(log, "a") as f:
            f.write(json.dumps([config, seed]) + "\\n")
        time.sleep(0.3)  # long enough for the two sweeps to overlap
        return real(split, model, config, seed, **kw)

    trainers.run_one = logged
    grid = [dict(lr=lr, weight_decay=wd) for lr in (1e-2, 3e-3) for wd in (0.0, 1e-4, 1e-3)]
    execution.sweep("ml-100k", "mf", grid, (0, 1), profile="smoke", root=root,
                    data_dir=data_dir, workers=1, progress=False)
    """
)


def test_two_sweeps_on_one_directory_train_each_run_once(tmp_path):
    write_ml100k_planted(tmp_path / "data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HMF_")}
    logs = [tmp_path / f"log{i}" for i in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT, str(log), str(tmp_path / "data"), str(tmp_path)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for log in logs
    ]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    trained = [line for log in logs if log.exists() for line in log.read_text().splitlines()]
    assert len(trained) == len(set(trained)) == 12  # every run once, none twice
    found = sorted(tmp_path.glob("smoke/ml-100k/mf/*"))
    assert len(found) == 12 and all(p.suffix == ".json" for p in found)  # no lock files left


# --- runs that diverge ------------------------------------------------------------------------


def test_a_diverged_run_writes_no_record_and_the_sweep_fails(planted_in_runner, tmp_path):
    grid = [dict(lr=1e30, weight_decay=0.0), GRID[0]]
    with pytest.raises(RunsFailed, match=r"1 of 2 runs of planted mf failed .*lr=1e\+30"):
        execution.sweep("planted", "mf", grid, (0,), root=tmp_path, **SWEEP)
    bad, good = (record_path(tmp_path, "smoke", "planted", "mf", c, 0) for c in grid)
    assert not bad.exists() and read_record(good)
    with pytest.raises(TrainingDiverged, match="training diverged .* try a smaller learning"):
        trainers.run_one(planted_in_runner, "mf", grid[0], 0, profile="smoke")


def test_hmf_train_reports_divergence_with_exit_2(isolated_env, capsys):
    write_ml100k_planted(isolated_env)
    argv = ["train", "--dataset", "ml-100k", "--data-dir", str(isolated_env), "--model", "mf"]
    assert main([*argv, "--lr", "1e30", "--epochs", "3"]) == 2
    _one_line_error(capsys, "hmf train: error: mf on ml-100k", "training diverged", "rmse is nan")
    assert main([*argv, "--lr", "1e300"]) == 2  # beyond float32: it would be infinity
    _one_line_error(capsys, "--lr must be <= 3.4028234663852886e+38 (the largest float32)")


# --- flags ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--weight-decay", "-1e-4"], ["--weight-decay must be >= 0.0, got -0.0001"]),
        (["--lr", "-1E-3"], ["--lr must be > 0.0, got -0.001"]),
        (["--seed", "-1"], ["--seed must be >= 0, got -1"]),
    ],
)
def test_negative_values_reach_the_check_not_argparse(isolated_env, capsys, argv, words):
    write_ml100k(isolated_env)
    base = ["train", "--dataset", "ml-100k", "--data-dir", str(isolated_env), "--model", "mf"]
    assert main([*base, *argv]) == 2
    _one_line_error(capsys, *words)


def test_the_depth_study_of_a_model_without_hierarchy(isolated_env, capsys):
    argv = ["sweep", "--study", "depth", "--dataset", "ml-100k", "--model", "mf"]
    assert main([*argv, "--results-dir", str(isolated_env / "r")]) == 2
    _one_line_error(capsys, "depth study", "'mf' does not have", "expected one of hmf, bpr-hmf")


@pytest.mark.parametrize(
    "model, optimizer, words",
    [
        ("etree", "lazy-adamw", ["'etree' trains with the dense adamw only", "applies to mf"]),
        ("hmf", "lazy", ["--optimizer 'lazy'", "expected one of adamw, lazy-adamw"]),
    ],
)
def test_a_sweep_optimizer_the_model_cannot_use(isolated_env, capsys, model, optimizer, words):
    argv = ["sweep", "--dataset", "ml-100k", "--model", model, "--optimizer", optimizer]
    assert main([*argv, "--results-dir", str(isolated_env / "r")]) == 2
    _one_line_error(capsys, *words)
    assert not (isolated_env / "r").exists()  # refused before any data set is read


def test_results_dir_that_is_a_file(isolated_env, capsys):
    (isolated_env / "r").write_text("")
    argv = ["sweep", "--dataset", "ml-100k", "--model", "mf", "--results-dir"]
    assert main([*argv, str(isolated_env / "r")]) == 2
    _one_line_error(capsys, "is a file; expected a directory")


def test_clusters_beyond_memory_are_refused_before_allocating(isolated_env, capsys):
    write_ml100k_planted(isolated_env)
    argv = ["train", "--dataset", "ml-100k", "--data-dir", str(isolated_env), "--model", "hmf"]
    assert main([*argv, "--user-clusters", "1000000000000"]) == 2
    _one_line_error(capsys, "needs at least", "x 1000000000000 float32", "memory available")


def test_more_clusters_than_users_is_allowed_with_a_note(isolated_env, capsys):
    write_ml100k_planted(isolated_env)
    argv = ["train", "--dataset", "ml-100k", "--data-dir", str(isolated_env), "--model", "hmf"]
    assert main([*argv, "--user-clusters", "500", "--item-clusters", "4", "--epochs", "2"]) == 0
    err = capsys.readouterr().err
    assert "note: --user-clusters 500 is more than the" in err and "allowed" in err


# --- data -----------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["stats", "fetch"])
def test_an_empty_ratings_file(isolated_env, capsys, action):
    (write_ml100k(isolated_env) / "u.data").write_text("")
    assert main(["data", action, "ml-100k", "--data-dir", str(isolated_env)]) == 2
    _one_line_error(capsys, "u.data: is empty; expected")


def test_a_tiny_data_set(isolated_env, capsys):
    write_ml100k(isolated_env, ratings=[(1, 1, 5, 100), (2, 1, 3, 200)])
    assert main(["data", "stats", "ml-100k", "--data-dir", str(isolated_env)]) == 2
    _one_line_error(capsys, "ml-100k: the split leaves no training interactions (2 interactions")
    with pytest.raises(data.DataError, match="n >= 3"):
        split.load_split("ml-100k", isolated_env)


def test_an_unreadable_data_file(isolated_env, capsys, monkeypatch):
    folder = write_ml100k(isolated_env)
    target = folder / "u.data"
    real_open = open

    def refusing(file, *args, **kwargs):
        if Path(file) == target:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing)
    assert main(["data", "stats", "ml-100k", "--data-dir", str(isolated_env)]) == 2
    _one_line_error(capsys, "u.data: cannot be read (Permission denied); expected a readable")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_data_file_for_real(isolated_env, capsys):
    (write_ml100k(isolated_env) / "u.data").chmod(0)
    assert main(["data", "stats", "ml-100k", "--data-dir", str(isolated_env)]) == 2
    _one_line_error(capsys, "u.data: cannot be read")


def test_a_cache_path_that_is_a_file(isolated_env, capsys, monkeypatch):
    (isolated_env / "cachefile").write_text("")
    monkeypatch.setenv("HMF_CACHE_DIR", str(isolated_env / "cachefile"))
    assert main(["data", "fetch", "ml-100k"]) == 2  # refused before any download
    _one_line_error(capsys, "HMF_CACHE_DIR", "cachefile: is a file; expected a directory")


def test_a_data_dir_that_is_a_file(isolated_env, monkeypatch):
    (isolated_env / "datafile").write_text("")
    monkeypatch.setenv("HMF_DATA_DIR", str(isolated_env / "datafile"))
    with pytest.raises(data.DataError, match="HMF_DATA_DIR .*datafile: is a file"):
        data.load("ml-100k")


def test_a_rating_out_of_range_after_a_blank_line_names_the_right_line(isolated_env):
    folder = write_ml100k(isolated_env)
    (folder / "u.data").write_text("1\t1\t5\t100\n\n1\t2\t9\t200\n")
    with pytest.raises(data.FormatError, match=r"u\.data, line 3: rating 9 outside 1\.\.5"):
        data.load("ml-100k", isolated_env)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "is empty; expected a header line naming user, item, rating, timestamp"),
        ("user,item,rating,timestamp\n", "no interactions"),
        ("user,item,rating,timestamp\n1,2,3,100\n1,3,4,1e20\n", "line 3: column 'timestamp' has"),
    ],
    ids=["empty", "header-only", "timestamp-1e20"],
)
def test_csv_files_that_cannot_be_used(tmp_path, text, words):
    path = tmp_path / "ratings.csv"
    path.write_text(text)
    with pytest.raises(data.FormatError, match=words.replace("(", r"\(")) as caught:
        data.read_ratings(path)
    assert str(path) in str(caught.value) or "ratings:" in str(caught.value)


def test_out_of_range_timestamp_says_what_is_expected(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("user,item,rating,timestamp\n1,2,3,100000000000000000000\n")
    with pytest.raises(data.FormatError, match=r"expected -9223372036 to 9223372036 \(years"):
        data.read_ratings(path)


# --- packaging ------------------------------------------------------------------------------


def test_requires_python_matches_the_lock():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lock = (REPO / "requirements.lock").read_text().splitlines()[0]
    assert "Python 3.11" in lock
    assert project["requires-python"] == ">=3.11"


def test_no_stale_files_survive_a_killed_writer(tmp_path):
    """A temporary record file of a dead writer goes at the next sweep of its folder."""
    folder = tmp_path / "book" / "toy" / "mf"
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = folder / f".lr=0.01-seed0.{dead.pid}.abc123.tmp"
    leftover.write_text("{")
    mine = folder / f".lr=0.01-seed1.{os.getpid()}.abc123.tmp"
    mine.write_text("{")
    assert records.clean_stale(folder) == 1
    assert not leftover.exists() and mine.exists()


def test_the_command_line_warns_in_one_line_and_prints_where_records_go(
    planted_in_runner, tmp_path, capsys
):
    argv = ["sweep", "--profile", "smoke", "--dataset", "planted", "--model", "mf"]
    argv += ["--workers", "1", "--results-dir", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"records under smoke profile in {tmp_path}" in out
    first = sorted(tmp_path.glob("smoke/planted/mf/*.json"))[0]
    first.write_text("{")
    assert main(argv) == 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("hmf: warning: ") and len(err.splitlines()) == 1, err
    assert f"{first.name}: not a valid result record" in err and "run again" in err
    assert read_record(first)


def test_a_sweep_in_the_background_logs_whole_lines_once_it_has_run_a_while(capsys, monkeypatch):
    def log(mode, pause):
        with progress.progress_bar(3, "toy mf", mode) as bar:
            bar.update(1)
            time.sleep(pause)
            bar.update(1)  # after LOG_EVERY: the first line
            bar.update(1)  # within LOG_EVERY of it: left to the last line
        return capsys.readouterr().err

    assert log("log", 0.0) == ""  # a short sweep (LOG_EVERY is a minute) writes nothing
    monkeypatch.setattr(progress, "LOG_EVERY", 0.2)
    lines = log("log", 0.3).splitlines()
    assert [line.split(" runs after ")[0] for line in lines] == ["toy mf: 2/3", "toy mf: 3/3"]
    assert all("left" in line and "\r" not in line for line in lines)
    assert log(True, 0.3) == log(False, 0.3) == ""  # no terminal, no log asked for: nothing


def test_a_worker_error_is_raised_as_itself_and_a_dead_worker_is_noticed():
    results = {}
    with pytest.raises(ValueError, match="invalid literal for int"):
        pool.run_tasks([(int, ("x",)), (int, ("2",))], 2, results.__setitem__)
    with pytest.raises(pool.WorkerFailed, match="ended unexpectedly .exit status 3"):
        pool.run_tasks([(os._exit, (3,)), (int, ("2",))], 2, results.__setitem__)
    pool.run_tasks([(int, ("1",)), (int, ("2",)), (int, ("3",))], 2, results.__setitem__)
    assert results == {0: 1, 1: 2, 2: 3}
