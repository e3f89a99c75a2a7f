"""Beyond the paper: what HMF's advantage over MF depends on (the chapter "What HMF's advantage
depends on").

Every question runs in the book's trainer with the accuracy study's split, seeds, selection rule
(lowest mean validation RMSE over five seeds among the question's configurations) and Tukey's
HSD (α = 0.05) against HMF as the accuracy study selected it; the paired difference is taken seed
by seed (the same seed gives both models the same shuffles). The configurations are
:func:`hmf.experiments.grids.beyond_questions`.
"""

from __future__ import annotations

import functools
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hmf import experiments, paper, registry, train
from hmf.experiments import grids
from hmf.experiments.grids import beyond_questions
from hmf.experiments.records import config_key
from hmf.experiments.selection import selected_config
from hmf.fitting import EarlyStopping
from hmf.report import common
from hmf.report.common import (
    dataset_label,
    fmt,
    join,
    profile_name,
    rows_of,
    substitute_label,
)
from hmf.report.figures import FIGURES, opaque, save, stamp
from hmf.split import split_for

# name -> (what the question varies, the models it asks)
QUESTIONS = {
    "l2": ("an L2 term λ‖Θ‖² in the loss, trained by Adam", ("mf", "hmf")),
    "decay": ("AdamW's decoupled weight decay where it acts (0.1 to 100)", ("mf", "hmf")),
    "biases": ("the training mean and user and item biases (with or without L2)", ("mf", "hmf")),
    "patience": ("a patience of 20, or none within 512 epochs, instead of 5", ("mf", "hmf")),
    "temperature": ("the softmax temperature T of the connection matrices", ("hmf", "bpr-hmf")),
    "clusters": ("more clusters (the paper's Section 5.1 conjecture)", ("hmf",)),
}
RATING = common.DATASETS["rating"]
RANKING = ("ml-100k-implicit", "ciao-implicit")
BASELINE = "Table 3 grid"  # the accuracy study's selection, as the accuracy chapter reports it


def _records(profile, datasets, models, study: str):
    return _cached_records(profile_name(profile), tuple(datasets), tuple(models), study)


@functools.lru_cache(maxsize=32)
def _cached_records(profile: str, datasets, models, study: str):
    # A chapter asks for the same records a dozen times; reading them is most of its build.
    found, _ = experiments.ensure_records(datasets, models, profile, study=study)
    return experiments.records_frame(found), found


def _bases(accuracy) -> dict[tuple[str, str], dict]:
    """The accuracy study's selected configuration per (data set, model)."""
    out = {}
    for r in accuracy:
        key = (r.dataset, r.model)
        if key not in out:
            metric = "rmse" if registry.get(r.model).task == "rating" else "hit_ratio@10"
            out[key] = selected_config(accuracy, r.dataset, r.model, metric)
    return out


def question_frames(profile=None, datasets=RATING, models=("mf", "hmf")):
    """``(accuracy, {question: beyond records of its configurations})`` as records frames, each
    with a ``variant`` column: the accuracy selection's rows are ``"<model> (Table 3 grid)"``,
    a question's ``"<model>, <question>"``."""
    acc_frame, acc = _records(profile, datasets, models, "accuracy")
    beyond_frame, _ = _records(profile, datasets, models, "beyond")
    bases = _bases(acc)
    name = profile_name(profile)
    out = {}
    for question in QUESTIONS:
        keep = []
        for (dataset, model), base in bases.items():
            configs = beyond_questions(name, model, base, dataset=dataset).get(question, [])
            keys = {config_key(c) for c in configs}
            part = rows_of(beyond_frame, dataset, model)
            if len(part):
                keep.append(part[part["config"].isin(keys)])
        frame = pd.concat(keep) if keep else pd.DataFrame()
        out[question] = _named(frame, lambda m, q=question: f"{m}, {q}")
    return _named(acc_frame, lambda m: f"{m} ({BASELINE})"), out


def _named(frame: pd.DataFrame, name) -> pd.DataFrame:
    """``frame`` with its ``variant`` column (``name(model)``); an empty frame as it is."""
    return frame.assign(variant=frame["model"].map(name)) if len(frame) else frame


def _paired(chosen: pd.DataFrame, variant: str, reference: str, metric: str):
    """Mean and std over seeds of ``variant`` minus ``reference``, seed by seed."""
    by_seed = chosen.pivot_table(index="seed", columns="variant", values=f"test {metric}")
    if variant not in by_seed or reference not in by_seed:
        return None
    diff = (by_seed[variant] - by_seed[reference]).dropna()
    return (float(diff.mean()), float(diff.std(ddof=1))) if len(diff) > 1 else None


