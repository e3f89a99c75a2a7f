"""The cluster study: HMF's clusters measured (:mod:`hmf.clusters`) beside k-means on MF's
embeddings, IHSR's clusters and random clusterings, over the profile's seeds.

Each model is trained at the configuration the accuracy study selected (the accuracy records'
mean validation RMSE over seeds), once per seed, with the profile's epoch limit and patience.
What a measure needs of a trained model (memberships, affinities, MF's embeddings) is cached
under ``<root>/tmp/clusters/`` (not committed); what the measures find is written, atomically,
as small JSON files that are committed:

* ``<root>/<profile>/<dataset>/clusters/<method>/seed<k>.json`` - one seed's coherence
  (item genres and decades, user gender, age band and occupation), the preference test and the
  softness of both sides;
* ``<root>/<profile>/<dataset>/clusters/<method>/stability.json`` - every pair of seeds.

Methods: ``hmf``, ``ihsr`` (their own clusters: the largest membership), ``hmf-nearest``
(HMF's memberships, each cluster read by the objects nearest its embedding, as the paper's
Table 4; not a partition),
``kmeans-mf`` (k-means of MF's user and item
embeddings into as many clusters as HMF's configuration has; where that exceeds the number of
objects, e.g. ML-100K's 1000 user clusters for 625 users, into as many as HMF's hard
assignment of that seed occupies) and ``random`` (uniform random labels, HMF's counts). Every
step is resumable: a file that exists is kept, and a rerun computes only what is missing.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from hmf import clusters as C
from hmf import data
from hmf.errors import UsageError
from hmf.experiments.records import config_key, default_results_dir, environment, load_records
from hmf.experiments.selection import selected_config
from hmf.experiments.studies import ensure_records
from hmf.experiments.trainers import fit_config
from hmf.models import embeddings as E
from hmf.profiles import get_profile
from hmf.split import split_for

__all__ = [
    "METHODS",
    "STUDY",
    "study_dir",
    "run_cluster_study",
    "load_cluster_study",
    "object_labels",
]

STUDY = "clusters"
METHODS = ("hmf", "hmf-nearest", "kmeans-mf", "ihsr", "random")
SOURCES = ("hmf", "mf", "ihsr")  # the trained models the methods read
LABELLED = ("ml-100k", "ml-1m")  # the data sets with user attributes and item genres
ITEM_LABELS = ("genre", "decade")
USER_LABELS = ("gender", "age", "occupation")


def study_dir(root: Path, profile: str, dataset: str) -> Path:
    return Path(root) / profile / dataset / STUDY


def _cache(root: Path, profile: str, dataset: str, model: str, seed: int) -> Path:
    return Path(root) / "tmp" / STUDY / profile / dataset / f"{model}-seed{seed}.npz"


def _write_json(path: Path, payload: dict) -> None:
    """Atomically: a temporary file beside ``path``, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle, indent=1, sort_keys=True, default=float)
            handle.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_npz(path: Path, **arrays) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".npz")
    os.close(fd)
    try:
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def object_labels(dataset: str, split, data_dir=None) -> dict:
    """The labels the coherence reads, in the split's object order: items' genres (indicator
    matrix) and release decades, users' gender, age band and occupation (one-hot), the items'
    popularity strata (training ratings) and the users' male flag."""
    side = data.load(dataset, data_dir)
    items = side.items.loc[split.item_ids]
    users = side.users.loc[split.user_ids]
    counts = np.bincount(split.train["item"].to_numpy(), minlength=split.n_items)
    return dict(
        genre=C.genre_matrix(items["genres"].to_numpy()),
        decade=C.one_hot(C.decades(items["title"].to_numpy())),
        gender=C.one_hot(users["gender"].to_numpy()),
        age=C.one_hot(C.age_bands(users["age"].to_numpy())),
        occupation=C.one_hot(users["occupation"].astype(str).to_numpy()),
        strata=C.popularity_strata(counts),
        male=(users["gender"].to_numpy() == "M"),
    )


def _selected(dataset: str, profile: str, root: Path, data_dir) -> dict[str, dict]:
    found, missing = ensure_records(
        [dataset], list(SOURCES), profile, root=root, data_dir=data_dir, progress=False
    )
    if dataset in missing:
        raise UsageError(f"{dataset} is not available: {missing[dataset]}")
    out = {}
    for model in SOURCES:
        config = selected_config(found, dataset, model, "rmse")
        if config is None:
            raise UsageError(
                f"the cluster study needs {model}'s accuracy records on {dataset}: "
                f"hmf sweep --profile {profile} --dataset {dataset} --model {model}"
            )
        out[model] = config
    return out


