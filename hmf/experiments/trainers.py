"""One configuration -> one record: the single path every ``hmf train`` and sweep run takes.

:func:`run_one` trains a configuration with its registry entry's trainer and builds the
:class:`~hmf.experiments.records.Record`; :func:`run_group` does the same for runs of one
gradient model shape at once (``jax.vmap``, :func:`hmf.vectorized.fit_many`);
:func:`plan_chunks` says which runs go together.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from pathlib import Path
from typing import Any

import jax

from hmf import metrics, registry
from hmf.errors import TrainingDiverged, UsageError
from hmf.experiments.records import Record, RunLock, config_key, environment, record_path, usable
from hmf.fitting import FitResult
from hmf.profiles import Profile, get_profile
from hmf.vectorized import Member, fit_many

__all__ = [
    "fit_config",
    "run_one",
    "run_group",
    "run_chunk",
    "plan_chunks",
    "shape_key",
    "to_record",
    "divergence",
    "SweepOutcome",
    "check_memory",
]

# What training holds per parameter at least: the parameters, AdamW's two moments, a gradient.
_COPIES = 4

Job = tuple[dict, int]  # (configuration, seed)


@dataclasses.dataclass
class SweepOutcome:
    """What the chunks of a sweep did (:func:`hmf.experiments.execution.sweep`): records
    written, runs that failed, runs skipped because another process was training them."""

    written: int = 0
    failures: list = dataclasses.field(default_factory=list)  # (config, seed, message)
    busy: list = dataclasses.field(default_factory=list)  # (config, seed, owner pid)

    def add(self, other: SweepOutcome) -> None:
        self.written += other.written
        self.failures += other.failures
        self.busy += other.busy

    def claim(self, root, profile: str, dataset: str, model: str, jobs: list[Job]):
        """Lock each run; a run another process holds goes to ``busy``. Returns the runs still
        to train (one finished meanwhile by another sweep is not) and the locks by path."""
        mine, locks = [], {}
        for config, seed in jobs:
            path = record_path(Path(root), profile, dataset, model, config, seed)
            lock = RunLock(path)
            if not lock.acquire():
                self.busy.append((config, seed, lock.owner().get("pid")))
                continue
            locks[path] = lock
            if not usable(path):
                mine.append((config, seed))
        return mine, locks


def _max_epochs(entry: registry.ModelEntry, prof: Profile) -> int:
    """The profile's epoch cap; a NumPy baseline's own iteration cap outside ``smoke``."""
    if entry.max_iter is not None and prof.name != "smoke":
        return entry.max_iter
    return prof.max_epochs_ranking if entry.task == "ranking" else prof.max_epochs_rating


def fit_config(
    split,
    model: str,
    config: dict,
    seed: int = 0,
    *,
    max_epochs: int | None = None,
    patience: int = 5,
) -> FitResult:
    """Train ``model`` from a configuration dict; returns the trainer's ``FitResult`` (with the
    parameters, which records do not keep). ``max_epochs`` defaults to the ``book`` profile's."""
    entry = registry.get(model)
    max_epochs = max_epochs or _max_epochs(entry, get_profile("book"))
    return entry.fit(split, dict(config), int(seed), int(max_epochs), int(patience))


def to_record(
    split, model: str, config: dict, seed: int, profile: str, result: FitResult, env: dict[str, Any]
) -> Record:
    """A trained model's record: its test metrics (ranking candidates drawn once from
    ``seed``; with ``protocol=full`` also the full-ranking ones), and inference seconds
    measured on a second, already compiled evaluation of the paper's metrics."""
    spec = result.spec
    candidates = metrics.sample_candidates(split, "test", seed) if spec.task == "ranking" else None
    metrics.evaluate(spec, result.params, split, "test", candidates=candidates)  # compile first
    start = time.perf_counter()
    test = metrics.evaluate(spec, result.params, split, "test", candidates=candidates)
    inference = time.perf_counter() - start
    if config.get("protocol") == "full":
        test.update(metrics.full_ranking_metrics(spec, result.params, split, "test"))
    return Record(
        dataset=split.dataset,
        model=model,
        config=dict(config),
        seed=int(seed),
        profile=profile,
        validation=dict(result.validation),
        test=test,
        epochs=result.epochs,
        best_epoch=result.best_epoch,
        train_seconds=result.train_seconds,
        inference_seconds=inference,
        history=result.history.to_dict(orient="list"),
        verified=split.verified,
        environment=env,
    )


