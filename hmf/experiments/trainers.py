"""One configuration -> one record: the single path every ``hmf train`` and sweep run takes.

:func:`run_one` trains a configuration with its registry entry's trainer and builds the
:class:`~hmf.experiments.records.Record`; :func:`run_group` does the same for runs of one
gradient model shape at once (``jax.vmap``, :func:`hmf.vectorized.fit_many`);
:func:`plan_chunks` says which runs go together.
"""

from __future__ import annotations

import time
from typing import Any

from hmf import metrics, registry
from hmf.errors import UsageError
from hmf.experiments.records import Record, config_key, environment
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
]

Job = tuple[dict, int]  # (configuration, seed)


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
    return entry.fit(
        split,
        dict(config),
        int(seed),
        int(max_epochs or _max_epochs(entry, get_profile("book"))),
        int(patience),
    )


def to_record(
    split, model: str, config: dict, seed: int, profile: str, result: FitResult, env: dict[str, Any]
) -> Record:
    """A trained model's record: its test metrics (ranking candidates drawn once from
    ``seed``), and inference seconds measured on a second, already compiled evaluation."""
    spec = result.spec
    candidates = metrics.sample_candidates(split, "test", seed) if spec.task == "ranking" else None
    metrics.evaluate(spec, result.params, split, "test", candidates=candidates)  # compile first
    start = time.perf_counter()
    test = metrics.evaluate(spec, result.params, split, "test", candidates=candidates)
    inference = time.perf_counter() - start
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
    result = entry.fit(
        split,
        dict(config),
        int(seed),
        int(max_epochs or _max_epochs(entry, prof)),
        int(patience or prof.patience),
    )
    return to_record(split, model, config, seed, profile, result, environment())


def shape_key(config: dict[str, Any]) -> str:
    """What fixes a gradient model's parameter shapes: its configuration less lr and decay."""
    return config_key({k: v for k, v in config.items() if k not in registry.OPTIMISER_KEYS})


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
    members = [Member(float(c["lr"]), float(c["weight_decay"]), int(s)) for c, s in jobs]
    results = fit_many(
        registry.gradient_spec(model, jobs[0][0]),
        split,
        members,
        max_epochs=int(max_epochs or _max_epochs(entry, prof)),
        patience=int(patience or prof.patience),
    )
    env = environment()
    return [
        to_record(split, model, config, seed, profile, result, env)
        for (config, seed), result in zip(jobs, results)
    ]


def run_chunk(split, model: str, chunk: list[Job], profile: str, vectorize: bool) -> list[Record]:
    """The records of one chunk of :func:`plan_chunks`: one vectorised group, or one run."""
    if vectorize and registry.get(model).vectorizes:
        return run_group(split, model, chunk, profile=profile)
    return [run_one(split, model, config, seed, profile=profile) for config, seed in chunk]


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
    if not (vectorize and registry.get(model).vectorizes):
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
