"""Evaluation metrics of paper Section 4.3.

* Rating: RMSE over the observed interactions of a subset.
* Ranking: for every evaluation interaction ``(i, j)``, 99 items user ``i`` never interacted
  with (in training, validation or test) are drawn uniformly without replacement; the positive
  and the 99 negatives are ranked by the model and scored with HitRatio@10 and MRR@10.

Choices the paper leaves open, fixed here (and in the book's methods chapter):

* Negatives are drawn once per ``(split, subset, seed)`` with NumPy's PCG64 seeded by
  ``seed`` and the subset name, so every epoch, every model and every run with that seed
  faces the same candidates.
* Ties count against the positive: its 0-based rank is the number of negatives scoring at least
  as high (a model scoring everything equal gets rank 99, not 0). A NaN score counts against
  the positive as well.
* MRR@10 is ``1 / (rank + 1)`` when ``rank < 10`` and 0 otherwise, averaged over interactions.

Full ranking (ours, not the paper's; Krichene & Rendle 2020 show that sampled metrics need not
keep the order of two models): the positive is ranked against *every* item its user never
interacted with, with the same conventions as the sampled protocol, so that the sampled
candidates are a random subset of the full ones and the two agree when the subset is all of them:

* an item the user interacted with in training, validation or test is not a candidate (training
  items are known to the model; validation items are observed interactions that precede the
  test period; the user's other test items are positives too - the "filtered" setting - so they
  do not push each other down);
* ties and NaN count against the positive, as above;
* NDCG@10 with one relevant item is ``1 / log2(rank + 2)`` when ``rank < 10`` and 0 otherwise
  (the ideal DCG is 1).

Cost: the scores of every evaluated user against every item are materialised block by block
(about :data:`_FULL_BLOCK` scores at a time) - (evaluated users) x ``n_items`` scores in all,
against (evaluated interactions) x 100 for the sampled protocol.
"""

from __future__ import annotations

import functools
import zlib
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from hmf.errors import UsageError

if TYPE_CHECKING:
    from hmf.models.spec import ModelSpec, Params
    from hmf.split import Split

__all__ = [
    "K",
    "N_NEGATIVES",
    "rmse",
    "positive_rank",
    "hit_ratio",
    "mrr",
    "rating_metrics",
    "ranking_metrics",
    "interaction_keys",
    "sample_candidates",
    "evaluate",
    "primary_metric",
    "ndcg",
    "FULL_PREFIX",
    "full_positive_rank",
    "full_exclusions",
    "full_ranking_metrics",
]

K = 10  # paper: @10
N_NEGATIVES = 99  # paper: 1 positive + 99 negatives = 100 candidates
_CHUNK = 1024  # evaluation rows scored at a time, bounds memory for (rows, 100, d) gathers
FULL_PREFIX = "full_"  # full-ranking metrics are named e.g. "full_hit_ratio@10"
_FULL_BLOCK = 1 << 20  # scores materialised at a time by full ranking (users x items)


def rmse(prediction: jax.Array, target: jax.Array) -> jax.Array:
    """Root mean squared error over all entries."""
    return jnp.sqrt(jnp.mean(jnp.square(prediction - target)))


def positive_rank(scores: jax.Array) -> jax.Array:
    """0-based rank of column 0 among each row's candidates, ``(n, C) -> (n,)`` int32.

    Counts the other candidates that are not strictly below the positive, so ties (and NaN)
    rank the positive last among its equals.
    """
    beaten = ~(scores[:, 1:] < scores[:, :1])  # (n, C-1)
    return jnp.sum(beaten, axis=1, dtype=jnp.int32)


def hit_ratio(rank: jax.Array, k: int = K) -> jax.Array:
    """Share of positives ranked in the top ``k`` (rank < k)."""
    return jnp.mean(rank < k)


def mrr(rank: jax.Array, k: int = K) -> jax.Array:
    """Mean reciprocal rank truncated at ``k``: ``1/(rank+1)`` if ``rank < k`` else 0."""
    return jnp.mean(jnp.where(rank < k, 1.0 / (rank + 1.0), 0.0))


def ndcg(rank: jax.Array, k: int = K) -> jax.Array:
    """NDCG@k with one relevant item per interaction: ``1/log2(rank+2)`` if ``rank < k`` else 0,
    averaged (the ideal DCG of one relevant item is 1)."""
    return jnp.mean(jnp.where(rank < k, 1.0 / jnp.log2(rank + 2.0), 0.0))


def full_positive_rank(scores, positives, excluded) -> np.ndarray:
    """0-based full-ranking rank of each row's positive, ``(n, I), (n,), (n, I) -> (n,)``.

    ``rank_r = |{ j != p_r : not excluded[r, j] and not s[r, j] < s[r, p_r] }|`` - the
    candidate items (every item but the ``excluded`` ones) not strictly below the positive
    ``p_r``, so ties and NaN count against it, as in :func:`positive_rank`.
    """
    scores = np.asarray(scores)
    rows = np.arange(scores.shape[0])
    beaten = ~(scores < scores[rows, positives][:, None]) & ~np.asarray(excluded, bool)
    beaten[rows, positives] = False  # the positive does not compete with itself
    return beaten.sum(axis=1)


