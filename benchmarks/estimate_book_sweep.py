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
    return (record.model, c.get("user_clusters"), c.get("item_clusters"), c.get("user_depth"),
            c.get("item_depth"))


def estimate(records) -> tuple[dict, list[str]]:
    """``{model: [CPU runs, their seconds, other runs, their CPU-equivalent seconds]}`` and the
    shapes of non-CPU records that no CPU record prices (left out, named)."""
    rate_num, rate_den = defaultdict(float), defaultdict(float)
    for r in records:
        if r.environment.get("device", "").startswith("cpu") and r.epochs:
            rate_num[_shape(r)] += r.train_seconds + r.inference_seconds
            rate_den[_shape(r)] += r.epochs
    out, unpriced = defaultdict(lambda: [0, 0.0, 0, 0.0]), []
    for r in records:
        row = out[r.model]
        if r.environment.get("device", "").startswith("cpu"):
            row[0] += 1
            row[1] += r.train_seconds + r.inference_seconds
        elif rate_den[_shape(r)]:
            row[2] += 1
            row[3] += r.epochs * rate_num[_shape(r)] / rate_den[_shape(r)]
        else:
            unpriced.append(f"{r.model} {r.key} seed {r.seed}")
    return dict(out), unpriced


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--efficiency", type=float, action="append", metavar="E",
                        help="wall time / process seconds of the sweep's worker processes "
                             "(repeatable; default 0.5, two workers at best)")
    args = parser.parse_args()
    efficiencies = args.efficiency or [0.5]
    bad = [e for e in efficiencies if not 0 < e <= 1]
    if bad:
        parser.error(f"--efficiency {bad[0]}: expected a number in (0, 1]")

    from time_book_sweep import DEPTH_MODEL, _models

    from hmf.experiments.runner import ensure_records

    models = _models(args.dataset)
    records, missing = ensure_records([args.dataset], models, "book", run_missing=False)
    depth, _ = ensure_records([args.dataset], [DEPTH_MODEL.get(args.dataset, "hmf")], "book",
                              run_missing=False, study="depth")
    if missing:
        parser.error(f"{args.dataset}: {missing[args.dataset]}")
    per_model, unpriced = estimate(records + depth)
    print(f"{args.dataset} book records (Table 3 grids, reference and depth study):")
    total = 0.0
    for model, (n_cpu, s_cpu, n_other, s_other) in sorted(per_model.items()):
        total += s_cpu + s_other
        line = f"  {model:14s} {n_cpu:4d} CPU runs {s_cpu / 3600:6.2f} h"
        if n_other:
            line += f"; {n_other} runs on another device, on this CPU ~{s_other / 3600:.2f} h"
        print(line)
    print(f"  process time in all: {total / 3600:.2f} h")
    for e in efficiencies:
        print(f"  wall time at efficiency {e:g}: {total * e / 3600:.2f} h")
    if unpriced:
        print(f"  not priced (no CPU record of the same shape): {len(unpriced)} runs, e.g. "
              f"{unpriced[0]}")


if __name__ == "__main__":
    main()
