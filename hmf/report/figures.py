"""Figures for the book, one function per picture: each draws from the package's own objects
(data sets, splits, records) and returns a closed figure, shown once as a cell's value."""

from __future__ import annotations

import html
import os
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker

from hmf import experiments, registry
from hmf.data import Dataset
from hmf.experiments.records import current_commit
from hmf.experiments.selection import LOWER_IS_BETTER
from hmf.report.common import dataset_label, profile_name
from hmf.split import Split

SUBSET_COLOURS = {"train": "tab:blue", "validation": "tab:orange", "test": "tab:green"}
_SECONDS_PER_DAY = 86_400.0
FIGURES = Path(__file__).resolve().parents[2] / "book" / "figures"  # where the chapters save
# Curves closer than this share of a panel's value range, at every epoch, cannot be told apart
# at column width (a pixel or less of the panel's height).
COINCIDE_SHARE = 0.004


# What each saved figure shows, by file-name prefix: (title, caption, chapter that draws it).
FIGURE_CAPTIONS = {
    "fig2-loss-curves": (
        "Fig. 2: loss curves",
        "Validation RMSE per epoch of MF and HMF, one line per weight decay (weight decays whose "
        "curves coincide share one line, named in the legend); logarithmic epoch axis.",
        "notebooks/03_loss_curves",
    ),
    "case-study-affinity": (
        "Case study: cluster affinities",
        "Inner product of every user-cluster and item-cluster embedding of HMF, rows and columns "
        "reordered by average-linkage clustering; red positive, blue negative.",
        "notebooks/04_case_study",
    ),
    "cluster-coherence": (
        "Cluster coherence against chance",
        "Genre coherence of each item cluster, pooled over five seeds: HMF read two ways (members "
        "by largest membership; the items nearest the cluster) and k-means on MF's embeddings as "
        "step lines, over histograms of random item sets of the same sizes and popularity.",
        "notebooks/04b_clusters",
    ),
    "cluster-stability": (
        "Cluster stability across seeds",
        "For every pair of seeds: the adjusted Rand index of item clusters, the top-member "
        "overlap of matched clusters and the correlation of matched affinity matrices, for HMF, "
        "k-means on MF, IHSR and random clusters.",
        "notebooks/04b_clusters",
    ),
    "beyond-l2": (
        "Beyond the paper: test RMSE against the L2 weight",
        "Test RMSE of MF and HMF trained by Adam with an L2 term of weight λ (solid: without "
        "biases; dashed: with the training mean and user and item biases), the better learning "
        "rate at each λ, mean ± std over five seeds; dotted: HMF as selected in Table 3; "
        "triangles on the top edge: means above the axis.",
        "notebooks/06_beyond",
    ),
}


def case_study_dataset(profile=None) -> str:
    """The case study's data set: ML-1M as in the paper; ML-100K under ``smoke`` (quick)."""
    return "ml-100k" if profile_name(profile) == "smoke" else "ml-1m"


def book_figures(profile=None) -> list[str]:
    """The file names (without suffix) of the figures the chapters save under ``profile``."""
    return (
        [f"fig2-loss-curves-{d}" for d in ("ml-100k", "ml-1m", "ciao")]
        + [f"case-study-affinity-{case_study_dataset(profile)}"]
        + [f"cluster-coherence-{d}" for d in ("ml-1m", "ml-100k")]
        + ["cluster-stability-all"]
        + [f"beyond-l2-{d}" for d in ("ml-100k", "ml-1m", "ciao")]
    )


def figure_entries(directory: Path = FIGURES, names=None) -> list[dict]:
    """The saved figures in ``directory`` (only ``names``, when given: leftovers of another
    profile's build stay out): name, title, caption, chapter, data set, and the file of each
    format (svg, pdf, png)."""
    entries = []
    for png in sorted(Path(directory).glob("*.png")):
        prefix = next((p for p in FIGURE_CAPTIONS if png.stem.startswith(p + "-")), None)
        if prefix is None or (names is not None and png.stem not in names):
            continue
        title, caption, chapter = FIGURE_CAPTIONS[prefix]
        dataset = png.stem.removeprefix(prefix + "-")
        entries.append(
            dict(
                name=png.stem,
                title=title if dataset == "all" else f"{title}, {dataset_label(dataset)}",
                caption=caption,
                chapter=chapter,
                dataset=dataset,
                files={
                    f.suffix[1:]: f
                    for f in (png.with_suffix(f".{x}") for x in ("svg", "pdf", "png"))
                    if f.is_file()
                },
            )
        )
    return entries