def full_exclusions(split: Split, users: np.ndarray, keys: np.ndarray | None = None) -> np.ndarray:
    """``(len(users), n_items)`` bool: True where an item is not a full-ranking candidate for
    the row's user - an item that user interacted with in training, validation or test
    (``keys``: :func:`_all_keys` of ``split``, computed here if not given)."""
    keys = _all_keys(split) if keys is None else keys
    users = np.asarray(users, np.int64)
    start = np.searchsorted(keys, users * split.n_items)
    stop = np.searchsorted(keys, (users + 1) * split.n_items)
    length = stop - start
    offsets = np.repeat(start - np.cumsum(length) + length, length)
    items = keys[offsets + np.arange(int(length.sum()))] % split.n_items
    mask = np.zeros((len(users), split.n_items), bool)
    mask[np.repeat(np.arange(len(users)), length), items] = True
    return mask


def full_ranking_metrics(
    spec: ModelSpec, params: Params, split: Split, subset: str = "test", k: int = K
) -> dict[str, float]:
    """``{"full_hit_ratio@k", "full_mrr@k", "full_ndcg@k"}`` of ``params`` on ``subset``: each
    row's positive ranked by :func:`full_positive_rank` against every item its user never
    interacted with (see the module docstring), on scores materialised block by block."""
    frame = split.subset(subset)
    if len(frame) == 0:
        raise UsageError(f"subset {subset!r} of {split.dataset!r} is empty: nothing to evaluate")
    users = frame["user"].to_numpy().astype(np.int64)
    positives = frame["item"].to_numpy().astype(np.int64)
    order = np.argsort(users, kind="stable")  # rows grouped by user
    evaluated, first = np.unique(users[order], return_index=True)
    bounds = np.append(first, len(order))
    block = max(1, _FULL_BLOCK // split.n_items)  # users scored at a time, and rows ranked
    items = jnp.arange(split.n_items, dtype=jnp.int32)[None, :]
    keys = _all_keys(split)
    prepared = params if spec.prepare is None else _prepare(spec.prepare, params)
    rank = np.empty(len(users), np.int64)
    for lo in range(0, len(evaluated), block):
        mine = evaluated[lo : lo + block]
        padded = np.zeros(block, np.int32)  # one compiled shape for every block
        padded[: len(mine)] = mine
        scores = np.asarray(_score_block(spec.score, prepared, padded, items))
        their_rows = order[bounds[lo] : bounds[min(lo + block, len(evaluated))]]
        for start in range(0, len(their_rows), block):
            rows = their_rows[start : start + block]
            rank[rows] = full_positive_rank(
                scores[np.searchsorted(mine, users[rows])],
                positives[rows],
                full_exclusions(split, users[rows], keys),
            )
    rank = jnp.asarray(rank)
    return {
        f"{FULL_PREFIX}{name}@{k}": float(fn(rank, k))
        for name, fn in (("hit_ratio", hit_ratio), ("mrr", mrr), ("ndcg", ndcg))
    }


def rating_metrics(score_fn, params, users, items, ratings) -> dict[str, jax.Array]:
    """``{"rmse": …}`` of ``score_fn(params, users, items)`` against ``ratings`` (jittable)."""
    return {"rmse": rmse(score_fn(params, users, items), ratings)}


def ranking_metrics(score_fn, params, users, candidates, k: int = K) -> dict[str, jax.Array]:
    """``{"hit_ratio@k", "mrr@k"}`` for ``users`` ``(n,)`` and ``candidates`` ``(n, C)``
    whose column 0 is the positive (jittable; scores ``_CHUNK`` rows at a time)."""

    def rank_rows(row):
        u, c = row
        return positive_rank(score_fn(params, u[:, None], c))

    n = users.shape[0]
    # lax.map(batch_size=…) vmaps over rows; reshape to chunks ourselves so each call sees
    # a (chunk, C) block and the score function stays a plain batched function.
    chunks = -(-n // _CHUNK)
    pad = chunks * _CHUNK - n
    u = jnp.pad(users, (0, pad)).reshape(chunks, _CHUNK)
    c = jnp.pad(candidates, ((0, pad), (0, 0))).reshape(chunks, _CHUNK, candidates.shape[1])
    rank = jax.lax.map(rank_rows, (u, c)).reshape(-1)[:n]
    return {f"hit_ratio@{k}": hit_ratio(rank, k), f"mrr@{k}": mrr(rank, k)}


def interaction_keys(users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    """Sorted unique ``user * n_items + item`` (int64): a set of pairs ``searchsorted`` can test."""
    return np.unique(users.astype(np.int64) * n_items + items.astype(np.int64))


def _all_keys(split: Split) -> np.ndarray:
    """:func:`interaction_keys` of every subset of ``split``: the pairs no protocol ranks."""
    every = [split.train, split.validation, split.test]
    return interaction_keys(
        np.concatenate([f["user"].to_numpy() for f in every]),
        np.concatenate([f["item"].to_numpy() for f in every]),
        split.n_items,
    )


def _contains(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    pos = np.searchsorted(keys, query)
    return keys[np.minimum(pos, len(keys) - 1)] == query


def sample_candidates(
    split: Split, subset: str = "test", seed: int = 0, n_negatives: int = N_NEGATIVES
) -> np.ndarray:
    """Candidates ``(n, 1 + n_negatives)`` int32 for the rows of ``subset``: column 0 is the
    row's item, the rest distinct items its user never interacted with in any subset.

    Deterministic in ``(split, subset, seed)``. Vectorised rejection sampling: draw every
    slot uniformly, redraw the slots that hit an interacted item or repeat an earlier slot.
    """
    frame = split.subset(subset)
    if isinstance(n_negatives, bool) or not isinstance(n_negatives, int) or n_negatives < 1:
        raise UsageError(f"n_negatives must be a positive integer, got {n_negatives!r}")
    keys = _all_keys(split)
    users = frame["user"].to_numpy().astype(np.int64)
    seen = np.bincount(keys // split.n_items, minlength=split.n_users)
    short = np.flatnonzero(split.n_items - seen[users] < n_negatives)
    if short.size:
        u = int(users[short[0]])
        raise UsageError(
            f"user {u} in {subset!r} has only {split.n_items - seen[u]} items they never "
            f"interacted with, fewer than n_negatives={n_negatives}"
        )
    rng = np.random.default_rng([seed, zlib.crc32(subset.encode())])
    neg = rng.integers(0, split.n_items, size=(len(users), n_negatives))
    while True:
        bad = _contains(keys, users[:, None] * split.n_items + neg)
        order = np.argsort(neg, axis=1, kind="stable")
        sorted_neg = np.take_along_axis(neg, order, axis=1)
        repeat = np.zeros_like(bad)
        repeat[:, 1:] = sorted_neg[:, 1:] == sorted_neg[:, :-1]
        # a repeat is bad in the later slot only (stable sort keeps slot order among equals)
        np.put_along_axis(bad, order, np.take_along_axis(bad, order, axis=1) | repeat, axis=1)
        if not bad.any():
            break
        neg[bad] = rng.integers(0, split.n_items, size=int(bad.sum()))
    positives = frame["item"].to_numpy()[:, None]
    return np.concatenate([positives, neg], axis=1).astype(np.int32)


def primary_metric(task: str) -> str:
    """The validation metric of paper Section 4.3 used for early stopping and selection."""
    return "rmse" if task == "rating" else f"hit_ratio@{K}"


def evaluate(
    spec: ModelSpec,
    params: Params,
    split: Split,
    subset: str = "test",
    *,
    candidates: np.ndarray | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """The paper's metrics of ``params`` on one subset of ``split``.

    Rating models: ``{"rmse"}``; ranking models: ``{"hit_ratio@10", "mrr@10"}``, with
    ``candidates`` from :func:`sample_candidates` (drawn here from ``seed`` if not given).
    """
    frame = split.subset(subset)
    if len(frame) == 0:
        raise UsageError(f"subset {subset!r} of {split.dataset!r} is empty: nothing to evaluate")
    if spec.task == "rating":
        out = _rating_eval(
            spec.score,
            spec.prepare,
            params,
            jnp.asarray(frame["user"].to_numpy()),
            jnp.asarray(frame["item"].to_numpy()),
            jnp.asarray(frame["rating"].to_numpy()),
        )
    else:
        if candidates is None:
            candidates = sample_candidates(split, subset, seed)
        if candidates.shape[0] != len(frame):
            raise UsageError(
                f"candidates has {candidates.shape[0]} rows but subset {subset!r} has "
                f"{len(frame)}: draw them with sample_candidates(split, {subset!r}, seed)"
            )
        out = _ranking_eval(
            spec.score,
            spec.prepare,
            params,
            jnp.asarray(frame["user"].to_numpy()),
            jnp.asarray(candidates),
        )
    return {name: float(value) for name, value in out.items()}


@functools.partial(jax.jit, static_argnums=(0, 1))
def _rating_eval(score, prepare, params, users, items, ratings):
    if prepare is not None:
        params = prepare(params)
    return rating_metrics(score, params, users, items, ratings)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _ranking_eval(score, prepare, params, users, candidates):
    if prepare is not None:
        params = prepare(params)
    return ranking_metrics(score, params, users, candidates)


@functools.partial(jax.jit, static_argnums=(0,))
def _prepare(prepare, params):
    return prepare(params)


@functools.partial(jax.jit, static_argnums=(0,))
def _score_block(score, params, users, items):
    return score(params, users[:, None], items)