def _available_bytes() -> int | None:
    """Memory free for a new run: the accelerator's unused memory, or the host's available
    memory (``MemAvailable``); None when this platform does not say."""
    if jax.default_backend() != "cpu":
        stats = jax.devices()[0].memory_stats() or {}
        if "bytes_limit" in stats:
            return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
        return None
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def _parameter_counts(spec, n_users: int, n_items: int) -> dict[str, tuple[int, str]]:
    """Float32 parameters per side of a gradient model from its spec's configuration, with the
    largest array's shape: a hierarchy's connection logits ``n x m_1``, ``m_1 x m_2``, ... and
    root embeddings; prototypes and embeddings ``x dim``. (Small extras - NeuMF's layers, biases
    - are left out: this is a lower bound, to refuse what cannot fit.)"""
    config = spec.config or {}
    dim = int(config.get("dim", 20))
    out = {}
    for side, n in (("user", n_users), ("item", n_items)):
        clusters = config.get(f"{side}_clusters")
        if clusters is not None:
            sizes = (n, *(int(m) for m in clusters))
            arrays = [(a, b) for a, b in zip(sizes, sizes[1:])] + [(sizes[-1], dim)]
        else:
            arrays = [(n, dim)]
            if config.get(f"{side}_prototypes"):
                arrays.append((int(config[f"{side}_prototypes"]), dim))
        largest = max(arrays, key=lambda s: s[0] * s[1])
        out[side] = (sum(a * b for a, b in arrays), f"{largest[0]} x {largest[1]}")
    return out


def check_memory(split, model: str, config: dict, members: int = 1) -> None:
    """Refuse a gradient model whose parameters cannot fit, before anything is allocated:
    training holds at least four float32 copies (parameters, AdamW's two moments, a gradient)
    of every parameter, for each of ``members`` runs trained together."""
    entry = registry.get(model)
    if entry.trainer != "gradient":
        return
    counts = _parameter_counts(registry.gradient_spec(model, config), split.n_users, split.n_items)
    total = 4 * sum(n for n, _ in counts.values())
    need = total * _COPIES * int(members)
    available = _available_bytes()
    if available is None or need <= available:
        return
    side, (n, shape) = max(counts.items(), key=lambda kv: kv[1][0])
    settings = ", ".join(f"{k}={v}" for k, v in config.items())
    raise UsageError(
        f"{model} on {split.dataset} ({settings}) needs at least {_gb(need)} to train "
        f"({_gb(total)} of parameters, the largest the {side} side's {shape} float32 array, "
        f"kept {_COPIES} times), more than the {_gb(available)} of memory available; expected "
        f"a smaller configuration (the data set has {split.n_users} users and "
        f"{split.n_items} items)"
    )


def run_one(
    split,
    model: str,
    config: dict[str, Any],
    seed: int,
    *,
    profile: str = "book",
    max_epochs: int | None = None,
    patience: int | None = None,
) -> Record:
    """Train ``model`` with ``config`` and ``seed`` on ``split``; return its record (not saved)."""
    entry, prof = registry.get(model), get_profile(profile)
    entry.check_config(config)
    check_memory(split, model, config)
    max_epochs, patience = max_epochs or _max_epochs(entry, prof), patience or prof.patience
    result = entry.fit(split, dict(config), int(seed), int(max_epochs), int(patience))
    record = to_record(split, model, config, seed, profile, result, environment())
    problem = divergence(record)
    if problem:
        settings = ", ".join(f"{k}={v}" for k, v in config.items())
        raise TrainingDiverged(f"{model} on {split.dataset} ({settings}, seed {seed}): {problem}")
    return record


def divergence(record: Record) -> str | None:
    """Why a freshly trained record is a failed run - a validation or test metric that is NaN
    or infinite, i.e. training diverged - or None when every metric is finite."""
    bad = [
        f"{part} {name} is {value}"
        for part in ("validation", "test")
        for name, value in getattr(record, part).items()
        if not math.isfinite(value)
    ]
    if not bad:
        return None
    losses = record.history.get("train_loss", [])
    first = next((i + 1 for i, v in enumerate(losses) if not math.isfinite(v)), None)
    where = f"; the training loss is {losses[first - 1]} from epoch {first}" if first else ""
    hint = " - try a smaller learning rate" if "lr" in record.config else ""
    return f"training diverged ({', '.join(bad)}{where}); no record written{hint}"


def shape_key(config: dict[str, Any]) -> str:
    """What runs trained together share: the configuration less lr and decay (the parameter
    shapes), and the optimizer (one program steps them all)."""
    rest = config_key({k: v for k, v in config.items() if k not in registry.OPTIMISER_KEYS})
    return f"{rest}_{config.get('optimizer', registry.OPTIONAL_KEYS['optimizer'])}"