def figure_listing(directory: Path = FIGURES, relative_to: Path | None = None, names=None) -> str:
    """The figures page as MyST: each figure shown with its caption and alt text, its files as
    download links (paths relative to ``relative_to``, the page's folder), where it is drawn and
    how to cite it; the commit is this build's (each file also carries its own stamp)."""
    base = Path(relative_to) if relative_to is not None else Path(directory).parent
    blocks = []
    for e in figure_entries(directory, names):
        where = "every data set" if e["dataset"] == "all" else dataset_label(e["dataset"])
        rel = {k: Path(os.path.relpath(v, base)).as_posix() for k, v in e["files"].items()}
        links = ", ".join(f"{{download}}`{k.upper()} <{path}>`" for k, path in rel.items())
        blocks.append(
            f"**{e['title']}**\n\n"
            f"```{{figure}} {rel['png']}\n:alt: {e['caption']}\n:width: 100%\n\n"
            f"{e['caption']}\n```\n\n"
            f"- Files: {links}\n"
            f"- Drawn by {{doc}}`/{e['chapter']}` on {where}, "
            f"commit `{current_commit()}` (the stamp in the figure's corner names its own).\n"
            f"- Cite: the companion ({{doc}}`/book/cite`), naming the figure `{e['name']}`.\n"
        )
    return "\n".join(blocks) or "No figures have been saved yet: build the book first."


def opaque(fig):
    """A white, opaque background (Jupyter's inline backend makes it transparent), so that the
    black text and axes stay legible on a dark page."""
    fig.patch.set_facecolor("white")
    fig.patch.set_alpha(1.0)
    return fig


def interactions_per(ax, interactions: pd.DataFrame, column: str, noun: str) -> None:
    """Histogram (log-log) of how many interactions each ``column`` value (user or item) has."""
    counts = interactions[column].value_counts().to_numpy()
    # Log-spaced bins so that the long tail and the many rare entities are both visible.
    bins = np.unique(np.logspace(0, np.log10(counts.max() + 1), 30).round())
    ax.hist(counts, bins=bins, color="0.35")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=f"interactions per {noun}",
        ylabel=f"{noun}s",
        title=f"{len(counts):,} {noun}s, median {np.median(counts):g} interactions",
    )


def rating_histogram(ax, interactions: pd.DataFrame, implicit: bool) -> None:
    """Bar chart of the rating values; for implicit feedback, a note instead of one bar."""
    if implicit:
        note = "implicit feedback:\nevery interaction counts as 1"
        ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    values = interactions["rating"].value_counts().sort_index()
    ax.bar(values.index.astype(float), values.to_numpy(), width=0.8, color="0.35")
    ax.set(
        xticks=values.index.astype(float),
        xlabel="rating",
        ylabel="interactions",
        title=f"ratings, mean {interactions['rating'].mean():.2f}",
    )


def timeline(ax, dataset: Dataset, split: Split, bins: int = 80) -> None:
    """Interactions per time bin (black: the raw data set; coloured: what each subset keeps, so
    the gap is what filtering removed), the training / validation / test periods shaded."""
    stamps = dataset.interactions["timestamp"].to_numpy()
    # Matplotlib's date numbers are days since 1970-01-01, so seconds / 86400 can be used as-is.
    edges = np.linspace(stamps.min(), stamps.max(), bins + 1) / _SECONDS_PER_DAY
    counts, _ = np.histogram(stamps / _SECONDS_PER_DAY, edges)
    ax.stairs(counts, edges, color="black", linewidth=1, label="all interactions")
    periods = []
    for name, colour in SUBSET_COLOURS.items():
        days = split.subset(name)["timestamp"].to_numpy() / _SECONDS_PER_DAY
        if len(days):
            kept, _ = np.histogram(days, edges)
            ax.stairs(kept, edges, color=colour, linewidth=1.5, label=f"{name} (kept)")
            periods.append((name, days.min(), days.max()))
    for name, start, end in periods:  # boundaries at the first kept validation and test stamps
        ax.axvspan(start, end, color=SUBSET_COLOURS[name], alpha=0.12, linewidth=0)
        if name != "train":
            ax.axvline(start, color=SUBSET_COLOURS[name], linestyle="--", linewidth=1)
    ax.set(
        yscale="log",
        ylabel=f"interactions per {(edges[1] - edges[0]):.3g} days",
        title="interactions over time and the paper's split",
    )
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.legend(loc="best", fontsize="small")


