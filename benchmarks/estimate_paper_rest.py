"""What the rest of a `paper`-profile sweep would take on this CPU, estimated from its records.

    HMF_DATA_DIR=/path/to/datasets python benchmarks/estimate_paper_rest.py --dataset ciao \\
        [--model hmf] [--optimizer lazy-adamw]

Table 2's grid is long on two cores and runs as a resumable background sweep with
``--reuse book``; this says how long what is left of it would take, so a sitting can be planned.
A run that neither the ``paper`` nor the ``book`` records hold is missing. Its epochs are guessed
as the median epochs of the recorded runs with the same training settings (learning rate and
weight decay: they, not the cluster counts, decide how long a run goes on), falling back to the
same learning rate. Its seconds an epoch are the median over the CPU records of its shape
(:func:`estimate_book_sweep._shape`) trained by the same optimizer (else by either), counting
only runs of at least ``LONG_RUN`` epochs where there are any: in a run of a few epochs,
compilation and set-up dominate. A missing run that no record prices is counted and named.
One line per learning rate, then the total: with ``--workers 1`` a sweep's wall time is about
the sum. Records taken on a busy machine make it an overestimate for an idle one.
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter, defaultdict
from types import SimpleNamespace

from estimate_book_sweep import _on_cpu, _shape

from hmf.registry import OPTIONAL_KEYS

LONG_RUN = 50  # epochs
SHAPE_KEYS = ("user_clusters", "item_clusters", "user_depth", "item_depth", "optimizer")


def _settings(config: dict) -> tuple:
    """The configuration without its shape and optimizer: what decides a run's epochs."""
    return tuple(sorted((k, v) for k, v in config.items() if k not in SHAPE_KEYS))


def _optimizer(config: dict) -> str:
    return config.get("optimizer", OPTIONAL_KEYS["optimizer"])


def rest(
    records, missing, model: str, optimizer: str = OPTIONAL_KEYS["optimizer"]
) -> tuple[dict, list[str]]:
    """``{lr: [missing runs, their guessed epochs, their guessed seconds]}`` for the runs of
    ``model`` in ``missing`` (``(config, seed)`` pairs), priced from ``records`` (of ``model``);
    and the missing runs that no record prices (named)."""
    epochs_by_settings, epochs_by_lr = defaultdict(list), defaultdict(list)
    rates = defaultdict(list)  # (shape, optimizer or None) -> seconds an epoch, CPU records only
    for r in records:
        epochs_by_settings[_settings(r.config)].append(r.epochs)
        epochs_by_lr[r.config.get("lr")].append(r.epochs)
        if _on_cpu(r):
            rate = (r.train_seconds + r.inference_seconds) / r.epochs
            for key in ((_shape(r), _optimizer(r.config)), (_shape(r), None)):
                rates[key].append((r.epochs >= LONG_RUN, rate))
    out, unpriced = defaultdict(lambda: [0, 0.0, 0.0]), []
    for config, seed in missing:
        like = epochs_by_settings.get(_settings(config)) or epochs_by_lr.get(config.get("lr"))
        shape = _shape(SimpleNamespace(model=model, config=config))
        seen = rates.get((shape, optimizer)) or rates.get((shape, None))
        if not like or not seen:
            unpriced.append(f"{config} seed {seed}")
            continue
        guess = statistics.median(like)
        row = out[config.get("lr")]
        row[0] += 1
        row[1] += guess
        row[2] += guess * _seconds_an_epoch(seen)
    return dict(out), unpriced


def _seconds_an_epoch(seen: list[tuple[bool, float]]) -> float:
    """The median over long runs (set-up and compilation are a small share of them), else over
    all; a median, because records taken on a busy machine run several times slower."""
    long = [rate for is_long, rate in seen if is_long]
    return statistics.median(long or [rate for _, rate in seen])


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", default="hmf")
    parser.add_argument(
        "--optimizer",
        default=OPTIONAL_KEYS["optimizer"],
        help="the optimizer the sweep trains the missing runs with (adamw or lazy-adamw)",
    )
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    from hmf.data import DataError
    from hmf.errors import UsageError
    from hmf.experiments import config_key, default_results_dir, load_records
    from hmf.experiments.studies import check_optimizer, study_configs
    from hmf.profiles import get_profile
    from hmf.split import split_for

    root = default_results_dir()
    try:
        check_optimizer(args.optimizer, args.model)
        split = split_for(args.dataset, args.data_dir)
        configs = study_configs("accuracy", "paper", args.dataset, args.model, split, root)
    except (UsageError, DataError) as exc:
        parser.error(" ".join(str(exc).split()))
    records = [
        r
        for profile in ("paper", "book")
        for r in load_records(root, profile, args.dataset, args.model, study="accuracy")
    ]
    done = {(r.key, r.seed) for r in records}
    seeds = get_profile("paper").seeds
    keyed = [(c, config_key(c)) for c in configs]
    missing = [(c, s) for c, k in keyed for s in seeds if (k, s) not in done]
    per_lr, unpriced = rest(records, missing, args.model, args.optimizer)
    complete = sum(all((k, s) in done for s in seeds) for _, k in keyed)
    print(
        f"{args.dataset} {args.model}, paper profile: {complete} of {len(configs)} configurations "
        f"have all {len(seeds)} seeds; {len(missing)} runs missing"
    )
    total, recorded = 0.0, Counter(r.config.get("lr") for r in records)
    for lr, (n, e, s) in sorted(per_lr.items()):
        total += s
        print(
            f"  lr {lr:g}: {n:4d} runs, ~{e / n:.0f} epochs each ({recorded[lr]} recorded runs "
            f"at this lr), ~{s / n:.0f} s each, ~{s / 3600:.1f} h"
        )
    print(f"  in all: ~{total / 3600:.1f} h of run time (the wall time of --workers 1)")
    if unpriced:
        print(
            f"  not priced (no record of the same settings or shape): {len(unpriced)} runs, "
            f"e.g. {unpriced[0]}"
        )


if __name__ == "__main__":
    main()
