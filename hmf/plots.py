"""Figures for the book: one function per picture, so notebooks stay a line per figure.

Every function draws from the package's own objects (a :class:`~hmf.data.Dataset`, a
:class:`~hmf.split.Split`) and returns a closed :class:`matplotlib.figure.Figure`: Jupyter shows a
figure that is the value of a cell exactly once, and a script can :func:`save` it instead.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hmf.data import Dataset
from hmf.paper import DATASET_LABELS
from hmf.split import Split

__all__ = [
    "SUBSET_COLOURS",
    "dataset_overview",
    "interactions_per",
    "rating_histogram",
    "timeline",
    "missing_dataset",
    "save",
    "best_history_per",
    "loss_curves",
    "stamp",
]

# One colour per subset, used by every figure that shows the split.
SUBSET_COLOURS = {"train": "tab:blue", "validation": "tab:orange", "test": "tab:green"}
_SECONDS_PER_DAY = 86_400.0


def _label(name: str) -> str:
    return DATASET_LABELS.get(name, name)


def interactions_per(ax, interactions: pd.DataFrame, column: str, noun: str) -> None:
    """Histogram (log-log) of how many interactions each ``column`` value (user or item) has."""
    counts = interactions[column].value_counts().to_numpy()
    # Log-spaced bins so that the long tail and the many rare entities are both visible.
    bins = np.unique(np.logspace(0, np.log10(counts.max() + 1), 30).round())
    ax.hist(counts, bins=bins, color="0.35")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"interactions per {noun}")
    ax.set_ylabel(f"{noun}s")
    ax.set_title(f"{len(counts):,} {noun}s, median {np.median(counts):g} interactions")


def rating_histogram(ax, interactions: pd.DataFrame, implicit: bool) -> None:
    """Bar chart of the rating values; for implicit feedback, a note instead of one bar."""
    if implicit:
        ax.text(0.5, 0.5, "implicit feedback:\nevery interaction counts as 1",
                ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    values = interactions["rating"].value_counts().sort_index()
    ax.bar(values.index.astype(float), values.to_numpy(), width=0.8, color="0.35")
    ax.set_xticks(values.index.astype(float))
    ax.set_xlabel("rating")
    ax.set_ylabel("interactions")
    ax.set_title(f"ratings, mean {interactions['rating'].mean():.2f}")


def timeline(ax, dataset: Dataset, split: Split, bins: int = 80) -> None:
    """Interactions per time bin, with the training / validation / test periods shaded.

    The black line counts every interaction of the raw data set; the coloured lines count the
    ones each subset keeps, so the gap between them in validation and test is what cold-start
    filtering (and, for DIGINETICA, the user filter and date range) removed. Boundaries are drawn
    at the first kept timestamp of validation and of test.
    """
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
    for name, start, end in periods:
        ax.axvspan(start, end, color=SUBSET_COLOURS[name], alpha=0.12, linewidth=0)
        if name != "train":
            ax.axvline(start, color=SUBSET_COLOURS[name], linestyle="--", linewidth=1)

    ax.set_yscale("log")
    ax.set_ylabel(f"interactions per {(edges[1] - edges[0]):.3g} days")
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.legend(loc="best", fontsize="small")
    ax.set_title("interactions over time and the paper's split")


def dataset_overview(dataset: Dataset, split: Split):
    """Four panels for one data set: per-user and per-item counts, ratings, and the timeline."""
    fig = plt.figure(figsize=(11, 7.5), layout="constrained")
    grid = fig.add_gridspec(2, 3)
    interactions_per(fig.add_subplot(grid[0, 0]), dataset.interactions, "user", "user")
    interactions_per(fig.add_subplot(grid[0, 1]), dataset.interactions, "item", "item")
    rating_histogram(fig.add_subplot(grid[0, 2]), dataset.interactions, dataset.implicit)
    timeline(fig.add_subplot(grid[1, :]), dataset, split)
    mark = f" ({dataset.mark})" if dataset.mark else ""
    fig.suptitle(f"{_label(dataset.name)}{mark}: {len(dataset.interactions):,} interactions",
                 fontweight="bold")
    plt.close(fig)  # shown once, as the cell's value, not again by the inline backend
    return fig


def missing_dataset(name: str, error: Exception):
    """A clearly marked gap where a data set's figure would be, with the command that fetches it."""
    import html

    from IPython.display import Markdown

    # Escaped: messages hold placeholders like "<data dir>" that Markdown would drop as HTML, and
    # "$HMF_DATA_DIR", whose dollar sign Jupyter would take for the start of math.
    reason = html.escape(" ".join(str(error).split()), quote=False).replace("$", "\\$")
    return Markdown(
        f"> **{_label(name)} is missing on this machine, so its figure is left out.**\n>\n"
        f"> Fetch it with `hmf data fetch {name}`, then rebuild this page.\n>\n"
        f"> Why: {reason}"
    )