def _train(split, model, config, seed, prof) -> tuple[dict, dict]:
    """Train one source model; the arrays the measures need and how the fit went."""
    result = fit_config(
        split, model, config, seed, max_epochs=prof.max_epochs_rating, patience=prof.patience
    )
    p = result.params
    if model == "hmf":
        arrays = dict(
            user=C.from_hmf(p["user"]).membership.astype(np.float32),
            item=C.from_hmf(p["item"]).membership.astype(np.float32),
            affinity=C.hmf_affinity(p).astype(np.float32),
            **{
                f"{side}_{what}": np.asarray(x, dtype=np.float32)
                for side in ("user", "item")
                for what, x in (
                    ("x", E.materialize(p[side]).table),
                    ("centres", E.level_embeddings(p[side], 1)),
                )
            },
        )
    elif model == "ihsr":
        arrays = dict(
            user=C.from_ihsr(p["users"][0]).membership.astype(np.float32),
            item=C.from_ihsr(np.asarray(p["items"][0]).T).membership.astype(np.float32),
            affinity=C.ihsr_affinity(p).astype(np.float32),
        )
    else:
        arrays = dict(
            user=np.asarray(E.materialize(p["user"]).table, dtype=np.float64),
            item=np.asarray(E.materialize(p["item"]).table, dtype=np.float64),
        )
    return arrays, dict(validation_rmse=float(result.validation["rmse"]), epochs=int(result.epochs))


def _renormalised(x: np.ndarray) -> C.Clustering:
    x = x.astype(np.float64)
    return C.Clustering(x / x.sum(axis=1, keepdims=True))  # float32 storage rounds the rows


def _clusterings(method: str, arrays: dict, counts: dict, seed: int):
    """``(users, items, affinity or None, k per side)`` of one method at one seed."""
    if method in ("hmf", "ihsr"):
        a = arrays[method]
        users, items = _renormalised(a["user"]), _renormalised(a["item"])
        return users, items, a["affinity"].astype(np.float64), None
    if method == "hmf-nearest":
        a = arrays["hmf"]
        users, items = (
            C.nearest_clustering(a[f"{s}_x"], a[f"{s}_centres"], _renormalised(a[s]).membership)
            for s in ("user", "item")
        )
        return users, items, a["affinity"].astype(np.float64), None
    if method == "random":
        users = C.random_clustering(len(arrays["mf"]["user"]), counts["user"], seed)
        items = C.random_clustering(len(arrays["mf"]["item"]), counts["item"], seed + 10_000)
        return users, items, None, None
    hmf = arrays["hmf"]
    ks, fitted = {}, {}
    for side in ("user", "item"):
        x, k = arrays["mf"][side], counts[side]
        if k > len(x):  # as many clusters as HMF's hard assignment of this seed occupies
            k = len(np.unique(np.argmax(hmf[side], axis=1)))
        ks[side] = int(k)
        fitted[side] = C.kmeans(x, k, seed)
    (users, cu), (items, ci) = fitted["user"], fitted["item"]
    return users, items, cu @ ci.T, ks


def _measures(users, items, affinity, labels, seed: int) -> dict:
    out = {
        "coherence": {
            **{
                f"item {name}": C.coherence(items, labels[name], strata=labels["strata"], seed=seed)
                for name in ITEM_LABELS
            },
            **{f"user {name}": C.coherence(users, labels[name], seed=seed) for name in USER_LABELS},
        },
        "softness": {"user": C.softness(users), "item": C.softness(items)},
    }
    if affinity is not None:
        out["preference"] = C.preference_test(
            affinity, users, labels["male"], items=items, seed=seed
        )
    for found in out["coherence"].values():  # the files keep what the chapter reads, per cluster
        for key in PER_CLUSTER_DROPPED:
            found.pop(key)
    return out


PER_CLUSTER_DROPPED = ("null_mean", "null95")  # summarised by null and share_beyond_null95


