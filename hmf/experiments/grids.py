"""Hyper-parameter grids per profile (paper Table 2 and the documented subsets).

``paper`` is Table 2 exactly. ``book`` keeps every weight decay (Fig. 2 draws one curve per
weight decay) and the learning rates and cluster counts that the selection actually uses; the
book's accuracy chapter states the subset and how it was checked against the full grid.
``smoke`` is one configuration per model, only to show the code runs.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from hmf.errors import UsageError

__all__ = ["WEIGHT_DECAYS", "LEARNING_RATES", "grid", "PAPER_USER_CLUSTERS", "PAPER_ITEM_CLUSTERS"]

WEIGHT_DECAYS = (1e-2, 1e-3, 1e-4, 1e-5, 0.0)
LEARNING_RATES = (1e-2, 1e-3, 1e-4)
PAPER_USER_CLUSTERS = (200, 400, 600, 800, 1000)
PAPER_ITEM_CLUSTERS = (100, 200, 300, 400, 500)
# DIGINETICA's BPR-HMF / ProtoMF counts: ceil(24933 / k) users and ceil(54859 / k) items.
RANKING_DIVISORS = (512, 128, 32)


def _product(**axes) -> list[dict[str, Any]]:
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*axes.values())]


def _optimiser(lrs=LEARNING_RATES, wds=WEIGHT_DECAYS) -> list[dict[str, Any]]:
    return _product(lr=lrs, weight_decay=wds)


def ranking_clusters(n_users: int, n_items: int) -> list[tuple[int, int]]:
    """Table 2's cluster (prototype) counts for ranking, scaled to a data set's size."""
    return [(math.ceil(n_users / k), math.ceil(n_items / k)) for k in RANKING_DIVISORS]


def grid(profile: str, model: str, n_users: int | None = None, n_items: int | None = None) -> list[dict[str, Any]]:
    """The configurations of ``model`` under ``profile`` (``n_users``/``n_items`` for ranking)."""
    if profile == "smoke":
        table = {
            "mf": [dict(lr=1e-3, weight_decay=1e-4)],
            "hmf": [dict(lr=1e-3, weight_decay=1e-4, user_clusters=200, item_clusters=100)],
            "bpr-mf": [dict(lr=1e-3, weight_decay=1e-4)],
            "bpr-hmf": [dict(lr=1e-3, weight_decay=1e-4, user_clusters=64, item_clusters=32)],
        }
    elif profile == "book":
        table = {
            "mf": _optimiser(),
            "hmf": [
                dict(c, user_clusters=u, item_clusters=i)
                for c in _optimiser(lrs=(1e-2, 1e-3))
                for u, i in ((200, 100), (1000, 500))
            ],
        }
    elif profile == "paper":
        table = {
            "mf": _optimiser(),
            "hmf": [
                dict(c, user_clusters=u, item_clusters=i)
                for c in _optimiser()
                for u in PAPER_USER_CLUSTERS
                for i in PAPER_ITEM_CLUSTERS
            ],
        }
    else:
        raise UsageError(f"unknown profile {profile!r}: expected smoke, book or paper")
    if model in ("bpr-mf",) and model not in table:
        table[model] = _optimiser()
    if model == "bpr-hmf" and model not in table:
        if n_users is None or n_items is None:
            raise UsageError("bpr-hmf grids need n_users and n_items (cluster counts scale with them)")
        table[model] = [dict(c, user_clusters=u, item_clusters=i)
                        for c in _optimiser() for u, i in ranking_clusters(n_users, n_items)]
    if model not in table:
        raise UsageError(f"no {profile!r} grid for model {model!r}: expected one of {', '.join(table)}")
    return table[model]
