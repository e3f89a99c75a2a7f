"""The chapter "Are the clusters meaningful?": the cluster study's committed files
(:mod:`hmf.experiments.clusters`) as a summary, the main table, findings, the landing page's
claim, a histogram of coherence against the null and a stability figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hmf import registry
from hmf.experiments.clusters import METHODS, load_cluster_study
from hmf.report.common import dataset_label, join, profile_name
from hmf.report.figures import FIGURES, missing_dataset, opaque, save, stamp

__all__ = [
    "CLUSTER_DATASETS",
    "METHOD_LABELS",
    "cluster_study",
    "cluster_summary",
    "cluster_table",
    "coherence_table",
    "cluster_findings",
    "cluster_claim",
    "cluster_closing",
    "coherence_histogram",
    "stability_figure",
]

CLUSTER_DATASETS = ("ml-1m", "ml-100k")  # the paper's case-study data set first
METHOD_LABELS = {
    "hmf": "HMF, members by membership",
    "hmf-nearest": "HMF, members nearest the cluster (Table 4)",
    "kmeans-mf": "k-means on MF's embeddings",
    "ihsr": "IHSR",
    "random": "random clusters",
}
LABEL_NAMES = {
    "item genre": "item genres",
    "item decade": "item release decades",
    "user gender": "user gender",
    "user age": "user age band",
    "user occupation": "user occupation",
}
ALPHA = 0.05


def cluster_study(profile=None) -> dict[str, dict]:
    """``{dataset: load_cluster_study(...)}`` for the data sets with any committed file."""
    name = profile_name(profile)
    out = {d: load_cluster_study(None, name, d) for d in CLUSTER_DATASETS}
    return {d: s for d, s in out.items() if s["runs"]}


def _no_records(profile: str, dataset: str) -> str:
    return (
        f"no {profile!r} cluster-study records for {dataset} "
        f"(hmf clusters --profile {profile} --dataset {dataset})"
    )


def _mean(values) -> float:
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def cluster_summary(profile=None) -> pd.DataFrame:
    """One row per (data set, method): means over seeds of each coherence's ``lift`` (observed
    ÷ null), ``share`` beyond the null's 95th percentile and the number of seeds with ``p`` <
    0.05 (``sig``); the preference test's ``lift`` and ``sig``; means over seed pairs of each
    side's stability (``ari``, ``nmi``, ``top_overlap``; ``affinity_r``); softness means."""
    rows = []
    for dataset, study in cluster_study(profile).items():
        for method in METHODS:
            runs = study["runs"].get(method, [])
            if not runs:
                continue
            row = {"dataset": dataset, "method": method, "seeds": len(runs)}
            for label in runs[0]["coherence"]:
                found = [r["coherence"][label] for r in runs]
                row[f"{label} lift"] = _mean([c["lift"] for c in found])
                row[f"{label} share"] = _mean([c["share_beyond_null95"] for c in found])
                row[f"{label} sig"] = sum(c["p_value"] < ALPHA for c in found)
                row[f"{label} clusters"] = _mean([c["clusters"] for c in found])
            prefs = [r["preference"] for r in runs if "preference" in r]
            if prefs:
                row["preference lift"] = _mean([p["observed"] / p["null"] for p in prefs])
                row["preference sig"] = sum(p["p_value"] < ALPHA for p in prefs)
            for side in ("user", "item"):
                soft = [r["softness"][side] for r in runs]
                for key in ("effective", "with_mass", "occupied", "effective_clusters"):
                    row[f"{side} {key}"] = _mean([s[key] for s in soft])
                row[f"{side} clusters"] = soft[0]["clusters"]
            pairs = study["stability"].get(method, {}).get("pairs", [])
            row["pairs"] = len(pairs)
            for side in ("user", "item"):
                for key in ("ari", "nmi", "top_overlap"):
                    row[f"{side} {key}"] = _mean([p[side][key] for p in pairs])
            row["affinity_r"] = _mean([p["user"].get("affinity_r") for p in pairs])
            rows.append(row)
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).set_index(["dataset", "method"])


def _x(value) -> str:
    return "" if pd.isna(value) else f"{value:.2f}×"


def _f(value, digits: int = 2) -> str:
    if pd.isna(value):
        return ""
    text = f"{value:.{digits}f}"
    return text.removeprefix("-") if float(text) == 0 else text  # no "-0.000"


def _sig(row, label: str) -> str:
    value = row.get(f"{label} sig")
    return "" if pd.isna(value) else f"{int(value)} / {int(row['seeds'])}"


