"""Diagnostics beside the paper's tables (grid coverage, the book grid's selection against the
paper's, device agreement, cost, weight decay, clusters per depth); chapters' ones at the end."""

from __future__ import annotations

import pandas as pd

from hmf import experiments, registry
from hmf.experiments.grids import depth_grid, grid
from hmf.experiments.selection import LOWER_IS_BETTER
from hmf.models import halving_clusters
from hmf.profiles import get_profile
from hmf.report.common import DATASETS, dataset_label, fmt, profile_name, records, rows_of
from hmf.split import split_for

_EXECUTION_COLUMNS = tuple(f"config.{k}" for k in registry.EXECUTION_KEYS)


def _complete(runs: pd.DataFrame) -> int:
    """Configurations with every seed finished (as many as the most-finished one, as selected)."""
    seeds = runs.groupby("config")["seed"].nunique()
    return int((seeds == seeds.max()).sum())


def grid_coverage(
    part: pd.DataFrame,
    dataset: str,
    method: str,
    profile: str | None = None,
    depth: int | None = None,
) -> tuple[int, int | None]:
    """``(done, in grid)``: configurations of ``method`` with all seeds finished, and the size of
    ``profile``'s grid (default: the records'), or its depth grid's at ``depth``; None: not here."""
    mine = rows_of(part, dataset, method)
    try:
        profile = profile or str(mine["profile"].iloc[0])
        if depth is None:
            split = split_for(dataset)
            total = len(grid(profile, method, split.n_users, split.n_items, dataset=dataset))
        else:
            keys = ("user_clusters", "item_clusters", "lr", "weight_decay")
            configs = depth_grid(
                profile, method, {k: mine[f"config.{k}"].iloc[0] for k in keys}, dataset=dataset
            )
            total = sum(c["user_depth"] == depth for c in configs)
    except Exception:  # no data or no grid: show what is known
        total = None
    return _complete(mine), total


def coverage_text(part: pd.DataFrame, dataset: str, method: str, profile: str | None = None) -> str:
    return _of(*grid_coverage(part, dataset, method, profile))


def _of(done: int, total: int | None) -> str:
    return str(done) if total is None else f"{done} / {total}"


def paper_rule(book: pd.DataFrame, full: pd.DataFrame, datasets, methods, metric: str) -> list:
    """The paper's protocol so far, per data set and method with both kinds of records: the
    selection rule over every Table 2 configuration with ``book`` or ``paper`` records (``full``,
    which count where both ran), beside the rule over the book grid alone. Each item holds
    ``dataset``, ``method``, ``done`` and ``total`` (:func:`grid_coverage` of the union),
    ``optimizers`` (runs each optimizer trained) and ``picks``: for ``"paper protocol"`` and
    ``"book"``, the selected runs' :func:`~hmf.experiments.summarize` row (``summary``), their
    ``devices`` and their ``config`` (without the optimizer)."""
    out = []
    for dataset in datasets:
        for method in methods:
            extra, mine = rows_of(full, dataset, method), rows_of(book, dataset, method)
            if not len(extra) or not len(mine):
                continue
            ran = set(zip(extra["config"], extra["seed"]))
            union = pd.concat(
                [extra, mine[[k not in ran for k in zip(mine["config"], mine["seed"])]]]
            )
            done, total = grid_coverage(union, dataset, method, "paper")
            picks = {}
            for name, part in (("paper protocol", union), ("book", mine)):
                chosen = experiments.select(part, metric)
                picks[name] = dict(
                    summary=experiments.summarize(chosen, (metric,)).iloc[0],
                    devices=sorted(chosen["device"].unique()),
                    config=_config_of(chosen.iloc[0]),
                )
            out.append(
                dict(
                    dataset=dataset,
                    method=method,
                    done=done,
                    total=total,
                    optimizers=union["optimizer"].value_counts().to_dict(),
                    picks=picks,
                )
            )
    return out


def _config_of(run: pd.Series) -> dict:
    """A run's configuration from its frame row (``config.*`` columns), without the optimizer
    and without the keys other records of the frame have and it does not."""
    keys = [k for k in run.index if k.startswith("config.") and k not in _EXECUTION_COLUMNS]
    absent = [k for k in keys if pd.api.types.is_scalar(run[k]) and pd.isna(run[k])]
    return {k.removeprefix("config."): run[k] for k in keys if k not in absent}


