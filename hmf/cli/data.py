"""``hmf data fetch|stats|where``: get the data sets and print paper Table 1."""

from __future__ import annotations

import argparse
import json
import sys
import warnings

import pandas as pd

from hmf import data
from hmf.report.tables import TABLE1_FIELDS, table1


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="download, verify and describe the data sets")
    sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))

    fetch = sub.add_parser("fetch", help="download (or verify a local copy of) data sets")
    fetch.add_argument(
        "names", nargs="*", metavar="NAME", help=f"any of {', '.join(data.DATASETS)} (default: all)"
    )
    fetch.add_argument("--data-dir", help="local directory laid out as the archives extract")
    fetch.set_defaults(func=_fetch)

    stats = sub.add_parser("stats", help="paper Table 1: ours beside the paper's")
    stats.add_argument("names", nargs="*", metavar="NAME", help="data sets (default: all)")
    stats.add_argument("--format", choices=("markdown", "csv", "json"), default="markdown")
    stats.add_argument("--data-dir", help="local directory laid out as the archives extract")
    stats.set_defaults(func=_stats)

    where = sub.add_parser("where", help="print the directories searched for data, in order")
    where.set_defaults(func=lambda args: print("\n".join(map(str, data.store.search_roots()))))


def _names(names: list[str]) -> list[str]:
    for name in names:
        data.get_spec(name)  # raises UsageError listing the known names
    return names or list(data.DATASETS)


def _fetch(args: argparse.Namespace) -> int:
    explicit = bool(args.names)
    for name in _names(args.names):
        spec = data.get_spec(name)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", data.store.UnverifiedCopyWarning)
                paths, verified = data.fetch(name, args.data_dir)
        except data.DatasetMissingError as exc:
            if explicit or spec.archive is not None:
                raise
            print(f"{name}: skipped - {' '.join(str(exc).split())}", file=sys.stderr)
            continue
        state = "verified" if verified else "UNVERIFIED COPY (results will be marked)"
        folder = next(iter(paths.values())).parent
        print(f"{name}: {state} at {folder}")
        for w in caught:
            print(f"  warning: {w.message}", file=sys.stderr)
    return 0


def _stats(args: argparse.Namespace) -> int:
    """Exit 1 when a data set named on the command line is missing, in every format (the
    tables still show its row as a marked gap; JSON leaves it out); 0 otherwise."""
    names = _names(args.names)
    frame = table1(names, data_dir=args.data_dir)
    missing = [n for n, (_, r) in zip(names, frame.iterrows()) if r["copy"] == "missing"]
    for name in missing:
        print(f"hmf data stats: {name} is missing; run `hmf data fetch {name}`", file=sys.stderr)
    status = 1 if missing and args.names else 0
    if args.format == "json":
        records = [
            {"dataset": name}
            | {f: round(float(row[f]), 4) if f == "density" else int(row[f]) for f in TABLE1_FIELDS}
            | {"verified": row["copy"] == "official"}
            for name, (_, row) in zip(names, frame.iterrows())
            if row["copy"] != "missing"
        ]
        print(json.dumps(records, indent=2))
        return status
    shown = frame.copy()
    shown["density"] = shown["density"].map(lambda v: "" if v is None or v != v else f"{v:.4f}")
    shown["paper density"] = shown["paper density"].map(lambda v: f"{v:.4f}")
    shown.index.name = "dataset"
    if args.format == "csv":
        print(shown.to_csv(), end="")
    else:
        print(_markdown(shown))
        print(
            "\nDensity = (training + validation + test) / (users x items). "
            "Columns 'paper …' are the paper's Table 1."
        )
    return status


def _markdown(frame) -> str:
    header = ["dataset", *frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, row in frame.iterrows():
        cells = [str(label)] + ["" if pd.isna(v) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
