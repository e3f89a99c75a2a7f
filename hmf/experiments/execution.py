"""Where runs execute: a sweep skips every run whose record exists and validates (so an
interrupted sweep resumes) and trains the rest in worker processes, or on a Dask cluster.

By default one process per core runs one configuration at a time (each JAX process then runs
single-threaded, which is faster on small models than sharing cores), with a progress bar.
Two optional paths leave the records unchanged:

* ``vectorize=True`` trains the runs of a gradient model that share parameter shapes together
  (:func:`hmf.experiments.trainers.run_group`); each group (or chunk of one) is one job.
* ``scheduler="tcp://host:8786"`` hands the jobs to a Dask cluster
  (:mod:`hmf.experiments.distributed`).

What a sweep guarantees:

* a broken record (empty, truncated, edited out of shape: :func:`~hmf.experiments.records.
  read_record`) is moved aside with a warning and its run trained again;
* each run is trained under its lock (:class:`~hmf.experiments.records.RunLock`): a second
  sweep on the same directory skips what the first is training, and says so;
* a run that diverges (NaN or infinite metrics) writes no record and is reported, with every
  other run's record kept (:class:`~hmf.errors.RunsFailed`);
* Ctrl-C, SIGTERM or SIGHUP stop it promptly (:mod:`hmf.experiments.pool`): finished records
  are kept, half-written files removed, and :class:`~hmf.errors.Interrupted` says how many runs
  finished.
"""

from __future__ import annotations

import collections
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import jax

from hmf import registry
from hmf.errors import Interrupted, RunsFailed, UsageError
from hmf.experiments.distributed import run_on_cluster
from hmf.experiments.pool import run_tasks
from hmf.experiments.progress import progress_bar
from hmf.experiments.records import (
    RecordError,
    clean_stale,
    default_results_dir,
    discard_partial,
    read_record,
    record_path,
    usable,
    write_record,
)
from hmf.experiments.trainers import SweepOutcome, plan_chunks, run_chunk
from hmf.profiles import get_profile
from hmf.split import split_for

__all__ = ["sweep", "check_reuse", "SweepOutcome", "BusyRunWarning"]


class BusyRunWarning(UserWarning):
    """Runs skipped because another live sweep holds their locks."""


def _worker_init() -> None:
    # One XLA thread per process: with as many processes as cores this beats sharing them.
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
    )


def _run_and_write(
    root: str,
    dataset: str,
    data_dir: str | None,
    model: str,
    chunk: list,
    profile: str,
    vectorize: bool,
) -> SweepOutcome:
    """One chunk, in whichever process runs it: lock each run, skip those another process
    holds or has finished meanwhile, train the rest, write their records, release the locks."""
    outcome, locks = SweepOutcome(), {}
    try:
        mine, locks = outcome.claim(root, profile, dataset, model, chunk)
        if mine:
            records, outcome.failures = run_chunk(
                split_for(dataset, data_dir), model, mine, profile, vectorize
            )
            for record in records:
                write_record(Path(root), record)
            outcome.written = len(records)
    finally:
        for lock in locks.values():
            lock.release()
    return outcome


def _on_accelerator() -> bool:
    """Whether JAX trains on a GPU or TPU in this process."""
    return jax.default_backend() != "cpu"