def cluster_table(profile=None) -> pd.DataFrame:
    """The chapter's main table, one row per data set and method: genre coherence ÷ its
    popularity-matched null, the share of item clusters beyond the null's 95th percentile and
    the seeds significant at 5 %; gender coherence ÷ null; the Tables 4c/4d preference test's
    significant seeds; the stability of item clusters (ARI, top-member overlap) and of the
    matched affinities; an item's effective number of clusters."""
    summary = cluster_summary(profile)
    if not len(summary):
        return pd.DataFrame()
    rows = [
        {
            "data set": dataset_label(dataset),
            "clusters": METHOD_LABELS[method],
            "genre coherence ÷ null": _x(row["item genre lift"]),
            "clusters beyond null 95 %": _f(row["item genre share"]),
            "seeds p < 0.05 (genres)": _sig(row, "item genre"),
            "gender coherence ÷ null": _x(row["user gender lift"]),
            "seeds p < 0.05 (Tables 4c/4d test)": _sig(row, "preference"),
            "item ARI across seeds": _f(row["item ari"], 3),
            "item top-member overlap": _f(row["item top_overlap"]),
            "matched affinity r": _f(row.get("affinity_r")),
            "effective clusters per item": _f(row["item effective"], 1),
        }
        for (dataset, method), row in summary.iterrows()
    ]
    return pd.DataFrame(rows).set_index(["data set", "clusters"])


def coherence_table(profile=None) -> pd.DataFrame:
    """Every label's coherence ÷ null (seeds with p < 0.05 in brackets), per data set and
    method: the details behind the main table's genre and gender columns."""
    summary = cluster_summary(profile)
    if not len(summary):
        return pd.DataFrame()
    out = {}
    for (dataset, method), row in summary.iterrows():
        out[(dataset_label(dataset), METHOD_LABELS[method])] = {
            LABEL_NAMES[label]: f"{_x(row[f'{label} lift'])} ({_sig(row, label)})"
            for label in LABEL_NAMES
            if f"{label} lift" in row
        }
    return pd.DataFrame(out).T.rename_axis(["data set", "clusters"])


def cluster_findings(profile=None) -> dict[str, str]:
    """One computed sentence per measure (``coherence``, ``users``, ``stability``,
    ``softness``), the four as one paragraph (``box``, the chapter's findings) and the
    ``verdict`` on the paper's claim, as glue names -> text."""
    summary = cluster_summary(profile)
    if not len(summary):
        empty = "No cluster-study records under this profile yet."
        return dict.fromkeys(("coherence", "users", "stability", "softness", "box"), empty) | {
            "verdict": "not computed"
        }
    datasets = list(dict.fromkeys(summary.index.get_level_values(0)))

    def get(dataset, method, column):
        try:
            return summary.loc[(dataset, method), column]
        except KeyError:
            return float("nan")

    coherence, users, stab, soft = [], [], [], []
    for d in datasets:
        label, seeds = dataset_label(d), int(get(d, "hmf", "seeds"))

        def lift(method, column="item genre", d=d):
            return _x(get(d, method, f"{column} lift"))

        def sig(method, column="item genre", d=d):
            return int(get(d, method, f"{column} sig"))

        def val(method, column, digits=2, d=d):
            return _f(get(d, method, column), digits)

        coherence.append(
            f"on {label}, HMF's item clusters have {lift('hmf')} the genre coherence of "
            f"popularity-matched random sets ({lift('hmf-nearest')} read by their nearest "
            f"items, as Table 4 does; significant in {sig('hmf')} and {sig('hmf-nearest')} of "
            f"{seeds} seeds), against {lift('kmeans-mf')} for k-means on MF's embeddings "
            f"({sig('kmeans-mf')} of {seeds}) and {lift('random')} for random clusters"
        )
        users.append(
            f"on {label}, HMF's user clusters have {lift('hmf', 'user gender')} the gender "
            "coherence of relabelled users, and the Tables 4c/4d reading (item clusters "
            "favoured by male or female user clusters) beats relabelled genders in "
            f"{sig('hmf', 'preference')} of {seeds} seeds (k-means on MF: "
            f"{sig('kmeans-mf', 'preference')})"
        )
        stab.append(
            f"on {label}, the item ARI between two seeds' HMF clusters is "
            f"{val('hmf', 'item ari', 3)} (k-means on MF {val('kmeans-mf', 'item ari', 3)}, "
            f"random {val('random', 'item ari', 3)}), matched clusters share "
            f"{val('hmf-nearest', 'item top_overlap')} of their nearest items, and matched "
            f"affinity matrices correlate at r = {val('hmf', 'affinity_r')} "
            f"(k-means on MF {val('kmeans-mf', 'affinity_r')})"
        )
        soft.append(
            f"on {label} an item spreads its membership over {val('hmf', 'item effective', 0)} "
            f"effective clusters of {int(get(d, 'hmf', 'item clusters'))} and a user over "
            f"{val('hmf', 'user effective', 0)} of {int(get(d, 'hmf', 'user clusters'))}, and "
            f"{val('hmf', 'user with_mass', 0)} of the user clusters hold one user's worth of mass"
        )

    def sentence(head: str, parts: list[str]) -> str:
        text = head + "; ".join(parts) + "."
        return text[0].upper() + text[1:]

    out = dict(
        coherence=sentence("Coherence: ", coherence),
        users=sentence("Users: ", users),
        stability=sentence("Stability: ", stab),
        softness=sentence("Softness: ", soft),
        verdict=cluster_claim(profile)[1],
    )
    out["box"] = " ".join(out[k] for k in ("coherence", "users", "stability", "softness"))
    return out