def compare(frame: pd.DataFrame, dataset: str, reference: str, metric: str = "rmse") -> dict:
    """Per variant of one data set: the selected configuration's test mean and std, Tukey's HSD
    against ``reference`` (``p``, ``dagger``) and the paired per-seed difference (``diff``)."""
    part = rows_of(frame, dataset)
    if not len(part):
        return {}
    chosen = experiments.select(part, metric, by=("dataset", "variant"))
    tests = experiments.tukey_against(chosen, metric, reference, group="variant")
    out = {}
    for variant, rows in chosen.groupby("variant", sort=False):
        test = rows[f"test {metric}"]
        p, dagger = tests.get(variant, (float("nan"), False))
        out[variant] = dict(
            mean=float(test.mean()),
            std=float(test.std(ddof=1)) if len(test) > 1 else float("nan"),
            seeds=int(rows["seed"].nunique()),
            config=rows["config"].iloc[0],
            p=p,
            dagger=dagger,
            diff=None if variant == reference else _paired(chosen, variant, reference, metric),
        )
    return out


def _setting(config: str) -> str:
    """A selected configuration as the table prints it, without the cluster counts (those of the
    Table 3 selection throughout)."""
    pairs = re.findall(r"([a-z][a-z0-9_]*?)=([^_]+)(?:_|$)", config)
    return ", ".join(
        f"{k.replace('weight_decay', 'decay')}={v}" for k, v in pairs if not k.endswith("_clusters")
    )


def question_table(question: str, profile=None) -> pd.DataFrame:
    """One question's table: per data set, MF and HMF as the accuracy study selected them and as
    the question's configurations select them - test RMSE (mean ± std, † where Tukey's HSD over
    the four finds it different from HMF's Table 3 selection), the paired per-seed difference
    from that HMF, and the selected setting."""
    if question in ("temperature", "clusters"):
        return {"temperature": temperature_table, "clusters": clusters_table}[question](profile)
    accuracy, frames = question_frames(profile)
    frame = pd.concat([accuracy, frames[question]])
    reference = f"hmf ({BASELINE})"
    rows = []
    for dataset in RATING:
        results = compare(frame, dataset, reference)
        if not any(f"{m}, {question}" in results for m in QUESTIONS[question][1]):
            continue  # the question has not run here
        for model in QUESTIONS[question][1]:
            for variant in (f"{model} ({BASELINE})", f"{model}, {question}"):
                label = _variant_text(variant)
                s = results.get(variant)
                diff = s and s["diff"]
                rows.append(
                    {
                        "data set": dataset_label(dataset),
                        "model": label,
                        "test RMSE": fmt(s["mean"], s["std"], s["dagger"]) if s else "not run",
                        "minus HMF (per seed)": fmt(*diff) if diff else "",
                        "selected": _setting(s["config"]) if s else "",
                    }
                )
    return _or_empty(rows, ["data set", "model"])


def temperature_results(profile=None) -> list[dict]:
    """Per model, data set and temperature T: :func:`compare`'s summary of each of the task's
    metrics against T = 1 (the accuracy study's selection; the learning rate, decay and cluster
    counts are that selection's) - ``{"model", "dataset", "T", "metrics": {metric: summary}}``."""
    out = []
    for model, datasets in (("hmf", RATING), ("bpr-hmf", RANKING)):
        accuracy, frames = question_frames(profile, datasets, (model,))
        frame = pd.concat([accuracy, frames["temperature"]])
        if not len(frame):
            continue
        temps = frame["config"].str.extract(r"(?:^|_)temperature=([0-9.e+-]+)")[0]
        frame = frame.assign(variant=temps.fillna("1").map(lambda t: f"T = {float(t):g}"))
        metrics = common.METRICS[registry.get(model).task]
        for dataset in datasets:
            cells = {m: compare(frame, dataset, "T = 1", m) for m in metrics}
            if set(cells[metrics[0]]) <= {"T = 1"}:
                continue  # no other temperature run here
            for variant in sorted(cells[metrics[0]], key=lambda v: float(v.split("= ")[1])):
                summaries = {m: cells[m][variant] for m in metrics if variant in cells[m]}
                out.append(
                    dict(model=model, dataset=dataset, T=variant.split("= ")[1], metrics=summaries)
                )
    return out


def temperature_table(profile=None) -> pd.DataFrame:
    """:func:`temperature_results` as a table: HMF's test RMSE and BPR-HMF's HitRatio@10 and
    MRR@10 at each T, † where Tukey's HSD over the temperatures finds T different from T = 1."""
    short = {"rmse": "RMSE", "hit_ratio@10": "HR@10", "mrr@10": "MRR@10"}
    rows = [
        {
            "model": registry.label(r["model"]),
            "data set": substitute_label(r["dataset"]),
            "T": r["T"],
        }
        | {short[m]: fmt(s["mean"], s["std"], s["dagger"]) for m, s in r["metrics"].items()}
        for r in temperature_results(profile)
    ]
    return _or_empty(rows, ["model", "data set", "T"])


