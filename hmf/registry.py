"""One entry per model: all that the experiment, report and command-line layers know about it.

An entry names the model's task, display label, configuration keys (which are also its
``hmf train`` flags), how it is trained and whether it belongs to the paper's tables. Adding a
model is one entry here plus its module under :mod:`hmf.models` (and its grid in
:mod:`hmf.experiments.grids`).

* ``gradient`` models are a :class:`~hmf.models.spec.ModelSpec` factory trained by
  :func:`hmf.train.fit` (AdamW, ``lr`` and ``weight_decay`` in every configuration); their runs of
  one parameter shape can be trained together (:mod:`hmf.vectorized`).
* ``numpy`` models (IHSR, eTREE) have their own update rules and an iteration cap.
* ``reference`` models are Cornac's SGD MF, an outside library's row beside the paper's.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, Literal

from hmf import checks
from hmf.errors import UsageError
from hmf.fitting import FitResult
from hmf.models import bpr_hmf, bpr_mf, etree, halving_clusters, hmf, ihsr, mf, neumf, protomf
from hmf.models import reference as ref
from hmf.models.spec import ModelSpec, Task
from hmf.train import fit as fit_gradient

__all__ = [
    "OPTIONAL_KEYS",
    "ModelEntry",
    "Parameter",
    "PARAMETERS",
    "MODELS",
    "RATING_METHODS",
    "RANKING_METHODS",
    "REFERENCE_MODELS",
    "get",
    "label",
    "make_model",
    "gradient_spec",
    "OPTIMISER_KEYS",
]

Trainer = Literal["gradient", "numpy", "reference"]
OPTIMISER_KEYS = ("lr", "weight_decay")


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A configuration key: its type, help text and ``hmf train`` default (None: required)."""

    kind: type
    help: str
    default: Any = None


PARAMETERS = {
    "lr": Parameter(float, "AdamW learning rate (1e-3)", 1e-3),
    "weight_decay": Parameter(float, "AdamW weight decay (1e-4)", 1e-4),
    "user_clusters": Parameter(int, "level-1 user clusters m_1 (200)", 200),
    "item_clusters": Parameter(int, "level-1 item clusters n_1 (100)", 100),
    "user_depth": Parameter(int, "user hierarchy depth p; level l has m_1/2^(l-1) clusters (1)", 1),
    "item_depth": Parameter(int, "item hierarchy depth q (1)", 1),
    "lam": Parameter(float, "regularisation lambda (IHSR, eTREE)"),
    "mu": Parameter(float, "eTREE tree regularisation mu"),
    "item_levels": Parameter(str, "eTREE item cluster counts per level, e.g. 25,5"),
    "user_prototypes": Parameter(
        int, "ProtoMF user prototypes; Table 2: ceil(n_users/k), k = 512, 128, 32 (required)"
    ),
    "item_prototypes": Parameter(
        int, "ProtoMF item prototypes; Table 2: ceil(n_items/k), k = 512, 128, 32 (required)"
    ),
    "proto_lambda": Parameter(
        float, "ProtoMF weight of its prototype regularisers, lambda* (1e-3)", 1e-3
    ),
    "sgd_lr": Parameter(
        float,
        "Cornac SGD learning rate of the ref-mf models (Cornac default 0.01)",
        ref.LEARNING_RATE,
    ),
    "sgd_reg": Parameter(
        float,
        "Cornac SGD L2 weight lambda_reg of the ref-mf models (Cornac default 0.02)",
        ref.LAMBDA_REG,
    ),
    "optimizer": Parameter(
        str,
        "adamw (the paper's; default) or lazy-adamw (hmf.lazy: the same parameters up to eps, "
        "updating only each batch's rows; MF and HMF models)",
    ),
}
# Keys a configuration may leave out (the paper's setting applies); records keep them only when
# set, so a run with the default keeps its record's name.
OPTIONAL_KEYS = {"optimizer": "adamw"}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """What the layers above the models know about one model."""

    name: str
    label: str
    task: Task
    trainer: Trainer
    keys: tuple[str, ...]  # configuration keys, each a PARAMETERS entry
    factory: Callable[..., ModelSpec] | None = None  # gradient models
    fitter: Callable[..., FitResult] | None = None  # numpy / reference models
    max_iter: int | None = None  # numpy models' own iteration cap
    in_paper: bool = True  # a row of the paper's tables (else an outside reference)

    @property
    def vectorizes(self) -> bool:
        return self.trainer == "gradient"

    def check_config(self, config: dict[str, Any]) -> None:
        """Refuse keys the model does not take and, for AdamW, a missing ``lr`` or decay."""
        unknown = set(config) - set(self.keys)
        if unknown:
            raise UsageError(
                f"configuration {config} does not fit model {self.name!r}: it takes "
                f"{', '.join(self.keys)}, not {', '.join(sorted(unknown))}"
            )
        missing = [k for k in OPTIMISER_KEYS if self.trainer == "gradient" and k not in config]
        if missing:
            raise UsageError(
                f"configuration of {self.name!r} needs {missing[0]!r}, got {sorted(config)}"
            )

    def fit(
        self, split, config: dict[str, Any], seed: int, max_epochs: int, patience: int
    ) -> FitResult:
        """Train one configuration; ``max_epochs`` is capped by ``max_iter`` where it is set."""
        self.check_config(config)
        if self.trainer != "gradient":
            return self.fitter(
                split,
                config,
                seed=seed,
                patience=patience,
                max_iter=min(max_epochs, self.max_iter or max_epochs),
            )
        return fit_gradient(
            gradient_spec(self.name, config),
            split,
            lr=float(config["lr"]),
            weight_decay=float(config["weight_decay"]),
            seed=seed,
            max_epochs=max_epochs,
            patience=patience,
            optimizer=config.get("optimizer", OPTIONAL_KEYS["optimizer"]),
        )


