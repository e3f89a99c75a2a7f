"""``hmf train``: train one model once on a data set's paper split and report its metrics."""

from __future__ import annotations

import argparse
import json
import time

from hmf.errors import UsageError
from hmf.models import MODELS, halving_clusters, make_model


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train MF, HMF, BPR-MF or BPR-HMF once on the paper's split",
        description="Train once on the paper's split (Section 4.1) and print validation and "
        "test metrics, epochs run, and training and inference seconds.",
    )
    parser.add_argument("--dataset", required=True, help="ml-100k, ml-1m, ciao or diginetica")
    parser.add_argument("--model", required=True, help=f"one of {', '.join(MODELS)}")
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (1e-3)")
    parser.add_argument("--weight-decay", type=float, default=1e-4,
                        help="AdamW weight decay (1e-4)")
    parser.add_argument("--user-clusters", type=int, default=None,
                        help="level-1 user clusters m_1 (HMF models; default 200)")
    parser.add_argument("--item-clusters", type=int, default=None,
                        help="level-1 item clusters n_1 (HMF models; default 100)")
    parser.add_argument("--user-depth", type=int, default=None,
                        help="user hierarchy depth p; level l has m_1 / 2^(l-1) clusters (1)")
    parser.add_argument("--item-depth", type=int, default=None,
                        help="item hierarchy depth q (1)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="maximum epochs (default: the profile's, paper 512 / 128)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--data-dir", default=None, help="directory holding the data sets")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def _spec(args: argparse.Namespace):
    hierarchical = args.model in ("hmf", "bpr-hmf")
    cluster_flags = {
        "--user-clusters": args.user_clusters, "--item-clusters": args.item_clusters,
        "--user-depth": args.user_depth, "--item-depth": args.item_depth,
    }
    if args.model not in MODELS:
        make_model(args.model)  # raises the UsageError that lists the models
    if not hierarchical:
        given = [flag for flag, value in cluster_flags.items() if value is not None]
        if given:
            raise UsageError(f"{given[0]} applies to hmf and bpr-hmf only, not {args.model!r}")
        return make_model(args.model)
    for flag, value in cluster_flags.items():
        if value is not None and value < 1:
            raise UsageError(f"{flag} must be a positive integer, got {value}")
    users = halving_clusters(args.user_clusters or 200, args.user_depth or 1)
    items = halving_clusters(args.item_clusters or 100, args.item_depth or 1)
    return make_model(args.model, user_clusters=users, item_clusters=items)


def run(args: argparse.Namespace) -> int:
    from hmf import data, metrics
    from hmf.profiles import current_profile
    from hmf.split import paper_split
    from hmf.train import fit

    spec = _spec(args)
    if not args.lr > 0:
        raise UsageError(f"--lr must be > 0, got {args.lr}")
    if not args.weight_decay >= 0:
        raise UsageError(f"--weight-decay must be >= 0, got {args.weight_decay}")
    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs must be a positive integer, got {args.epochs}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    profile = current_profile()
    max_epochs = args.epochs or (
        profile.max_epochs_rating if spec.task == "rating" else profile.max_epochs_ranking
    )

    split = paper_split(data.load(args.dataset, args.data_dir))
    result = fit(spec, split, lr=args.lr, weight_decay=args.weight_decay, seed=args.seed,
                 max_epochs=max_epochs, patience=profile.patience)
    candidates = (metrics.sample_candidates(split, "test", args.seed)
                  if spec.task == "ranking" else None)
    test = metrics.evaluate(spec, result.params, split, "test", candidates=candidates)  # compiles
    start = time.perf_counter()
    test = metrics.evaluate(spec, result.params, split, "test", candidates=candidates)
    inference = time.perf_counter() - start

    record = {
        "dataset": split.dataset,
        "model": spec.name,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in spec.config.items()},
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "seed": args.seed,
        "verified": split.verified,
        "validation": result.validation,
        "test": test,
        "epochs": result.epochs,
        "best_epoch": result.best_epoch,
        "train_seconds": result.train_seconds,
        "inference_seconds": inference,
    }
    if args.json:
        print(json.dumps(record))
        return 0
    mark = "" if split.verified else "  [unverified copy]"
    print(f"{split.dataset} {spec.name} lr={args.lr:g} weight_decay={args.weight_decay:g} "
          f"seed={args.seed}{mark}")
    if spec.config.get("user_clusters"):
        print(f"  clusters: users {list(spec.config['user_clusters'])}, "
              f"items {list(spec.config['item_clusters'])}")
    for subset in ("validation", "test"):
        values = ", ".join(f"{k} {v:.4f}" for k, v in record[subset].items())
        print(f"  {subset}: {values}")
    print(f"  epochs: {result.epochs} (best {result.best_epoch})")
    print(f"  train seconds: {result.train_seconds:.2f}   inference seconds: {inference:.4f}")
    return 0
