"""The paper's tables as views: our numbers computed from code, the paper's (from :mod:`hmf.paper`
only) beside them in columns prefixed ``paper``; each table a chapter shows is one call."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable

import pandas as pd

from hmf import data, experiments, paper, registry
from hmf.report import common
from hmf.report.common import DEPTHS, METRICS, dataset_label, fmt, rows_of
from hmf.report.diagnostics import coverage_text, grid_coverage
from hmf.split import paper_split

TABLE1_FIELDS = ("users", "items", "train", "validation", "test", "density")


def table1(names: Iterable[str] = tuple(paper.TABLE1), data_dir=None) -> pd.DataFrame:
    """Paper Table 1 (statistics after the paper's split and filters), ours and the paper's, with
    ``copy`` (official / unverified copy / missing) and ``note``; a missing data set is gaps."""
    rows = []
    for name in names:
        row: dict = {"dataset": dataset_label(name)}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", data.store.UnverifiedCopyWarning)
                dataset = data.load(name, data_dir)
        except data.DatasetMissingError:
            how = f"run `hmf data fetch {name}`" if data.get_spec(name).archive else None
            row.update(
                dict.fromkeys(TABLE1_FIELDS),
                copy="missing",
                note=how or "needs the manual download",
            )
        else:
            stats = paper_split(dataset).stats()
            row.update(
                {f: stats[f] for f in TABLE1_FIELDS},
                note="; ".join(dataset.notes),
                copy="official" if dataset.verified else "unverified copy",
            )
        rows.append(row | {f"paper {f}": paper.TABLE1.get(name, {}).get(f) for f in TABLE1_FIELDS})
    ours, theirs = list(TABLE1_FIELDS), [f"paper {f}" for f in TABLE1_FIELDS]
    frame = pd.DataFrame(rows).set_index("dataset")[ours + theirs + ["copy", "note"]]
    return frame.astype(dict.fromkeys(ours[:-1] + theirs[:-1], "Int64"))


def table1_view(names: Iterable[str] = tuple(paper.TABLE1)) -> pd.DataFrame:
    """Table 1 as the data chapter shows it: a column per data set, our rows beside the paper's."""
    table = table1(names).round(4)
    return table[[c for f in TABLE1_FIELDS for c in (f, f"paper {f}")] + ["copy", "note"]].T


def _selections(part: pd.DataFrame, metrics, group: str, reference) -> dict:
    """Per ``group`` (model or depth) of one data set's records: the selected configuration's
    test summary and whether Tukey's HSD finds it different from ``reference`` ("<m> dagger")."""
    chosen = experiments.select(part, metrics[0], by=("dataset", group)) if len(part) else part
    if not len(chosen):
        return {}
    tests = {m: experiments.tukey_against(chosen, m, reference, group=group) for m in metrics}
    summary = experiments.summarize(chosen, tuple(metrics), by=("dataset", group))
    return {
        key: dict(
            s, **{f"{m} dagger": bool(tests[m].get(str(key), (None, False))[1]) for m in metrics}
        )
        for (_, key), s in summary.iterrows()
    }


def _paper_cells(dataset: str, method: str, metrics) -> dict[str, str]:
    """The paper's Table 3 cells (its ranking results are DIGINETICA's only)."""
    rating = tuple(metrics) == METRICS["rating"]
    theirs = (
        paper.TABLE3_RATING.get((dataset, method))
        if rating
        else paper.TABLE3_RANKING.get(method)
        if dataset == "diginetica"
        else None
    ) or {}
    cells = {
        f"paper {m}": fmt(theirs.get(m), theirs.get(f"{k}std"), theirs.get(f"{k}dagger"))
        for m, k in zip(metrics, ("",) if rating else ("hr_", "mrr_"))
    }
    for column, key in (("train", "train"), ("inference", "infer")):
        cells[f"paper {column} s (CPU / GPU)"] = (
            " / ".join(
                "-" if theirs[f"{key}_{d}"] is None else f"{theirs[f'{key}_{d}']:g}"
                for d in ("cpu", "gpu")
            )
            if theirs
            else ""
        )
    return cells


def accuracy_table(frame: pd.DataFrame, datasets, methods) -> pd.DataFrame:
    """Table 3 from a records frame: per data set and method, the selection's test mean ± std, †
    where Tukey's HSD over all methods finds it different from HMF (BPR-HMF); the paper's beside."""
    task = common.task_of(methods)
    metrics, rows = METRICS[task], []
    for dataset in datasets:
        part = rows_of(frame, dataset)
        chosen = _selections(part, metrics, "model", common.HMF[task])
        for method in methods:
            row = {
                "dataset": dataset_label(dataset),
                "method": registry.label(method),
                **dict.fromkeys(metrics, "not run"),
                "train s": None,
                "inference s": None,
                "seeds": 0,
                "configurations run": "",
                "selected configuration": "",
                "copy": "",
            }
            if method in chosen:
                s = chosen[method]
                verified = rows_of(part, dataset, method)["verified"].all()
                row.update(
                    {m: fmt(s[m], s[f"{m} std"], s[f"{m} dagger"]) for m in metrics},
                    **{
                        "train s": round(float(s["train_seconds"]), 2),
                        "inference s": round(float(s["inference_seconds"]), 4),
                        "seeds": int(s["seeds"]),
                        "selected configuration": s["config"],
                        "configurations run": coverage_text(part, dataset, method),
                        "copy": "official" if verified else "unverified copy",
                    },
                )
            rows.append(row | _paper_cells(dataset, method, metrics))
    frame = pd.DataFrame(rows).set_index(["dataset", "method"])[
        [c for m in metrics for c in (m, f"paper {m}")]
        + ["train s", "paper train s (CPU / GPU)", "inference s", "paper inference s (CPU / GPU)"]
        + ["seeds", "configurations run", "copy", "selected configuration"]
    ]
    return frame.astype({"train s": object, "inference s": object}).where(frame.notna(), "")


def depth_summary(frame: pd.DataFrame, dataset: str, metrics) -> dict[int, dict]:
    """Per depth p = q of ``dataset``: the selection's test summary, † against depth 1 (``"<metric>
    dagger"``) and how many configurations of its grid have every seed (``done`` of ``total``)."""
    part = rows_of(frame, dataset)
    part = part.assign(depth=part["config.user_depth"].astype(int)) if len(part) else part
    out = _selections(part, metrics, "depth", 1)
    for depth, row in out.items():
        mine = part[part["depth"] == depth]
        row["done"], row["total"] = grid_coverage(mine, dataset, mine["model"].iloc[0], depth=depth)
    return out


def depth_table(frame: pd.DataFrame, datasets, metrics) -> pd.DataFrame:
    """Table 6: per data set and depth p = q, the selection's test mean ± std, † where Tukey's HSD
    over the four depths finds it different from depth 1; the paper's beside."""
    rows, rating = [], tuple(metrics) == METRICS["rating"]
    for dataset in datasets:
        summary = depth_summary(frame, dataset, metrics)
        for depth in DEPTHS:  # the paper's cells: its ranking rows are DIGINETICA's only
            theirs = (
                paper.TABLE6_RATING.get((dataset, depth), (None,))
                if rating
                else paper.TABLE6_RANKING[depth]
                if dataset == "diginetica"
                else (None,) * 4
            )
            theirs = [fmt(*theirs)] if rating else [fmt(*theirs[:2]), fmt(*theirs[2:])]
            s = summary.get(depth)
            row = {
                "dataset": dataset_label(dataset),
                "depth p = q": depth,
                "seeds": int(s["seeds"]) if s else 0,
                "configurations run": f"{s['done']} / {s['total']}" if s else "",
                "selected configuration": s["config"] if s else "",
            }
            row.update(
                {m: fmt(s[m], s[f"{m} std"], s[f"{m} dagger"]) if s else "not run" for m in metrics}
            )
            rows.append(row | dict(zip([f"paper {m}" for m in metrics], theirs)))
    return pd.DataFrame(rows).set_index(["dataset", "depth p = q"])[
        [c for m in metrics for c in (m, f"paper {m}")]
        + ["seeds", "configurations run", "selected configuration"]
    ]


def _view(table: str, doc: str):
    """The builder of one of the book's tables of records (``common.TABLES``): ``f(profile)``."""

    def build(profile=None) -> pd.DataFrame:
        models, study = common.TABLES[table]
        frame, task = common.table_frame(table, profile), common.task_of(models)
        if study == "depth":
            return depth_table(frame, common.DATASETS[task], METRICS[task])
        return accuracy_table(frame, common.DATASETS[task], models)

    build.__name__, build.__qualname__, build.__doc__ = table, table, doc
    return build


table3a = _view("table3a", "Paper Table 3 (a): MF, IHSR, eTREE and HMF on the rating data sets.")
table3b = _view("table3b", "Paper Table 3 (b): the ranking models on DIGINETICA or a substitute.")
reference_table = _view("reference", "Not in the paper: the outside library's reference MF rows.")
table6a = _view("table6a", "Paper Table 6 (a): HMF's test RMSE by depth p = q.")
table6b = _view("table6b", "Paper Table 6 (b): BPR-HMF's HR@10 and MRR@10 by depth p = q.")


PROTOCOL_LABELS = {
    "hit_ratio@10": "sampled HR@10",
    "full_hit_ratio@10": "full HR@10",
    "mrr@10": "sampled MRR@10",
    "full_mrr@10": "full MRR@10",
    "full_ndcg@10": "full NDCG@10",
}


def protocol_summary(frame: pd.DataFrame, dataset: str) -> dict[str, dict]:
    """Per model of ``dataset``'s full-ranking records: its selection's test summary of
    :data:`~hmf.report.common.PROTOCOL_METRICS` (mean, std, † against BPR-HMF)."""
    part = rows_of(frame, dataset)
    return _selections(part, common.PROTOCOL_METRICS, "model", common.HMF["ranking"])


def protocol_table(frame: pd.DataFrame, datasets, models) -> pd.DataFrame:
    """Ours, not the paper's: per ranking data set and model, the selection's sampled and full
    test metrics side by side (mean ± std over seeds; † where Tukey's HSD over all the models
    finds one different from BPR-HMF under that metric)."""
    rows = []
    for dataset in datasets:
        chosen = protocol_summary(frame, dataset)
        if not chosen:
            continue
        for model in models:
            s = chosen.get(model)
            row = {"dataset": dataset_label(dataset), "method": registry.label(model)}
            for m, label in PROTOCOL_LABELS.items():
                row[label] = fmt(s[m], s[f"{m} std"], s[f"{m} dagger"]) if s else "not run"
            row["seeds"] = int(s["seeds"]) if s else 0
            row["selected configuration"] = s["config"] if s else ""
            rows.append(row)
    columns = ["dataset", "method", *PROTOCOL_LABELS.values(), "seeds", "selected configuration"]
    return pd.DataFrame(rows, columns=columns).set_index(["dataset", "method"])


def _short(model: str) -> str:
    """A model's label without its parenthesis (``most popular``, ``EASE``)."""
    return registry.label(model).split(" (")[0]


def _order(means: dict[str, float]) -> str:
    """Models from best to worst, ``=`` between equal means."""
    ranked = sorted(means, key=lambda m: -means[m])
    text = _short(ranked[0])
    for before, model in zip(ranked, ranked[1:]):
        text += (" = " if means[model] == means[before] else " > ") + _short(model)
    return text


def protocol_flips(frame: pd.DataFrame, datasets, models) -> pd.DataFrame:
    """Ours: per ranking data set and metric, the order of the models' mean test values under
    the sampled and the full protocol, and the pairs whose order reverses between them (a pair
    tied under one protocol is not a reversal; it is counted apart)."""
    rows = []
    for dataset in datasets:
        chosen = protocol_summary(frame, dataset)
        present = [m for m in models if m in chosen]
        for metric in ("hit_ratio@10", "mrr@10"):
            sampled = {m: float(chosen[m][metric]) for m in present}
            full = {m: float(chosen[m][f"full_{metric}"]) for m in present}
            pairs = list(itertools.combinations(present, 2))
            flipped = [
                (a, b) for a, b in pairs if (sampled[a] - sampled[b]) * (full[a] - full[b]) < 0
            ]
            tied = [(a, b) for a, b in pairs if full[a] == full[b] or sampled[a] == sampled[b]]
            if not present:
                continue
            rows.append(
                {
                    "dataset": dataset_label(dataset),
                    "metric": metric.replace("hit_ratio", "HR").replace("mrr", "MRR"),
                    "sampled order": _order(sampled),
                    "full order": _order(full),
                    "pairs reversed": f"{len(flipped)} of {len(pairs)}",
                    "reversed": "; ".join(f"{_short(a)} / {_short(b)}" for a, b in flipped),
                    "pairs tied under one protocol": len(tied),
                }
            )
    return pd.DataFrame(rows).set_index(["dataset", "metric"]) if rows else pd.DataFrame()


def ranking_protocols(profile=None) -> pd.DataFrame:
    """Ours: the ranking models and baselines, sampled and full test metrics side by side."""
    frame, models = common.table_frame("protocols", profile), common.TABLES["protocols"][0]
    return protocol_table(frame, common.DATASETS["ranking"], models)


def ranking_flips(profile=None) -> pd.DataFrame:
    """Ours: which orderings of the ranking models change from sampled to full ranking."""
    frame, models = common.table_frame("protocols", profile), common.TABLES["protocols"][0]
    return protocol_flips(frame, common.DATASETS["ranking"], models)


def not_computed(table: str, profile=None) -> pd.DataFrame:
    """The data sets of a table (``"table3a"``, ...) without records, why, and the command."""
    name = common.profile_name(profile)
    found, missing = common.records(table, name)
    frame, rows = experiments.records_frame(found), []
    for dataset in common.DATASETS[common.task_of(common.TABLES[table][0])]:
        base = dataset.removesuffix("-implicit")
        if dataset in missing:
            spec = data.get_spec(base)
            status = "data not available here"
            how = f"hmf data fetch {base}" if spec.archive else spec.manual
        elif not len(rows_of(frame, dataset)):
            status = f"no {name!r} records yet"
            how = f"hmf sweep --profile {name} --dataset {dataset} --model …"
        else:
            continue
        rows.append({"dataset": dataset, "status": status, "to compute": how})
    if not rows:
        return pd.DataFrame({"status": ["every data set of this table has records"]})
    return pd.DataFrame(rows).set_index("dataset")