def save(fig, path: str | Path, formats: tuple[str, ...] = ("svg", "pdf", "png")) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix in ``formats``; returns the files written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        target = path.with_suffix(f".{fmt}")
        fig.savefig(target, dpi=200 if fmt == "png" else None, bbox_inches="tight")
        written.append(target)
    return written


# -- results figures ------------------------------------------------------------------------

def best_history_per(records, key: str, metric: str = "rmse", seed: int | None = None) -> dict:
    """For each value of configuration entry ``key`` (e.g. ``weight_decay``), the validation
    history of the configuration with the best mean validation ``metric`` over seeds.

    Returns ``{value: (config_key, history)}``; ``history`` is the run with ``seed`` (the
    lowest seed present when None).
    """
    from hmf.experiments.selection import LOWER_IS_BETTER

    by_value: dict = {}
    for r in records:
        by_value.setdefault(r.config.get(key), {}).setdefault(r.key, []).append(r)
    out = {}
    for value, configs in by_value.items():
        means = {k: np.mean([r.validation[metric] for r in runs]) for k, runs in configs.items()}
        pick = (min if LOWER_IS_BETTER[metric] else max)(means, key=means.get)
        runs = sorted(configs[pick], key=lambda r: r.seed)
        run = next((r for r in runs if r.seed == seed), runs[0]) if seed is not None else runs[0]
        out[value] = (pick, run.history)
    return out


def loss_curves(records_by_model: dict, dataset: str, metric: str = "rmse"):
    """Paper Fig. 2: validation ``metric`` per epoch, one curve per weight decay, one panel per
    model; each curve is the best configuration for that weight decay (lowest seed's run)."""
    models = [m for m, recs in records_by_model.items() if recs]
    fig, axes = plt.subplots(1, max(1, len(models)), figsize=(5.2 * max(1, len(models)), 3.6),
                             sharey=True, squeeze=False)
    from matplotlib import ticker

    colours = plt.get_cmap("viridis")
    # Decoupled weight decay often changes a curve very little, so curves can coincide: distinct
    # dash patterns keep each one visible under the others.
    dashes = ["-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1))]
    for ax, model in zip(axes[0], models):
        curves = best_history_per(records_by_model[model], "weight_decay", metric)
        for k, wd in enumerate(sorted(curves, reverse=True)):
            _, history = curves[wd]
            values = history[f"validation_{metric}"]
            ax.plot(range(1, len(values) + 1), values, color=colours(k / max(1, len(curves) - 1)),
                    linestyle=dashes[k % len(dashes)], label=f"weight decay {wd:g}", linewidth=1.6)
        ax.set_title(f"{model.upper()} on {_label(dataset)}")
        ax.set_xlabel("epoch (log scale)")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"validation {metric.upper()}")
    axes[0][-1].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def stamp(fig, profile: str, dataset: str, verified: bool = True):
    """Write what produced a figure into its bottom edge - profile, data (and whether the copy
    was verified) and commit - so a copy dropped into slides still says where it came from."""
    from hmf.experiments.records import current_commit

    copy = "" if verified else " (unverified copy)"
    fig.text(0.995, 0.005, f"hmf {current_commit()} · profile {profile} · {_label(dataset)}{copy}",
             ha="right", va="bottom", fontsize=6, color="0.45")
    return fig
