"""Committed records cannot drift unseen: re-run them and compare, and check each against its
own history.

Three checks, from cheap to complete:

* :func:`consistency` - every record's stored numbers against what its own stored history
  implies (:func:`~hmf.experiments.records.check_history`: the validation metrics are the
  history's values at the best epoch, which is the history's best; epochs equal its length),
  plus the checks of :func:`~hmf.experiments.records.read_record`. Seconds for all of them.
* :func:`rotation_sample` - the records one CI run re-runs. The ``book`` records that can be
  re-run on a CPU are cut into :data:`ROTATION_BUDGET_SECONDS`-sized buckets (by the seconds
  each run took when it was recorded), every bucket holding at least one record of every model
  and every data set; commit number ``n`` (``git rev-list --count HEAD``) re-runs bucket
  ``n mod K``, so any ``K`` consecutive commits re-run every bucketed record.
* :func:`verify` - re-run any records (all of them: ``make verify-records``; one by name:
  ``hmf records verify book/ml-100k/mf/lr=0.001_weight_decay=0-seed0``) in one process per core
  and compare epochs and every validation and test metric.

A re-run matches when it stops after the same number of epochs and every metric agrees within
:data:`RTOL` (relative) - except NeuMF's (:data:`TOLERANCES`): its dense layers run on XLA's CPU
matrix kernels, which differ between processor models, and its HitRatio@10 and MRR@10 (counts
over a few thousand users) then move by a few users and its stopping epoch by one; a third of
its committed records re-run that way on a processor other than the one that recorded them
(every record of the other models, in samples of all of them, re-runs within ``RTOL``). Its
records are compared within 0.01 absolute and 2 epochs - far tighter than any change to the
model or the protocol, far looser than rounding elsewhere.

Left out of the rotation, with the reason :func:`rotation_exclusion` gives: records of other
profiles, records trained on a GPU (a CPU run rounds differently), BPR-HMF's depth-study records
(2 user / 4 item clusters: nearly every item scores alike, and their HitRatio hangs on score
ties that another processor model breaks differently), and runs that took longer than
:data:`ROTATION_CAP_SECONDS` (no single CI run can afford them): ``make verify-records`` re-runs
those too.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import jax

from hmf.data import DataError
from hmf.errors import TrainingDiverged, UsageError
from hmf.experiments.execution import _worker_init
from hmf.experiments.pool import run_tasks
from hmf.experiments.records import (
    Record,
    RecordError,
    check_history,
    default_results_dir,
    git,
    read_record,
)
from hmf.experiments.trainers import run_one
from hmf.split import split_for

__all__ = [
    "RTOL",
    "Tolerance",
    "TOLERANCES",
    "ROTATION_BUDGET_SECONDS",
    "ROTATION_CAP_SECONDS",
    "Verification",
    "consistency",
    "cost",
    "rotation_exclusion",
    "rotation_buckets",
    "rotation_index",
    "rotation_sample",
    "resolve",
    "tolerance",
    "verify",
]

RTOL = 2e-3  # relative; a changed model, loss, split or metric moves numbers far more


@dataclasses.dataclass(frozen=True)
class Tolerance:
    """How far a re-run may stray: ``rtol`` / ``atol`` on every metric, ``epochs`` on the
    number of epochs run."""

    rtol: float = RTOL
    atol: float = 0.0
    epochs: int = 0

    def __str__(self) -> str:
        extra = f", atol {self.atol}, epochs +-{self.epochs}" if self.atol or self.epochs else ""
        return f"rtol {self.rtol}{extra}"


TOLERANCES = {"neumf": Tolerance(atol=0.01, epochs=2)}  # see the module docstring
ROTATION_BUDGET_SECONDS = 150.0  # recorded run seconds one CI run re-runs (two cores: ~1.5 min)
ROTATION_CAP_SECONDS = 120.0  # longer runs are re-run only by `make verify-records`
_COVERAGE_CHOICES = 10  # a bucket's coverage picks rotate among this many cheapest records


def cost(record: Record) -> float:
    """Seconds a re-run takes, as recorded: training plus the two test evaluations."""
    return float(record.train_seconds) + 2.0 * float(record.inference_seconds)


def consistency(root: Path | None = None, pattern: str = "*/*/*/*.json") -> dict[Path, list[str]]:
    """Every record file under ``root`` that fails to read or contradicts its own history,
    with what is wrong (empty: all consistent)."""
    root = Path(root or default_results_dir())
    problems: dict[Path, list[str]] = {}
    for path in sorted(root.glob(pattern)):
        try:
            found = check_history(read_record(path))
        except RecordError as exc:
            found = [str(exc).removeprefix(f"{path}: ")]
        if found:
            problems[path] = found
    return problems


def rotation_exclusion(record: Record) -> str | None:
    """Why a record stays out of the per-commit rotation (None: it is in)."""
    if record.profile != "book":
        return f"a {record.profile}-profile record (the rotation re-runs the book's)"
    if not str(record.environment.get("device", "")).startswith("cpu"):
        return f"trained on {record.environment.get('device')} (CI re-runs on a CPU)"
    if record.model == "bpr-hmf" and "user_depth" in record.config:
        return "a BPR-HMF depth-study record (its HitRatio hangs on score ties)"
    if cost(record) > ROTATION_CAP_SECONDS:
        return f"took {cost(record):.0f} s (> {ROTATION_CAP_SECONDS:.0f} s)"
    return None


def rotation_buckets(
    entries: Sequence[tuple[str, Record]], budget: float = ROTATION_BUDGET_SECONDS
) -> list[list[str]]:
    """Cut ``(name, record)`` entries into the fewest buckets of at most ``budget`` recorded
    seconds such that each bucket holds a record of every model and every data set.

    Deterministic (names break every tie). Coverage comes first - each bucket takes, per model
    and per data set it lacks, one of the cheapest few records, in rotation - and then every
    other record goes to the least loaded bucket, largest first. Every entry lands in at least
    one bucket.
    """
    if not entries:
        return []
    entries = sorted(entries, key=lambda e: e[0])
    costs = {name: cost(r) for name, r in entries}
    if max(costs.values()) > budget:
        raise UsageError(f"a record of {max(costs.values()):.0f} s exceeds the budget {budget}")

    def cheapest(key) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for name, r in entries:
            groups.setdefault(key(r), []).append(name)
        return {
            g: sorted(names, key=lambda n: (costs[n], n))[:_COVERAGE_CHOICES]
            for g, names in sorted(groups.items())
        }

    by_model = cheapest(lambda r: r.model)
    by_dataset = cheapest(lambda r: r.dataset)
    model_of = {name: r.model for name, r in entries}
    dataset_of = {name: r.dataset for name, r in entries}
    k = max(1, math.ceil(sum(costs.values()) / budget))
    while True:
        buckets: list[list[str]] = [[] for _ in range(k)]
        placed: set[str] = set()
        for b, bucket in enumerate(buckets):
            for names in by_model.values():
                bucket.append(names[b % len(names)])
            for dataset, names in by_dataset.items():
                if not any(dataset_of[n] == dataset for n in bucket):
                    bucket.append(names[b % len(names)])
            placed.update(bucket)
        loads = [(sum(costs[n] for n in bucket), b) for b, bucket in enumerate(buckets)]
        heapq.heapify(loads)
        rest = sorted((n for n, _ in entries if n not in placed), key=lambda n: (-costs[n], n))
        for name in rest:
            load, b = heapq.heappop(loads)
            buckets[b].append(name)
            heapq.heappush(loads, (load + costs[name], b))
        if max(load for load, _ in loads) <= budget:
            assert all(set(model_of[n] for n in bucket) == set(by_model) for bucket in buckets)
            return [sorted(bucket) for bucket in buckets]
        if k >= len(entries):  # more buckets cannot help: a record plus coverage is too big
            raise UsageError(
                f"no bucket of {budget} s fits the largest record beside one record of every "
                "model and data set: raise the budget or lower the cap"
            )
        k = min(len(entries), k + max(1, k // 50))


def rotation_index(n_buckets: int) -> tuple[int, str]:
    """This commit's bucket and why: ``$HMF_ROTATION_INDEX`` if set, else the commit's number
    (``git rev-list --count HEAD``) mod ``n_buckets``; in a shallow clone, where that number is
    not the commit's, its hash (no bound on coverage then, and the reason says so)."""
    if n_buckets < 1:
        raise UsageError(f"n_buckets must be >= 1, got {n_buckets}")
    configured = os.environ.get("HMF_ROTATION_INDEX")
    if configured:
        try:
            n = int(configured)
        except ValueError:
            raise UsageError(f"HMF_ROTATION_INDEX must be an integer, got {configured!r}") from None
        return n % n_buckets, f"HMF_ROTATION_INDEX={n}"
    if git("rev-parse", "--is-shallow-repository") == "false":
        count = git("rev-list", "--count", "HEAD")
        if count is not None:
            return int(count) % n_buckets, f"commit number {count}"
    sha = git("rev-parse", "HEAD") or os.environ.get("HMF_COMMIT")
    if sha:
        try:
            return int(sha[:12], 16) % n_buckets, f"commit {sha[:12]} (shallow clone: by hash)"
        except ValueError:
            pass
    return 0, "no git history: bucket 0"