def _fit_ihsr(split, config, **settings) -> FitResult:
    return ihsr.fit_ihsr(
        split,
        lam=float(config["lam"]),
        user_clusters=int(config["user_clusters"]),
        item_clusters=int(config["item_clusters"]),
        **settings,
    )


def _fit_etree(split, config, **settings) -> FitResult:
    return etree.fit_etree(
        split,
        item_levels=tuple(int(x) for x in config["item_levels"]),
        lam=float(config["lam"]),
        mu=float(config["mu"]),
        **settings,
    )


def _fit_reference(biased: bool, split, config, *, max_iter: int, **settings) -> FitResult:
    return ref.fit_reference(
        split,
        biased=biased,
        lr=config.get("sgd_lr", ref.LEARNING_RATE),
        lambda_reg=config.get("sgd_reg", ref.LAMBDA_REG),
        max_epochs=max_iter,
        **settings,
    )


def _numpy(name: str, label: str, keys, fitter, max_iter: int) -> ModelEntry:
    return ModelEntry(name, label, "rating", "numpy", keys, fitter=fitter, max_iter=max_iter)


def _reference(name: str, label: str, biased: bool) -> ModelEntry:
    fitter = functools.partial(_fit_reference, biased)
    return ModelEntry(
        name, label, "rating", "reference", ("sgd_lr", "sgd_reg"), fitter=fitter, in_paper=False
    )


_OPT = OPTIMISER_KEYS
_HIER = ("user_clusters", "item_clusters", "user_depth", "item_depth")
_LAZY = ("optimizer",)  # models whose parameters hmf.lazy can update row by row
_ENTRIES = (
    ModelEntry("mf", "MF", "rating", "gradient", _OPT + _LAZY, factory=mf),
    _numpy("ihsr", "IHSR", ("lam", "user_clusters", "item_clusters"), _fit_ihsr, ihsr.MAX_ITER),
    # eTREE's cap is its authors' code's (Table 2 gives none).
    _numpy("etree", "eTREE", ("lam", "mu", "item_levels"), _fit_etree, etree.MAX_ITER),
    ModelEntry("hmf", "HMF", "rating", "gradient", _OPT + _HIER + _LAZY, factory=hmf),
    ModelEntry("bpr-mf", "BPR-MF", "ranking", "gradient", _OPT + _LAZY, factory=bpr_mf),
    ModelEntry("neumf", "NeuMF", "ranking", "gradient", _OPT, factory=neumf.neumf),
    ModelEntry(
        "protomf",
        "ProtoMF",
        "ranking",
        "gradient",
        _OPT + ("user_prototypes", "item_prototypes", "proto_lambda"),
        factory=protomf.protomf,
    ),
    ModelEntry("bpr-hmf", "BPR-HMF", "ranking", "gradient", _OPT + _HIER + _LAZY, factory=bpr_hmf),
    _reference("ref-mf-biased", "reference biased MF (outside library)", True),
    _reference("ref-mf", "reference MF (outside library)", False),
)
MODELS: dict[str, ModelEntry] = {e.name: e for e in _ENTRIES}
# The paper's Table 3 rows, in its order.
RATING_METHODS = tuple(e.name for e in _ENTRIES if e.in_paper and e.task == "rating")
RANKING_METHODS = tuple(e.name for e in _ENTRIES if e.in_paper and e.task == "ranking")
REFERENCE_MODELS = tuple(e.name for e in _ENTRIES if not e.in_paper)


def get(name: str) -> ModelEntry:
    return checks.lookup(MODELS, name, "model")


def label(name: str) -> str:
    """The model's name as the book prints it (the name itself for one not registered)."""
    return MODELS[name].label if name in MODELS else name


def make_model(name: str, **config) -> ModelSpec:
    """The spec of gradient model ``name``; ``config`` goes to its factory."""
    entry = get(name)
    if entry.factory is None:
        raise UsageError(f"{name!r} is not a gradient model: it has no ModelSpec factory")
    return entry.factory(**config)


def gradient_spec(name: str, config: dict[str, Any]) -> ModelSpec:
    """The spec a configuration describes: ``*_clusters`` are level-1 counts and ``*_depth``
    the number of levels (each half the one below); ``lr`` and ``weight_decay`` are the
    optimiser's, not the model's."""
    extra = {k: v for k, v in config.items() if k not in OPTIMISER_KEYS + _LAZY}
    for side in ("user", "item"):
        depth = int(extra.pop(f"{side}_depth", 1))
        if f"{side}_clusters" in extra:
            extra[f"{side}_clusters"] = halving_clusters(int(extra[f"{side}_clusters"]), depth)
        elif depth != 1:
            raise UsageError(f"{side}_depth given without {side}_clusters for {name!r}")
    try:
        return make_model(name, **extra)
    except TypeError as exc:  # a hyper-parameter the model does not have
        raise UsageError(f"configuration {config} does not fit model {name!r}: {exc}") from None