def cluster_claim(profile=None) -> tuple[str, str]:
    """The landing page's interpretability claim: ``(ours, verdict)``.

    Each data set with records is checked three ways, each passing when its permutation test
    beats the null (p < 0.05) in more than half of HMF's seeds: item clusters' genre coherence
    read by largest membership and read by nearest items (Table 4), and the Tables 4c/4d
    preference test. Reproduced when every check passes on every data set, partly when some
    do, not reproduced when none does. The text sets HMF's genre coherence beside k-means on
    MF's embeddings and random clusters."""
    summary = cluster_summary(profile)
    if not len(summary) or "hmf" not in summary.index.get_level_values(1):
        return "no cluster-study records", "not computed"
    parts, matches = [], []
    for dataset in dict.fromkeys(summary.index.get_level_values(0)):
        rows = summary.loc[dataset]
        if "hmf" not in rows.index:
            continue
        seeds = int(rows.loc["hmf", "seeds"])
        checks_ = [("hmf", "item genre sig"), ("hmf-nearest", "item genre sig")]
        checks_.append(("hmf", "preference sig"))
        hits = [int(rows.loc[m, c]) for m, c in checks_ if m in rows.index and c in rows]
        matches += [h > seeds / 2 for h in hits]
        text = (
            f"{dataset_label(dataset)}: HMF's genre coherence "
            f"{_x(rows.loc['hmf', 'item genre lift'])} the null (p < 0.05 in "
            f"{int(rows.loc['hmf', 'item genre sig'])} / {seeds} seeds)"
        )
        others = [
            f"{label} {_x(rows.loc[m, 'item genre lift'])} "
            f"({int(rows.loc[m, 'item genre sig'])} / {int(rows.loc[m, 'seeds'])})"
            for m, label in (
                ("kmeans-mf", f"k-means on {registry.label('mf')}"),
                ("random", "random"),
            )
            if m in rows.index
        ]
        if others:
            text += ", " + ", ".join(others)
        parts.append(text)
    if not matches:
        return "no cluster-study records", "not computed"
    verdict = "reproduced" if all(matches) else "partly" if any(matches) else "not reproduced"
    return "; ".join(parts), verdict


