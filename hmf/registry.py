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
from hmf.models import ranking_baselines as rb
from hmf.models import reference as ref
from hmf.models.spec import ModelSpec, Task
from hmf.split import with_validation_in_training
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
    "RANKING_BASELINES",
    "PROTOCOLS",
    "EXECUTION_KEYS",
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
    # Beyond the paper (hmf.models.factorization; the book's chapter "What HMF's advantage
    # depends on").
    "l2": Parameter(float, "weight lambda of an L2 term lambda*||Theta||^2 in the mean loss (0)"),
    "biases": Parameter(int, "1: add the training mean and user/item biases to the score (0)"),
    "temperature": Parameter(float, "softmax temperature T of the connection matrices (1)"),
    "patience": Parameter(
        int, "epochs without improvement before early stopping (default: the profile's, 5)"
    ),
    "retrain_epochs": Parameter(
        int,
        "the authors' test protocol: train on training + validation for this many epochs, no "
        "early stopping, and score the last epoch (default: the paper's text, best epoch)",
    ),
    # Beyond the paper: ranking evaluated against every item, and the ranking baselines.
    "protocol": Parameter(
        str,
        "ranking test metrics: sampled (the paper's 1 + 99 candidates; default) or full (also "
        "hmf.metrics.full_ranking_metrics: against every item the user never interacted with)",
    ),
    "ease_lambda": Parameter(float, "EASE's L2 weight lambda (ease baseline)"),
}
# Keys a configuration may leave out (the paper's setting applies); records keep them only when
# set, so a run with the default keeps its record's name.
OPTIONAL_KEYS = {"optimizer": "adamw", "l2": 0.0, "biases": 0, "temperature": 1.0}
# None: the paper's protocol (best validation epoch; the profile's patience)
OPTIONAL_KEYS.update(retrain_epochs=None, patience=None)
OPTIONAL_KEYS["protocol"] = "sampled"
PROTOCOLS = ("sampled", "full")
# Keys that choose how a run computes, not what it computes: configurations that differ only in
# them share one record name, so a sweep resumes and a selection counts across them, and the
# record's configuration says which was used. hmf.lazy gives dense AdamW's parameters up to eps
# and rounding (tests/test_lazy.py; whole runs in benchmarks/lazy_whole_runs.py).
EXECUTION_KEYS = ("optimizer",)
# Options under which only the dense optimiser is exact: the L2 term's gradient and the biases
# touch rows outside a batch, which hmf.lazy does not update.
_DENSE_ONLY = ("l2", "biases")


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
    def accepts(self) -> tuple[str, ...]:
        """The configuration keys (and ``hmf train`` flags) it takes: ``keys``, and for a
        ranking model the evaluation ``protocol``, which changes no parameter."""
        return self.keys + (_EVAL if self.task == "ranking" else ())

    @property
    def vectorizes(self) -> bool:
        return self.trainer == "gradient"

    def check_config(self, config: dict[str, Any]) -> None:
        """Refuse keys the model does not take and, for AdamW, a missing ``lr`` or decay."""
        unknown = set(config) - set(self.accepts)
        if unknown:
            raise UsageError(
                f"configuration {config} does not fit model {self.name!r}: it takes "
                f"{', '.join(self.accepts)}, not {', '.join(sorted(unknown))}"
            )
        missing = [k for k in OPTIMISER_KEYS if self.trainer == "gradient" and k not in config]
        if missing:
            raise UsageError(
                f"configuration of {self.name!r} needs {missing[0]!r}, got {sorted(config)}"
            )
        if config.get("protocol", "sampled") not in PROTOCOLS:
            raise UsageError(
                f"protocol must be one of {', '.join(PROTOCOLS)}, got {config['protocol']!r}"
            )
        dense = [k for k in _DENSE_ONLY if config.get(k)]
        if dense and config.get("optimizer", "adamw") != "adamw":
            raise UsageError(
                f"{' and '.join(dense)} need the dense optimizer adamw, not "
                f"{config['optimizer']!r}: they change rows outside each batch"
            )

    def fit(
        self, split, config: dict[str, Any], seed: int, max_epochs: int, patience: int
    ) -> FitResult:
        """Train one configuration; ``max_epochs`` is capped by ``max_iter`` where it is set."""
        self.check_config(config)
        max_epochs = min(max_epochs, self.max_iter or max_epochs)
        settings = dict(patience=int(config.get("patience", patience)))
        if "retrain_epochs" in config:  # the authors' protocol: patience never runs out
            max_epochs = checks.integer(config["retrain_epochs"], "retrain_epochs", low=1)
            split = with_validation_in_training(split)
            settings = dict(patience=max_epochs + 1, restore_best=False)
        if self.trainer != "gradient":
            return self.fitter(split, config, seed=seed, max_iter=max_epochs, **settings)
        return fit_gradient(
            gradient_spec(self.name, config),
            split,
            lr=float(config["lr"]),
            weight_decay=float(config["weight_decay"]),
            seed=seed,
            max_epochs=max_epochs,
            optimizer=config.get("optimizer", OPTIONAL_KEYS["optimizer"]),
            **settings,
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


def _fit_popularity(split, config, **settings) -> FitResult:
    return rb.fit_popularity(split, seed=settings["seed"])


def _fit_ease(split, config, **settings) -> FitResult:
    return rb.fit_ease(split, lam=float(config["ease_lambda"]), seed=settings["seed"])


def _numpy(name: str, label: str, keys, fitter, max_iter: int) -> ModelEntry:
    return ModelEntry(name, label, "rating", "numpy", keys, fitter=fitter, max_iter=max_iter)


def _baseline(name: str, label: str, trainer: Trainer, keys, fitter) -> ModelEntry:
    """A ranking baseline outside the paper, fitted in one pass."""
    return ModelEntry(
        name, label, "ranking", trainer, keys, fitter=fitter, max_iter=1, in_paper=False
    )


def _reference(name: str, label: str, biased: bool) -> ModelEntry:
    fitter = functools.partial(_fit_reference, biased)
    return ModelEntry(
        name, label, "rating", "reference", ("sgd_lr", "sgd_reg"), fitter=fitter, in_paper=False
    )


_OPT = OPTIMISER_KEYS
_HIER = ("user_clusters", "item_clusters", "user_depth", "item_depth")
_LAZY = ("optimizer",)  # models whose parameters hmf.lazy can update row by row
_RUN = ("retrain_epochs", "patience")  # how a run is trained, not a model setting
_EVAL = ("protocol",)  # how the test metrics are taken, not a model setting
_BEYOND = ("l2", "biases") + _RUN  # rating options beyond the paper
_ENTRIES = (
    ModelEntry("mf", "MF", "rating", "gradient", _OPT + _LAZY + _BEYOND, factory=mf),
    _numpy(
        "ihsr",
        "IHSR",
        ("lam", "user_clusters", "item_clusters") + _RUN,
        _fit_ihsr,
        ihsr.MAX_ITER,
    ),
    # eTREE's cap is its authors' code's (Table 2 gives none).
    _numpy("etree", "eTREE", ("lam", "mu", "item_levels") + _RUN, _fit_etree, etree.MAX_ITER),
    ModelEntry(
        "hmf",
        "HMF",
        "rating",
        "gradient",
        _OPT + _HIER + _LAZY + _BEYOND + ("temperature",),
        factory=hmf,
    ),
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
    ModelEntry(
        "bpr-hmf",
        "BPR-HMF",
        "ranking",
        "gradient",
        _OPT + _HIER + _LAZY + ("temperature",),
        factory=bpr_hmf,
    ),
    _reference("ref-mf-biased", "reference biased MF (outside library)", True),
    _reference("ref-mf", "reference MF (outside library)", False),
    _baseline("most-popular", "most popular (not in the paper)", "numpy", (), _fit_popularity),
    _baseline("ease", "EASE (Cornac; not in the paper)", "reference", ("ease_lambda",), _fit_ease),
)
MODELS: dict[str, ModelEntry] = {e.name: e for e in _ENTRIES}
# The paper's Table 3 rows, in its order.
RATING_METHODS = tuple(e.name for e in _ENTRIES if e.in_paper and e.task == "rating")
RANKING_METHODS = tuple(e.name for e in _ENTRIES if e.in_paper and e.task == "ranking")
REFERENCE_MODELS = tuple(e.name for e in _ENTRIES if not e.in_paper and e.task == "rating")
RANKING_BASELINES = tuple(e.name for e in _ENTRIES if not e.in_paper and e.task == "ranking")


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
    extra = {k: v for k, v in config.items() if k not in OPTIMISER_KEYS + _LAZY + _EVAL + _RUN}
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
