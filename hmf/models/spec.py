"""What the trainer needs to know about a model: a record of pure functions.

A model is a :class:`ModelSpec` plus a parameter pytree. The trainer and the metrics touch the
parameters only through the spec's functions, so a new model (NeuMF, ProtoMF, …) plugs in by
writing an ``init`` and a ``score`` (and, if its objective is not the task's default, a
``loss``) - no subclassing.

Contracts (``P`` = the parameter pytree):

* ``init(key, n_users, n_items) -> P``
* ``score(P, users, items) -> scores`` - ``users`` and ``items`` are int arrays that broadcast
  against each other (e.g. ``(B, 1)`` with ``(B, 100)``); the result has their broadcast shape.
  For a rating model the score is the predicted rating.
* ``loss(P, batch) -> (B,)`` per-example losses; ``batch`` is a dict of ``(B,)`` arrays
  ``user``, ``item``, ``rating`` and, for ranking, ``negative``. ``None`` = the task's default:
  squared error (Eq. 1/5) for ``"rating"``, BPR (Eq. 2/9) for ``"ranking"``.
* ``prepare(P) -> P'`` - optional; turns trained parameters into ones that ``score`` evaluates
  faster (e.g. materialised embedding tables). Used for evaluation only.
* ``data_init(P, ratings) -> P`` - optional; sets what the initial parameters take from the
  training ratings (e.g. a biased model's global mean), after ``init``.

The functions must be module-level (hashable, equal across calls) so that compiled epochs are
reused between runs; the model's size and structure live in the parameter pytree, not in them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

import jax

__all__ = ["ModelSpec", "Task", "Params", "Batch"]

Task = Literal["rating", "ranking"]
Params = Any  # a pytree of arrays
Batch = dict[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A model as pure functions; ``config`` records the hyper-parameters ``init`` used."""

    name: str
    task: Task
    init: Callable[[jax.Array, int, int], Params]
    score: Callable[[Params, jax.Array, jax.Array], jax.Array]
    loss: Callable[[Params, Batch], jax.Array] | None = None
    prepare: Callable[[Params], Params] | None = None
    data_init: Callable[[Params, Any], Params] | None = None
    config: dict = dataclasses.field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        if self.task not in ("rating", "ranking"):
            raise ValueError(f"task must be 'rating' or 'ranking', got {self.task!r}")