def run_group(
    split,
    model: str,
    jobs: list[Job],
    *,
    profile: str = "book",
    max_epochs: int | None = None,
    patience: int | None = None,
) -> list[Record]:
    """:func:`run_one` for every ``(config, seed)`` of ``jobs`` at once (vectorised; the
    configurations must differ only in ``lr`` / ``weight_decay``); records in ``jobs`` order.

    Same record format as :func:`run_one`; ``train_seconds`` is each run's share of the group's
    wall time (see :mod:`hmf.vectorized`).
    """
    entry, prof = registry.get(model), get_profile(profile)
    if not entry.vectorizes:
        vectorizable = ", ".join(n for n, e in registry.MODELS.items() if e.vectorizes)
        raise UsageError(
            f"{model!r} is not trained by hmf.train: cannot vectorise it "
            f"(vectorisable: {vectorizable})"
        )
    if not jobs:
        return []
    shapes = {shape_key(c) for c, _ in jobs}
    if len(shapes) != 1:
        raise UsageError(f"a vectorised group needs one model shape, got {sorted(shapes)}")
    for config, _ in jobs:
        entry.check_config(config)
    check_memory(split, model, jobs[0][0], members=len(jobs))
    members = [Member(float(c["lr"]), float(c["weight_decay"]), int(s)) for c, s in jobs]
    results = fit_many(
        registry.gradient_spec(model, jobs[0][0]),
        split,
        members,
        max_epochs=int(max_epochs or _max_epochs(entry, prof)),
        patience=int(patience or jobs[0][0].get("patience", prof.patience)),
        optimizer=jobs[0][0].get("optimizer", registry.OPTIONAL_KEYS["optimizer"]),
    )
    env = environment()
    return [
        to_record(split, model, config, seed, profile, result, env)
        for (config, seed), result in zip(jobs, results)
    ]


def _vectorizes(model: str, jobs: list[Job]) -> bool:
    """Whether ``jobs`` can train as vectorised groups: a gradient model, and no retrain run
    (:func:`hmf.vectorized.fit_many` knows only the early-stopping protocol)."""
    return registry.get(model).vectorizes and not any("retrain_epochs" in c for c, _ in jobs)


def run_chunk(
    split, model: str, chunk: list[Job], profile: str, vectorize: bool
) -> tuple[list[Record], list[tuple[dict, int, str]]]:
    """One chunk of :func:`plan_chunks` (one vectorised group, or one run): the records of the
    runs that finished, and ``(config, seed, reason)`` for each run that diverged."""
    records, failures = [], []
    if vectorize and _vectorizes(model, chunk):
        for (config, seed), record in zip(chunk, run_group(split, model, chunk, profile=profile)):
            problem = divergence(record)
            if problem:
                failures.append((config, seed, problem))
            else:
                records.append(record)
        return records, failures
    for config, seed in chunk:
        try:
            records.append(run_one(split, model, config, seed, profile=profile))
        except TrainingDiverged as exc:
            failures.append((config, seed, str(exc)))
    return records, failures


def plan_chunks(
    model: str,
    jobs: list[Job],
    *,
    vectorize: bool = True,
    parts: int = 1,
    max_members: int | None = None,
) -> list[list[Job]]:
    """The jobs as units of work: one run each, or (``vectorize`` and a gradient model) groups
    of one model shape, ordered by (lr, decay, seed) so members that stop at similar epochs
    share a batch, split into chunks of at most ``max_members`` and further until there are at
    least ``parts`` chunks (one per worker)."""
    if not (vectorize and _vectorizes(model, jobs)):
        return [[job] for job in jobs]
    groups: dict[str, list] = {}
    for config, seed in jobs:
        groups.setdefault(shape_key(config), []).append((config, seed))
    ordered = [
        sorted(g, key=lambda j: (-float(j[0]["lr"]), -float(j[0]["weight_decay"]), j[1]))
        for g in groups.values()
    ]
    size = max_members or max(len(g) for g in ordered)
    if len(ordered) < parts:  # too few shapes to keep every worker busy: split them
        size = min(size, -(-sum(len(g) for g in ordered) // parts))
    size = max(1, size)
    chunks = []
    for g in ordered:
        n = -(-len(g) // size)
        step = -(-len(g) // n)
        chunks += [g[i : i + step] for i in range(0, len(g), step)]
    return chunks