def paper_rule_table(items: list, metric: str = "rmse") -> pd.DataFrame:
    """:func:`paper_rule`'s ``items`` as a table: coverage, runs by optimizer (dense or row-lazy
    AdamW), each rule's test ``metric``, selection and devices, whether the pick changes and by
    how much."""
    rows = []
    for item in items:
        row = {
            "dataset": dataset_label(item["dataset"]),
            "method": registry.label(item["method"]),
            "Table 2 configurations run": _of(item["done"], item["total"]),
            "runs by optimizer": "; ".join(
                f"{name}: {n:,}" for name, n in item["optimizers"].items()
            ),
        }
        for name, pick in item["picks"].items():
            s = pick["summary"]
            row.update(
                {
                    f"{name}: {metric}": fmt(s[metric], s[f"{metric} std"]),
                    f"{name}: selected configuration": s["config"],
                    f"{name}: devices": ", ".join(pick["devices"]),
                }
            )
        theirs, ours = (item["picks"][name]["summary"] for name in ("paper protocol", "book"))
        row["same selection"] = "yes" if ours["config"] == theirs["config"] else "no"
        row[f"change in test {metric}"] = round(float(theirs[metric] - ours[metric]), 4)
        rows.append(row)
    if not rows:
        return pd.DataFrame({"status": ["no paper-profile records yet"]})
    return pd.DataFrame(rows).set_index(["dataset", "method"])


def device_agreement(records=None, metric: str = "rmse") -> pd.DataFrame:
    """Runs of one configuration and seed on two devices (default: all ``book`` and ``paper``
    records) with the same epoch caps: how many kept the same epochs, how far ``metric`` moved."""

    root, runs, rows = experiments.default_results_dir(), {}, {}
    if records is None:
        records = experiments.load_records(root, "book") + experiments.load_records(root, "paper")
    for r in records:
        key = (r.dataset, r.model, r.key, r.seed, get_profile(r.profile).caps)  # same caps only
        runs.setdefault(key, {})[r.environment.get("device", "unknown")] = r
    for (dataset, model, *_), by_device in runs.items():
        devices = sorted(by_device)
        for i, a in enumerate(devices):
            for b in devices[i + 1 :]:
                ra, rb = by_device[a], by_device[b]
                diff = abs(ra.test[metric] - rb.test[metric])
                rows.setdefault((dataset, model, f"{a} / {b}"), []).append(
                    (
                        ra.epochs == rb.epochs,
                        ra.best_epoch == rb.best_epoch,
                        diff,
                        diff / abs(ra.test[metric]) if ra.test[metric] else float("inf"),
                    )
                )
    if not rows:
        return pd.DataFrame({"status": ["no configuration and seed has run on two devices"]})
    table = pd.DataFrame(
        [
            {
                "dataset": d,
                "model": registry.label(m),
                "devices": pair,
                "pairs": len(v),
                "same epochs": sum(x[0] for x in v),
                "same best epoch": sum(x[1] for x in v),
                f"max |difference| in test {metric}": max(x[2] for x in v),
                "max relative difference": max(x[3] for x in v),
            }
            for (d, m, pair), v in rows.items()
        ]
    )
    return table.set_index(["dataset", "model", "devices"]).sort_index()


def record_cost(frame: pd.DataFrame) -> pd.DataFrame:
    """What records cost: per data set, model and device (kept apart), runs, configurations,
    epochs and the hours of training and inference each record measured (not start-up)."""
    if not len(frame):
        return pd.DataFrame({"status": ["no records"]})
    seconds = frame["train_seconds"] + frame["inference_seconds"]
    grouped = frame.assign(seconds=seconds).groupby(["dataset", "model", "device"], sort=False)
    table = pd.DataFrame(
        {
            "runs": grouped.size(),
            "configurations": grouped["config"].nunique(),
            "epochs": grouped["epochs"].sum(),
            "hours": grouped["seconds"].sum() / 3600.0,
            "seconds per run": grouped["seconds"].mean(),
        }
    )
    totals = table.groupby(level=["dataset", "device"], sort=False)[
        ["runs", "configurations", "epochs", "hours"]
    ].sum()
    totals["seconds per run"] = totals["hours"] * 3600.0 / totals["runs"]
    totals = pd.concat({"(all)": totals}, names=["model"]).reorder_levels(table.index.names)
    table = pd.concat([table, totals]).sort_index(level=["dataset", "device"], sort_remaining=False)
    return table.round({"hours": 2, "seconds per run": 1})


