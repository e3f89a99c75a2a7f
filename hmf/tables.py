"""The paper's tables as views: our numbers computed from code, the paper's beside them.

Columns holding the paper's values are always prefixed ``paper``; a missing data set is a row of
gaps whose ``note`` gives the command that fetches it.
"""

from __future__ import annotations

import warnings
from typing import Iterable

import pandas as pd

from hmf import data, paper, split

__all__ = ["table1", "TABLE1_FIELDS", "accuracy_table", "not_computed", "paper_rating", "paper_ranking",
           "record_cost", "depth_table", "depth_summary", "DEPTHS", "protocol_table",
           "device_agreement", "grid_coverage"]

TABLE1_FIELDS = ("users", "items", "train", "validation", "test", "density")


def table1(names: Iterable[str] = tuple(paper.TABLE1), data_dir=None) -> pd.DataFrame:
    """Paper Table 1 (statistics after the paper's split and filters), ours vs the paper's.

    One row per data set, indexed by its label; columns ``users`` ... ``density`` (ours),
    ``paper users`` ... ``paper density``, ``copy`` (official / unverified copy / missing) and
    ``note``. A data set that is not available is a row of gaps, not an error.
    """
    rows = []
    for name in names:
        spec = data.get_spec(name)
        row: dict = {"dataset": paper.DATASET_LABELS.get(name, name)}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", data.store.UnverifiedCopyWarning)
                dataset = data.load(name, data_dir)
        except data.DatasetMissingError:
            row.update({f: None for f in TABLE1_FIELDS})
            row["copy"] = "missing"
            row["note"] = (
                f"run `hmf data fetch {name}`" if spec.archive else "needs the manual download"
            )
        else:
            stats = split.paper_split(dataset).stats()
            row.update({f: stats[f] for f in TABLE1_FIELDS})
            row["copy"] = "official" if dataset.verified else "unverified copy"
            row["note"] = "; ".join(dataset.notes)
        for f in TABLE1_FIELDS:
            row[f"paper {f}"] = paper.TABLE1.get(name, {}).get(f)
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("dataset")
    ours = list(TABLE1_FIELDS)
    theirs = [f"paper {f}" for f in TABLE1_FIELDS]
    frame = frame[ours + theirs + ["copy", "note"]]
    for column in ours[:-1] + theirs[:-1]:
        frame[column] = frame[column].astype("Int64")
    return frame


# -- Table 3 and Table 6: views of result records -------------------------------------------

RATING_METHODS = ("mf", "ihsr", "etree", "hmf")
RANKING_METHODS = ("bpr-mf", "neumf", "protomf", "bpr-hmf")
METHOD_LABELS = {
    "mf": "MF", "ihsr": "IHSR", "etree": "eTREE", "hmf": "HMF", "bpr-mf": "BPR-MF",
    "neumf": "NeuMF", "protomf": "ProtoMF", "bpr-hmf": "BPR-HMF",
    "ref-mf": "reference MF (outside library)", "ref-mf-biased": "reference biased MF (outside library)",
}  # fmt: skip


def _fmt(mean, std, dagger: bool) -> str:
    if mean is None or pd.isna(mean):
        return ""
    text = f"{mean:.3f} ± {std:.3f}" if not pd.isna(std) else f"{mean:.3f}"
    return text + (" †" if dagger else "")


