"""Running configurations: one run -> one record; a sweep = data set x model x grid x seeds.

``run_one`` is the single path from (split, model name, configuration, seed) to a
:class:`~hmf.experiments.records.Record`; ``hmf train`` and ``hmf sweep`` both use it.
A sweep skips every run whose record exists (so an interrupted sweep resumes), runs the rest in
worker processes (one per core by default; each JAX process then runs single-threaded, which is
faster on small models than sharing cores), and shows a progress bar with time left.

Two optional paths, off by default (the default path and the records are unchanged):

* ``vectorize=True`` trains the runs of a gradient model that share parameter shapes (same
  cluster counts and depth) together, ``jax.vmap``-ed over learning rate, weight decay and seed
  (:func:`hmf.vectorized.fit_many`); each group (or chunk of one) is one job.
* ``scheduler="tcp://host:8786"`` hands the jobs to a Dask cluster (:mod:`hmf.experiments.distributed`);
  the workers return records and this process writes them, so the cluster needs the package and
  the data, not the results directory.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Iterable

from hmf.errors import UsageError
from hmf.experiments.records import Record, config_key, environment, record_path, write_record

__all__ = ["TRAINERS", "RunOutcome", "fit_config", "run_one", "run_group", "run_plan", "sweep",
           "ensure_records", "default_results_dir", "VECTORIZABLE"]


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    validation: dict[str, float]
    test: dict[str, float]
    epochs: int
    best_epoch: int
    history: dict[str, list]
    train_seconds: float
    inference_seconds: float


Trainer = Callable[..., RunOutcome]  # (split, config, seed, max_epochs, patience) -> outcome


def default_results_dir() -> Path:
    """``$HMF_RESULTS_DIR``, else ``results/`` at the repository root (committed records)."""
    configured = os.environ.get("HMF_RESULTS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "results"


_OPTIMISER_KEYS = ("lr", "weight_decay")


def _gradient_spec(model: str, config: dict[str, Any]):
    """The model spec a configuration describes (``*_clusters`` are level-1 counts)."""
    from hmf.models import halving_clusters, make_model

    extra = {k: v for k, v in config.items() if k not in _OPTIMISER_KEYS}
    for side in ("user", "item"):
        depth = int(extra.pop(f"{side}_depth", 1))
        if f"{side}_clusters" in extra:
            extra[f"{side}_clusters"] = halving_clusters(int(extra[f"{side}_clusters"]), depth)
        elif depth != 1:
            raise UsageError(f"{side}_depth given without {side}_clusters for {model!r}")
    try:
        return make_model(model, **extra)
    except TypeError as exc:  # a hyper-parameter the model does not have
        raise UsageError(f"configuration {config} does not fit model {model!r}: {exc}") from None


def fit_config(split, model: str, config: dict, seed: int = 0, *, max_epochs: int | None = None,
               patience: int = 5):
    """Train a gradient model from a configuration dict; returns the trainer's ``FitResult``
    (with the parameters, which records do not keep)."""
    from hmf.train import fit

    for required in _OPTIMISER_KEYS:
        if required not in config:
            raise UsageError(f"configuration of {model!r} needs {required!r}, got {sorted(config)}")
    spec = _gradient_spec(model, config)
    return fit(spec, split, lr=float(config["lr"]), weight_decay=float(config["weight_decay"]),
               seed=seed, max_epochs=max_epochs, patience=patience)


def outcome(result, split, seed: int) -> RunOutcome:
    """A trained model's record fields: its test metrics (ranking candidates drawn once from
    ``seed``), and inference seconds measured on a second, already compiled evaluation."""
    from hmf import metrics

    spec = result.spec
    candidates = metrics.sample_candidates(split, "test", seed) if spec.task == "ranking" else None
    metrics.evaluate(spec, result.params, split, "test", candidates=candidates)  # compile first
    start = time.perf_counter()
    test = metrics.evaluate(spec, result.params, split, "test", candidates=candidates)
    inference = time.perf_counter() - start
    return RunOutcome(
        validation=dict(result.validation), test=test, epochs=result.epochs,
        best_epoch=result.best_epoch, history=result.history.to_dict(orient="list"),
        train_seconds=result.train_seconds, inference_seconds=inference,
    )  # fmt: skip


def _train_gradient(model: str, split, config: dict, seed: int, max_epochs: int, patience: int) -> RunOutcome:
    result = fit_config(split, model, config, seed, max_epochs=max_epochs, patience=patience)
    return outcome(result, split, seed)


# Iteration caps of the NumPy baselines: IHSR's is Table 2's; eTREE's is its authors' code's
# (Table 2 gives none). The epoch caps of the profiles are for the gradient models.
NUMPY_MAX_ITER = {"ihsr": 64, "etree": 1000}


def _train_numpy(model: str, split, config: dict, seed: int, max_epochs: int, patience: int) -> RunOutcome:
    """IHSR and eTREE: NumPy fits with their own update rules, evaluated by the same metrics."""
    from hmf.models import etree, ihsr

    max_iter = min(max_epochs, NUMPY_MAX_ITER[model])
    if model == "ihsr":
        result = ihsr.fit_ihsr(split, lam=float(config["lam"]), user_clusters=int(config["user_clusters"]),
                               item_clusters=int(config["item_clusters"]), seed=seed,
                               max_iter=max_iter, patience=patience)
    else:
        levels = tuple(int(x) for x in config["item_levels"])
        result = etree.fit_etree(split, item_levels=levels, lam=float(config["lam"]),
                                 mu=float(config["mu"]), eta=float(config.get("eta", 1000.0)),
                                 seed=seed, max_iter=max_iter, patience=patience)
    return outcome(result, split, seed)


def _train_reference(model: str, split, config: dict, seed: int, max_epochs: int, patience: int) -> RunOutcome:
    """The outside reference (Cornac's SGD MF, biased or not): an extra row, not a baseline."""
    from hmf.models.reference import run_reference

    return run_reference(model, split, config, seed, max_epochs, patience)


TRAINERS: dict[str, Trainer] = {
    **{name: functools.partial(_train_gradient, name)
       for name in ("mf", "hmf", "bpr-mf", "bpr-hmf", "neumf", "protomf")},
    **{name: functools.partial(_train_numpy, name) for name in ("ihsr", "etree")},
    **{name: functools.partial(_train_reference, name) for name in ("ref-mf-biased", "ref-mf")},
}


def _task(model: str) -> str:
    return "ranking" if model in RANKING_MODELS else "rating"


RANKING_MODELS = {"bpr-mf", "bpr-hmf", "neumf", "protomf"}


def run_one(split, model: str, config: dict[str, Any], seed: int, *, profile: str = "book",
            max_epochs: int | None = None, patience: int | None = None) -> Record:
    """Train ``model`` with ``config`` and ``seed`` on ``split``; return its record (not saved)."""
    from hmf.profiles import get_profile

    if model not in TRAINERS:
        raise UsageError(f"unknown model {model!r}: expected one of {', '.join(TRAINERS)}")
    prof = get_profile(profile)
    if max_epochs is None and model in NUMPY_MAX_ITER:
        max_epochs = NUMPY_MAX_ITER[model] if prof.name != "smoke" else prof.max_epochs_rating
    elif max_epochs is None:
        max_epochs = prof.max_epochs_ranking if _task(model) == "ranking" else prof.max_epochs_rating
    outcome = TRAINERS[model](split, dict(config), int(seed), int(max_epochs),
                              int(patience or prof.patience))
    return Record(
        dataset=split.dataset, model=model, config=dict(config), seed=int(seed), profile=profile,
        validation=outcome.validation, test=outcome.test, epochs=outcome.epochs,
        best_epoch=outcome.best_epoch, train_seconds=outcome.train_seconds,
        inference_seconds=outcome.inference_seconds, history=outcome.history,
        verified=split.verified, environment=environment(),
    )  # fmt: skip


# -- vectorised groups ----------------------------------------------------------------------

VECTORIZABLE = {"mf", "hmf", "bpr-mf", "bpr-hmf", "neumf", "protomf"}  # one trainer: hmf.train


def shape_key(config: dict[str, Any]) -> str:
    """What fixes a gradient model's parameter shapes: its configuration less lr and decay."""
    return config_key({k: v for k, v in config.items() if k not in _OPTIMISER_KEYS})


def run_group(split, model: str, jobs: list[tuple[dict, int]], *, profile: str = "book",
              max_epochs: int | None = None, patience: int | None = None) -> list[Record]:
    """:func:`run_one` for every ``(config, seed)`` of ``jobs`` at once (vectorised; the
    configurations must differ only in ``lr`` / ``weight_decay``); records in ``jobs`` order.

    Same record format as :func:`run_one`; ``train_seconds`` is each run's share of the group's
    wall time (see :mod:`hmf.vectorized`).
    """
    from hmf.profiles import get_profile
    from hmf.vectorized import Member, fit_many

    if model not in VECTORIZABLE:
        raise UsageError(f"{model!r} is not trained by hmf.train: cannot vectorise it "
                         f"(vectorisable: {', '.join(sorted(VECTORIZABLE))})")
    if not jobs:
        return []
    shapes = {shape_key(c) for c, _ in jobs}
    if len(shapes) != 1:
        raise UsageError(f"a vectorised group needs one model shape, got {sorted(shapes)}")
    for config, _ in jobs:
        for required in _OPTIMISER_KEYS:
            if required not in config:
                raise UsageError(f"configuration of {model!r} needs {required!r}, got {sorted(config)}")
    prof = get_profile(profile)
    if max_epochs is None:
        max_epochs = prof.max_epochs_ranking if _task(model) == "ranking" else prof.max_epochs_rating
    spec = _gradient_spec(model, jobs[0][0])
    members = [Member(float(c["lr"]), float(c["weight_decay"]), int(s)) for c, s in jobs]
    results = fit_many(spec, split, members, max_epochs=int(max_epochs),
                       patience=int(patience or prof.patience))
    env = environment()
    records = []
    for (config, seed), result in zip(jobs, results):
        out = outcome(result, split, int(seed))
        records.append(Record(
            dataset=split.dataset, model=model, config=dict(config), seed=int(seed), profile=profile,
            validation=out.validation, test=out.test, epochs=out.epochs,
            best_epoch=out.best_epoch, train_seconds=out.train_seconds,
            inference_seconds=out.inference_seconds, history=out.history,
            verified=split.verified, environment=env,
        ))  # fmt: skip
    return records


def vectorized_jobs(model: str, jobs: list[tuple[dict, int]], *, parts: int = 1,
                    max_members: int | None = None) -> list[list[tuple[dict, int]]]:
    """Group ``(config, seed)`` jobs by model shape, ordered by (lr, decay, seed) so members
    that stop at similar epochs share a batch; split groups into chunks of at most
    ``max_members``, and further until there are at least ``parts`` chunks (one per worker)."""
    if model not in VECTORIZABLE:
        return [[job] for job in jobs]
    groups: dict[str, list] = {}
    for config, seed in jobs:
        groups.setdefault(shape_key(config), []).append((config, seed))
    ordered = [sorted(g, key=lambda j: (-float(j[0]["lr"]), -float(j[0]["weight_decay"]), j[1]))
               for g in groups.values()]
    size = max_members or max(len(g) for g in ordered)
    if len(ordered) < parts:  # too few shapes to keep every worker busy: split them
        size = min(size, -(-sum(len(g) for g in ordered) // parts))
    size = max(1, size)
    chunks = []
    for g in ordered:
        n = -(-len(g) // size)
        step = -(-len(g) // n)
        chunks += [g[i:i + step] for i in range(0, len(g), step)]
    return chunks


# -- sweeps ---------------------------------------------------------------------------------

_SPLITS: dict[tuple, Any] = {}


def _split_for(dataset: str, data_dir: str | None):
    """Per-process cache: a worker loads and splits each data set once."""
    from hmf.split import load_split

    key = (dataset, data_dir)
    if key not in _SPLITS:
        _SPLITS[key] = load_split(dataset, data_dir)
    return _SPLITS[key]


def _worker_init() -> None:
    # One XLA thread per process: with as many processes as cores this beats sharing them.
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               " --xla_cpu_multi_thread_eigen=false")


def _run_and_write(root: str, dataset: str, data_dir: str | None, model: str, config: dict,
                   seed: int, profile: str) -> str:
    split = _split_for(dataset, data_dir)
    record = run_one(split, model, config, seed, profile=profile)
    return str(write_record(Path(root), record))


def _run_group_and_write(root: str, dataset: str, data_dir: str | None, model: str,
                         jobs: list, profile: str) -> list[str]:
    split = _split_for(dataset, data_dir)
    return [str(write_record(Path(root), r)) for r in run_group(split, model, jobs, profile=profile)]


def _on_accelerator() -> bool:
    """Whether JAX trains on a GPU or TPU in this process."""
    import jax

    return jax.default_backend() != "cpu"


def sweep(dataset: str, model: str, grid: Iterable[dict], seeds: Iterable[int], *,
          profile: str, root: Path | None = None, data_dir: str | None = None,
          workers: int | None = None, progress: bool = True, vectorize: bool = False,
          scheduler: str | None = None, max_members: int | None = None) -> list[Path]:
    """Run every (configuration, seed) whose record is missing; return all record paths.

    ``vectorize``: train runs of one model shape together (:func:`run_group`; models outside
    :data:`VECTORIZABLE` run one at a time); on a GPU in one process unless ``workers`` says
    otherwise, on a CPU in one process per core. ``scheduler``: a Dask scheduler address; the runs go
    to that cluster instead of local processes. ``max_members``: cap on a vectorised batch.
    """
    import sys

    from tqdm import tqdm

    # A bar for people at a terminal; none in notebooks and logs, where it is only noise.
    progress = progress and sys.stderr.isatty()
    root = Path(root or default_results_dir())
    jobs, paths = [], []
    for config in grid:
        for seed in seeds:
            path = record_path(root, profile, dataset, model, config, seed)
            paths.append(path)
            if not path.exists():
                jobs.append((config, seed))
    if not jobs:
        return paths
    if scheduler is not None:
        from hmf.experiments.distributed import run_on_cluster

        run_on_cluster(scheduler, root, dataset, data_dir, model, jobs, profile,
                       vectorize=vectorize, max_members=max_members, progress=progress)
        return paths
    if vectorize and model in VECTORIZABLE:
        # One process per accelerator: several would each claim most of the GPU's memory.
        default = 1 if _on_accelerator() else os.cpu_count() or 1
        workers = max(1, workers or default)
        chunks = vectorized_jobs(model, jobs, parts=workers, max_members=max_members)
        workers = min(workers, len(chunks))
        bar = tqdm(total=len(jobs), desc=f"{dataset} {model} (vectorised)", unit="run",
                   disable=not progress)
        try:
            if workers == 1:
                for chunk in chunks:
                    _run_group_and_write(str(root), dataset, data_dir, model, chunk, profile)
                    bar.update(len(chunk))
            else:
                import multiprocessing

                context = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
                    futures = {pool.submit(_run_group_and_write, str(root), dataset, data_dir,
                                           model, chunk, profile): len(chunk) for chunk in chunks}
                    for future in as_completed(futures):
                        future.result()
                        bar.update(futures[future])
        finally:
            bar.close()
        return paths
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    bar = tqdm(total=len(jobs), desc=f"{dataset} {model}", unit="run", disable=not progress)
    try:
        if workers == 1:
            for config, seed in jobs:
                _run_and_write(str(root), dataset, data_dir, model, config, seed, profile)
                bar.update()
        else:
            import multiprocessing

            context = multiprocessing.get_context("spawn")  # JAX is not fork-safe
            with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
                futures = [pool.submit(_run_and_write, str(root), dataset, data_dir, model, c, s, profile)
                           for c, s in jobs]
                for future in as_completed(futures):
                    future.result()
                    bar.update()
    finally:
        bar.close()
    return paths


def study_configs(study: str, profile: str, dataset: str, model: str, split, root: Path) -> list[dict] | None:
    """The configurations a study runs: ``accuracy`` = the profile's grid (Table 3); ``depth`` =
    the depth grid of Table 6 built on the accuracy records' depth-one selection (None while
    those records do not exist)."""
    from hmf.experiments.grids import depth_grid, grid
    from hmf.experiments.records import STUDIES, load_records
    from hmf.experiments.selection import selected_config

    if study not in STUDIES:
        raise UsageError(f"unknown study {study!r}: expected one of {', '.join(STUDIES)}")
    if model not in TRAINERS:
        raise UsageError(f"unknown model {model!r}: expected one of {', '.join(TRAINERS)}")
    configs = grid(profile, model, split.n_users, split.n_items, dataset=dataset)
    if study == "accuracy":
        return configs
    keys = {config_key(c) for c in configs}
    base_records = [r for r in load_records(root, profile, dataset, model) if r.key in keys]
    metric = "hit_ratio@10" if _task(model) == "ranking" else "rmse"
    base = selected_config(base_records, dataset, model, metric)
    return None if base is None else depth_grid(profile, model, base, dataset=dataset)


def run_plan(datasets: Iterable[str], models: Iterable[str], profile: str, *,
             root: Path | None = None, data_dir: str | None = None, workers: int | None = None,
             progress: bool = True, study: str = "accuracy", vectorize: bool = False,
             scheduler: str | None = None, max_members: int | None = None,
             seeds: Iterable[int] | None = None) -> list[Path]:
    """Sweep a study's configurations and the profile's seeds for every (data set, model)
    (``vectorize`` / ``scheduler`` / ``max_members``: see :func:`sweep`). ``seeds``: a subset
    of the profile's seeds (a benchmark timing part of a sweep); every seed by default."""
    from hmf.profiles import get_profile

    prof = get_profile(profile)
    if seeds is None:
        seeds = prof.seeds
    else:
        seeds = list(seeds)
        if not seeds or not set(seeds) <= set(prof.seeds):
            raise UsageError(f"seeds {seeds}: expected a non-empty subset of the {profile} "
                             f"profile's seeds {list(prof.seeds)}")
    root = Path(root or default_results_dir())
    paths: list[Path] = []
    for dataset in datasets:
        split = _split_for(dataset, data_dir)
        for model in models:
            configs = study_configs(study, profile, dataset, model, split, root)
            if configs is None:
                raise UsageError(f"the {study} study of {model} on {dataset} needs its accuracy "
                                 f"records first: hmf sweep --profile {profile} --dataset "
                                 f"{dataset} --model {model}")
            paths += sweep(dataset, model, configs, seeds, profile=profile, root=root,
                           data_dir=data_dir, workers=workers, progress=progress,
                           vectorize=vectorize, scheduler=scheduler, max_members=max_members)
    return paths


def run_missing_default(profile: str) -> bool:
    """Whether chapters train what has no record: ``$HMF_RUN_MISSING`` (1/0), else only under
    ``smoke`` - the ``book`` and ``paper`` records come from ``hmf sweep`` (hours, resumable),
    so that building the book stays a matter of minutes."""
    flag = os.environ.get("HMF_RUN_MISSING")
    if flag is not None:
        return flag.strip().lower() in ("1", "true", "yes")
    return profile == "smoke"


def ensure_records(datasets: Iterable[str], models: Iterable[str], profile: str | None = None, *,
                   root: Path | None = None, data_dir: str | None = None,
                   workers: int | None = None, progress: bool = True,
                   run_missing: bool | None = None, study: str = "accuracy"):
    """Records of a study's configurations for every (data set, model), training what is
    missing when ``run_missing`` (default: :func:`run_missing_default`).

    Only records of the study's configurations are returned, so one study's runs never leak
    into another's table. Returns ``(records, missing)`` with ``{dataset: reason}`` for data
    sets not available here (skipped, not an error, so a chapter still builds).
    """
    from hmf.data import DataError
    from hmf.experiments.records import load_records
    from hmf.profiles import current_profile, get_profile

    prof = get_profile(profile) if profile else current_profile()
    root = Path(root or default_results_dir())
    if run_missing is None:
        run_missing = run_missing_default(prof.name)
    records, missing = [], {}
    for dataset in datasets:
        try:
            split = _split_for(dataset, data_dir)
        except DataError as exc:
            missing[dataset] = " ".join(str(exc).split())
            continue
        for model in models:
            if study == "depth" and run_missing:  # the depth grid builds on accuracy records
                ensure_records([dataset], [model], prof.name, root=root, data_dir=data_dir,
                               workers=workers, progress=progress, run_missing=True)
            configs = study_configs(study, prof.name, dataset, model, split, root) or []
            if run_missing and configs:
                sweep(dataset, model, configs, prof.seeds, profile=prof.name, root=root,
                      data_dir=data_dir, workers=workers, progress=progress)
            keys = {config_key(c) for c in configs}
            records += [r for r in load_records(root, prof.name, dataset, model) if r.key in keys]
    return records, missing