def weight_decay_spread(
    frame: pd.DataFrame, datasets, model: str = "hmf", metric: str = "rmse"
) -> pd.DataFrame:
    """How much weight decay moves the selection: per data set, ``model``'s best and worst mean
    validation ``metric`` over the weight decays run at the selection's clusters and lr."""
    rows = []
    for dataset in datasets:
        at = rows_of(frame, dataset, model)
        chosen = experiments.select(at, metric) if len(at) else at
        if not len(chosen):
            continue
        for k in ("user_clusters", "item_clusters", "lr"):
            at = at[at[f"config.{k}"] == chosen[f"config.{k}"].iloc[0]]
        means = at.groupby("config.weight_decay")[f"validation {metric}"].mean()
        best, worst = sorted((means.min(), means.max()), reverse=not LOWER_IS_BETTER[metric])
        first = at.iloc[0]
        rows.append(
            {
                "dataset": dataset_label(dataset),
                "at": (
                    f"{first['config.user_clusters']}/{first['config.item_clusters']}"
                    f" clusters, lr {first['config.lr']:g}"
                ),
                "weight decays": len(means),
                f"best validation {metric}": round(float(best), 4),
                f"worst validation {metric}": round(float(worst), 4),
                "gap": round(abs(float(worst - best)), 4),
            }
        )
    return pd.DataFrame(rows).set_index("dataset") if rows else pd.DataFrame()


def selection_table(profile=None, study: str = "accuracy") -> pd.DataFrame:
    """:func:`hmf.experiments.selection_check` of Table 3 (a) (``study="accuracy"``) or, per
    depth, Table 6 (a) (``"depth"``) against the ``paper``-profile runs of that study."""
    mine = records("table3a" if study == "accuracy" else "table6a", profile)[0]
    left_out = experiments.load_records(experiments.default_results_dir(), "paper", study=study)
    by = ("dataset", "model") + (("config.user_depth",) if study == "depth" else ())
    check = experiments.selection_check(mine, left_out, "rmse", by=by)
    return check.rename(columns={"config.user_depth": "depth p = q"})


def _rating_frames(profile) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 3 (a)'s records of ``profile`` and every ``paper``-profile accuracy record."""
    full = experiments.load_records(experiments.default_results_dir(), "paper", study="accuracy")
    return (
        experiments.records_frame(records("table3a", profile)[0]),
        experiments.records_frame(full),
    )


def paper_rule_check(profile=None) -> list:
    """:func:`paper_rule` of Table 3 (a): the profile's records and the ``paper`` ones (for
    :func:`paper_rule_table` and :func:`~hmf.report.findings.paper_rule_sentences`)."""
    book, full = _rating_frames(profile)
    return paper_rule(book, full, DATASETS["rating"], registry.RATING_METHODS, "rmse")


def cost_table(profile=None) -> pd.DataFrame:
    """:func:`record_cost` of every record of ``profile`` (both studies)."""
    mine = experiments.load_records(experiments.default_results_dir(), profile_name(profile))
    return record_cost(experiments.records_frame(mine))


def weight_decay_check(profile=None) -> pd.DataFrame:
    """:func:`weight_decay_spread` of HMF's Table 3 (a) records."""
    hmf, _ = experiments.ensure_records(DATASETS["rating"], ["hmf"], profile_name(profile))
    return weight_decay_spread(experiments.records_frame(hmf), DATASETS["rating"])


def depth_levels(profile=None) -> pd.DataFrame:
    """The cluster counts per level of each depth Table 6 (a, b) ran, per data set."""
    rows = {}
    for r in records("table6a", profile)[0] + records("table6b", profile)[0]:
        rows[(r.dataset, r.config["user_depth"])] = {
            f"{side} clusters per level": halving_clusters(
                int(r.config[f"{side}_clusters"]), int(r.config[f"{side}_depth"])
            )
            for side in ("user", "item")
        }
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()