def accuracy_table(frame: pd.DataFrame, datasets, methods, metrics, reference: str,
                   paper_lookup=None) -> pd.DataFrame:
    """Table 3 from a records frame (``experiments.records_frame``): ours beside the paper's.

    Per data set: select each method's configuration by mean validation ``metrics[0]``, report
    its test mean ± std over seeds for every metric, mark † where Tukey's HSD over all methods
    finds a significant difference from ``reference``, and give mean training and inference
    seconds. ``paper_lookup(dataset, method)`` returns the paper's row (a dict) or None.
    """
    from hmf.experiments.selection import select, summarize, tukey_against

    rows = []
    primary = metrics[0]
    for dataset in datasets:
        part = frame[frame["dataset"] == dataset] if len(frame) else frame
        chosen = select(part, primary) if len(part) else part
        summary = summarize(chosen, tuple(metrics)) if len(chosen) else None
        tests = {m: tukey_against(chosen, m, reference) if len(chosen) else {} for m in metrics}
        for method in methods:
            row = {"dataset": paper.DATASET_LABELS.get(dataset, dataset),
                   "method": METHOD_LABELS.get(method, method)}
            have = summary is not None and (dataset, method) in summary.index
            s = summary.loc[(dataset, method)] if have else None
            for m in metrics:
                dagger = tests[m].get(method, (None, False))[1] if have else False
                row[f"{m}"] = _fmt(s[m], s[f"{m} std"], dagger) if have else "not run"
            row["train s"] = round(float(s["train_seconds"]), 2) if have else None
            row["inference s"] = round(float(s["inference_seconds"]), 4) if have else None
            row["seeds"] = int(s["seeds"]) if have else 0
            row["configurations run"] = _grid_coverage(part, dataset, method) if have else ""
            row["selected configuration"] = s["config"] if have else ""
            verified = bool(part[part["model"] == method]["verified"].all()) if have else True
            row["copy"] = ("official" if verified else "unverified copy") if have else ""
            theirs = paper_lookup(dataset, method) if paper_lookup else None
            for m in metrics:
                row[f"paper {m}"] = _paper_cell(theirs, m)
            row["paper train s (CPU / GPU)"] = _pair(theirs, "train_cpu", "train_gpu")
            row["paper inference s (CPU / GPU)"] = _pair(theirs, "infer_cpu", "infer_gpu")
            rows.append(row)
    frame = pd.DataFrame(rows).set_index(["dataset", "method"])
    # Each of our columns next to the paper's, identification last.
    order = [c for m in metrics for c in (m, f"paper {m}")]
    order += ["train s", "paper train s (CPU / GPU)", "inference s", "paper inference s (CPU / GPU)",
              "seeds", "configurations run", "copy", "selected configuration"]
    frame = frame[order]
    return frame.astype({"train s": object, "inference s": object}).where(frame.notna(), "")


def protocol_table(book: pd.DataFrame, full: pd.DataFrame, datasets, methods, metric: str) -> pd.DataFrame:
    """The paper's protocol so far beside the book's selection.

    The book grid is part of Table 2, so the paper's protocol restricted to what has run is the
    selection rule over *every* Table 2 configuration with records: the ``book`` ones
    (``book``) and the ``paper``-profile ones (``full``; where both hold a configuration and
    seed, the ``paper``-profile run counts). Per data set and method with ``paper``-profile
    records: how much of Table 2 that covers, the configuration it selects, its test mean ± std
    and the devices its runs were trained on, beside the book selection - so a reader sees
    whether the book grid changed the pick and by how much the reported number moves.
    """
    from hmf.experiments.selection import select, summarize

    def runs_of(frame, dataset, method):
        return frame[(frame["dataset"] == dataset) & (frame["model"] == method)] if len(frame) else frame

    rows = []
    for dataset in datasets:
        for method in methods:
            extra, mine = runs_of(full, dataset, method), runs_of(book, dataset, method)
            if not len(extra) or not len(mine):
                continue
            ran = set(zip(extra["config"], extra["seed"]))
            union = pd.concat([extra, mine[[k not in ran for k in zip(mine["config"], mine["seed"])]]])
            row = {"dataset": paper.DATASET_LABELS.get(dataset, dataset),
                   "method": METHOD_LABELS.get(method, method),
                   "Table 2 configurations run": _grid_coverage(union, dataset, method, "paper")}
            picks = {}
            for name, part in (("paper protocol", union), ("book", mine)):
                chosen = select(part, metric)
                s = summarize(chosen, (metric,)).iloc[0]
                picks[name] = s
                row[f"{name}: {metric}"] = _fmt(s[metric], s[f"{metric} std"], False)
                row[f"{name}: selected configuration"] = s["config"]
                row[f"{name}: devices"] = ", ".join(sorted(chosen["device"].unique()))
            row["same selection"] = "yes" if picks["book"]["config"] == picks["paper protocol"]["config"] else "no"
            row[f"change in test {metric}"] = round(float(picks["paper protocol"][metric] - picks["book"][metric]), 4)
            rows.append(row)
    if not rows:
        return pd.DataFrame({"status": ["no paper-profile records yet"]})
    return pd.DataFrame(rows).set_index(["dataset", "method"])


