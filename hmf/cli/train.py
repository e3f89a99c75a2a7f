"""``hmf train``: train one model once on a data set's paper split and report its metrics.

The run goes through :func:`hmf.experiments.trainers.run_one`, the same path a sweep takes, so a
number printed here is the number a record would hold.
"""

from __future__ import annotations

import argparse
import json
import sys

from hmf import checks, registry
from hmf import split as splits
from hmf.errors import UsageError
from hmf.experiments.trainers import check_memory, run_one
from hmf.profiles import current_profile

_FLOAT32_MAX = 3.4028234663852886e38


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train one model once on the paper's split",
        description="Train once on the paper's split (Section 4.1) and print validation and "
        "test metrics, epochs run, and training and inference seconds.",
    )
    parser.add_argument(
        "--dataset",
        required=True,
        help="ml-100k, ml-1m, ciao, diginetica, or NAME-implicit (ratings as views)",
    )
    parser.add_argument("--model", required=True, help=f"one of {', '.join(registry.MODELS)}")
    for key, param in registry.PARAMETERS.items():
        parser.add_argument(_flag(key), dest=key, type=param.kind, help=param.help)
    parser.add_argument(
        "--epochs",
        type=int,
        help="maximum epochs/iterations (default: the profile's; paper 512 / 128)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--data-dir", help="directory holding the data sets")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> dict:
    """The run configuration from the flags, refusing flags the model does not have."""
    accepted = registry.get(args.model).accepts
    for key in registry.PARAMETERS:
        if key not in accepted and getattr(args, key) is not None:
            raise UsageError(
                f"{_flag(key)} does not apply to {args.model!r} "
                f"(it takes {', '.join(map(_flag, accepted))})"
            )
    config = {}
    for key in accepted:
        value = getattr(args, key)
        if value is None and key in registry.OPTIONAL_KEYS:
            continue  # the paper's setting; left out so the configuration reads as before
        value = registry.PARAMETERS[key].default if value is None else value
        if value is None:
            raise UsageError(f"{args.model!r} needs {_flag(key)}")
        config[key] = value
    # Training runs in float32: a larger value would overflow to infinity.
    top = dict(high=_FLOAT32_MAX, what="the largest float32")
    for key in ("lr", "temperature"):
        if key in config:
            checks.number(config[key], _flag(key), low=0.0, strict=True, **top)
    if "retrain_epochs" in config:
        checks.integer(config["retrain_epochs"], "--retrain-epochs", low=1)
    if "biases" in config:
        checks.integer(config["biases"], "--biases", low=0, high=1)
    for key in ("weight_decay", "lam", "mu", "l2"):
        if key in config:
            checks.number(config[key], _flag(key), low=0.0, **top)
    for key in ("user_clusters", "item_clusters", "user_depth", "item_depth", "patience"):
        if key in config:
            checks.integer(config[key], _flag(key), low=1)
    if "item_levels" in config:
        try:
            config["item_levels"] = [int(x) for x in str(config["item_levels"]).split(",")]
        except ValueError:
            raise UsageError(
                f"--item-levels must be comma-separated integers, got {config['item_levels']!r}"
            ) from None
    return config


def _notes(config: dict, split) -> list[str]:
    """Settings that are allowed but worth a word: more clusters or prototypes than objects."""
    out = []
    for side, n in (("user", split.n_users), ("item", split.n_items)):
        for kind in ("clusters", "prototypes"):
            value = config.get(f"{side}_{kind}")
            if value is not None and int(value) > n:
                out.append(
                    f"{_flag(f'{side}_{kind}')} {value} is more than the {n} {side}s of "
                    f"{split.dataset}'s training split: allowed (memberships are soft, and the "
                    "paper's Table 2 grid gives ML-100K, with 625 training users, 1000 user "
                    f"clusters), but at most {n} of them can be any {side}'s main {kind[:-1]}"
                )
    return out


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.epochs is not None:
        checks.integer(args.epochs, "--epochs", low=1)
    checks.integer(args.seed, "--seed", low=0)
    profile = current_profile()
    split = splits.load_split(args.dataset, args.data_dir)
    check_memory(split, args.model, config)
    for note in _notes(config, split):
        print(f"hmf train: note: {note}", file=sys.stderr)
    record = run_one(
        split, args.model, config, args.seed, profile=profile.name, max_epochs=args.epochs
    )
    out = {
        "dataset": record.dataset,
        "model": record.model,
        "config": record.config,
        "seed": record.seed,
        "verified": record.verified,
        "validation": record.validation,
        "test": record.test,
        "epochs": record.epochs,
        "best_epoch": record.best_epoch,
        "train_seconds": record.train_seconds,
        "inference_seconds": record.inference_seconds,
        "device": record.environment["device"],
    }
    if args.json:
        print(json.dumps(out))
        return 0
    mark = "" if split.verified else "  [unverified copy]"
    settings = " ".join(f"{k}={v}" for k, v in record.config.items())
    print(f"{split.dataset} {record.model} {settings} seed={record.seed}{mark}")
    for subset in ("validation", "test"):
        values = ", ".join(f"{k} {v:.4f}" for k, v in out[subset].items())
        print(f"  {subset}: {values}")
    print(f"  epochs: {record.epochs} (best {record.best_epoch})")
    print(
        f"  train seconds: {record.train_seconds:.2f}   inference seconds: "
        f"{record.inference_seconds:.4f}   device: {out['device']}"
    )
    return 0
