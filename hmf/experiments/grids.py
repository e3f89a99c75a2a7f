"""Hyper-parameter grids per profile (paper Table 2 and the documented subsets).

``paper`` is Table 2 exactly. ``book`` keeps every weight decay (Fig. 2 draws one curve per
weight decay) and the learning rates and cluster counts that the selection actually uses, and is
the same on every data set but two exceptions, each measured first: eTREE on Ciao
(:data:`ETREE_BOOK_LAMBDAS`) and HMF on ML-1M (:data:`HMF_BOOK_LEARNING_RATES`,
:data:`HMF_DEPTH_BOOK_OPTIMISER`); the book's accuracy and depth chapters state the subsets and
how they were checked against the full grid.
``smoke`` is one configuration per model, only to show the code runs.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from hmf import registry
from hmf.errors import UsageError
from hmf.models.ranking_baselines import EASE_LAMBDAS

__all__ = [
    "WEIGHT_DECAYS",
    "LEARNING_RATES",
    "grid",
    "ranking_clusters",
    "PAPER_USER_CLUSTERS",
    "PAPER_ITEM_CLUSTERS",
    "beyond_questions",
    "beyond_grid",
]

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


# Ranking substitutes (ours) on which the book grid adds Table 2's unscaled counts where the
# scaled ones collapse: a pair with fewer than HANDFUL user clusters gets DIGINETICA's own pair
# at the same divisor beside it (capped at the data set's size). On Ciao implicit (1,235 users)
# k = 512 gives 3 user clusters. ML-100K implicit's k = 512 pair (2, 4) is as small; its book
# grid keeps the scaled counts only, as its committed accuracy records do.
UNSCALED_BOOK = ("ciao-implicit",)
HANDFUL = 10
DIGINETICA_SIZE = (24933, 54859)  # training users and items of paper Table 1


def book_ranking_clusters(n_users: int, n_items: int, dataset: str) -> list[tuple[int, int]]:
    """The ``book`` grid's ranking counts: :func:`ranking_clusters`, plus on
    :data:`UNSCALED_BOOK` data sets DIGINETICA's own pair beside each scaled pair with fewer
    than :data:`HANDFUL` user clusters."""
    pairs = ranking_clusters(n_users, n_items)
    if dataset not in UNSCALED_BOOK:
        return pairs
    own = ranking_clusters(*DIGINETICA_SIZE)
    extra = [
        (min(u, n_users), min(i, n_items))
        for (scaled, _), (u, i) in zip(pairs, own)
        if scaled < HANDFUL
    ]
    return pairs + [p for p in extra if p not in pairs]


ETREE_LEVELS = ((10,), (25, 5), (50, 10, 3))
ETREE_REG = (1e-3, 0.5, 1.0, 5.0, 10.0, 15.0, 20.0)
IHSR_LAMBDAS = (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
PROTO_LAMBDAS = (1e-3, 1e-2, 1e-1, 1.0, 10.0)

# eTREE's λ and μ in the book grid: 0.5 and 20 of Table 2's seven values. On Ciao every λ = 20
# run ran to the 1,000-iteration cap - two thirds of Ciao's book sweep - and was the worst by far
# (mean validation RMSE 2.28-2.30 against 1.29 at λ = 0.5, on all three trees and both μ), while
# the check of the selection's neighbours found λ = 1 better than 0.5 (1.286 against 1.289 on
# tree (10) with μ = 20, five seeds); so Ciao's λ are 0.5 and 1.
# The λ = 20 runs are kept as `paper`-profile records, which the accuracy chapter's check reads.
ETREE_BOOK_VALUES = (0.5, 20.0)
ETREE_BOOK_LAMBDAS = {"ciao": (0.5, 1.0)}

# HMF's learning rates in the book grid: 1e-2 and 1e-3, except on ML-1M. There, at every weight
# decay and cluster pair, lr = 1e-3 did worse than lr = 1e-2 (mean validation RMSE, five seeds;
# the best lr = 1e-3 configuration, 0.9241, against the selection's 0.9139), and so at every
# depth of the depth study, while its runs took about 11 minutes each at 1000/500 on a 2-core CPU
# (book/performance.md): `benchmarks/estimate_book_sweep.py` put ML-1M's book sweep at 16.3 h of
# process time with them, 8.6 h with the grids below. Those runs are kept as `paper`-profile
# records, which the accuracy and depth chapters' checks read.
HMF_BOOK_LEARNING_RATES = {"ml-1m": (1e-2,)}
# The depth study's retune under `book`: learning rate at weight decay 1e-4; on ML-1M, where the
# learning rate is settled above, weight decay instead - the depth-one selection's 1e-2 and 1e-4
# (`hmf.report.diagnostics.weight_decay_spread`: 0.005 of validation RMSE there, 0.0003 on
# ML-100K and Ciao).
HMF_DEPTH_BOOK_OPTIMISER = {"ml-1m": dict(lrs=(1e-2,), wds=(1e-2, 1e-4))}


def _clusters(pairs) -> list[dict[str, int]]:
    return [dict(user_clusters=u, item_clusters=i) for u, i in pairs]


def _etree(lams, mus) -> list[dict[str, Any]]:
    return [
        dict(item_levels=list(t), lam=lam, mu=m) for t in ETREE_LEVELS for lam in lams for m in mus
    ]


def _paper(model: str, n_users: int, n_items: int, dataset: str) -> list[dict[str, Any]]:
    """Table 2 exactly."""
    paper_pairs = list(itertools.product(PAPER_USER_CLUSTERS, PAPER_ITEM_CLUSTERS))
    return {
        "mf": _optimiser(),
        "hmf": [dict(o, **c) for o in _optimiser() for c in _clusters(paper_pairs)],
        "ihsr": [dict(lam=lam, **c) for lam in IHSR_LAMBDAS for c in _clusters(paper_pairs)],
        "etree": _etree(ETREE_REG, ETREE_REG),
        "bpr-mf": _optimiser(),
        "neumf": _optimiser(),
        "bpr-hmf": [
            dict(o, **c)
            for o in _optimiser()
            for c in _clusters(ranking_clusters(n_users, n_items))
        ],
        "protomf": [
            dict(o, proto_lambda=pl, user_prototypes=u, item_prototypes=i)
            for o in _optimiser()
            for pl in PROTO_LAMBDAS
            for u, i in ranking_clusters(n_users, n_items)
        ],
    }.get(model)


def _book(model: str, n_users: int, n_items: int, dataset: str) -> list[dict[str, Any]] | None:
    """The documented subset (see the accuracy chapter for how it was checked).

    Every weight decay stays (Fig. 2 draws one curve per weight decay); the cluster models drop
    learning rate 1e-4 (HMF on ML-1M 1e-3 too) and keep the two ends of Table 2's cluster range;
    IHSR keeps five of Table 2's seven λ and eTREE λ, μ ∈ {0.5, 20} with all three trees (on Ciao
    λ ∈ {0.5, 1}).
    """
    ends = [(200, 100), (1000, 500)]
    etree_lams = ETREE_BOOK_LAMBDAS.get(dataset, ETREE_BOOK_VALUES)
    hmf_lrs = HMF_BOOK_LEARNING_RATES.get(dataset, (1e-2, 1e-3))
    return {
        "mf": _optimiser(),
        "hmf": [dict(o, **c) for o in _optimiser(lrs=hmf_lrs) for c in _clusters(ends)],
        "ihsr": [
            dict(lam=lam, **c) for lam in (0.0, 1e-3, 1e-1, 1.0, 10.0) for c in _clusters(ends)
        ],
        "etree": _etree(etree_lams, ETREE_BOOK_VALUES),
        "bpr-mf": _optimiser(),
        "neumf": _optimiser(lrs=(1e-2, 1e-3)),
        "bpr-hmf": [
            dict(o, **c)
            for o in _optimiser(lrs=(1e-2, 1e-3), wds=(1e-2, 1e-4, 0.0))
            for c in _clusters(book_ranking_clusters(n_users, n_items, dataset))
        ],
        "protomf": [
            dict(lr=1e-3, weight_decay=wd, proto_lambda=pl, user_prototypes=u, item_prototypes=i)
            for wd in (1e-4, 0.0)
            for pl in (1e-2, 1.0)
            for u, i in book_ranking_clusters(n_users, n_items, dataset)
        ],
    }.get(model)


def _smoke(model: str, n_users: int, n_items: int, dataset: str) -> list[dict[str, Any]] | None:
    """One configuration per model: shows the code runs; never a result."""
    u, i = ranking_clusters(n_users, n_items)[0]
    return {
        "mf": [dict(lr=1e-3, weight_decay=1e-4)],
        "hmf": [dict(lr=1e-3, weight_decay=1e-4, user_clusters=200, item_clusters=100)],
        "ihsr": [dict(lam=10.0, user_clusters=200, item_clusters=100)],
        "etree": [dict(item_levels=[25, 5], lam=20.0, mu=20.0)],
        "bpr-mf": [dict(lr=1e-3, weight_decay=1e-4)],
        "neumf": [dict(lr=1e-3, weight_decay=1e-4)],
        "bpr-hmf": [dict(lr=1e-3, weight_decay=1e-4, user_clusters=u, item_clusters=i)],
        "protomf": [
            dict(
                lr=1e-3, weight_decay=1e-4, proto_lambda=1e-2, user_prototypes=u, item_prototypes=i
            )
        ],
    }.get(model)


def _reference(profile: str) -> list[dict[str, Any]]:
    """The outside reference (Cornac's SGD MF): its defaults, plus a small documented grid."""
    if profile == "smoke":
        return [dict(sgd_lr=0.01, sgd_reg=0.02)]
    return [dict(sgd_lr=lr, sgd_reg=reg) for lr in (0.01, 0.005) for reg in (0.02, 0.05, 0.1)]


# Under smoke, EASE only where its dense n_items x n_items inverse takes seconds (ML-100K's
# 1,561 items; Ciao implicit's 8,592 take a minute on two cores).
SMOKE_EASE_ITEMS = 2000


def _ranking_baseline(profile: str, model: str, n_items: int) -> list[dict[str, Any]]:
    """The ranking baselines (ours): most-popular has no setting; EASE's lambda grid
    (:data:`~hmf.models.ranking_baselines.EASE_LAMBDAS`; under ``smoke`` one value, and none
    above :data:`SMOKE_EASE_ITEMS` items)."""
    if model == "most-popular":
        return [{}]
    if profile == "smoke":
        return [dict(ease_lambda=EASE_LAMBDAS[2])] if n_items <= SMOKE_EASE_ITEMS else []
    return [dict(ease_lambda=lam) for lam in EASE_LAMBDAS]


_PROFILES = {"paper": _paper, "book": _book, "smoke": _smoke}


def grid(
    profile: str, model: str, n_users: int, n_items: int, *, dataset: str
) -> list[dict[str, Any]]:
    """The configurations of ``model`` under ``profile`` for ``dataset``.

    ``n_users`` / ``n_items`` (of the training split) scale the ranking models' cluster and
    prototype counts, and cap IHSR's cluster counts at the number of users or items (its
    non-negative factors allow no more; Table 2's 1000 user clusters exceed ML-100K's 625 users).
    ``dataset`` (its registry name) picks the data-set-specific subsets of the ``book`` profile
    (:data:`ETREE_BOOK_LAMBDAS`, :data:`HMF_BOOK_LEARNING_RATES`).
    """
    if profile not in _PROFILES:
        raise UsageError(f"unknown profile {profile!r}: expected one of {', '.join(_PROFILES)}")
    if model in registry.REFERENCE_MODELS:
        return _reference(profile)
    if model in registry.RANKING_BASELINES:
        return _ranking_baseline(profile, model, n_items)
    configs = _PROFILES[profile](model, n_users, n_items, dataset)
    if configs is None:
        raise UsageError(f"no grid for model {model!r} under profile {profile!r}")
    if model == "ihsr":  # a non-negative factor cannot have more clusters than rows
        capped = []
        for c in configs:
            c = dict(
                c,
                user_clusters=min(c["user_clusters"], n_users),
                item_clusters=min(c["item_clusters"], n_items),
            )
            if c not in capped:
                capped.append(c)
        configs = capped
    return configs


DEPTHS = (1, 2, 3, 4)


def depth_grid(
    profile: str, model: str, base: dict[str, Any], *, dataset: str
) -> list[dict[str, Any]]:
    """Paper Section 5.4 / Table 6: depths p = q = 1..4 with ``m_l = m_1 / 2^(l-1)``, keeping the
    level-1 cluster counts of ``base`` (the depth-one selection) and retuning learning rate and
    weight decay per depth (all of Table 2 under ``paper``; a subset under ``book``, learning
    rate 1e-2 or 1e-3 at weight decay 1e-4 except where :data:`HMF_DEPTH_BOOK_OPTIMISER` says)."""
    clusters = dict(
        user_clusters=int(base["user_clusters"]), item_clusters=int(base["item_clusters"])
    )
    if profile == "paper":
        optimiser = _optimiser()
    elif profile == "book":
        special = HMF_DEPTH_BOOK_OPTIMISER.get(dataset) if model == "hmf" else None
        optimiser = _optimiser(**special) if special else _optimiser(lrs=(1e-2, 1e-3), wds=(1e-4,))
    elif profile == "smoke":
        optimiser = [dict(lr=base["lr"], weight_decay=base["weight_decay"])]
    else:
        raise UsageError(f"unknown profile {profile!r}: expected smoke, book or paper")
    return [dict(o, **clusters, user_depth=p, item_depth=p) for p in DEPTHS for o in optimiser]


# Beyond the paper (the chapter "What HMF's advantage depends on"): the same trainer with the
# options of hmf.models.factorization, around the accuracy study's selection. λ is in units of the
# mean loss (Eq. 1/5 divided by the number of ratings): about 1e-5 to 1e-4 is where an SGD MF's
# usual per-rating weight of 0.02-0.1 lands on ML-100K, so the range spans two decades either side.
BEYOND_LEARNING_RATES = (1e-2, 1e-3)
L2_WEIGHTS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)
STRONG_DECAYS = (0.1, 1.0, 10.0, 100.0)  # AdamW shrinks by lr x decay a step: up to 0.1 here
BIAS_L2_WEIGHTS = (0.0, 1e-5, 1e-4, 1e-3)
TEMPERATURES = (0.25, 0.5, 2.0, 4.0)  # 1 is the accuracy study's
# Patience 20, and 512 - no early stop within the epoch cap, the best epoch still kept - against
# the paper's 5, over the Table 3 grid's learning rates at the selection's weight decay.
PATIENCES = (20, 512)
# The questions' full grids, under the keys a reduced grid (BEYOND_REDUCED) replaces.
BEYOND_FULL = dict(
    l2s=L2_WEIGHTS,
    decays=STRONG_DECAYS,
    bias_l2s=BIAS_L2_WEIGHTS,
    temps=TEMPERATURES,
    patiences=PATIENCES,
)
# ML-1M's runs cost ten times ML-100K's (HMF 1000/500: minutes a run on two cores), so its
# questions use one learning rate per model - MF 1e-3 (its Table 3 selection's 1e-4 needs
# hundreds of epochs), HMF its Table 3 selection's 1e-2 - and three of the five λ, around the
# ML-100K and Ciao optima.
BEYOND_REDUCED = {
    "ml-1m": dict(
        lrs={"mf": (1e-3,), "hmf": (1e-2,)},
        l2s=(1e-5, 1e-4, 1e-3),
        decays=(1.0, 10.0),
        bias_l2s=(0.0, 1e-4),
        temps=(0.5, 2.0),
        patiences=(20,),
    )
}
# The paper's Section 5.1 conjecture: HMF might match MF on ML-1M with more clusters. Twice and
# four times the Table 3 selection's counts (HMF's cost grows with the connection matrices).
MORE_CLUSTERS = {"ml-1m": (2, 4)}