def device_agreement(records, metric: str) -> pd.DataFrame:
    """The same configuration and seed trained on two devices: do they agree?

    Per data set, model and pair of devices with runs of the same (configuration, seed) under
    profiles with the same epoch cap and patience (``book`` and ``paper``): how many pairs, in
    how many both stopped after the same epoch and kept the same best epoch, and the largest
    absolute and relative difference in test ``metric``. Floating point adds in another order
    on another device, so equality is not expected; a difference far above rounding would mean
    the code computes something else there.
    """
    from hmf.profiles import get_profile

    def caps(profile: str) -> tuple:  # runs compare only under the same epoch cap and patience
        p = get_profile(profile)
        return (p.max_epochs_rating, p.max_epochs_ranking, p.patience)

    runs: dict[tuple, dict[str, object]] = {}
    for r in records:
        key = (r.dataset, r.model, r.key, r.seed, caps(r.profile))
        runs.setdefault(key, {})[r.environment.get("device", "unknown")] = r
    rows: dict[tuple, list] = {}
    for (dataset, model, *_), by_device in runs.items():
        devices = sorted(by_device)
        for i, a in enumerate(devices):
            for b in devices[i + 1:]:
                ra, rb = by_device[a], by_device[b]
                diff = abs(ra.test[metric] - rb.test[metric])
                rows.setdefault((dataset, model, f"{a} / {b}"), []).append(
                    (ra.epochs == rb.epochs, ra.best_epoch == rb.best_epoch, diff,
                     diff / abs(ra.test[metric]) if ra.test[metric] else float("inf")))
    if not rows:
        return pd.DataFrame({"status": ["no configuration and seed has run on two devices"]})
    table = pd.DataFrame([
        {"dataset": d, "model": METHOD_LABELS.get(m, m), "devices": pair, "pairs": len(v),
         "same epochs": sum(x[0] for x in v), "same best epoch": sum(x[1] for x in v),
         f"max |difference| in test {metric}": max(x[2] for x in v),
         "max relative difference": max(x[3] for x in v)}
        for (d, m, pair), v in rows.items()])
    return table.set_index(["dataset", "model", "devices"]).sort_index()


def _paper_cell(theirs, metric: str) -> str:
    if not theirs:
        return ""
    if metric == "rmse":
        return _fmt(theirs["rmse"], theirs["std"], theirs["dagger"])
    key = "hr" if metric.startswith("hit") else "mrr"
    return _fmt(theirs[metric], theirs[f"{key}_std"], theirs[f"{key}_dagger"])


def _pair(theirs, cpu: str, gpu: str) -> str:
    if not theirs:
        return ""
    def show(v):
        return "-" if v is None else f"{v:g}"
    return f"{show(theirs[cpu])} / {show(theirs[gpu])}"


def paper_rating(dataset: str, method: str):
    return paper.TABLE3_RATING.get((dataset, method))


def paper_ranking(dataset: str, method: str):
    # The paper's ranking results are on DIGINETICA only; a substitute gets no paper column.
    return paper.TABLE3_RANKING.get(method) if dataset == "diginetica" else None


def not_computed(datasets, frame: pd.DataFrame, missing: dict, profile: str) -> pd.DataFrame:
    """Which data sets have no records in a table, why, and the command that computes them."""
    rows = []
    for dataset in datasets:
        have = len(frame) and (frame["dataset"] == dataset).any()
        if dataset in missing:
            base = dataset.removesuffix("-implicit")
            spec = data.get_spec(base)
            how = f"hmf data fetch {base}" if spec.archive else spec.manual
            rows.append({"dataset": dataset, "status": "data not available here", "to compute": how})
        elif not have:
            rows.append({"dataset": dataset, "status": f"no {profile!r} records yet",
                         "to compute": f"hmf sweep --profile {profile} --dataset {dataset} --model …"})
    if not rows:
        return pd.DataFrame({"status": ["every data set of this table has records"]})
    return pd.DataFrame(rows).set_index("dataset")