def _rounded(value, digits: int = 6):
    """Floats to ``digits`` decimals; per-cluster lists to four, which keeps the files small."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, 4) for v in value]
    return value


def run_cluster_study(
    dataset: str,
    profile: str = "book",
    *,
    root: Path | None = None,
    data_dir=None,
    seeds: Iterable[int] | None = None,
    progress: Callable[[str], None] | None = print,
) -> list[Path]:
    """Compute what is missing of the cluster study on ``dataset`` (resumable; see the module
    docstring) and return the paths of its JSON files."""
    if dataset not in LABELLED:
        raise UsageError(
            f"the cluster study needs users' and items' labels (gender, age, occupation, genres): "
            f"expected one of {', '.join(LABELLED)}, got {dataset!r}"
        )
    prof = get_profile(profile)
    seeds = list(prof.seeds if seeds is None else seeds)
    if not seeds or not set(seeds) <= set(prof.seeds):
        raise UsageError(f"seeds {seeds}: expected a subset of {profile}'s {list(prof.seeds)}")
    root = Path(root or default_results_dir())
    say = progress or (lambda _: None)
    split = split_for(dataset, data_dir)
    labels = object_labels(dataset, split, data_dir)
    configs = _selected(dataset, profile, root, data_dir)
    counts = {"user": configs["hmf"]["user_clusters"], "item": configs["hmf"]["item_clusters"]}
    out_dir = study_dir(root, profile, dataset)
    committed = {  # the accuracy records of the selected configurations, by seed
        m: {
            r.seed: r.validation["rmse"]
            for r in load_records(root, profile, dataset, m)
            if r.key == config_key(configs[m])
        }
        for m in SOURCES
    }
    paths = []
    for seed in seeds:
        arrays, fits = {}, {}
        for model in SOURCES:
            cache = _cache(root, profile, dataset, model, seed)
            if cache.exists():
                with np.load(cache) as f:
                    arrays[model] = {k: f[k] for k in f.files if k != "fit"}
                    fits[model] = json.loads(str(f["fit"]))
                continue
            start = time.perf_counter()
            arrays[model], fits[model] = _train(split, model, configs[model], seed, prof)
            fits[model]["seconds"] = time.perf_counter() - start
            fits[model]["record_validation_rmse"] = committed[model].get(seed)
            _save_npz(cache, fit=np.array(json.dumps(fits[model])), **arrays[model])
            say(f"{dataset} {model} seed {seed}: trained in {fits[model]['seconds']:.0f} s")
        for method in METHODS:
            path = out_dir / method / f"seed{seed}.json"
            paths.append(path)
            if path.exists():
                continue
            start = time.perf_counter()
            users, items, affinity, ks = _clusterings(method, arrays, counts, seed)
            source = {"hmf": "hmf", "hmf-nearest": "hmf", "ihsr": "ihsr"}.get(method, "mf")
            chance = method == "random"  # no model: HMF's counts, no fit
            payload = {
                "study": STUDY,
                "dataset": dataset,
                "profile": profile,
                "method": method,
                "seed": seed,
                "source": source,
                "config": counts if chance else configs[source],
                "clusters": ks or {"user": users.n_clusters, "item": items.n_clusters},
                "fit": {} if chance else fits.get(source, {}),
                "verified": bool(split.verified),
                **_measures(users, items, affinity, labels, seed),
            }
            payload["seconds"] = time.perf_counter() - start
            payload["environment"] = environment()
            _write_json(path, _rounded(payload))
            say(f"{dataset} {method} seed {seed}: measured in {payload['seconds']:.0f} s")
    for method in METHODS:
        path = out_dir / method / "stability.json"
        paths.append(path)
        if len(seeds) < 2 or _stability_done(path, seeds):
            continue
        _write_json(path, _rounded(_stability(method, root, profile, dataset, seeds, counts)))
        say(f"{dataset} {method}: stability over {len(seeds)} seeds")
    return paths


def _stability_done(path: Path, seeds) -> bool:
    return path.exists() and set(json.loads(path.read_text())["seeds"]) >= set(seeds)


def _stability(method: str, root: Path, profile: str, dataset: str, seeds, counts) -> dict:
    runs = {}
    for seed in seeds:
        arrays = {}
        for model in SOURCES:
            with np.load(_cache(root, profile, dataset, model, seed)) as f:
                arrays[model] = {k: f[k] for k in f.files if k != "fit"}
        runs[seed] = _clusterings(method, arrays, counts, seed)
    pairs = []
    for a, b in itertools.combinations(seeds, 2):
        (ua, ia, aa, _), (ub, ib, ab, _) = runs[a], runs[b]
        row = dict(
            seeds=[a, b],
            user=C.stability(ua, ub, aa, ab, other_a=ia, other_b=ib),
            item=C.stability(ia, ib),
        )
        pairs.append(row)
    return dict(
        study=STUDY,
        dataset=dataset,
        profile=profile,
        method=method,
        seeds=list(seeds),
        pairs=pairs,
        environment=environment(),
    )


def load_cluster_study(root: Path | None, profile: str, dataset: str) -> dict:
    """The committed files of one data set's cluster study: ``{"runs": {method: [per-seed
    dicts]}, "stability": {method: dict}}`` (empty where nothing was computed)."""
    base = study_dir(Path(root or default_results_dir()), profile, dataset)
    runs, stab = {}, {}
    for method in METHODS:
        folder = base / method
        found = sorted(folder.glob("seed*.json"), key=lambda p: int(p.stem.removeprefix("seed")))
        if found:
            runs[method] = [json.loads(p.read_text()) for p in found]
        if (folder / "stability.json").exists():
            stab[method] = json.loads((folder / "stability.json").read_text())
    return {"runs": runs, "stability": stab}