def cluster_closing(profile=None) -> str:
    """The chapter's closing note: per data set, HMF's genre coherence and item-cluster
    stability (ARI between seeds) beside k-means on MF's embeddings and random clusters."""
    summary = cluster_summary(profile)
    if not len(summary):
        return "No cluster-study records under this profile yet."
    parts = []
    for dataset in dict.fromkeys(summary.index.get_level_values(0)):
        rows = summary.loc[dataset]
        cells = [
            f"{_x(rows.loc[m, 'item genre lift'])} and {_f(rows.loc[m, 'item ari'], 3)} for {name}"
            for m, name in (
                ("hmf", "HMF"),
                ("kmeans-mf", "k-means on MF"),
                ("random", "random clusters"),
            )
            if m in rows.index
        ]
        parts.append(
            f"on {dataset_label(dataset)}, genre coherence ÷ null and item ARI between seeds "
            f"are {join(cells)}"
        )
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def coherence_histogram(dataset: str, profile=None, label: str = "item genre"):
    """Per-cluster coherence of HMF's clusters (both readings) and k-means on MF's embeddings,
    pooled over seeds, against one null draw per cluster and seed: filled, random sets of the
    sizes and popularity profiles of HMF's largest-membership members; dotted, of its nearest
    items (ten per cluster). One step line per method."""
    name = profile_name(profile)
    study = load_cluster_study(None, name, dataset)
    if "hmf" not in study["runs"]:
        return missing_dataset(dataset, _no_records(name, dataset))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    runs = study["runs"]
    drawn = [m for m in ("hmf", "hmf-nearest", "kmeans-mf") if m in runs]

    def pooled(method, key):
        return np.concatenate([r["coherence"][label][key] for r in runs.get(method, [])] or [[]])

    values = {m: pooled(m, "scores") for m in drawn}
    nulls = {m: pooled(m, "null_draw") for m in ("hmf", "hmf-nearest")}
    everything = np.concatenate([*values.values(), *nulls.values()])
    bins = np.linspace(0, max(float(np.quantile(everything, 0.995)), 1e-3), 40)
    ax.hist(nulls["hmf"], bins=bins, density=True, color="0.82", label="null for HMF's members")
    step = dict(bins=bins, density=True, histtype="step")
    if len(nulls["hmf-nearest"]):
        nearest = dict(color="0.35", linestyle=":", label="null for HMF's nearest items")
        ax.hist(nulls["hmf-nearest"], **step, linewidth=1.4, **nearest)
    styles = {
        "hmf": ("tab:blue", "-"),
        "hmf-nearest": ("tab:purple", "--"),
        "kmeans-mf": ("tab:orange", "-"),
    }
    for method in drawn:
        colour, line = styles[method]
        legend = METHOD_LABELS[method]
        ax.hist(values[method], **step, linewidth=1.8, color=colour, linestyle=line, label=legend)
    ax.set_xlabel(f"{LABEL_NAMES[label]}: coherence of a cluster's members")
    ax.set_ylabel("density")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 1))  # room for the stamp below the axis label
    verified = all(r.get("verified", True) for rs in runs.values() for r in rs)
    stamp(opaque(fig), name, dataset, verified)
    save(fig, FIGURES / f"cluster-coherence-{dataset}")
    plt.close(fig)
    return fig


def stability_figure(profile=None):
    """Item-cluster ARI and matched affinity correlation for every seed pair, one panel per
    measure, methods on the vertical axis, data sets as marker shapes."""
    name = profile_name(profile)
    study = cluster_study(name)
    if not study:
        return missing_dataset(", ".join(CLUSTER_DATASETS), _no_records(name, "ml-1m"))
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), sharey=True)
    measures = (
        ("item", "ari", "item clusters: ARI"),
        ("item", "top_overlap", "matched item clusters:\ntop-member overlap"),
        ("user", "affinity_r", "matched affinities:\nPearson r"),
    )
    markers = dict(zip(CLUSTER_DATASETS, ("o", "s")))
    colours = dict(zip(CLUSTER_DATASETS, ("tab:blue", "tab:orange")))
    offsets = dict(zip(CLUSTER_DATASETS, (-0.12, 0.12)))
    for ax, (side, key, title) in zip(axes, measures):
        for dataset, s in study.items():
            for y, method in enumerate(METHODS):
                pairs = s["stability"].get(method, {}).get("pairs", [])
                xs = [p[side].get(key) for p in pairs]
                xs = [x for x in xs if x is not None and np.isfinite(x)]
                if xs:
                    ax.scatter(
                        xs,
                        np.full(len(xs), y + offsets[dataset]),
                        s=18,
                        marker=markers[dataset],
                        color=colours[dataset],
                        alpha=0.8,
                        label=dataset_label(dataset) if y == 0 else None,
                    )
        ax.set_title(title, fontsize=9)
        ax.axvline(0, color="0.6", linewidth=0.8)
        ax.grid(axis="x", color="0.9")
    axes[0].set_yticks(range(len(METHODS)), [METHOD_LABELS[m] for m in METHODS], fontsize=8)
    axes[0].invert_yaxis()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=len(labels),
        frameon=False,
        fontsize=8,
        bbox_to_anchor=(0.5, -0.04),
    )
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    verified = all(
        r.get("verified", True) for s in study.values() for rs in s["runs"].values() for r in rs
    )
    stamp(opaque(fig), name, ", ".join(dataset_label(d) for d in study), verified)
    save(fig, FIGURES / "cluster-stability-all")
    plt.close(fig)
    return fig