def record_cost(frame: pd.DataFrame) -> pd.DataFrame:
    """What a set of records cost to compute: per data set, model and device, the runs,
    configurations, epochs and the sum of their training and inference seconds (in hours), as
    each record measured them - process start-up and compilation outside ``fit`` are not
    included. Devices are kept apart: a GPU hour and a CPU hour are not the same cost."""
    if not len(frame):
        return pd.DataFrame({"status": ["no records"]})
    seconds = frame["train_seconds"] + frame["inference_seconds"]
    grouped = frame.assign(seconds=seconds).groupby(["dataset", "model", "device"], sort=False)
    table = pd.DataFrame({
        "runs": grouped.size(),
        "configurations": grouped["config"].nunique(),
        "epochs": grouped["epochs"].sum(),
        "hours": grouped["seconds"].sum() / 3600.0,
        "seconds per run": grouped["seconds"].mean(),
    })
    totals = table.groupby(level=["dataset", "device"], sort=False)[
        ["runs", "configurations", "epochs", "hours"]].sum()
    totals["seconds per run"] = totals["hours"] * 3600.0 / totals["runs"]
    totals.index = pd.MultiIndex.from_arrays(
        [totals.index.get_level_values("dataset"), ["(all)"] * len(totals),
         totals.index.get_level_values("device")], names=["dataset", "model", "device"])
    table = pd.concat([table, totals]).sort_index(level=["dataset", "device"], sort_remaining=False)
    return table.round({"hours": 2, "seconds per run": 1})


DEPTHS = (1, 2, 3, 4)


def depth_summary(frame: pd.DataFrame, dataset: str, metrics) -> dict[int, dict]:
    """Per depth p = q of ``dataset`` with records: the selected configuration's test mean and
    std per metric, whether Tukey's HSD over the depths finds it different from depth 1
    (``"<metric> dagger"``), its seeds and key, and how many configurations of that depth's grid
    have every seed (``done`` of ``total``)."""
    from hmf.experiments.selection import select, summarize, tukey_against

    part = frame[frame["dataset"] == dataset] if len(frame) else frame
    if not len(part):
        return {}
    part = part.assign(depth=part["config.user_depth"].astype(int))
    chosen = select(part, metrics[0], by=("dataset", "depth"))
    if not len(chosen):
        return {}
    summary = summarize(chosen, tuple(metrics), by=("dataset", "depth"))
    tests = {m: tukey_against(chosen, m, 1, group="depth") for m in metrics}
    out = {}
    for depth in DEPTHS:
        if (dataset, depth) not in summary.index:
            continue
        s = summary.loc[(dataset, depth)]
        row = {"seeds": int(s["seeds"]), "config": s["config"]}
        for m in metrics:
            row.update({m: float(s[m]), f"{m} std": float(s[f"{m} std"]),
                        f"{m} dagger": bool(tests[m].get(str(depth), (None, False))[1])})
        row["done"], row["total"] = _depth_coverage(part[part["depth"] == depth], depth)
        out[depth] = row
    return out


def depth_table(frame: pd.DataFrame, datasets, metrics, paper_lookup=None) -> pd.DataFrame:
    """Table 6: per data set and depth p = q, the selected configuration's test mean ± std, with
    † where Tukey's HSD over the four depths finds a significant difference from depth 1."""
    rows = []
    for dataset in datasets:
        summary = depth_summary(frame, dataset, metrics)
        for depth in DEPTHS:
            row = {"dataset": paper.DATASET_LABELS.get(dataset, dataset), "depth p = q": depth}
            s = summary.get(depth)
            for m in metrics:
                row[m] = _fmt(s[m], s[f"{m} std"], s[f"{m} dagger"]) if s else "not run"
            row["seeds"] = s["seeds"] if s else 0
            row["configurations run"] = f"{s['done']} / {s['total']}" if s else ""
            row["selected configuration"] = s["config"] if s else ""
            theirs = paper_lookup(dataset, depth) if paper_lookup else None
            for k, m in enumerate(metrics):
                row[f"paper {m}"] = theirs[k] if theirs else ""
            rows.append(row)
    frame = pd.DataFrame(rows).set_index(["dataset", "depth p = q"])
    order = [c for m in metrics for c in (m, f"paper {m}")] + ["seeds", "configurations run",
                                                               "selected configuration"]
    return frame[order]


