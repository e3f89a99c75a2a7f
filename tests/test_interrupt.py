"""A sweep stops when asked: real signals sent to a real ``hmf sweep`` in a subprocess.

Each test starts a small sweep (MF's ``book`` grid, 75 runs, on an ML-100K-format directory of
about 3,000 planted ratings), waits for its first record, then signals it and checks: a prompt
exit with 128 + the signal's number, a line saying how many runs finished and the command that
resumes, every finished record kept and valid, no temporary or lock files left, and no worker
process still alive - also when the main process is killed outright (SIGKILL), which it cannot
catch: the workers notice their parent is gone and exit.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rawfiles import write_ml100k_planted

from hmf.experiments.records import read_record

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finds worker processes through /proc (Linux)"
)

PROMPT = 20.0  # seconds a stopped sweep may take to end its workers and exit


@pytest.fixture
def sweep_dirs(tmp_path):
    write_ml100k_planted(tmp_path / "data")
    return tmp_path


def _command(dirs: Path, workers: int) -> list[str]:
    return [
        "sweep",
        "--profile",
        "book",
        "--dataset",
        "ml-100k",
        "--model",
        "mf",
        "--workers",
        str(workers),
        "--data-dir",
        str(dirs / "data"),
        "--results-dir",
        str(dirs / "results"),
    ]


def _env(dirs: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HMF_")}
    env["HMF_CACHE_DIR"] = str(dirs / "cache")
    return env


def _start(dirs: Path, argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hmf", *argv],
        env=_env(dirs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _records(dirs: Path) -> list[Path]:
    return sorted((dirs / "results").glob("book/ml-100k/mf/*.json"))


def _wait_for_records(proc: subprocess.Popen, dirs: Path, at_least: int, timeout=120.0):
    deadline = time.monotonic() + timeout
    while len(_records(dirs)) < at_least:
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before it was signalled: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no record appeared in time")
        time.sleep(0.1)


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (the workers and multiprocessing's helper)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = {p for p in pids if _alive(p)}
        if not left:
            return set()
        time.sleep(0.1)
    return {p for p in pids if _alive(p)}


def _leftovers(dirs: Path) -> list[str]:
    return sorted(
        p.name
        for p in (dirs / "results").rglob("*")
        if p.name.endswith((".tmp", ".lock")) or p.name.endswith(".broken")
    )


def _stop(proc: subprocess.Popen, signum: int) -> tuple[int, str, float]:
    start = time.monotonic()
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=PROMPT)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the sweep did not stop within {PROMPT} s of {signal.Signals(signum).name}")
    return proc.returncode, err, time.monotonic() - start


def _check_stopped(dirs, err, signum, workers):
    last = err.strip().splitlines()[-1]
    name = signal.Signals(signum).name
    assert f"hmf sweep: interrupted by {name} (ml-100k mf): " in last, err
    counts = re.search(r": (\d+) runs? finished and kept, (\d+) still to run; ", last)
    assert counts, last
    finished, remaining = map(int, counts.groups())
    assert finished + remaining <= 75
    resume = last.split("resume with: ")[1]
    assert shlex.split(resume) == ["hmf", *_command(dirs, workers)]
    assert "Traceback" not in err
    for path in _records(dirs):
        read_record(path)  # every record kept is whole and valid
    assert _leftovers(dirs) == []
    return finished


def test_ctrl_c_stops_the_sweep_and_the_printed_command_resumes_it(sweep_dirs):
    argv = _command(sweep_dirs, workers=2)
    proc = _start(sweep_dirs, argv)
    _wait_for_records(proc, sweep_dirs, 1)
    workers = _children(proc.pid)
    assert len(workers) >= 2
    code, err, seconds = _stop(proc, signal.SIGINT)
    assert code == 130 and seconds < PROMPT
    assert _wait_gone(workers, 5.0) == set(), "worker processes outlived the sweep"
    kept = {p: p.read_bytes() for p in _records(sweep_dirs)}
    assert len(kept) < 75  # stopped: the queued runs were not all run
    assert _check_stopped(sweep_dirs, err, signal.SIGINT, 2) == len(kept)

    # the printed command resumes (finished records are skipped, not rewritten); SIGTERM, as
    # `kill PID` sends, stops it the same way
    proc = _start(sweep_dirs, argv)
    _wait_for_records(proc, sweep_dirs, len(kept) + 1)
    workers = _children(proc.pid)
    code, err, _ = _stop(proc, signal.SIGTERM)
    assert code == 128 + signal.SIGTERM
    assert _wait_gone(workers, 5.0) == set()
    for path, content in kept.items():
        assert path.read_bytes() == content
    new = len(_records(sweep_dirs)) - len(kept)
    assert _check_stopped(sweep_dirs, err, signal.SIGTERM, 2) == new


def test_ctrl_c_pressed_three_times_in_a_one_process_sweep(sweep_dirs):
    proc = _start(sweep_dirs, _command(sweep_dirs, workers=1))
    _wait_for_records(proc, sweep_dirs, 1)
    for _ in range(3):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    _, err = proc.communicate(timeout=PROMPT)
    assert proc.returncode == 130  # not killed halfway by the second or third
    assert _check_stopped(sweep_dirs, err, signal.SIGINT, 1) == len(_records(sweep_dirs))


def test_workers_exit_when_the_main_process_is_killed(sweep_dirs):
    proc = _start(sweep_dirs, _command(sweep_dirs, workers=2))
    _wait_for_records(proc, sweep_dirs, 1)
    workers = _children(proc.pid)
    assert len(workers) >= 2
    proc.kill()  # SIGKILL: no handler runs in the main process
    proc.communicate(timeout=PROMPT)
    assert _wait_gone(workers, 10.0) == set(), "orphaned workers went on running"
    for path in _records(sweep_dirs):
        read_record(path)
    assert _leftovers(sweep_dirs) == []  # the workers removed their locks and partial files