def rotation_sample(root: Path | None = None) -> tuple[list[Path], dict]:
    """The record files this commit re-runs, and a description: bucket, buckets, reason,
    eligible and excluded counts."""
    root = Path(root or default_results_dir())
    entries, excluded = [], {}
    for path in sorted(root.glob("book/*/*/*.json")):
        record = read_record(path)
        name = path.relative_to(root).as_posix()
        reason = rotation_exclusion(record)
        if reason is None:
            entries.append((name, record))
        else:
            excluded[name] = reason
    buckets = rotation_buckets(entries)
    if not buckets:
        return [], {"buckets": 0, "bucket": None, "why": "no records", "excluded": excluded}
    index, why = rotation_index(len(buckets))
    about = {
        "bucket": index,
        "buckets": len(buckets),
        "why": why,
        "eligible": len(entries),
        "excluded": excluded,
    }
    return [root / name for name in buckets[index]], about


@dataclasses.dataclass(frozen=True)
class Verification:
    """One record re-run: ``differences`` (empty: it reproduced), or why it was ``skipped``."""

    path: Path
    differences: tuple[str, ...] = ()
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.differences


def resolve(names: Iterable[str], root: Path | None = None) -> list[Path]:
    """Record files from paths or names relative to ``root`` (``.json`` optional); a name that
    names no record file is an error listing where it looked."""
    root = Path(root or default_results_dir())
    out = []
    for name in names:
        candidates = [Path(name), root / name]
        candidates += [c.with_name(c.name + ".json") for c in candidates]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise UsageError(
                f"no record {name!r}: expected a record file or a name under {root} such as "
                "book/ml-100k/mf/lr=0.001_weight_decay=0-seed0"
            )
        out.append(found)
    return out


