"""Model selection and significance, as paper Section 4.3 and Table 3 describe them.

* Every configuration is trained with several seeds; the configuration with the best *mean
  validation* metric (lowest RMSE, highest HitRatio@10) is selected; its test results over the
  seeds are reported as mean ± standard deviation.
* A dagger marks a method whose selected test results differ significantly from the reference
  method's (HMF / BPR-HMF, or depth 1 in Table 6) under Tukey's HSD over all compared methods
  (statsmodels ``pairwise_tukeyhsd``, alpha 0.05).

The standard deviation is the sample standard deviation (ddof = 1); the paper does not say which.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from statsmodels.stats.multicomp import pairwise_tukeyhsd

from hmf.experiments.records import records_frame
from hmf.registry import EXECUTION_KEYS

__all__ = [
    "LOWER_IS_BETTER",
    "select",
    "selected_config",
    "selection_check",
    "summarize",
    "tukey_against",
]

LOWER_IS_BETTER = {"rmse": True, "hit_ratio@10": False, "mrr@10": False}


def select(
    frame: pd.DataFrame, metric: str, by: tuple[str, ...] = ("dataset", "model")
) -> pd.DataFrame:
    """Rows of ``frame`` (see ``records_frame``) belonging to each group's selected configuration.

    Only configurations with the largest number of finished seeds in their group compete, so a
    half-finished configuration cannot win on a lucky seed.
    """
    column = f"validation {metric}"
    chosen = []
    for _, group in frame.groupby(list(by), sort=False):
        seeds = group.groupby("config")["seed"].nunique()
        complete = seeds.index[seeds == seeds.max()]
        means = group[group["config"].isin(complete)].groupby("config")[column].mean()
        if means.isna().all():
            continue
        best = means.idxmin() if LOWER_IS_BETTER[metric] else means.idxmax()
        chosen.append(group[group["config"] == best])
    return pd.concat(chosen) if chosen else frame.iloc[:0]


def summarize(
    selected: pd.DataFrame, metrics: tuple[str, ...], by=("dataset", "model")
) -> pd.DataFrame:
    """Mean and sample std over seeds of each test metric, plus mean seconds, per group."""
    agg = {}
    for m in metrics:
        agg[f"{m}"] = (f"test {m}", "mean")
        agg[f"{m} std"] = (
            f"test {m}",
            lambda x: float(np.std(x, ddof=1)) if len(x) > 1 else float("nan"),
        )
    agg["seeds"] = ("seed", "nunique")
    agg["config"] = ("config", "first")
    agg["train_seconds"] = ("train_seconds", "mean")
    agg["inference_seconds"] = ("inference_seconds", "mean")
    return selected.groupby(list(by), sort=False).agg(**agg)


def tukey_against(
    selected: pd.DataFrame, metric: str, reference, group: str = "model", alpha: float = 0.05
) -> dict:
    """``{method: (p_adjusted, significant)}`` for each method against ``reference``.

    ``selected`` holds the selected runs of one data set; Tukey's HSD is computed over all its
    methods together, as in the paper. Methods with fewer than two seeds get ``(nan, False)``.
    """
    values = selected[f"test {metric}"].to_numpy(float)
    groups = selected[group].astype(str).to_numpy()
    counts = pd.Series(groups).value_counts()
    names = [str(g) for g in pd.unique(groups)]
    out = {name: (float("nan"), False) for name in names if name != str(reference)}
    if str(reference) not in names or counts.min() < 2 or len(names) < 2:
        return out
    result = pairwise_tukeyhsd(values, groups, alpha=alpha)
    labels = [str(g) for g in result.groupsunique]
    for (i, j), p, reject in zip(
        itertools.combinations(range(len(labels)), 2), result.pvalues, result.reject
    ):
        a, b = labels[i], labels[j]
        if str(reference) in (a, b):
            other = b if a == str(reference) else a
            out[other] = (float(p), bool(reject))
    return out


def selected_config(records, dataset: str, model: str, metric: str) -> dict | None:
    """The configuration dict :func:`select` picks for (``dataset``, ``model``), or None;
    without the optimizer that trained it (:data:`hmf.registry.EXECUTION_KEYS`), so the studies
    built on it run with the optimizer their own sweep asks for."""
    mine = [r for r in records if r.dataset == dataset and r.model == model]
    if not mine:
        return None
    chosen = select(records_frame(mine), metric)
    if chosen.empty:
        return None
    key = chosen["config"].iloc[0]
    config = next(r.config for r in mine if r.key == key)
    return {k: v for k, v in config.items() if k not in EXECUTION_KEYS}


# Mean validation metrics closer than this are a tie (below the four decimals the check shows).
TIE = 5e-5


def selection_check(
    book_records, other_records, metric: str, by: tuple[str, ...] = ("dataset", "model")
) -> pd.DataFrame:
    """Does a configuration outside the book grid beat the book's selection?

    For each group ``by`` of ``book_records`` (data set and model; add ``"config.user_depth"``
    for the depth study, which selects per depth) and each configuration of ``other_records`` in
    the same group that the book records do not hold (runs of paper-grid configurations the book
    grid leaves out; a configuration both hold is part of the book's selection already): its mean
    validation ``metric`` over the seeds it has, against the book selection's mean over the
    *same* seeds. The row shows the rival with the largest margin over the book selection (or
    the smallest deficit), and both mean test results over those seeds - what a different
    selection would report. With one seed this is a cheap check, not a proof; with the
    profile's five seeds it is the selection rule itself, restricted to the two configurations.
    Means within :data:`TIE` of each other are reported as a tie rather than a win by rounding
    noise.
    """
    lower = LOWER_IS_BETTER[metric]
    column = f"validation {metric}"
    book, other = records_frame(book_records), records_frame(other_records)
    if book.empty or other.empty:
        return pd.DataFrame()
    keys = ["dataset", "model", "config"]
    outside = ~other.set_index(keys).index.isin(book.set_index(keys).index)
    rows = []
    for values, picked in select(book, metric, by).groupby(list(by), sort=False):
        mine = {
            int(seed): (v, t)
            for seed, v, t in zip(picked["seed"], picked[column], picked[f"test {metric}"])
        }
        same = outside.copy()
        for name, value in zip(by, values):
            same &= (other[name] == value).to_numpy() if name in other else False
        rivals = other[same & other["seed"].isin(list(mine)).to_numpy()]
        best = None
        for key, runs in rivals.groupby("config"):
            seeds = sorted(int(s) for s in runs["seed"])
            theirs = float(runs[column].mean())
            ours = float(np.mean([mine[s][0] for s in seeds]))
            margin = (ours - theirs) if lower else (theirs - ours)  # > 0: the rival is better
            if best is None or margin > best[0]:
                tests = (
                    float(np.mean([mine[s][1] for s in seeds])),
                    float(runs[f"test {metric}"].mean()),
                )
                best = (margin, key, seeds, ours, theirs, tests)
        if best is None:
            continue
        margin, key, seeds, ours, theirs, tests = best
        rows.append(
            {
                **dict(zip(by, values)),
                "book selection": picked["config"].iloc[0],
                "best configuration outside the book grid": key,
                "seeds compared": ", ".join(str(s) for s in seeds),
                f"book selection's mean validation {metric}": round(ours, 4),
                f"its mean validation {metric}": round(theirs, 4),
                f"book selection's mean test {metric}": round(tests[0], 4),
                f"its mean test {metric}": round(tests[1], 4),
                "configurations checked": int(rivals["config"].nunique()),
                "book selection still best": (
                    "tie" if abs(margin) < TIE else "yes" if margin < 0 else "no"
                ),
            }
        )
    return pd.DataFrame(rows)
