"""Studies: which configurations a chapter needs (Table 3's grids, Table 6's depths, and ours:
the ranking models' selections under both ranking protocols), sweeping them for a command,
or collecting their records for a chapter (training what is missing only where the profile
says so)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from hmf import registry
from hmf.data import DataError
from hmf.errors import RunsFailed, UsageError
from hmf.experiments.execution import check_reuse, sweep
from hmf.experiments.grids import (
    beyond_grid,
    beyond_questions,
    depth_grid,
    grid,
)
from hmf.experiments.records import STUDIES, config_key, default_results_dir, load_records
from hmf.experiments.selection import selected_config
from hmf.profiles import current_profile, get_profile
from hmf.split import split_for
from hmf.train import OPTIMIZERS

__all__ = ["study_configs", "check_study", "run_plan", "ensure_records", "run_missing_default"]

_DEPTH_KEYS = ("user_depth", "item_depth")


def check_study(study: str, model: str) -> None:
    """Refuse an unknown study, the depth study (Table 6) for a model without a hierarchy, or
    the full-ranking study for a rating model."""
    if study not in STUDIES:
        raise UsageError(f"unknown study {study!r}: expected one of {', '.join(STUDIES)}")
    entry = registry.get(model)
    if study == "beyond" and not beyond_questions("book", model, {"lr": 0.0}, dataset=""):
        asked = [m for m in registry.MODELS if beyond_questions("book", m, {"lr": 0.0}, dataset="")]
        raise UsageError(
            f"the beyond-the-paper study asks nothing of {model!r}: expected one of "
            f"{', '.join(asked)}"
        )
    if study == "retrain" and "retrain_epochs" not in entry.keys:
        able = [m for m, e in registry.MODELS.items() if "retrain_epochs" in e.keys]
        raise UsageError(
            f"the retrain protocol is run for gradient rating models, not {model!r}: expected "
            f"one of {', '.join(able)}"
        )
    if study == "full-ranking" and entry.task != "ranking":
        raise UsageError(
            f"the full-ranking study ranks items, which rating model {model!r} does not: "
            f"expected one of {', '.join(registry.RANKING_METHODS + registry.RANKING_BASELINES)}"
        )
    if study == "depth" and not set(_DEPTH_KEYS) <= set(entry.keys):
        deep = [name for name, e in registry.MODELS.items() if set(_DEPTH_KEYS) <= set(e.keys)]
        raise UsageError(
            f"the depth study (Table 6) varies the depth of the cluster hierarchies, which "
            f"{model!r} does not have: expected one of {', '.join(deep)}"
        )


def check_optimizer(optimizer: str | None, model: str) -> None:
    """Refuse an unknown optimizer, or the row-lazy one for a model it cannot update."""
    if optimizer is None:
        return
    if optimizer not in OPTIMIZERS:
        raise UsageError(f"--optimizer {optimizer!r}: expected one of {', '.join(OPTIMIZERS)}")
    lazy = [name for name, e in registry.MODELS.items() if "optimizer" in e.keys]
    if optimizer != registry.OPTIONAL_KEYS["optimizer"] and model not in lazy:
        raise UsageError(
            f"--optimizer {optimizer}: {model!r} trains with the dense adamw only; the lazy "
            f"optimizer applies to {', '.join(lazy)}"
        )


def study_configs(
    study: str, profile: str, dataset: str, model: str, split, root: Path
) -> list[dict] | None:
    """The configurations a study runs: ``accuracy`` = the profile's grid (Table 3); ``depth`` =
    the depth grid of Table 6 built on the accuracy records' depth-one selection (None while
    those records do not exist); ``full-ranking`` = the accuracy records' selection of a paper
    model (None while they do not exist), or a ranking baseline's whole grid, each with
    ``protocol=full`` (test metrics of both protocols); ``beyond`` = the questions beyond the
    paper around the accuracy selection (:func:`~hmf.experiments.grids.beyond_questions`);
    ``retrain`` = the accuracy selection retrained on training + validation for its seeds' mean
    best epoch (the authors' code's test protocol)."""
    check_study(study, model)
    entry = registry.get(model)
    configs = grid(profile, model, split.n_users, split.n_items, dataset=dataset)
    if study == "accuracy":
        return configs
    if study == "full-ranking" and not entry.in_paper:
        return [dict(c, protocol="full") for c in configs]
    keys = {config_key(c) for c in configs}
    base_records = [r for r in load_records(root, profile, dataset, model) if r.key in keys]
    metric = "hit_ratio@10" if entry.task == "ranking" else "rmse"
    base = selected_config(base_records, dataset, model, metric)
    if base is None:
        return None
    if study == "full-ranking":
        return [dict(base, protocol="full")]
    if study == "beyond":
        return beyond_grid(profile, model, base, dataset=dataset)
    if study == "retrain":  # the selection's mean best epoch over its seeds
        epochs = [r.best_epoch for r in base_records if r.key == config_key(base)]
        return [dict(base, retrain_epochs=max(1, round(sum(epochs) / len(epochs))))]
    return depth_grid(profile, model, base, dataset=dataset)


def run_plan(
    datasets: Iterable[str],
    models: Iterable[str],
    profile: str,
    *,
    root: Path | None = None,
    data_dir: str | None = None,
    study: str = "accuracy",
    seeds: Iterable[int] | None = None,
    optimizer: str | None = None,
    **options,
) -> list[Path]:
    """Sweep a study's configurations and the profile's seeds for every (data set, model);
    ``options`` (workers, progress, vectorize, scheduler, max_members) go to :func:`sweep`.
    ``seeds``: a subset of the profile's seeds (a benchmark timing part of a sweep); every
    seed by default. ``optimizer``: train the missing runs with it (``"lazy-adamw"``); a run
    recorded under either optimizer counts as done (:data:`hmf.registry.EXECUTION_KEYS`).
    ``reuse`` (in ``options``): a profile whose runs count as done (:func:`sweep`)."""
    prof = get_profile(profile)
    seeds = prof.seeds if seeds is None else list(seeds)
    if not seeds or not set(seeds) <= set(prof.seeds):
        raise UsageError(
            f"seeds {seeds}: expected a non-empty subset of the {profile} "
            f"profile's seeds {list(prof.seeds)}"
        )
    root = Path(root or default_results_dir())
    datasets, models = list(datasets), list(models)
    for model in models:  # every name checked before hours of training start
        check_study(study, model)
        check_optimizer(optimizer, model)
    if options.get("reuse") is not None:
        check_reuse(profile, options["reuse"])
    paths: list[Path] = []
    failed: list[str] = []
    for dataset in datasets:
        split = split_for(dataset, data_dir)
        for model in models:
            configs = study_configs(study, profile, dataset, model, split, root)
            if configs is None:
                raise UsageError(
                    f"the {study} study of {model} on {dataset} needs its accuracy "
                    f"records first: hmf sweep --profile {profile} --dataset "
                    f"{dataset} --model {model}"
                )
            if optimizer not in (None, registry.OPTIONAL_KEYS["optimizer"]):
                configs = [dict(c, optimizer=optimizer) for c in configs]
                for config in configs:
                    registry.get(model).check_config(config)
            try:
                paths += sweep(
                    dataset,
                    model,
                    configs,
                    seeds,
                    profile=profile,
                    root=root,
                    data_dir=data_dir,
                    **options,
                )
            except RunsFailed as exc:  # the other sweeps still run; the failure is raised last
                failed.append(str(exc))
    if failed:
        raise RunsFailed("; ".join(failed))
    return paths


def run_missing_default(profile: str) -> bool:
    """Whether chapters train what has no record: ``$HMF_RUN_MISSING`` (1/0), else only under
    ``smoke`` - the ``book`` and ``paper`` records come from ``hmf sweep`` (hours, resumable),
    so that building the book stays a matter of minutes."""
    flag = os.environ.get("HMF_RUN_MISSING")
    if flag is not None:
        return flag.strip().lower() in ("1", "true", "yes")
    return profile == "smoke"


def ensure_records(
    datasets: Iterable[str],
    models: Iterable[str],
    profile: str | None = None,
    *,
    root: Path | None = None,
    data_dir: str | None = None,
    workers: int | None = None,
    progress: bool = True,
    run_missing: bool | None = None,
    study: str = "accuracy",
):
    """Records of a study's configurations for every (data set, model), training what is
    missing when ``run_missing`` (default: :func:`run_missing_default`) on the profile's
    ``train_datasets``.

    Only records of the study's configurations are returned, so one study's runs never leak
    into another's table. Returns ``(records, missing)`` with ``{dataset: reason}`` for data
    sets not available here (skipped, not an error, so a chapter still builds).
    """
    prof = get_profile(profile) if profile else current_profile()
    root = Path(root or default_results_dir())
    if run_missing is None:
        run_missing = run_missing_default(prof.name)
    records, missing = [], {}
    for dataset in datasets:
        try:
            split = split_for(dataset, data_dir)
        except DataError as exc:
            missing[dataset] = " ".join(str(exc).split())
            continue
        trains = run_missing and (prof.train_datasets is None or dataset in prof.train_datasets)
        for model in models:
            # the depth grid and the full-ranking selection build on accuracy records
            if study != "accuracy" and trains and registry.get(model).in_paper:
                ensure_records(
                    [dataset],
                    [model],
                    prof.name,
                    root=root,
                    data_dir=data_dir,
                    workers=workers,
                    progress=progress,
                    run_missing=True,
                )
            configs = study_configs(study, prof.name, dataset, model, split, root) or []
            if trains and configs:
                sweep(
                    dataset,
                    model,
                    configs,
                    prof.seeds,
                    profile=prof.name,
                    root=root,
                    data_dir=data_dir,
                    workers=workers,
                    progress=progress,
                )
            keys = {config_key(c) for c in configs}
            records += [r for r in load_records(root, prof.name, dataset, model) if r.key in keys]
    return records, missing