def dataset_overview(dataset: Dataset, split: Split):
    """Four panels for one data set: per-user and per-item counts, ratings, and the timeline."""
    fig = plt.figure(figsize=(11, 7.5), layout="constrained")
    grid = fig.add_gridspec(2, 3)
    interactions_per(fig.add_subplot(grid[0, 0]), dataset.interactions, "user", "user")
    interactions_per(fig.add_subplot(grid[0, 1]), dataset.interactions, "item", "item")
    rating_histogram(fig.add_subplot(grid[0, 2]), dataset.interactions, dataset.implicit)
    timeline(fig.add_subplot(grid[1, :]), dataset, split)
    opaque(fig)
    mark = f" ({dataset.mark})" if dataset.mark else ""
    fig.suptitle(
        f"{dataset_label(dataset.name)}{mark}: {len(dataset.interactions):,} interactions",
        fontweight="bold",
    )
    plt.close(fig)  # shown once, as the cell's value, not again by the inline backend
    return fig


def missing_dataset(name: str, error: Exception | str):
    """A clearly marked gap where a data set's figure would be, with the command that fetches it."""
    from IPython.display import Markdown

    # Escaped: messages hold placeholders like "<data dir>" that Markdown would drop as HTML, and
    # "$HMF_DATA_DIR", whose dollar sign Jupyter would take for the start of math.
    reason = html.escape(" ".join(str(error).split()), quote=False).replace("$", "\\$")
    return Markdown(
        f"> **{dataset_label(name)} is missing on this machine, so its figure is left out.**\n>\n"
        f"> Fetch it with `hmf data fetch {name}`, then rebuild this page.\n>\n"
        f"> Why: {reason}"
    )


def save(fig, path: str | Path, formats: tuple[str, ...] = ("svg", "pdf", "png")) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix in ``formats``; returns the files written."""
    written = [Path(path).with_suffix(f".{fmt}") for fmt in formats]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    for target in written:
        fig.savefig(target, dpi=200 if target.suffix == ".png" else None, bbox_inches="tight")
    return written


def stamp(fig, profile: str, dataset: str, verified: bool = True):
    """Write what produced a figure into its bottom edge - profile, data (and whether the copy
    was verified) and commit - so a copy dropped into slides still says where it came from."""
    copy = "" if verified else " (unverified copy)"
    text = f"hmf {current_commit()} · profile {profile} · {dataset_label(dataset)}{copy}"
    fig.text(0.995, 0.005, text, ha="right", va="bottom", fontsize=6, color="0.45")
    return fig


def best_history_per(records, key: str, metric: str = "rmse") -> dict:
    """``{value: (config_key, history)}`` per value of configuration entry ``key``: the best
    configuration by mean validation ``metric`` and the history of its lowest seed's run."""
    by_value: dict = {}
    for r in records:
        by_value.setdefault(r.config.get(key), {}).setdefault(r.key, []).append(r)
    out = {}
    for value, configs in by_value.items():
        means = {k: np.mean([r.validation[metric] for r in runs]) for k, runs in configs.items()}
        pick = (min if LOWER_IS_BETTER[metric] else max)(means, key=means.get)
        out[value] = (pick, min(configs[pick], key=lambda r: r.seed).history)
    return out


def coinciding(curves: dict, tolerance: float | None = None) -> list[list]:
    """Keys of ``curves`` (key -> values per epoch) grouped where the curves coincide: over the
    epochs both ran, every value within ``tolerance`` of the group's first curve (default:
    :data:`COINCIDE_SHARE` of the range of all the curves' values); in order. A run that stopped
    a few epochs earlier than another still coincides with it where both ran."""
    if tolerance is None:
        every = np.concatenate([np.asarray(v, dtype=float) for v in curves.values()] or [[0.0]])
        tolerance = COINCIDE_SHARE * float(np.ptp(every))
    groups: list[list] = []
    for key, values in curves.items():
        mine = np.asarray(values, dtype=float)
        for group in groups:
            first = np.asarray(curves[group[0]], dtype=float)
            n = min(len(first), len(mine))
            if np.allclose(mine[:n], first[:n], rtol=0.0, atol=tolerance):
                group.append(key)
                break
        else:
            groups.append([key])
    return groups


