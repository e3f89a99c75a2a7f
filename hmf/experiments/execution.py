"""Where runs execute: a sweep skips every run whose record exists (so an interrupted sweep
resumes) and trains the rest in worker processes, or on a Dask cluster.

By default one process per core runs one configuration at a time (each JAX process then runs
single-threaded, which is faster on small models than sharing cores), with a progress bar.
Two optional paths leave the records unchanged:

* ``vectorize=True`` trains the runs of a gradient model that share parameter shapes together
  (:func:`hmf.experiments.trainers.run_group`); each group (or chunk of one) is one job.
* ``scheduler="tcp://host:8786"`` hands the jobs to a Dask cluster
  (:mod:`hmf.experiments.distributed`).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import jax
from tqdm import tqdm

from hmf import registry
from hmf.experiments.distributed import run_on_cluster
from hmf.experiments.records import default_results_dir, record_path, write_record
from hmf.experiments.trainers import plan_chunks, run_chunk
from hmf.split import split_for

__all__ = ["sweep"]


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
) -> int:
    records = run_chunk(split_for(dataset, data_dir), model, chunk, profile, vectorize)
    for record in records:
        write_record(Path(root), record)
    return len(records)


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
    progress: bool = True,
    vectorize: bool = False,
    scheduler: str | None = None,
    max_members: int | None = None,
) -> list[Path]:
    """Run every (configuration, seed) whose record is missing; return all record paths.

    ``vectorize``: train runs of one model shape together (models that are not gradient-trained
    run one at a time); on a GPU in one process unless ``workers`` says otherwise, on a CPU in
    one process per core. ``scheduler``: a Dask scheduler address; the runs go to that cluster
    instead of local processes. ``max_members``: cap on a vectorised batch.
    """
    vectorize = vectorize and registry.get(model).vectorizes
    # A bar for people at a terminal; none in notebooks and logs, where it is only noise.
    progress = progress and sys.stderr.isatty()
    root = Path(root or default_results_dir())
    seeds = list(seeds)
    paths = [record_path(root, profile, dataset, model, c, s) for c in grid for s in seeds]
    jobs = [
        (c, s)
        for c in grid
        for s in seeds
        if not record_path(root, profile, dataset, model, c, s).exists()
    ]
    if not jobs:
        return paths
    if scheduler is not None:
        run_on_cluster(
            scheduler,
            root,
            dataset,
            data_dir,
            model,
            jobs,
            profile,
            vectorize=vectorize,
            max_members=max_members,
            progress=progress,
        )
        return paths
    # One process per accelerator: several would each claim most of the GPU's memory.
    default = 1 if vectorize and _on_accelerator() else os.cpu_count() or 1
    workers = max(1, workers or default)
    chunks = plan_chunks(model, jobs, vectorize=vectorize, parts=workers, max_members=max_members)
    workers = min(workers, len(chunks))
    args = (str(root), dataset, data_dir, model)
    desc = f"{dataset} {model}" + (" (vectorised)" if vectorize else "")
    with tqdm(total=len(jobs), desc=desc, unit="run", disable=not progress) as bar:
        if workers == 1:
            for chunk in chunks:
                bar.update(_run_and_write(*args, chunk, profile, vectorize))
            return paths
        context = multiprocessing.get_context("spawn")  # JAX is not fork-safe
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
            futures = [
                pool.submit(_run_and_write, *args, chunk, profile, vectorize) for chunk in chunks
            ]
            for future in as_completed(futures):
                bar.update(future.result())
    return paths