def temperature_claim(profile=None) -> tuple[str, str]:
    """The landing page's row for the paper's suspicion that the clustering's strength trades
    HitRatio against MRR: (ours, verdict) over BPR-HMF's temperatures - ``reproduced`` where
    some T moves both significantly and in opposite directions, ``partly`` where some T moves
    one significantly and the other the opposite way, else ``not reproduced``."""
    runs = [r for r in temperature_results(profile) if r["model"] == "bpr-hmf" and r["T"] != "1"]
    if not runs:
        return "no BPR-HMF temperature runs yet", "not computed"
    hr, mrr = "hit_ratio@10", "mrr@10"
    ours = "; ".join(
        f"{substitute_label(d)}: HR@10 "
        f"{_span([r['metrics'][hr]['mean'] for r in runs if r['dataset'] == d])}, MRR@10 "
        f"{_span([r['metrics'][mrr]['mean'] for r in runs if r['dataset'] == d])}"
        for d in dict.fromkeys(r["dataset"] for r in runs)
    )
    marked = [r for r in runs if r["metrics"][hr]["dagger"] or r["metrics"][mrr]["dagger"]]
    ours += f" over T = {', '.join(dict.fromkeys(r['T'] for r in runs))}; significantly "
    ours += f"different from T = 1: {len(marked)} of {len(runs)}"
    return ours, trade_verdict([r["metrics"] for r in runs])


def trade_verdict(settings: list[dict[str, dict]]) -> str:
    """``reproduced`` where a setting moves HitRatio@10 and MRR@10 from the reference in
    opposite directions (mean paired difference), both significantly (†); ``partly`` where
    they move oppositely and one is significant; else ``not reproduced``."""

    def moves(s):
        return [(s[m]["diff"] or (0.0,))[0] for m in ("hit_ratio@10", "mrr@10")]

    opposite = [s for s in settings if np.prod(moves(s)) < 0]
    marks = [sum(s[m]["dagger"] for m in ("hit_ratio@10", "mrr@10")) for s in opposite]
    return "reproduced" if 2 in marks else "partly" if 1 in marks else "not reproduced"


def _span(values: list[float]) -> str:
    return f"{min(values):.3f}-{max(values):.3f}"


def _pairs(frame: pd.DataFrame) -> pd.Series:
    """Each row's cluster counts as ``users/items``."""
    return (
        frame["config.user_clusters"].astype(int).astype(str)
        + "/"
        + frame["config.item_clusters"].astype(int).astype(str)
    )


def clusters_results(profile=None) -> dict[str, dict[str, dict]]:
    """HMF with more clusters against MF, per data set where the question ran: row label ->
    :func:`compare`'s summary against MF's best option (plus mean ``epochs`` and ``minutes``
    a run, ``table3``: the summary against HMF's Table 3 selection, ``role``: ``mf``,
    ``mf best``, ``table3`` or ``more``, and ``counts`` of HMF's rows) for MF and HMF as the
    accuracy study selected them, MF's best over every option of
    this chapter, and HMF at each larger cluster pair (the Table 3 selection's learning rate
    and decay); HMF's labels start with ``HMF <users>/<items>``."""
    accuracy, frames = question_frames(profile)
    every = pd.concat([accuracy] + [f for f in frames.values() if len(f)])
    out = {}
    for dataset in RATING:
        more = rows_of(frames["clusters"], dataset)
        if not len(more):
            continue
        best, mf_runs = _best_variant(rows_of(every, dataset, "mf"))
        table3 = rows_of(accuracy, dataset)
        hmf3 = experiments.select(table3[table3["model"] == "hmf"], "rmse")
        # variant -> (row label, role, cluster counts); MF's best may be its Table 3 selection
        rows = {f"mf ({BASELINE})": ("MF", "mf", None)}
        rows[best] = (f"MF, best option ({_variant_text(best)})", "mf best", None)
        counts = _pairs(hmf3).iloc[0]
        rows[f"hmf ({BASELINE})"] = (f"HMF {counts} (Table 3)", "table3", counts)
        more = more.assign(variant="HMF " + _pairs(more))
        rows.update({v: (v, "more", v.split()[1]) for v in more["variant"].unique()})
        frame = pd.concat(([] if best == f"mf ({BASELINE})" else [mf_runs]) + [table3, more])
        results = compare(frame, dataset, best)
        against_table3 = compare(frame, dataset, f"hmf ({BASELINE})")
        chosen = experiments.select(frame, "rmse", by=("dataset", "variant"))
        out[dataset] = {
            rows[variant][0]: dict(
                results[variant],
                role=rows[variant][1],
                counts=rows[variant][2],
                epochs=float(runs["epochs"].mean()),
                minutes=float(runs["train_seconds"].mean()) / 60,
                table3=against_table3[variant],
            )
            for variant, runs in chosen.groupby("variant", sort=False)
        }
    return out


def clusters_table(profile=None) -> pd.DataFrame:
    """:func:`clusters_results` as a table: test RMSE (mean ± std, † where Tukey's HSD over the
    rows finds it different from MF's best), the paired per-seed difference from MF's best,
    epochs and training minutes a run."""
    rows = [
        {
            "data set": dataset_label(dataset),
            "model": label,
            "test RMSE": fmt(s["mean"], s["std"], s["dagger"]),
            "minus best MF (per seed)": fmt(*s["diff"]) if s["diff"] else "",
            "epochs": f"{s['epochs']:.0f}",
            "minutes a run": f"{s['minutes']:.1f}",
        }
        for dataset, results in clusters_results(profile).items()
        for label, s in results.items()
    ]
    return _or_empty(rows, ["data set", "model"])