def _complete(runs: pd.DataFrame) -> int:
    """Configurations with every seed finished (as many as the most-finished one: the rule by
    which :func:`hmf.experiments.selection.select` lets a configuration compete)."""
    seeds = runs.groupby("config")["seed"].nunique()
    return int((seeds == seeds.max()).sum())


def _depth_coverage(mine: pd.DataFrame, depth: int) -> tuple[int, int]:
    """(done, in grid) for one depth of the depth study (learning rate x weight decay)."""
    from hmf.experiments.grids import depth_grid

    base = {k: mine[f"config.{k}"].iloc[0] for k in ("user_clusters", "item_clusters", "lr",
                                                       "weight_decay")}
    total = sum(c["user_depth"] == depth
                for c in depth_grid(str(mine["profile"].iloc[0]), str(mine["model"].iloc[0]), base,
                                    dataset=str(mine["dataset"].iloc[0])))
    return _complete(mine), total


def weight_decay_spread(frame: pd.DataFrame, datasets, model: str = "hmf",
                        metric: str = "rmse") -> pd.DataFrame:
    """How much weight decay moves the selected configuration: per data set, the mean validation
    ``metric`` of ``model``'s accuracy runs at the selection's cluster counts and learning rate,
    best and worst over the weight decays run, and the gap between them - what decides whether
    the depth study retunes weight decay or the learning rate."""
    from hmf.experiments.selection import LOWER_IS_BETTER, select

    rows = []
    for dataset in datasets:
        part = frame[(frame["dataset"] == dataset) & (frame["model"] == model)] if len(frame) else frame
        chosen = select(part, metric)
        if not len(chosen):
            continue
        at = part
        for k in ("user_clusters", "item_clusters", "lr"):
            at = at[at[f"config.{k}"] == chosen[f"config.{k}"].iloc[0]]
        means = at.groupby("config.weight_decay")[f"validation {metric}"].mean()
        best, worst = (means.min(), means.max()) if LOWER_IS_BETTER[metric] else (means.max(), means.min())
        rows.append({"dataset": paper.DATASET_LABELS.get(dataset, dataset),
                     "at": (f"{at['config.user_clusters'].iloc[0]}/{at['config.item_clusters'].iloc[0]}"
                            f" clusters, lr {at['config.lr'].iloc[0]:g}"),
                     "weight decays": len(means),
                     f"best validation {metric}": round(float(best), 4),
                     f"worst validation {metric}": round(float(worst), 4),
                     "gap": round(abs(float(worst - best)), 4)})
    return pd.DataFrame(rows).set_index("dataset") if rows else pd.DataFrame()


def paper_depth_rating(dataset: str, depth: int):
    value = paper.TABLE6_RATING.get((dataset, depth))
    return [_fmt(*value)] if value else None


def paper_depth_ranking(dataset: str, depth: int):
    if dataset != "diginetica":
        return None
    hr, hr_std, mrr, mrr_std = paper.TABLE6_RANKING[depth]
    return [_fmt(hr, hr_std, False), _fmt(mrr, mrr_std, False)]


def grid_coverage(part: pd.DataFrame, dataset: str, method: str,
                  profile: str | None = None) -> tuple[int, int | None]:
    """``(done, in grid)``: configurations of ``method`` with every seed finished, and the size of
    the grid of ``profile`` (default: the records' profile; None where the data or the grid is
    not available here) - a selection over part of a grid is only as good as that part."""
    from hmf.experiments.grids import grid
    from hmf.experiments.runner import _split_for

    mine = part[part["model"] == method]
    complete = _complete(mine)
    try:
        split = _split_for(dataset, None)
        total = len(grid(profile or str(mine["profile"].iloc[0]), method, split.n_users,
                         split.n_items, dataset=dataset))
    except Exception:  # no data or no grid: show what is known
        return complete, None
    return complete, total


def _grid_coverage(part: pd.DataFrame, dataset: str, method: str, profile: str | None = None) -> str:
    done, total = grid_coverage(part, dataset, method, profile)
    return str(done) if total is None else f"{done} / {total}"
