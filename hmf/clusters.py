"""Are a model's clusters meaningful? Coherence, stability across seeds and softness, measured.

The paper's evidence for interpretability (Tables 4-5) is a few clusters read by eye. This
module turns the reading into measures with nulls, for any clustering of users or items:

* a :class:`Clustering` is a membership matrix (objects x clusters, rows summing to one: soft
  for HMF and IHSR, one-hot for k-means and random labellings) plus the strength that ranks a
  cluster's members (connection probability for HMF, minus the distance to the centroid for
  k-means). Its *members* are the objects whose largest membership is the cluster (the hard
  assignment), strongest first, at most ``top`` of them (:meth:`Clustering.member_sets`), or,
  for a clustering that is not ``exclusive``, its ``top`` strongest objects whatever their
  assignment (the paper's Table 4 reads a cluster by the items nearest its embedding,
  :func:`nearest_clustering`);
* **coherence** (:func:`coherence`): how alike the members' labels are (mean pairwise Jaccard
  similarity of their label sets: genres, or one label such as a decade, a gender), against a
  permutation null that relabels the objects (within popularity strata for items,
  :func:`permutations`);
* **preference** (:func:`preference_test`): the paper's reading of Tables 4c/4d ("men prefer
  item cluster 374") as a test - how strongly item clusters' affinity profiles follow the share
  of men of the user clusters, against relabelled genders;
* **stability** (:func:`stability`): two clusterings of the same objects (two seeds) matched
  one to one by the Hungarian algorithm on their membership overlap, then NMI and ARI of the
  hard assignments, the overlap of matched clusters' members and the correlation of the matched
  affinity matrices;
* **softness** (:func:`softness`): membership entropy, effective numbers of clusters, sizes.

Everything is NumPy on arrays; the baselines' clusterings come from :func:`kmeans` (on MF's
embeddings) and :func:`random_clustering`, a trained model's from :func:`from_hmf` and
:func:`from_ihsr`. Every random step takes a seed, so the same seed gives the same numbers.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from hmf import checks, interpret
from hmf.errors import UsageError
from hmf.models import embeddings as E

__all__ = [
    "Clustering",
    "from_hmf",
    "from_ihsr",
    "kmeans",
    "nearest_clustering",
    "random_clustering",
    "hmf_affinity",
    "ihsr_affinity",
    "one_hot",
    "genre_matrix",
    "decades",
    "age_bands",
    "popularity_strata",
    "permutations",
    "set_coherence",
    "coherence",
    "preference_test",
    "match",
    "stability",
    "softness",
    "AGE_BANDS",
]

TOP = 10  # members per cluster that the coherence reads (the paper's tables show 3-9)
PERMUTATIONS = 199  # null draws: p-values in steps of 1/200
AGE_BANDS = ("Under 18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+")  # ML-1M's bands
_AGE_EDGES = (18, 25, 35, 45, 50, 56)


@dataclasses.dataclass(frozen=True)
class Clustering:
    """Objects' memberships in clusters: ``membership`` ``(n, m)``, non-negative, rows summing
    to one; ``strength`` ``(n, m)`` ranks a cluster's members, strongest first (None: the
    membership itself); ``exclusive``: a cluster's members are only the objects assigned to it
    (their largest membership), else the strongest objects whatever their assignment (the
    paper's "nearest items" of Table 4)."""

    membership: np.ndarray
    strength: np.ndarray | None = None
    exclusive: bool = True

    def __post_init__(self):
        p = np.asarray(self.membership, dtype=np.float64)
        if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1:
            raise UsageError(f"membership must be a 2-D (objects, clusters) array, got {p.shape}")
        if not np.isfinite(p).all() or (p < 0).any():
            raise UsageError("membership must be finite and non-negative")
        if not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
            raise UsageError("membership rows must each sum to one")
        object.__setattr__(self, "membership", p)
        if self.strength is not None and np.shape(self.strength) != p.shape:
            raise UsageError(
                f"strength has shape {np.shape(self.strength)}, expected {p.shape} as membership"
            )

    @property
    def n_objects(self) -> int:
        return self.membership.shape[0]

    @property
    def n_clusters(self) -> int:
        return self.membership.shape[1]

    def hard(self) -> np.ndarray:
        """Each object's cluster of largest membership (the lowest number on ties)."""
        return np.argmax(self.membership, axis=1)

    def sizes(self) -> np.ndarray:
        """Column sums of the membership: each cluster's objects' worth of weight (Sec. 5.3)."""
        return self.membership.sum(axis=0)

    def member_sets(self, top: int = TOP) -> list[np.ndarray]:
        """Per cluster: its hard members, strongest first, at most ``top`` (an empty array for a
        cluster no object is assigned to); when not ``exclusive``, its ``top`` strongest
        objects."""
        top = checks.integer(top, "top", low=1)
        labels = self.hard()
        strength = self.membership if self.strength is None else np.asarray(self.strength)
        if not self.exclusive:
            order = np.argsort(-strength, axis=0, kind="stable")[: min(top, self.n_objects)]
            return list(order.T)
        own = strength[np.arange(self.n_objects), labels]
        # By cluster, then strongest first; a stable sort keeps object order on ties.
        order = np.lexsort((np.arange(self.n_objects), -own, labels))
        starts = np.searchsorted(labels[order], np.arange(self.n_clusters + 1))
        return [order[starts[c] : starts[c + 1]][:top] for c in range(self.n_clusters)]


def _one_hot(labels: np.ndarray, m: int) -> np.ndarray:
    out = np.zeros((len(labels), m))
    out[np.arange(len(labels)), labels] = 1.0
    return out


def from_hmf(emb) -> Clustering:
    """An HMF side's level-one clusters: membership = connection probability ``softmax(C1)``
    (Eq. 7/8), which also ranks members (the paper's Table 5)."""
    if not isinstance(emb, E.HierarchicalEmbedding):
        raise UsageError(
            f"from_hmf needs a hierarchical embedding (an HMF model), got {type(emb).__name__}: "
            "a model without clusters has no memberships to measure"
        )
    return Clustering(interpret.membership_table(emb, 1).to_numpy())


def from_ihsr(factor: np.ndarray) -> Clustering:
    """IHSR's clusters from its first non-negative factor (``U1``: users x clusters, or ``V1``
    transposed for items), each row normalised to sum to one (a row of zeros: uniform)."""
    x = np.asarray(factor, dtype=np.float64)
    if x.ndim != 2 or (x < 0).any():
        raise UsageError(f"an IHSR factor must be a non-negative 2-D array, got shape {x.shape}")
    total = x.sum(axis=1, keepdims=True)
    p = np.where(total > 0, x / np.where(total > 0, total, 1.0), 1.0 / x.shape[1])
    return Clustering(p)


def kmeans(x: np.ndarray, k: int, seed: int) -> tuple[Clustering, np.ndarray]:
    """k-means (scikit-learn, k-means++ start, one run) of the rows of ``x`` (e.g. MF's user
    embeddings) into ``k`` clusters: one-hot memberships, members ranked by closeness to their
    centroid; returns the clustering and the ``(k, d)`` centroids."""
    x = np.asarray(x, dtype=np.float64)
    k = checks.integer(k, "k", low=1, high=len(x), what=f"the number of objects, {len(x)}")
    fit = KMeans(n_clusters=k, n_init=1, random_state=int(seed)).fit(x)
    labels = fit.labels_
    d2 = ((x - fit.cluster_centers_[labels]) ** 2).sum(axis=1)
    strength = np.full((len(x), k), -np.inf)
    strength[np.arange(len(x)), labels] = -d2
    return Clustering(_one_hot(labels, k), strength), np.asarray(fit.cluster_centers_)


def nearest_clustering(
    x: np.ndarray, centres: np.ndarray, membership: np.ndarray | None = None
) -> Clustering:
    """Members ranked by the Euclidean distance between their embedding and the cluster's.

    Without ``membership``: each object assigned to the nearest cluster embedding (a partition,
    one-hot). With it (e.g. HMF's connection probabilities): those memberships, and each
    cluster's members are the objects nearest it whatever their assignment, as the paper reads
    a cluster in Table 4 ("the items nearest the cluster in the latent space")."""
    x, centres = np.asarray(x, dtype=np.float64), np.asarray(centres, dtype=np.float64)
    if x.ndim != 2 or centres.ndim != 2 or x.shape[1] != centres.shape[1]:
        raise UsageError(
            f"objects {x.shape} and cluster embeddings {centres.shape} need the same dimension"
        )
    d2 = (x**2).sum(1)[:, None] - 2 * x @ centres.T + (centres**2).sum(1)[None, :]
    if membership is not None:
        return Clustering(membership, -d2, exclusive=False)
    labels = np.argmin(d2, axis=1)
    strength = np.full(d2.shape, -np.inf)
    strength[np.arange(len(x)), labels] = -d2[np.arange(len(x)), labels]
    return Clustering(_one_hot(labels, len(centres)), strength)


def random_clustering(n: int, m: int, seed: int) -> Clustering:
    """Each of ``n`` objects assigned to one of ``m`` clusters uniformly at random (members in a
    random order): what coherence and stability read when clusters mean nothing."""
    n, m = checks.integer(n, "n", low=1), checks.integer(m, "m", low=1)
    rng = np.random.default_rng([int(seed), 1])  # a stream apart from the nulls' (below)
    labels = rng.integers(0, m, size=n)
    strength = np.full((n, m), -np.inf)
    strength[np.arange(n), labels] = rng.random(n)
    return Clustering(_one_hot(labels, m), strength)


def hmf_affinity(params) -> np.ndarray:
    """HMF's level-one cluster affinities ``U_s^(1)T V_t^(1)`` (user x item clusters, Table 4)."""
    return interpret.affinity(params).to_numpy()


def ihsr_affinity(params) -> np.ndarray:
    """IHSR's cluster affinities ``U2 V2`` (user x item clusters: the factors between the
    memberships ``U1``, ``V1``), its counterpart of HMF's ``U^(1) V^(1)T``."""
    return np.asarray(params["users"][1]) @ np.asarray(params["items"][-1])


# -- labels ------------------------------------------------------------------------------------


def one_hot(values) -> np.ndarray:
    """A categorical label per object as an ``(n, levels)`` indicator matrix (levels sorted);
    a missing value is an error naming how many there are."""
    series = pd.Series(values)
    missing = int(series.isna().sum())
    if missing:
        raise UsageError(
            f"labels are missing for {missing} of {len(series)} objects: give every object a "
            "label (e.g. an 'unknown' level)"
        )
    codes, _ = pd.factorize(series, sort=True)
    return _one_hot(codes, int(codes.max()) + 1).astype(bool)


def genre_matrix(genres) -> np.ndarray:
    """MovieLens genre strings (``"Action|Comedy"``) as an ``(n, genres)`` indicator matrix."""
    series = pd.Series(genres)
    if series.isna().any():
        raise UsageError(f"genres are missing for {int(series.isna().sum())} items")
    return series.str.get_dummies(sep="|").to_numpy().astype(bool)


def decades(titles) -> np.ndarray:
    """Release decade from a MovieLens title's trailing ``(YYYY)`` (``"unknown"`` without)."""
    years = pd.Series(titles).astype(str).str.extract(r"\((\d{4})\)\s*$", expand=False)
    return np.where(
        years.isna(), "unknown", (years.fillna("0").astype(int) // 10 * 10).astype(str) + "s"
    )


def age_bands(ages) -> np.ndarray:
    """Ages as ML-1M's bands (:data:`AGE_BANDS`); values already banded pass through."""
    series = pd.Series(ages)
    if series.astype(str).isin(AGE_BANDS).all():
        return series.astype(str).to_numpy(dtype=object)
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.isna().any():
        bad = series[numeric.isna()].iloc[0]
        raise UsageError(f"ages must be numbers or ML-1M's bands {AGE_BANDS}, got {bad!r}")
    return np.asarray(AGE_BANDS, dtype=object)[np.searchsorted(_AGE_EDGES, numeric, "right")]


# -- nulls -------------------------------------------------------------------------------------


def popularity_strata(counts, bins: int = 10) -> np.ndarray:
    """Each object's popularity stratum: deciles (``bins`` quantile bins) of its number of
    training ratings, so a null set keeps a cluster's popularity profile."""
    counts = np.asarray(counts, dtype=np.float64)
    bins = checks.integer(bins, "bins", low=1)
    ranks = pd.Series(counts).rank(method="first").to_numpy()
    return np.minimum((ranks - 1) * bins // len(counts), bins - 1).astype(int)


def permutations(n: int, draws: int, seed: int, strata=None) -> np.ndarray:
    """``(draws, n)`` random permutations of ``0..n-1``, each mapping an object to another of
    its stratum (all objects one stratum when ``strata`` is None). Relabelling by a permutation
    is the null: ``labels[perm]`` keeps every label's frequency (and, within strata, e.g. the
    popularity profile of every set) and breaks any tie between labels and clusters."""
    n, draws = checks.integer(n, "n", low=1), checks.integer(draws, "draws", low=1)
    # Its own stream: a random clustering drawn from the same seed must not shape its null.
    rng = np.random.default_rng([int(seed), 2])
    strata = np.zeros(n, dtype=int) if strata is None else np.asarray(strata)
    if strata.shape != (n,):
        raise UsageError(f"strata has shape {strata.shape}, expected ({n},)")
    out = np.empty((draws, n), dtype=np.int64)
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    for r in range(draws):
        for g in groups:
            out[r, g] = g[rng.permutation(len(g))]
    return out


# -- coherence ---------------------------------------------------------------------------------


def _check_labels(labels: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(labels)
    if x.ndim == 1:
        x = one_hot(x)
    if x.shape[0] != n:
        raise UsageError(f"labels cover {x.shape[0]} objects, the clustering has {n}")
    return x.astype(np.float32)


def set_coherence(labels: np.ndarray, sets: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Mean pairwise Jaccard similarity of the label sets of each set's members.

    ``labels``: ``(n, g)`` indicators (one-hot for a single label, where Jaccard is 1 for equal
    labels and 0 otherwise, so coherence = the chance that two members share the label);
    ``sets``: ``(s, k)`` object indices, of which the first ``sizes[i]`` (at least two) count.
    Two members without any label have similarity 0.
    """
    sets, sizes = np.asarray(sets), np.asarray(sizes)
    k = sets.shape[1]
    valid = np.arange(k)[None, :] < sizes[:, None]  # (s, k)
    out = np.empty(len(sets))
    counts = labels.sum(axis=1)
    for lo in range(0, len(sets), 4096):  # chunks bound the (chunk, k, k) temporaries
        idx, ok = sets[lo : lo + 4096], valid[lo : lo + 4096]
        x = labels[idx] * ok[..., None]  # (c, k, g), invalid members zeroed
        inter = np.einsum("ckg,clg->ckl", x, x)
        c = counts[idx] * ok
        union = c[:, :, None] + c[:, None, :] - inter
        jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        pair = ok[:, :, None] & ok[:, None, :] & ~np.eye(k, dtype=bool)[None]
        out[lo : lo + 4096] = (jac * pair).sum((1, 2)) / pair.sum((1, 2))
    return out


def _padded(member_sets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clusters with at least two members, their members padded to one width, and sizes."""
    keep = np.array([c for c, s in enumerate(member_sets) if len(s) >= 2], dtype=int)
    if not len(keep):
        raise UsageError("no cluster has two or more members: coherence needs pairs of members")
    width = max(len(member_sets[c]) for c in keep)
    sets = np.zeros((len(keep), width), dtype=np.int64)
    sizes = np.array([len(member_sets[c]) for c in keep])
    for row, c in enumerate(keep):
        sets[row, : sizes[row]] = member_sets[c]
    return keep, sets, sizes


def coherence(
    clustering: Clustering,
    labels,
    *,
    strata=None,
    top: int = TOP,
    draws: int = PERMUTATIONS,
    seed: int = 0,
) -> dict:
    """How alike the labels of each cluster's members are, against a relabelling null.

    Each cluster with at least two members (:meth:`Clustering.member_sets`, at most ``top``)
    gets a score: :func:`set_coherence` of its members. The null relabels the objects by
    ``draws`` random permutations (within ``strata``: popularity strata for items,
    :func:`popularity_strata`; none for users, i.e. a label permutation), which is the same as
    drawing random member sets of the same sizes and, within strata, the same popularity
    profile. Returns a dict of plain values:

    ``clusters`` (how many were scored), ``observed`` (mean score), ``null`` (mean of the null
    means), ``lift`` (observed / null), ``share_beyond_null95`` (share of clusters whose score
    exceeds the 95th percentile of its own null scores), ``p_value`` (permutation p-value of the
    mean score, ``(1 + #{null mean >= observed}) / (draws + 1)``), ``draws``, and per cluster
    ``cluster`` (numbers), ``scores``, ``null_mean``, ``null95`` and ``null_draw`` (the scores
    of the first null draw: one random set per cluster, to compare distributions with).
    """
    x = _check_labels(labels, clustering.n_objects)
    draws = checks.integer(draws, "draws", low=1)
    keep, sets, sizes = _padded(clustering.member_sets(top))
    observed = set_coherence(x, sets, sizes)
    perms = permutations(clustering.n_objects, draws, seed, strata)
    null = np.stack([set_coherence(x, perm[sets], sizes) for perm in perms])  # (draws, clusters)
    null95 = np.quantile(null, 0.95, axis=0)
    means = null.mean(axis=1)
    return dict(
        clusters=len(keep),
        observed=float(observed.mean()),
        null=float(means.mean()),
        lift=float(observed.mean() / means.mean()) if means.mean() > 0 else float("nan"),
        share_beyond_null95=float((observed > null95).mean()),
        p_value=float((1 + (means >= observed.mean()).sum()) / (draws + 1)),
        draws=draws,
        cluster=keep.tolist(),
        scores=observed.tolist(),
        null_mean=null.mean(axis=0).tolist(),
        null95=null95.tolist(),
        null_draw=null[0].tolist(),
    )


# -- preference (Tables 4c/4d read as a test) --------------------------------------------------


def _columnwise_r(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of ``a`` (clusters x targets) with each row of ``g``
    (draws x clusters): ``(draws, targets)``; 0 where either is constant."""
    a = a - a.mean(axis=0)
    g = g - g.mean(axis=1, keepdims=True)
    num = g @ a
    den = np.sqrt((g**2).sum(axis=1))[:, None] * np.sqrt((a**2).sum(axis=0))[None, :]
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def preference_test(
    affinity: np.ndarray,
    users: Clustering,
    flag,
    *,
    items: Clustering | None = None,
    draws: int = PERMUTATIONS,
    seed: int = 0,
) -> dict:
    """The paper's reading of Tables 4c/4d ("men prefer item cluster 374") as a test.

    ``flag``: one boolean per user (e.g. male). Each user cluster with any mass (a size above
    zero, :meth:`Clustering.sizes`) gets its membership-weighted share of flagged users; each
    item cluster (with mass, when ``items`` is given) gets ``r``, the correlation
    over those user clusters between its affinities (a column of ``affinity``, user x item
    clusters) and that share. If item clusters' affinity profiles follow the gender mix of the
    user clusters, ``r²`` is large. The null relabels the users' flags (``draws``
    permutations). Returns ``observed`` (mean ``r²`` over item clusters), ``null`` (its null
    mean), ``p_value``, ``share_beyond_null95`` (share of item clusters whose ``|r|`` exceeds
    the 95th percentile of the null's ``|r|``), ``user_clusters``, ``item_clusters``, ``draws``
    and per item cluster ``r``.
    """
    aff = np.asarray(affinity, dtype=np.float64)
    f = np.asarray(flag, dtype=np.float64)
    if f.shape != (users.n_objects,):
        raise UsageError(f"flag has {f.size} entries, expected one per user ({users.n_objects})")
    if aff.shape[0] != users.n_clusters:
        raise UsageError(
            f"affinity has {aff.shape[0]} rows, expected one per user cluster ({users.n_clusters})"
        )
    rows = np.flatnonzero(users.sizes() > 0)
    cols = np.arange(aff.shape[1]) if items is None else np.flatnonzero(items.sizes() > 0)
    if len(rows) < 3:
        raise UsageError("the preference test needs at least three user clusters with members")
    p = users.membership[:, rows]
    perms = permutations(users.n_objects, draws, seed)
    flags = np.vstack([f, f[perms]])  # row 0 observed, then the null draws
    share = (flags @ p) / p.sum(axis=0)  # (1 + draws, clusters)
    r = _columnwise_r(aff[np.ix_(rows, cols)], share)
    stat = (r**2).mean(axis=1)
    null95 = np.quantile(np.abs(r[1:]), 0.95)
    return dict(
        observed=float(stat[0]),
        null=float(stat[1:].mean()),
        p_value=float((1 + (stat[1:] >= stat[0]).sum()) / (draws + 1)),
        share_beyond_null95=float((np.abs(r[0]) > null95).mean()),
        user_clusters=len(rows),
        item_clusters=len(cols),
        draws=int(draws),
        r=r[0].tolist(),
    )


# -- stability ---------------------------------------------------------------------------------


def match(a: Clustering, b: Clustering) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching of ``a``'s clusters to ``b``'s that maximises their total membership
    overlap ``Σ_i P_a[i, s] P_b[i, t]`` (the Hungarian algorithm, ``linear_sum_assignment``):
    arrays ``(rows, cols)`` of matched cluster numbers; ``min(m_a, m_b)`` pairs."""
    if a.n_objects != b.n_objects:
        raise UsageError(f"the clusterings cover {a.n_objects} and {b.n_objects} objects")
    overlap = a.membership.T @ b.membership
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    return rows, cols


def stability(
    a: Clustering,
    b: Clustering,
    affinity_a: np.ndarray | None = None,
    affinity_b: np.ndarray | None = None,
    *,
    other_a: Clustering | None = None,
    other_b: Clustering | None = None,
    top: int = TOP,
) -> dict:
    """Agreement of two clusterings of the same objects (e.g. two seeds' user clusters).

    ``nmi`` and ``ari``: normalised mutual information and adjusted Rand index of the hard
    assignments; after :func:`match`: ``matched_mass`` (share of the membership mass on matched
    pairs, ``Σ overlap[matched] / n``) and ``top_overlap`` (mean Jaccard overlap of the member
    sets of matched pairs, over pairs where either has members). With both sides' affinities
    (rows this side's clusters, columns the other side's; ``other_a``/``other_b`` the other
    side's clusterings), ``affinity_r``: the Pearson correlation of ``affinity_a`` with
    ``affinity_b`` reordered by both matchings, over matched clusters with mass (size above
    zero) in both runs.
    """
    rows, cols = match(a, b)
    la, lb = a.hard(), b.hard()
    overlap = (a.membership[:, rows] * b.membership[:, cols]).sum()
    sa, sb = a.member_sets(top), b.member_sets(top)
    jac = [
        len(np.intersect1d(sa[r], sb[c])) / len(np.union1d(sa[r], sb[c]))
        for r, c in zip(rows, cols)
        if len(sa[r]) or len(sb[c])
    ]
    out = dict(
        nmi=float(normalized_mutual_info_score(la, lb)),
        ari=float(adjusted_rand_score(la, lb)),
        matched_mass=float(overlap / a.n_objects),
        top_overlap=float(np.mean(jac)) if jac else float("nan"),
    )
    if affinity_a is not None and affinity_b is not None and other_a is not None:
        out["affinity_r"] = matched_affinity_r(
            affinity_a, affinity_b, (a, b), (other_a, other_b), (rows, cols)
        )
    return out


def matched_affinity_r(affinity_a, affinity_b, sides, others, matched=None) -> float:
    """Correlation of two runs' affinity matrices after matching rows (``sides``: the row
    clusterings of runs a and b) and columns (``others``), over clusters with mass in both."""
    (ra, rb), (ca, cb) = matched or match(*sides), match(*others)
    keep_r = (sides[0].sizes()[ra] > 0) & (sides[1].sizes()[rb] > 0)
    keep_c = (others[0].sizes()[ca] > 0) & (others[1].sizes()[cb] > 0)
    x = np.asarray(affinity_a)[np.ix_(ra[keep_r], ca[keep_c])].ravel()
    y = np.asarray(affinity_b)[np.ix_(rb[keep_r], cb[keep_c])].ravel()
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


# -- softness ----------------------------------------------------------------------------------


def softness(clustering: Clustering) -> dict:
    """How soft a clustering is and how many clusters it really uses.

    Per object: membership entropy ``H_i = -Σ_s p_is ln p_is`` (nats) and the effective number
    of clusters ``exp(H_i)`` (1 for a hard assignment, ``m`` for a uniform one): their mean
    (``entropy``, ``effective``) and median (``effective_median``). Per cluster: ``sizes``
    quantiles (``size_median``, ``size_p90``, ``size_max``) of the column sums, ``with_mass``
    (clusters of size >= 1, one object's worth), ``near_empty`` (clusters holding less than a
    tenth of the mean size ``n / m``), ``occupied`` (clusters some object's largest
    membership points to), ``effective_clusters`` (``exp`` of the entropy of the size
    distribution) and ``top10_mass`` (share of the mass in the largest tenth of the clusters).
    """
    p = clustering.membership
    logs = np.log(p, out=np.zeros_like(p), where=p > 0)
    h = -(p * logs).sum(axis=1)
    sizes = clustering.sizes()
    q = sizes / sizes.sum()
    hq = -(q[q > 0] * np.log(q[q > 0])).sum()
    largest = np.sort(sizes)[::-1][: max(1, int(np.ceil(len(sizes) / 10)))]
    return dict(
        objects=clustering.n_objects,
        clusters=clustering.n_clusters,
        entropy=float(h.mean()),
        effective=float(np.exp(h).mean()),
        effective_median=float(np.median(np.exp(h))),
        with_mass=int((sizes >= 1.0).sum()),
        near_empty=int((sizes < 0.1 * sizes.mean()).sum()),
        occupied=int(len(np.unique(clustering.hard()))),
        effective_clusters=float(np.exp(hq)),
        size_median=float(np.median(sizes)),
        size_p90=float(np.quantile(sizes, 0.9)),
        size_max=float(sizes.max()),
        top10_mass=float(largest.sum() / sizes.sum()),
    )
