"""``hmf train``: train one model once on a data set's paper split and report its metrics.

The run goes through :func:`hmf.experiments.runner.run_one`, the same path a sweep takes, so a
number printed here is the number a record would hold.
"""

from __future__ import annotations

import argparse
import json

from hmf.errors import UsageError

# Flag -> configuration key, and which models accept it. Defaults are the paper's or Table 2's
# first value; a flag given to a model that has no such hyper-parameter is an error.
_FLAGS = {
    "lr": ("--lr", float, "AdamW learning rate (1e-3)", 1e-3),
    "weight_decay": ("--weight-decay", float, "AdamW weight decay (1e-4)", 1e-4),
    "user_clusters": ("--user-clusters", int, "level-1 user clusters m_1 (200)", 200),
    "item_clusters": ("--item-clusters", int, "level-1 item clusters n_1 (100)", 100),
    "user_depth": ("--user-depth", int, "user hierarchy depth p; level l has m_1/2^(l-1) clusters (1)", 1),
    "item_depth": ("--item-depth", int, "item hierarchy depth q (1)", 1),
    "lam": ("--lam", float, "regularisation lambda (IHSR, eTREE)", None),
    "mu": ("--mu", float, "eTREE tree regularisation mu", None),
    "item_levels": ("--item-levels", str, "eTREE item cluster counts per level, e.g. 25,5", None),
    "user_prototypes": ("--user-prototypes", int, "ProtoMF user prototypes; Table 2: ceil(n_users/k), k = 512, 128, 32 (required)", None),
    "item_prototypes": ("--item-prototypes", int, "ProtoMF item prototypes; Table 2: ceil(n_items/k), k = 512, 128, 32 (required)", None),
    "proto_lambda": ("--proto-lambda", float, "ProtoMF weight of its prototype regularisers, lambda* (1e-3)", 1e-3),
    "sgd_lr": ("--sgd-lr", float, "Cornac SGD learning rate of the ref-mf models (Cornac default 0.01)", 0.01),
    "sgd_reg": ("--sgd-reg", float, "Cornac SGD L2 weight lambda_reg of the ref-mf models (Cornac default 0.02)", 0.02),
}
MODEL_FLAGS = {
    "mf": ("lr", "weight_decay"),
    "bpr-mf": ("lr", "weight_decay"),
    "hmf": ("lr", "weight_decay", "user_clusters", "item_clusters", "user_depth", "item_depth"),
    "bpr-hmf": ("lr", "weight_decay", "user_clusters", "item_clusters", "user_depth", "item_depth"),
    "ihsr": ("lam", "user_clusters", "item_clusters"),
    "etree": ("lam", "mu", "item_levels"),
    "neumf": ("lr", "weight_decay"),
    "protomf": ("lr", "weight_decay", "user_prototypes", "item_prototypes", "proto_lambda"),
    "ref-mf-biased": ("sgd_lr", "sgd_reg"),
    "ref-mf": ("sgd_lr", "sgd_reg"),
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train one model once on the paper's split",
        description="Train once on the paper's split (Section 4.1) and print validation and "
        "test metrics, epochs run, and training and inference seconds.",
    )
    parser.add_argument("--dataset", required=True, help="ml-100k, ml-1m, ciao, diginetica, or NAME-implicit (ratings as views)")
    parser.add_argument("--model", required=True, help=f"one of {', '.join(MODEL_FLAGS)}")
    for key, (flag, kind, text, _) in _FLAGS.items():
        parser.add_argument(flag, dest=key, type=kind, default=None, help=text)
    parser.add_argument("--epochs", type=int, default=None,
                        help="maximum epochs/iterations (default: the profile's; paper 512 / 128)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--data-dir", default=None, help="directory holding the data sets")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> dict:
    """The run configuration from the flags, refusing flags the model does not have."""
    if args.model not in MODEL_FLAGS:
        raise UsageError(f"unknown model {args.model!r}: expected one of {', '.join(MODEL_FLAGS)}")
    accepted = MODEL_FLAGS[args.model]
    for key, (flag, *_rest) in _FLAGS.items():
        if key not in accepted and getattr(args, key) is not None:
            raise UsageError(f"{flag} does not apply to {args.model!r} (it takes {', '.join(_FLAGS[k][0] for k in accepted)})")
    config = {}
    for key in accepted:
        value = getattr(args, key)
        if value is None:
            value = _FLAGS[key][3]
        if value is None:
            raise UsageError(f"{args.model!r} needs {_FLAGS[key][0]}")
        config[key] = value
    for key in ("lr",):
        if key in config and not config[key] > 0:
            raise UsageError(f"--lr must be > 0, got {config[key]}")
    for key in ("weight_decay", "lam", "mu"):
        if key in config and not config[key] >= 0:
            raise UsageError(f"{_FLAGS[key][0]} must be >= 0, got {config[key]}")
    for key in ("user_clusters", "item_clusters", "user_depth", "item_depth"):
        if key in config and config[key] < 1:
            raise UsageError(f"{_FLAGS[key][0]} must be a positive integer, got {config[key]}")
    if "item_levels" in config:
        try:
            config["item_levels"] = [int(x) for x in str(config["item_levels"]).split(",")]
        except ValueError:
            raise UsageError(f"--item-levels must be comma-separated integers, got {config['item_levels']!r}") from None
    return config


def run(args: argparse.Namespace) -> int:
    from hmf.experiments.runner import run_one
    from hmf.profiles import current_profile
    from hmf.split import load_split

    config = config_from_args(args)
    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs must be a positive integer, got {args.epochs}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    profile = current_profile()
    split = load_split(args.dataset, args.data_dir)
    record = run_one(split, args.model, config, args.seed, profile=profile.name,
                     max_epochs=args.epochs)
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
    print(f"  train seconds: {record.train_seconds:.2f}   inference seconds: "
          f"{record.inference_seconds:.4f}   device: {out['device']}")
    return 0