def tolerance(model: str) -> Tolerance:
    """The tolerance a re-run of ``model`` is held to."""
    return TOLERANCES.get(model, Tolerance())


def _compare(record: Record, again: Record) -> list[str]:
    tol, out = tolerance(record.model), []
    if abs(again.epochs - record.epochs) > tol.epochs:
        out.append(f"epochs: stored {record.epochs}, re-run {again.epochs}")
    for part in ("validation", "test"):
        for metric, value in getattr(record, part).items():
            new = getattr(again, part).get(metric)
            if new is None or not math.isclose(new, value, rel_tol=tol.rtol, abs_tol=tol.atol):
                out.append(f"{part} {metric}: stored {value!r}, re-run {new!r} ({tol})")
    return out


def _verify_one(path: str, data_dir: str | None) -> Verification:
    record = read_record(Path(path))
    try:
        split = split_for(record.dataset, data_dir)
    except DataError as exc:
        return Verification(Path(path), skipped=f"{record.dataset} not available: {exc}")
    try:
        again = run_one(split, record.model, record.config, record.seed, profile=record.profile)
    except TrainingDiverged as exc:
        return Verification(Path(path), (f"the re-run diverged: {exc}",))
    return Verification(Path(path), tuple(_compare(record, again)))


def verify(
    paths: Sequence[Path],
    *,
    workers: int | None = None,
    data_dir: str | None = None,
    on_result=None,
) -> list[Verification]:
    """Re-run every record of ``paths`` (one process per core by default, longest first) and
    compare; records trained on another kind of device than this one's are skipped, as are
    records whose data set is not available. ``on_result(verification)`` is called as each
    finishes. Results come back in ``paths`` order."""
    platform = jax.default_backend()
    results: dict[int, Verification] = {}
    todo = []
    for i, path in enumerate(paths):
        record = read_record(path)
        device = str(record.environment.get("device", "unknown"))
        if device.split(":")[0] != platform:
            results[i] = Verification(
                Path(path), skipped=f"trained on {device}; this machine runs JAX on {platform}"
            )
            if on_result is not None:
                on_result(results[i])
        else:
            todo.append((cost(record), i, path))
    todo.sort(key=lambda t: (-t[0], t[1]))
    tasks = [(_verify_one, (str(path), data_dir)) for _, _, path in todo]

    def done(index: int, verification: Verification) -> None:
        results[todo[index][1]] = verification
        if on_result is not None:
            on_result(verification)

    run_tasks(tasks, workers or os.cpu_count() or 1, done, initializer=_worker_init)
    return [results[i] for i in range(len(paths))]
