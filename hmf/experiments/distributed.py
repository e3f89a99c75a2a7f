"""Hand a sweep's runs to a Dask cluster: ``hmf sweep … --scheduler tcp://host:8786``.

Why Dask (``dask.distributed``) and not Ray:

* It is a pure-Python, pip-installable package (``pip install "hmf-companion[cluster]"``) with
  no server binaries or object store; a scheduler and workers are two commands
  (``dask scheduler``, ``dask worker tcp://host:8786``), and ``LocalCluster`` starts the same
  thing offline in one process tree - which is how the tests run it.
* It reaches the clusters a reader of this book is likely to have: ``dask-jobqueue`` submits
  workers to SLURM / PBS / SGE queues, ``dask-kubernetes`` to Kubernetes, and a GPU node is a
  worker like any other (JAX on it sees its GPU).
* Our unit of work is coarse (one run, or one vectorised group: seconds to minutes) and the
  inputs are small (a data set name and configurations): Ray's strengths - actors, a shared
  object store, millisecond tasks - buy nothing here, and its wheels are large and pinned to
  Python versions more tightly.

Protocol: every job is a function call ``(data set, model, [(config, seed), …], profile)`` that
returns the records as plain dicts (and the runs that diverged); the *client* locks the runs it
sends (:class:`~hmf.experiments.records.RunLock`, so a concurrent sweep skips them), writes the
records with
:func:`hmf.experiments.records.write_record`, so the workers need the package and the data
(``data_dir`` must name a path that exists on the workers, or ``HMF_DATA_DIR`` must be set
there) but never the results directory, and a record is written exactly as a local run writes
it. Records that already exist are skipped before anything is sent, so a sweep resumes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from hmf.errors import UsageError
from hmf.experiments.pool import stop_on_signals
from hmf.experiments.progress import progress_bar
from hmf.experiments.records import Record, write_record
from hmf.experiments.trainers import SweepOutcome, plan_chunks, run_chunk
from hmf.split import split_for

__all__ = ["run_on_cluster", "remote_job"]

_CONNECT_TIMEOUT = "30s"


def remote_job(
    dataset: str,
    data_dir: str | None,
    model: str,
    jobs: list[tuple[dict, int]],
    profile: str,
    vectorize: bool,
) -> dict[str, Any]:
    """Runs on a worker: train ``jobs`` (one vectorised group, or runs one at a time); returns
    ``{"records": [record as a dict, ...], "failures": [(config, seed, reason), ...]}``."""
    records, failures = run_chunk(split_for(dataset, data_dir), model, jobs, profile, vectorize)
    return {"records": [dataclasses.asdict(r) for r in records], "failures": failures}


def _client(scheduler: str):
    try:
        from distributed import Client
    except ImportError as exc:
        raise UsageError(
            "--scheduler needs Dask: pip install 'hmf-companion[cluster]' "
            f"(dask[distributed]): {exc}"
        ) from None
    try:
        return Client(scheduler, timeout=_CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None


def run_on_cluster(
    scheduler: str,
    root: Path,
    dataset: str,
    data_dir: str | None,
    model: str,
    jobs: list[tuple[dict, int]],
    profile: str,
    *,
    vectorize: bool = False,
    max_members: int | None = None,
    progress: bool | str = True,
) -> SweepOutcome:
    """Send ``jobs`` (the missing ``(config, seed)`` runs) to the cluster at ``scheduler`` and
    write every returned record under ``root``. Runs another sweep holds are not sent; on a
    signal the cluster's tasks are cancelled and the locks released."""
    client = _client(scheduler)
    outcome, locks = SweepOutcome(), {}
    try:
        with stop_on_signals():
            mine, locks = outcome.claim(root, profile, dataset, model, jobs)
            n_workers = max(1, len(client.scheduler_info().get("workers", {})))
            chunks = plan_chunks(
                model, mine, vectorize=vectorize, parts=n_workers, max_members=max_members
            )
            futures = [
                client.submit(
                    remote_job, dataset, data_dir, model, chunk, profile, vectorize, pure=False
                )
                for chunk in chunks
            ]
            bar = progress_bar(len(mine), f"{dataset} {model} (dask)", progress)
            try:
                from distributed import as_completed

                for future in as_completed(futures):
                    payload = future.result()
                    for fields in payload["records"]:
                        path = write_record(Path(root), Record(**fields))
                        locks.pop(path).release()
                        outcome.written += 1
                    outcome.failures += [tuple(f) for f in payload["failures"]]
                    bar.update(len(payload["records"]) + len(payload["failures"]))
            except BaseException:
                client.cancel(futures)
                raise
            finally:
                bar.close()
        return outcome
    finally:
        for lock in locks.values():
            lock.release()
        client.close()
