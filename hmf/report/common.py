"""What the report's views share: the book's tables of records (models, study), their records."""

from __future__ import annotations

import pandas as pd

from hmf import experiments, paper, registry
from hmf.profiles import current_profile

DATASETS = {
    "rating": ("ml-100k", "ml-1m", "ciao"),
    "ranking": ("diginetica", "ml-100k-implicit", "ciao-implicit"),
}
METRICS = {"rating": ("rmse",), "ranking": ("hit_ratio@10", "mrr@10")}  # the first selects
HMF = {"rating": "hmf", "ranking": "bpr-hmf"}  # Table 3's † reference, Table 6's model
TABLES = {
    "table3a": (registry.RATING_METHODS, "accuracy"),
    "table3b": (registry.RANKING_METHODS, "accuracy"),
    "reference": (registry.REFERENCE_MODELS, "accuracy"),
    "table6a": ((HMF["rating"],), "depth"),
    "table6b": ((HMF["ranking"],), "depth"),
    # ours: the ranking selections and baselines under the sampled and the full protocol
    "protocols": (registry.RANKING_METHODS + registry.RANKING_BASELINES, "full-ranking"),
    # ours: Table 3 (a)'s selections under the authors' code's test protocol
    "retrain": (registry.RATING_METHODS, "retrain"),
}
# The protocols table's metrics: the paper's sampled ones, each beside its full-ranking twin.
PROTOCOL_METRICS = ("hit_ratio@10", "full_hit_ratio@10", "mrr@10", "full_mrr@10", "full_ndcg@10")
DEPTHS = tuple(paper.TABLE6_RANKING)  # p = q = 1 ... 4, Table 6's rows


def profile_name(profile=None) -> str:
    """A profile given as a :class:`~hmf.profiles.Profile` or a name (None: the current one)."""
    return current_profile().name if profile is None else getattr(profile, "name", profile)


def dataset_label(name: str) -> str:
    return paper.DATASET_LABELS.get(name, name)


def substitute_label(name: str) -> str:
    """A data set's label, ``<label> implicit substitute`` for the ranking substitutes."""
    label = dataset_label(name.removesuffix("-implicit"))
    return label + (" implicit substitute" if name.endswith("-implicit") else "")


def join(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def task_of(models) -> str:
    return registry.get(tuple(models)[0]).task


def rows_of(frame: pd.DataFrame, dataset: str, model: str | None = None) -> pd.DataFrame:
    """The rows of a records frame for ``dataset`` (and ``model``); an empty frame as it is."""
    if not len(frame):
        return frame
    keep = frame["dataset"] == dataset
    return frame[keep & (frame["model"] == model) if model is not None else keep]


def fmt(mean, std=None, dagger=False) -> str:
    """``mean ± std`` to three decimals, with `` †`` where ``dagger``; "" without a mean."""
    if mean is None or pd.isna(mean):
        return ""
    text = f"{mean:.3f}" if std is None or pd.isna(std) else f"{mean:.3f} ± {std:.3f}"
    return text + (" †" if dagger else "")


def records(table: str, profile=None, **options):
    """``(records, missing)`` of one of the book's :data:`TABLES` under ``profile``, training what
    is missing where the profile says so (``options``: :func:`hmf.experiments.ensure_records`)."""
    models, study = TABLES[table]
    return experiments.ensure_records(
        DATASETS[task_of(models)], models, profile_name(profile), study=study, **options
    )


def table_frame(table: str, profile=None) -> pd.DataFrame:
    """The records frame (:func:`hmf.experiments.records_frame`) of :func:`records`."""
    return experiments.records_frame(records(table, profile)[0])