def curve_label(weight_decays: list, of: int | None = None) -> str:
    """The legend entry of one drawn line: its weight decay, or the decays whose curves coincide
    (``of``: how many weight decays the panel has, to say "all")."""
    if len(weight_decays) == 1:
        return f"weight decay {weight_decays[0]:g}"
    names = ", ".join(f"{wd:g}" for wd in weight_decays)
    every = "all " if of == len(weight_decays) else ""
    return f"{every}weight decays {names} (coincide)"


def loss_curves(records_by_model: dict, dataset: str, metric: str = "rmse"):
    """Paper Fig. 2: validation ``metric`` per epoch, one curve per weight decay, one panel per
    model; each curve is the best configuration for that weight decay (lowest seed's run).
    Curves that coincide (:func:`coinciding`) are drawn as one line, labelled with every decay."""
    models = [m for m, recs in records_by_model.items() if recs]
    fig, axes = plt.subplots(
        1, max(1, len(models)), figsize=(4.2 * max(1, len(models)), 3.2), sharey=True, squeeze=False
    )
    colours = plt.get_cmap("viridis")
    # Decoupled weight decay often changes a curve very little: curves that coincide are drawn
    # once, and distinct dash patterns keep nearly coinciding ones visible under each other.
    dashes = ["-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1))]
    panels = {}
    for model in models:
        best = best_history_per(records_by_model[model], "weight_decay", metric)
        panels[model] = {
            wd: best[wd][1][f"validation_{metric}"] for wd in sorted(best, reverse=True)
        }
    # The panels share their y axis, so what can be told apart depends on all of them.
    every = [v for curves in panels.values() for values in curves.values() for v in values]
    tolerance = COINCIDE_SHARE * float(np.ptp(every)) if every else 0.0
    for ax, model in zip(axes[0], models):
        curves = panels[model]
        groups = coinciding(curves, tolerance)
        for k, group in enumerate(groups):
            values = max((curves[wd] for wd in group), key=len)  # to the longest run's end
            ax.plot(
                range(1, len(values) + 1),
                values,
                color=colours(0.85 * k / max(1, len(groups) - 1)),  # viridis' yellow end is faint
                linestyle=dashes[k % len(dashes)],
                label=curve_label(group, len(curves)),
                linewidth=1.6,
            )
        ax.set(
            title=f"{registry.label(model)} on {dataset_label(dataset)}",
            xlabel="epoch (log scale)",
            xscale="log",
        )
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.grid(alpha=0.3)
        # Each panel's own lines (they group differently), below the axes, clear of the curves.
        ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    axes[0][0].set_ylabel(f"validation {metric.upper()}")
    opaque(fig)
    fig.tight_layout()
    plt.close(fig)
    return fig


def affinity_heatmap(affinity: pd.DataFrame, order: tuple, profile: str, dataset: str, verified):
    """The case study's heat map: user clusters x item clusters, coloured by the inner product of
    their embeddings, rows and columns in ``order`` (``casestudy.affinity_order``); stamped."""
    rows, cols = order
    fig, ax = plt.subplots(figsize=(7, 5))
    limit = np.abs(affinity.to_numpy()).max()
    image = ax.imshow(
        affinity.to_numpy()[np.ix_(rows, cols)],
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        aspect="auto",
        interpolation="nearest",
    )
    ax.set(xlabel="item cluster (reordered)", ylabel="user cluster (reordered)")
    fig.colorbar(image, label="inner product")
    stamp(opaque(fig), profile, dataset, verified)
    plt.close(fig)
    return fig


def fig2(dataset: str, profile=None, models=("mf", "hmf"), save_to: Path = FIGURES):
    """Paper Fig. 2 on ``dataset`` from ``models``' Table 3 records (:func:`loss_curves`),
    stamped and saved as ``save_to/fig2-loss-curves-<dataset>.*``; a marked gap without records."""
    name = profile_name(profile)
    records, missing = experiments.ensure_records([dataset], models, name)
    if not records:
        return missing_dataset(dataset, missing.get(dataset, f"no {name!r} records for {dataset}"))
    fig = loss_curves({m: [r for r in records if r.model == m] for m in models}, dataset)
    save(
        stamp(fig, name, dataset, all(r.verified for r in records)),
        Path(save_to) / f"fig2-loss-curves-{dataset}",
    )
    return fig