def beyond_questions(
    profile: str, model: str, base: dict[str, Any], *, dataset: str
) -> dict[str, list[dict[str, Any]]]:
    """The configurations of each question asked of ``model`` beyond the paper, built on
    ``base`` (its accuracy-study selection; HMF keeps the selected cluster counts):

    * ``l2`` - the L2 term of Eq. 1/5 in the loss, trained by Adam (weight decay 0);
    * ``decay`` - AdamW's decoupled decay where it acts (:data:`STRONG_DECAYS`);
    * ``biases`` - the training mean and user/item biases, with and without the L2 term;
    * ``patience`` - early stopping's patience (:data:`PATIENCES`) over the Table 3 grid's
      learning rates at ``base``'s weight decay;
    * ``temperature`` - the connection softmax's temperature (HMF, BPR-HMF), at ``base``'s
      learning rate and decay;
    * ``clusters`` - HMF with ``base``'s cluster counts times each factor of
      :data:`MORE_CLUSTERS` (where the data set has any; 2 under ``smoke``) at ``base``'s
      learning rate and decay (``l2=0`` marks the study).

    Under ``smoke`` one configuration per question; on ML-1M the reduced grid of
    :data:`BEYOND_REDUCED`. Every
    configuration states its ``l2`` (or ``temperature``), so the study's records never mix
    with the accuracy study's.
    """
    if profile not in _PROFILES:
        raise UsageError(f"unknown profile {profile!r}: expected one of {', '.join(_PROFILES)}")
    smoke, reduced = profile == "smoke", BEYOND_REDUCED.get(dataset)
    lrs = (base["lr"],) if smoke else BEYOND_LEARNING_RATES
    full = BEYOND_FULL
    l2s, decays, bias_l2s, temps = (
        ((1e-4,), (1.0,), (1e-4,), (2.0,))
        if smoke
        else (full["l2s"], full["decays"], full["bias_l2s"], full["temps"])
    )
    patiences = (20,) if smoke else full["patiences"]
    # the Table 3 grid's learning rates (HMF's book grid has no 1e-4)
    patience_lrs = (base["lr"],) if smoke else LEARNING_RATES if model == "mf" else (1e-2, 1e-3)
    if reduced and not smoke:
        lrs = reduced["lrs"].get(model, lrs)
        l2s, decays = reduced["l2s"], reduced["decays"]
        bias_l2s, temps = reduced["bias_l2s"], reduced["temps"]
        patiences, patience_lrs = reduced["patiences"], (base["lr"],)
    keep = {k: base[k] for k in ("user_clusters", "item_clusters") if k in base}
    out: dict[str, list[dict[str, Any]]] = {}
    if model in ("mf", "hmf"):
        out["l2"] = [dict(lr=lr, weight_decay=0.0, l2=w, **keep) for lr in lrs for w in l2s]
        out["decay"] = [dict(lr=lr, weight_decay=d, l2=0.0, **keep) for lr in lrs for d in decays]
        out["biases"] = [
            dict(lr=lr, weight_decay=0.0, l2=w, biases=1, **keep) for lr in lrs for w in bias_l2s
        ]
        wd = base.get("weight_decay", 0.0)
        out["patience"] = [
            dict(lr=lr, weight_decay=wd, patience=n, **keep)
            for lr in patience_lrs
            for n in patiences
        ]
    if model in ("hmf", "bpr-hmf"):
        out["temperature"] = [dict(base, temperature=t) for t in temps]
    if model == "hmf" and (dataset in MORE_CLUSTERS or smoke):
        out["clusters"] = [
            dict(
                base,
                l2=0.0,
                user_clusters=k * base["user_clusters"],
                item_clusters=k * base["item_clusters"],
            )
            for k in ((2,) if smoke else MORE_CLUSTERS[dataset])
        ]
    return out


def beyond_grid(profile: str, model: str, base: dict[str, Any], *, dataset: str) -> list[dict]:
    """Every configuration of :func:`beyond_questions`, once."""
    out: list[dict[str, Any]] = []
    for configs in beyond_questions(profile, model, base, dataset=dataset).values():
        out += [c for c in configs if c not in out]
    return out
