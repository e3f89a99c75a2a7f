"""What one data set's `book` sweep would take on this CPU, estimated from the committed records.

    HMF_DATA_DIR=/path/to/datasets python benchmarks/estimate_book_sweep.py --dataset ml-1m \\
        [--efficiency 0.43 --efficiency 0.5]

For a sweep too long to time from nothing (ML-1M). Every record holds the seconds its run took
(training plus inference) and its device. A CPU record counts as it is; a record from another
device (a GPU) is costed at the CPU seconds per epoch of the CPU records of the same model and
cluster counts, times its own epochs. The wall time on two worker processes is the process
seconds times an *efficiency* (wall time / process seconds) that ``time_book_sweep.py`` measures
on a part of the sweep: the committed records' seconds were often taken on a busy machine, so
the efficiency against them can be below the ideal 1 / workers (and every eTREE record counts the
NMF start that runs of the same λ and seed share, computed once per process, so eTREE's share is
high: Ciao's records hold 3.6 h, its sweep took 1.1 h on two workers). One line per model, then
totals.
"""

from __future__ import annotations

import argparse
from collections import defaultdict


def _shape(record) -> tuple:
    """What a run's cost per epoch depends on: the model and its cluster counts and depths."""
    c = record.config
    return (
        record.model,
        c.get("user_clusters"),
        c.get("item_clusters"),
        c.get("user_depth"),
        c.get("item_depth"),
    )


def _on_cpu(record) -> bool:
    return record.environment.get("device", "").startswith("cpu")


def estimate(records) -> tuple[dict, list[str]]:
    """``{model: [CPU runs, their seconds, other runs, their epochs, their CPU-equivalent
    seconds]}`` and the runs from another device that no CPU record prices (left out, named)."""
    seconds, epochs = defaultdict(float), defaultdict(int)  # per shape, CPU records only
    for r in records:
        if _on_cpu(r):
            seconds[_shape(r)] += r.train_seconds + r.inference_seconds
            epochs[_shape(r)] += r.epochs
    out, unpriced = defaultdict(lambda: [0, 0.0, 0, 0, 0.0]), []
    for r in records:
        row, shape = out[r.model], _shape(r)
        if _on_cpu(r):
            row[0] += 1
            row[1] += r.train_seconds + r.inference_seconds
        elif epochs[shape]:
            row[2] += 1
            row[3] += r.epochs
            row[4] += r.epochs * seconds[shape] / epochs[shape]
        else:
            unpriced.append(f"{r.model} {r.key} seed {r.seed}")
    return dict(out), unpriced


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--dataset", required=True)
    parser.add_argument(
        "--efficiency",
        type=float,
        action="append",
        metavar="E",
        help="wall time / process seconds of the sweep's worker processes "
        "(repeatable; default 0.5, two workers at best)",
    )
    args = parser.parse_args()
    efficiencies = args.efficiency or [0.5]
    bad = [e for e in efficiencies if not 0 < e <= 1]
    if bad:
        parser.error(f"--efficiency {bad[0]}: expected a number in (0, 1]")

    from time_book_sweep import DEPTH_MODEL, _models

    from hmf.experiments import ensure_records

    records, missing = ensure_records(
        [args.dataset], _models(args.dataset), "book", run_missing=False
    )
    if missing:
        parser.error(f"{args.dataset}: {missing[args.dataset]}")
    depth, _ = ensure_records(
        [args.dataset],
        [DEPTH_MODEL.get(args.dataset, "hmf")],
        "book",
        run_missing=False,
        study="depth",
    )
    per_model, unpriced = estimate(records + depth)
    print(f"{args.dataset} book records (Table 3 grids, reference and depth study):")
    total = 0.0
    for model, (n_cpu, s_cpu, n_other, e_other, s_other) in sorted(per_model.items()):
        total += s_cpu + s_other
        line = f"  {model:14s} {n_cpu:4d} CPU runs {s_cpu / 3600:6.2f} h"
        if n_other:
            line += (
                f"; {n_other} runs on another device ({e_other:,} epochs), on this CPU "
                f"~{s_other / 3600:.2f} h ({s_other / e_other:.0f} s an epoch)"
            )
        print(line)
    print(f"  process time in all: {total / 3600:.2f} h")
    for e in efficiencies:
        print(f"  wall time at efficiency {e:g}: {total * e / 3600:.2f} h")
    if unpriced:
        print(
            f"  not priced (no CPU record of the same shape): {len(unpriced)} runs, e.g. "
            f"{unpriced[0]}"
        )


if __name__ == "__main__":
    main()