def sweep(
    dataset: str,
    model: str,
    grid: Iterable[dict],
    seeds: Iterable[int],
    *,
    profile: str,
    root: Path | None = None,
    data_dir: str | None = None,
    workers: int | None = None,
    progress: bool | str = True,
    vectorize: bool = False,
    scheduler: str | None = None,
    max_members: int | None = None,
    reuse: str | None = None,
) -> list[Path]:
    """Run every (configuration, seed) whose record is missing; return all record paths.

    ``reuse``: another profile with the same epoch caps and patience (``book`` for ``paper``)
    whose records count as done; the paths returned are theirs for those runs.

    ``progress``: a bar at a terminal (``True``); ``"log"`` adds a line now and then elsewhere
    (:func:`~hmf.experiments.progress.progress_bar`).

    ``vectorize``: train runs of one model shape together (models that are not gradient-trained
    run one at a time); on a GPU in one process unless ``workers`` says otherwise, on a CPU in
    one process per core. ``scheduler``: a Dask scheduler address; the runs go to that cluster
    instead of local processes. ``max_members``: cap on a vectorised batch.
    """
    vectorize = vectorize and registry.get(model).vectorizes
    root = Path(root or default_results_dir())
    seeds = list(seeds)
    runs = [(c, s) for c in grid for s in seeds]
    paths = [record_path(root, profile, dataset, model, c, s) for c, s in runs]
    if len(set(paths)) < len(paths):
        twice = next(p for p, n in collections.Counter(paths).items() if n > 1)
        raise UsageError(
            f"two runs of the grid would write {twice.name}: configurations that differ only in "
            f"{', '.join(registry.EXECUTION_KEYS)} are one run"
        )
    if reuse is not None:
        check_reuse(profile, reuse)
        theirs = [record_path(root, reuse, dataset, model, c, s) for c, s in runs]
        paths = [o if not p.exists() and _readable(o) else p for p, o in zip(paths, theirs)]
    clean_stale(root / profile / dataset / model)
    jobs = [job for job, path in zip(runs, paths) if not usable(path)]
    if not jobs:
        return paths
    where = f"{dataset} {model}"
    outcome = SweepOutcome()
    try:
        run = (root, dataset, data_dir, model, jobs, profile)
        settings = dict(vectorize=vectorize, max_members=max_members, progress=progress)
        if scheduler is not None:
            outcome = run_on_cluster(scheduler, *run, **settings)
        else:
            outcome = _run_local(*run, workers=workers, **settings)
    except Interrupted as stop:
        written = sum(record_path(root, profile, dataset, model, c, s).exists() for c, s in jobs)
        raise Interrupted(stop.signum, written, len(jobs) - written, where) from None
    _report(where, outcome, len(jobs))
    return paths


def _readable(path: Path) -> bool:
    """Whether ``path`` holds a valid record; unlike :func:`usable`, it leaves a broken one
    where it is (another profile's records are only read)."""
    try:
        read_record(path)
    except (OSError, RecordError):
        return False
    return True


def check_reuse(profile: str, reuse: str) -> None:
    """Refuse to count another profile's runs as this one's unless they train alike."""
    mine, theirs = get_profile(profile).caps, get_profile(reuse).caps
    if reuse == profile or mine != theirs:
        raise UsageError(
            f"--reuse {reuse}: expected another profile with the {profile} profile's epoch caps "
            f"and patience {mine}, got {theirs}"
        )


def _run_local(
    root, dataset, data_dir, model, jobs, profile, *, vectorize, workers, max_members, progress
) -> SweepOutcome:
    # One process per accelerator: several would each claim most of the GPU's memory.
    default = 1 if vectorize and _on_accelerator() else os.cpu_count() or 1
    workers = max(1, workers or default)
    chunks = plan_chunks(model, jobs, vectorize=vectorize, parts=workers, max_members=max_members)
    args = (str(root), dataset, data_dir, model)
    tasks = [(_run_and_write, (*args, chunk, profile, vectorize)) for chunk in chunks]
    outcome = SweepOutcome()
    desc = f"{dataset} {model}" + (" (vectorised)" if vectorize else "")

    def abandon(indices, pids):
        for index in indices:
            for config, seed in chunks[index]:
                discard_partial(record_path(root, profile, dataset, model, config, seed), pids)

    with progress_bar(len(jobs), desc, progress) as bar:

        def done(index, result: SweepOutcome):
            outcome.add(result)
            bar.update(len(chunks[index]))

        run_tasks(tasks, workers, done, initializer=_worker_init, on_abandon=abandon)
    return outcome


def _report(where: str, outcome: SweepOutcome, n_jobs: int) -> None:
    """Say what was skipped (another sweep's runs), and raise for runs that failed."""
    if outcome.busy:
        pids = sorted({str(pid) for _, _, pid in outcome.busy if pid is not None})
        warnings.warn(
            f"{where}: {len(outcome.busy)} runs are being trained by another sweep "
            f"(pid {', '.join(pids) or 'unknown'}); their records appear when it finishes",
            BusyRunWarning,
            stacklevel=3,
        )
    if outcome.failures:
        config, seed, message = outcome.failures[0]
        settings = " ".join(f"{k}={v}" for k, v in config.items())
        raise RunsFailed(
            f"{len(outcome.failures)} of {n_jobs} runs of {where} failed and wrote no record "
            f"(the other runs' records are kept); first: {settings} seed {seed}: "
            f"{message}"
        )