def _more(results: dict) -> tuple[dict, dict]:
    """MF's best option and the larger-cluster HMF rows of one data set's results."""
    mf = next(s for s in results.values() if s["role"] == "mf best")
    return mf, {s["counts"]: s for s in results.values() if s["role"] == "more"}


def clusters_finding(profile=None) -> str:
    """The section's sentences from :func:`clusters_results`."""
    found = clusters_results(profile)
    if not found:
        return "No runs with more clusters under this profile yet."
    parts = []
    for dataset, results in found.items():
        mf, more = _more(results)
        table3 = next(label for label, s in results.items() if s["role"] == "table3")
        counts = results[table3]["counts"]
        seeds = [
            f"{k} {fmt(*s['table3']['diff'])}"
            + (" (different under Tukey's HSD)" if s["table3"]["dagger"] else "")
            for k, s in more.items()
            if s["table3"]["diff"]
        ]
        parts.append(
            f"On {dataset_label(dataset)} HMF's test RMSE is "
            f"{fmt(results[table3]['mean'], None, results[table3]['dagger'])} "
            f"with {counts} clusters, then "
            + join([f"{fmt(s['mean'], None, s['dagger'])} with {k}" for k, s in more.items()])
            + f", against {fmt(mf['mean'])} for MF's best option († where Tukey's HSD finds HMF "
            "different from it)."
            + (f" Seed by seed, against {counts}: {join(seeds)}." if seeds else "")
            + " A run took "
            + join([f"{s['minutes']:.1f}" for s in more.values()])
            + f" minutes of training, {results[table3]['minutes']:.1f} with {counts}."
        )
    return " ".join(parts)


def clusters_claim(profile=None) -> tuple[str, str]:
    """The landing page's row for the paper's conjecture: (ours, verdict) - on ML-1M, does HMF
    with more clusters beat MF's best option (``reproduced``), match it (no significant
    difference: ``partly``), or stay significantly behind (``not reproduced``)?"""
    results = clusters_results(profile).get("ml-1m")
    if not results:
        return "no ML-1M runs with more clusters yet", "not computed"
    mf, more = _more(results)
    ours = f"MF's best option {fmt(mf['mean'])}; HMF " + ", ".join(
        f"{k} {fmt(s['mean'], None, s['dagger'])}" for k, s in more.items()
    )
    if any(s["mean"] < mf["mean"] for s in more.values()):
        return ours, "reproduced"
    return ours, "partly" if any(not s["dagger"] for s in more.values()) else "not reproduced"


def conjecture_values() -> dict[str, float]:
    """The paper's Table 3 test RMSE of MF and HMF on ML-1M, where it conjectures."""
    return {m: paper.TABLE3_RATING[("ml-1m", m)]["rmse"] for m in ("mf", "hmf")}


def conjecture_text(values: dict) -> str:
    return (
        f"ML-1M: MF {values['mf']:.3f}, HMF {values['hmf']:.3f}; larger cluster counts might "
        "let HMF match or beat MF (Section 5.1)"
    )


