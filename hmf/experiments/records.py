"""Result records: one JSON file per finished run, the unit of truth behind every table.

A record holds what is needed to trust and to recompute a number: data set (and whether the
copy was verified), model, configuration, seed, validation and test metrics, the per-epoch
history, training and inference seconds, device, package versions and commit. Files are written
to a temporary name and renamed, so an interrupted sweep never leaves half a record, and a rerun
skips every run whose record exists.

Layout: ``<root>/<profile>/<dataset>/<model>/<config key>-seed<seed>.json``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import jax
import pandas as pd

from hmf.errors import UsageError

__all__ = [
    "Record",
    "config_key",
    "record_path",
    "write_record",
    "read_record",
    "load_records",
    "records_frame",
    "environment",
    "current_commit",
    "describe_machine",
    "default_results_dir",
]

_VERSIONED = ("hmf-companion", "jax", "jaxlib", "optax", "numpy", "pandas", "scipy")


def default_results_dir() -> Path:
    """``$HMF_RESULTS_DIR``, else ``results/`` at the repository root (committed records)."""
    configured = os.environ.get("HMF_RESULTS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "results"


@dataclasses.dataclass(frozen=True)
class Record:
    dataset: str
    model: str
    config: dict[str, Any]
    seed: int
    profile: str
    validation: dict[str, float]
    test: dict[str, float]
    epochs: int
    best_epoch: int
    train_seconds: float
    inference_seconds: float
    history: dict[str, list]  # column -> values, one per epoch
    verified: bool
    environment: dict[str, Any]

    @property
    def key(self) -> str:
        return config_key(self.config)


def config_key(config: dict[str, Any]) -> str:
    """Readable, stable file-name key of a configuration, e.g. ``lr=0.001_wd=0.0001_uc=200``."""
    parts = []
    for name in sorted(config):
        value = config[name]
        if isinstance(value, (list, tuple)):
            value = "-".join(str(v) for v in value)
        parts.append(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}")
    text = "_".join(parts) or "default"
    if len(text) > 120:  # keep paths short; the full config is inside the file
        text = text[:80] + "_" + hashlib.sha1(text.encode()).hexdigest()[:12]
    return text.replace("/", "-")


def record_path(
    root: Path, profile: str, dataset: str, model: str, config: dict, seed: int
) -> Path:
    return Path(root) / profile / dataset / model / f"{config_key(config)}-seed{seed}.json"


def write_record(root: Path, record: Record) -> Path:
    """Write atomically: a temporary file in the same directory, then ``os.replace``."""
    path = record_path(
        root, record.profile, record.dataset, record.model, record.config, record.seed
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(dataclasses.asdict(record), indent=1, sort_keys=True, default=_jsonable)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(payload + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _jsonable(value):
    if hasattr(value, "item"):  # numpy / jax scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a record")


def read_record(path: Path) -> Record:
    try:
        payload = json.loads(Path(path).read_text())
        return Record(**payload)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{path}: not a valid result record ({exc})") from None


STUDIES = ("accuracy", "depth")


def load_records(
    root: Path,
    profile: str | None = None,
    dataset: str | None = None,
    model: str | None = None,
    *,
    study: str | None = None,
) -> list[Record]:
    """Every record under ``root`` matching the filters (``None`` = any). ``study``:
    ``"accuracy"`` (Table 3's grids) or ``"depth"`` (Table 6's, whose configurations set the
    depths) - both studies keep their records side by side under a profile."""
    if study is not None and study not in STUDIES:
        raise UsageError(f"unknown study {study!r}: expected one of {', '.join(STUDIES)}")
    pattern = "/".join(x or "*" for x in (profile, dataset, model)) + "/*.json"
    records = [read_record(p) for p in sorted(Path(root).glob(pattern))]
    if study is None:
        return records
    return [r for r in records if ("user_depth" in r.config) == (study == "depth")]


def records_frame(records: Iterable[Record]) -> pd.DataFrame:
    """One row per record: identifiers, config key, flattened metrics and seconds."""
    rows = []
    for r in records:
        row = {
            "dataset": r.dataset,
            "model": r.model,
            "config": r.key,
            "seed": r.seed,
            "profile": r.profile,
            "verified": r.verified,
            "epochs": r.epochs,
            "train_seconds": r.train_seconds,
            "inference_seconds": r.inference_seconds,
            "device": r.environment.get("device", "unknown"),
        }
        row.update({f"validation {k}": v for k, v in r.validation.items()})
        row.update({f"test {k}": v for k, v in r.test.items()})
        row.update({f"config.{k}": v for k, v in r.config.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def current_commit() -> str:
    """The repository's short commit; ``$HMF_COMMIT`` where the code runs from a copy without
    ``.git`` (a working tree sent to a GPU machine, say)."""
    if os.environ.get("HMF_COMMIT"):
        return os.environ["HMF_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
            timeout=10,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment() -> dict[str, Any]:
    """Device, package versions and commit, recorded with every run."""
    versions = {}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    device = jax.devices()[0]
    return {
        "device": f"{device.platform}:{getattr(device, 'device_kind', '')}",
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
        "commit": current_commit(),
    }


def describe_machine() -> str:
    """One line for benchmark output: device, processor, cores and JAX version (as recorded)."""
    env = environment()
    return (
        f"device: {env['device']} | {env['processor']} | {env['cpu_count']} CPU cores | "
        f"jax {env['versions']['jax']}"
    )