def _best_variant(rows: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The variant whose selection has the lowest mean validation RMSE, and its selected runs."""
    chosen = experiments.select(rows, "rmse", by=("dataset", "variant"))
    best = chosen.groupby("variant")["validation rmse"].mean().idxmin()
    return best, chosen[chosen["variant"] == best]


def best_mf(profile=None) -> dict[str, dict]:
    """Per rating data set with beyond-the-paper MF runs: the best MF variant over every question
    (lowest mean validation RMSE of its selection) against HMF's Table 3 selection (``mf``,
    ``hmf``: test summaries with Tukey's HSD over the two), and the best HMF variant chosen the
    same way against that MF (``best_hmf``, ``mf_vs_best``; ``hmf_variant``)."""
    accuracy, frames = question_frames(profile)
    every = pd.concat([accuracy] + [f for f in frames.values() if len(f)])
    out = {}
    for dataset in RATING:
        part = rows_of(every, dataset)
        mf_rows = part[part["model"] == "mf"] if len(part) else part
        if not len(mf_rows) or (mf_rows["variant"] == f"mf ({BASELINE})").all():
            continue  # no beyond-the-paper MF runs on this data set
        best, mf_runs = _best_variant(mf_rows)
        table3 = f"hmf ({BASELINE})"
        result = compare(pd.concat([mf_runs, rows_of(accuracy, dataset, "hmf")]), dataset, table3)
        if best not in result or table3 not in result:
            continue
        out[dataset] = dict(variant=best, mf=result[best], hmf=result[table3])
        hmf_variant, hmf_runs = _best_variant(part[part["model"] == "hmf"])
        against = compare(pd.concat([mf_runs, hmf_runs]), dataset, hmf_variant)
        out[dataset].update(
            hmf_variant=hmf_variant, best_hmf=against[hmf_variant], mf_vs_best=against[best]
        )
    return out


def l2_figure(dataset: str, profile=None, save_to=FIGURES):
    """Test RMSE against λ on ``dataset`` for MF and HMF, with and without biases: at each λ the
    learning rate with the lower mean validation RMSE, mean ± std over seeds; HMF's Table 3
    selection as a dotted line. Stamped and saved as ``save_to/beyond-l2-<dataset>.*``."""
    accuracy, frames = question_frames(profile)
    part = rows_of(pd.concat([frames["l2"], frames["biases"]]), dataset)
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    styles = {  # colour tells the model, marker and line whether biases are in
        "mf, l2": ("MF + L2", "tab:blue", "o", "-"),
        "mf, biases": ("MF + biases + L2", "tab:blue", "s", "--"),
        "hmf, l2": ("HMF + L2", "tab:orange", "o", "-"),
        "hmf, biases": ("HMF + biases + L2", "tab:orange", "s", "--"),
    }
    series = {}
    for variant, (label, colour, marker, line) in styles.items():
        rows = part[part["variant"] == variant] if len(part) else part
        if not len(rows):
            continue
        lam = rows["config"].str.extract(r"(?:^|_)l2=([0-9.e+-]+)")[0].astype(float)
        rows = rows.assign(lam=lam)[lam > 0]
        points = []
        for value, at in rows.groupby("lam"):
            best = experiments.select(at, "rmse")["test rmse"]
            points.append((value, best.mean(), best.std(ddof=1) if len(best) > 1 else 0.0))
        if points:
            series[label] = (colour, marker, line, *map(np.array, zip(*sorted(points))))
    if not series:
        plt.close(fig)
        return _no_runs(
            f"No L2 runs on {dataset_label(dataset)} under this profile yet: "
            f"`hmf sweep --study beyond --dataset {dataset} --model mf --model hmf` trains them."
        )
    hmf = rows_of(accuracy, dataset, "hmf")
    reference = experiments.select(hmf, "rmse")["test rmse"].mean() if len(hmf) else np.nan
    # The axis spans the interesting range: from the lowest mean to 0.5 above it (or above
    # HMF's line); means beyond it are drawn as triangles on the top edge.
    lowest = np.nanmin([np.nanmin(s[4]) for s in series.values()] + [reference])
    top = max(lowest + 0.5, reference + 0.1 if np.isfinite(reference) else lowest + 0.5)
    clipped = False
    for label, (colour, marker, line, x, y, e) in series.items():
        inside = y <= top
        ax.errorbar(
            x[inside],
            y[inside],
            yerr=e[inside],
            label=label,
            color=colour,
            marker=marker,
            linestyle=line,
        )
        if (~inside).any():
            clipped = True
            ax.plot(x[~inside], np.full((~inside).sum(), top), "^", color=colour, clip_on=False)
    if np.isfinite(reference):
        ax.axhline(reference, color="black", linestyle=":", label=f"HMF ({BASELINE})")
    ax.set_ylim(lowest - 0.05, top)
    if clipped:
        ax.plot([], [], "^", color="grey", label=f"mean above {top:.2f}")
    ax.set(
        xscale="log",
        xlabel="λ, weight of the L2 term (mean-loss units)",
        ylabel="test RMSE",
        title=f"MF and HMF with an L2 term on {dataset_label(dataset)}",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    name = profile_name(profile)
    verified = bool(part["verified"].all())
    save(stamp(opaque(fig), name, dataset, verified), save_to / f"beyond-l2-{dataset}")
    plt.close(fig)
    return fig


def _no_runs(text: str):
    """A marked gap where a figure would be (shown as Markdown in a notebook)."""
    from IPython.display import Markdown

    return Markdown(f"> {text}")  # commonmark: a notebook's outputs are not MyST


NO_RUNS = "no runs of this question under this profile yet"


def _or_empty(rows: list[dict], index: list[str]) -> pd.DataFrame:
    """The table of ``rows``, or one row saying that nothing has run."""
    if not rows:
        return pd.DataFrame({"status": [NO_RUNS]})
    return pd.DataFrame(rows).set_index(index).fillna("")


def costs(profile=None) -> pd.DataFrame:
    """What the chapter's records cost: runs and summed training minutes per study, data set and
    model, and the device they ran on."""
    rows = []
    for study, datasets, models in (
        ("beyond", RATING, ("mf", "hmf")),
        ("beyond", RANKING, ("bpr-hmf",)),
        ("retrain", RATING, registry.RATING_METHODS),
    ):
        frame, found = _records(profile, datasets, models, study)
        for r in found:
            rows.append(
                {
                    "study": {"beyond": "options", "retrain": "retrain protocol"}[study],
                    "data set": substitute_label(r.dataset),
                    "model": registry.label(r.model),
                    "seconds": float(r.train_seconds),
                    "device": r.environment.get("device", ""),
                }
            )
    if not rows:
        return pd.DataFrame(columns=["runs", "training minutes", "device"])
    frame = pd.DataFrame(rows)
    out = frame.groupby(["study", "data set", "model"], sort=False).agg(
        runs=("seconds", "size"),
        minutes=("seconds", lambda s: round(float(s.sum()) / 60, 1)),
        device=("device", lambda d: ", ".join(sorted(set(d)))),
    )
    return out.rename(columns={"minutes": "training minutes"})


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _variant_text(variant: str) -> str:
    model, _, question = variant.partition(", ")
    if not question:
        return f"{registry.label(model.split(' (')[0])} as in Table 3"
    names = {
        "l2": "+ L2",
        "decay": "+ strong decay",
        "biases": "+ biases",
        "patience": "+ patience",
        "clusters": "+ more clusters",
    }
    return f"{registry.label(model)} {names[question]}"


def beyond_findings(profile=None) -> str:
    """The chapter's findings: the best MF of all questions against HMF's Table 3 selection per
    data set, and against HMF's best under the same options; every number from the records."""
    best = best_mf(profile)
    if not best:
        return "No beyond-the-paper records under this profile yet."
    parts = [
        f"{fmt(v['mf']['mean'])} on {dataset_label(d)} ({_variant_text(v['variant'])}; HMF "
        f"{fmt(v['hmf']['mean'])}{', †' if v['mf']['dagger'] else ''})"
        for d, v in best.items()
    ]
    ahead = [dataset_label(d) for d, v in best.items() if v["hmf"]["mean"] < v["mf"]["mean"]]
    sig = [
        dataset_label(d)
        for d, v in best.items()
        if v["hmf"]["mean"] < v["mf"]["mean"] and v["mf"]["dagger"]
    ]
    fair = [
        f"{fmt(v['best_hmf']['mean'])} on {dataset_label(d)} ({_variant_text(v['hmf_variant'])}"
        f"{', †' if v['mf_vs_best']['dagger'] else ''})"
        for d, v in best.items()
    ]
    even = [d for d, v in best.items() if v["best_hmf"]["mean"] < v["mf"]["mean"]]
    absent = [dataset_label(d) for d in RATING if d not in best]
    lead = (
        f"HMF's Table 3 selection keeps a lower test RMSE on {len(ahead)} of {len(best)} data sets"
        + (f" ({', '.join(ahead)}; significantly on {len(sig)})" if ahead else "")
        + f". Given the same options, HMF's best is {'; '.join(fair)}: ahead of MF's best on "
        f"{len(even)} of {len(best)} († where the two best differ under Tukey's HSD)."
    )
    return (
        "Given an L2 term, biases or a weight decay that acts, in the same trainer and selected "
        f"on validation, MF's best test RMSE is {'; '.join(parts)} - means of five seeds, † where "
        f"Tukey's HSD (α = 0.05) finds MF and HMF different. {lead}"
        + (
            f" {join(absent)} {'has' if len(absent) == 1 else 'have'} no such runs yet."
            if absent
            else ""
        )
    )


def question_finding(question: str, profile=None) -> str:
    """One sentence per question: how its configurations move MF's and HMF's test RMSE from
    their Table 3 selections, per data set."""
    if question in ("temperature", "clusters"):
        return {"temperature": temperature_finding, "clusters": clusters_finding}[question](profile)
    accuracy, frames = question_frames(profile)
    frame = pd.concat([accuracy, frames[question]])
    parts = []
    for dataset in RATING:
        r = compare(frame, dataset, f"hmf ({BASELINE})")
        moves = []
        for model in QUESTIONS[question][1]:
            base, new = r.get(f"{model} ({BASELINE})"), r.get(f"{model}, {question}")
            if base and new:
                moves.append(
                    f"{registry.label(model)} {fmt(base['mean'])} → {fmt(new['mean'])}"
                    + (" †" if new["dagger"] else "")
                )
        if moves:
            parts.append(f"{dataset_label(dataset)}: {', '.join(moves)}")
    if not parts:
        return "No records of this question under this profile yet."
    return (
        f"{_upper(QUESTIONS[question][0])}: {'; '.join(parts)} (test RMSE, Table 3 selection → "
        "this question's selection; † different from HMF's Table 3 selection under Tukey's HSD)."
    )


_NOT_AT_START = ("lr", "weight_decay", "l2", "patience")  # settings that leave the start alone


def _from_start(values: list[float], start: float, patience: int) -> tuple[int, int]:
    """(best epoch, last epoch) of the stopping rule fed the starting parameters' value as an
    epoch 0 before ``values`` (epochs 1, 2, ...); a best epoch of 0 keeps the start."""
    stopper = EarlyStopping(patience)
    stopper.update(1, start, lambda: None)  # the rule counts from 1: epoch e is e + 1 here
    for epoch, value in enumerate(values, 1):
        if stopper.update(epoch + 1, value, lambda: None):
            return stopper.best_epoch - 1, epoch
    return stopper.best_epoch - 1, len(values)


@functools.lru_cache(maxsize=256)
def _start_metrics(dataset: str, model: str, start: tuple, seed: int) -> dict[str, float]:
    """Validation and test RMSE of the parameters a run of ``model`` starts from (``start``:
    the ``(key, value)`` pairs of its configuration that shape the start)."""
    spec = registry.gradient_spec(model, dict(start))
    split = split_for(dataset)
    return {
        subset: train.initial_metrics(spec, split, seed, subset)["rmse"]
        for subset in ("validation", "test")
    }


def start_check(profile=None) -> pd.DataFrame:
    """What counting patience from an evaluation *before* the first epoch would change.

    The rule keeps the best epoch so far and stops ``patience`` epochs after it. An evaluation
    at epoch 0 (the starting parameters, :func:`hmf.train.initial_metrics`) changes nothing
    when epoch 1 beats it - epoch 1 is then the first best either way - and otherwise can only
    stop a run sooner, on the trajectory it already ran: the recorded validation history gives
    the new stopping and best epochs. Where the best becomes the start, its test RMSE is the
    starting parameters'; where it stays the recorded best epoch, the record's. Per data set
    and model, over the runs of the patience question and of the Table 3 selection.
    """
    name = profile_name(profile)
    _, accuracy = _records(name, RATING, ("mf", "hmf"), "accuracy")
    _, beyond = _records(name, RATING, ("mf", "hmf"), "beyond")
    rows = []
    for (dataset, model), base in _bases(accuracy).items():
        keys = {config_key(base)} | {
            config_key(c)
            for c in beyond_questions(name, model, base, dataset=dataset).get("patience", [])
        }
        runs = [r for r in accuracy + beyond if (r.dataset, r.model) == (dataset, model)]
        runs = [r for r in runs if r.key in keys]
        if not runs:
            continue
        changed, sooner, before, after = 0, 0, [], []
        for r in runs:
            values = r.history["validation_rmse"]
            start = tuple(sorted((k, v) for k, v in r.config.items() if k not in _NOT_AT_START))
            metrics = _start_metrics(dataset, model, start, r.seed)
            best, last = _from_start(values, metrics["validation"], r.config.get("patience", 5))
            changed += values[0] >= metrics["validation"]
            sooner += last < r.epochs
            before.append(r.test["rmse"])
            if best in (0, r.best_epoch):
                after.append(metrics["test"] if best == 0 else r.test["rmse"])
        rows.append(
            {
                "data set": dataset_label(dataset),
                "model": registry.label(model),
                "runs": len(runs),
                "start no worse than epoch 1": changed,
                "stop sooner": sooner,
                "test RMSE": fmt(np.mean(before)),
                "counting from the start": fmt(np.mean(after))
                if len(after) == len(runs)
                else f"{len(runs) - len(after)} runs need training again",
            }
        )
    return _or_empty(rows, ["data set", "model"])


def start_finding(profile=None) -> str:
    """One sentence from :func:`start_check`."""
    table = start_check(profile)
    if "status" in table:
        return "No patience records under this profile yet."
    changed, runs = int(table["start no worse than epoch 1"].sum()), int(table["runs"].sum())
    sooner = int(table["stop sooner"].sum())
    moved = [
        f"{m} on {d} {row['test RMSE']} → {row['counting from the start']}"
        for (d, m), row in table.iterrows()
        if row["test RMSE"] != row["counting from the start"]
    ]
    return (
        f"Counting patience from an evaluation before the first epoch leaves {runs - changed} of "
        f"these {runs} runs as they are (their first epoch beats the starting parameters); "
        f"{sooner} would stop sooner"
        + (
            f", which moves the mean test RMSE of {join(moved)}."
            if moved
            else ", with the same best epoch or the same test RMSE, so no mean moves."
        )
    )


def _number(value: float) -> str:
    text = f"{value:.0e}" if 0 < abs(value) < 0.1 else f"{value:g}"
    return text.replace("e-0", "e-")


def _set(values) -> str:
    return "{" + ", ".join(map(_number, values)) + "}" if len(values) > 1 else _number(values[0])


def reduced_grid_text() -> str:
    """Which data sets ask the questions on a reduced grid, and what it keeps
    (:data:`hmf.experiments.grids.BEYOND_REDUCED`), against the full one (``BEYOND_FULL``)."""
    full = grids.BEYOND_FULL
    out = []
    for dataset, r in grids.BEYOND_REDUCED.items():
        rates = " and ".join(f"{_set(v)} for {registry.label(m)}" for m, v in r["lrs"].items())
        kept = [
            ("λ of the L2 term", "l2s"),
            ("decay", "decays"),
            ("λ with biases", "bias_l2s"),
            ("T", "temps"),
        ]
        sets = "; ".join(f"{name} {_set(r[k])} (elsewhere {_set(full[k])})" for name, k in kept)
        out.append(
            f"On {dataset_label(dataset)}, where an HMF run takes minutes, every question uses a "
            f"reduced grid around the Table 3 selections: learning rate {rates} (elsewhere "
            f"{_set(grids.BEYOND_LEARNING_RATES)}); {sets}; patience {_set(r['patiences'])} at "
            f"the selection's learning rate only (elsewhere {_set(full['patiences'])} at the "
            "Table 3 grid's learning rates)."
        )
    return " ".join(out)


def temperature_finding(profile=None) -> str:
    """Which temperature each model's selection rule would pick, and what it changes."""
    table = temperature_table(profile)
    if "status" in table:
        return "No temperature records under this profile yet."
    table = table[table.index.get_level_values("T") != "1"]
    marked = [
        f"{m} on {d} at T = {t}"
        for (m, d, t), row in table.iterrows()
        if any(str(v).endswith("†") for v in row.values)
    ]
    return (
        f"Of {len(table)} model, data set and temperature settings, "
        + (
            f"{len(marked)} differ significantly from T = 1 ({'; '.join(marked)})"
            if marked
            else "none differs significantly from T = 1"
        )
        + " (Tukey's HSD over the temperatures, α = 0.05)."
    )


def paper_values() -> dict[str, tuple[float, float]]:
    """The paper's Table 3 test RMSE of (MF, HMF) where it puts HMF ahead: ML-100K and Ciao."""
    return {
        d: (paper.TABLE3_RATING[(d, "mf")]["rmse"], paper.TABLE3_RATING[(d, "hmf")]["rmse"])
        for d in ("ml-100k", "ciao")
    }


def paper_text(values: dict) -> str:
    return "; ".join(f"{dataset_label(d)} MF {m:.3f}, HMF {h:.3f}" for d, (m, h) in values.items())


def claim_check(profile=None) -> tuple[str, str]:
    """The landing page's row: (ours, verdict) - given the same options, does HMF's best keep a
    lower test RMSE than MF's best (:func:`best_mf`) on ML-100K and Ciao?"""
    best = {d: v for d, v in best_mf(profile).items() if d in paper_values()}
    if len(best) < len(paper_values()):
        return "no beyond-the-paper records for ML-100K and Ciao yet", "not computed"
    ahead = [d for d, v in best.items() if v["best_hmf"]["mean"] < v["mf"]["mean"]]
    ours = "; ".join(
        f"{dataset_label(d)} best MF ({_variant_text(v['variant'])}) {fmt(v['mf']['mean'])}, "
        f"best HMF ({_variant_text(v['hmf_variant'])}) {fmt(v['best_hmf']['mean'])}"
        f"{' †' if v['mf_vs_best']['dagger'] else ''}"
        for d, v in best.items()
    )
    verdict = "reproduced" if len(ahead) == len(best) else "partly" if ahead else "not reproduced"
    return ours, verdict


def retrain_table(profile=None) -> pd.DataFrame:
    """Which test protocol the paper's Table 3 is closer to, per data set and rating model: the
    paper's test RMSE, ours under the paper's text (the best validation epoch's parameters) and
    under the authors' code (retrained on training + validation for the selection's mean best
    epoch, the last epoch scored), each with its distance from the paper's value in units of
    its standard deviation over seeds."""
    name = profile_name(profile)
    best, _ = _records(name, RATING, registry.RATING_METHODS, "accuracy")
    again, _ = _records(name, RATING, registry.RATING_METHODS, "retrain")
    rows = []
    for dataset in RATING:
        for model in registry.RATING_METHODS:
            theirs = paper.TABLE3_RATING.get((dataset, model), {}).get("rmse")
            row = {"data set": dataset_label(dataset), "model": registry.label(model)}
            row["paper"] = f"{theirs:.3f}" if theirs is not None else ""
            distances = {}
            for label, frame in (("best epoch", best), ("retrained", again)):
                part = rows_of(frame, dataset, model)
                if not len(part):
                    row[label] = row[f"{label}: distance"] = ""
                    continue
                test = experiments.select(part, "rmse")["test rmse"]
                mean = float(test.mean())
                std = float(test.std(ddof=1)) if len(test) > 1 else float("nan")
                row[label] = fmt(mean, std)
                if theirs is not None and std > 0:  # False for NaN: one seed has no spread
                    distances[label] = abs(theirs - mean) / std
                    row[f"{label}: distance"] = f"{distances[label]:.1f} sd"
                else:
                    row[f"{label}: distance"] = ""
            row["closer"] = min(distances, key=distances.get) if len(distances) == 2 else ""
            rows.append(row)
    return pd.DataFrame(rows).set_index(["data set", "model"])


def retrain_finding(profile=None) -> str:
    """How many of Table 3 (a)'s cells each protocol is closer to."""
    table = retrain_table(profile)
    decided = table[table["closer"] != ""]
    if not len(decided):
        return "No records of the retrain protocol under this profile yet."
    counts = decided["closer"].value_counts()
    per = [f"{d} {m}: {c}" for (d, m), c in decided["closer"].items()]
    return (
        f"Of the {len(decided)} cells of Table 3 (a) with both protocols run, the paper's value is "
        f"closer to the best-epoch protocol in {int(counts.get('best epoch', 0))} and to the "
        f"retrain protocol in {int(counts.get('retrained', 0))} ({'; '.join(per)}; distances in "
        "units of our standard deviation over seeds)."
    )
