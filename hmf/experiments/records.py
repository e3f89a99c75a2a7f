"""Result records: one JSON file per finished run, the unit of truth behind every table.

A record holds what is needed to trust and to recompute a number: data set (and whether the
copy was verified), model, configuration, seed, validation and test metrics, the per-epoch
history, training and inference seconds, device, package versions and commit. Files are written
to a temporary name and renamed, so an interrupted sweep never leaves half a record, and a rerun
skips every run whose record exists and validates (:func:`read_record`: the schema, the
configuration and names its path spells, finite metrics, a history as long as its epochs). A run
being trained holds a lock file beside its record (:class:`RunLock`), so two sweeps on one
directory never train the same run twice.

Layout: ``<root>/<profile>/<dataset>/<model>/<config key>-seed<seed>.json``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterable
from importlib import metadata
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import jax
import pandas as pd
import platformdirs

from hmf.errors import UsageError
from hmf.registry import EXECUTION_KEYS, OPTIONAL_KEYS

try:  # POSIX: the kernel drops a dead process's lock, so a stale lock is free to take
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = [
    "Record",
    "config_key",
    "record_path",
    "write_record",
    "read_record",
    "load_records",
    "study_of",
    "records_frame",
    "environment",
    "current_commit",
    "describe_machine",
    "default_results_dir",
    "RecordError",
    "BrokenRecordWarning",
    "check_history",
    "set_aside",
    "RunLock",
    "release_held",
    "discard_partial",
    "clean_stale",
    "STUDIES",
    "BEYOND_KEYS",
]

_VERSIONED = ("hmf-companion", "jax", "jaxlib", "optax", "numpy", "pandas", "scipy")


def _checkout_root(package_file: str | os.PathLike = __file__) -> Path | None:
    """The repository this package runs from (an editable install or a source tree), or None
    for an installed copy (site-packages), which has no committed records beside it."""
    root = Path(package_file).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "hmf" / "experiments").is_dir():
        return root
    return None


def default_results_dir() -> Path:
    """``$HMF_RESULTS_DIR``; else ``results/`` at the repository root (the committed records)
    when the package runs from its source tree; else, for an installed copy, a per-user data
    directory (``~/.local/share/hmf/results`` on Linux) - never inside site-packages."""
    configured = os.environ.get("HMF_RESULTS_DIR")
    if configured:
        return Path(configured)
    checkout = _checkout_root()
    if checkout is not None:
        return checkout / "results"
    return Path(platformdirs.user_data_dir("hmf")) / "results"


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
    """Readable, stable file-name key of a configuration, e.g. ``lr=0.001_wd=0.0001_uc=200``;
    :data:`hmf.registry.EXECUTION_KEYS` (the optimizer) are left out, so a lazy-AdamW run and a
    dense one of the same configuration and seed are one record."""
    parts = []
    for name in sorted(set(config) - set(EXECUTION_KEYS)):
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _tmp_prefix(path: Path, pid: int) -> str:
    """Temporary files carry the writer's pid, so a sweep can tell a dead writer's leftovers."""
    return f".{path.stem}.{pid}."


_WRITING: set[Path] = set()  # temporary files this process is writing (removed if orphaned)


def write_record(root: Path, record: Record) -> Path:
    """Write atomically: a temporary file in the same directory, then ``os.replace``. The file
    gets the usual mode for new files (``0666`` less the umask, e.g. ``0644``), not the
    temporary file's private ``0600``."""
    path = record_path(
        root, record.profile, record.dataset, record.model, record.config, record.seed
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(dataclasses.asdict(record), indent=1, sort_keys=True, default=_jsonable)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=_tmp_prefix(path, os.getpid()), suffix=".tmp"
    )
    _WRITING.add(Path(tmp))
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(payload + "\n")
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        _WRITING.discard(Path(tmp))
    return path


def _jsonable(value):
    if hasattr(value, "item"):  # numpy / jax scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a record")


class RecordError(ValueError):
    """A record file that is empty, truncated, edited out of shape or misplaced."""


class BrokenRecordWarning(UserWarning):
    """A sweep found a broken record, moved it aside and runs it again."""


warnings.filterwarnings("always", category=BrokenRecordWarning)  # one per record, not per line


_FIELDS = tuple(f.name for f in dataclasses.fields(Record))
_KINDS = {
    "dataset": str,
    "model": str,
    "profile": str,
    "config": dict,
    "validation": dict,
    "test": dict,
    "history": dict,
    "environment": dict,
    "verified": bool,
}


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _problems(payload, path: Path) -> list[str]:
    """What is wrong with a record's parsed JSON (empty when nothing is)."""
    if not isinstance(payload, dict):
        return [f"expected a JSON object, found {type(payload).__name__}"]
    missing = sorted(set(_FIELDS) - set(payload))
    extra = sorted(set(payload) - set(_FIELDS))
    if missing or extra:
        return [
            f"fields {', '.join(missing)} missing" if missing else "",
            f"unknown fields {', '.join(extra)}" if extra else "",
        ]
    out = []
    for name, kind in _KINDS.items():
        if not isinstance(payload[name], kind):
            out.append(f"{name} is {payload[name]!r}, expected a {kind.__name__}")
    for name in ("seed", "epochs", "best_epoch"):
        if not _is_int(payload[name]):
            out.append(f"{name} is {payload[name]!r}, expected an integer")
    for name in ("train_seconds", "inference_seconds"):
        if not _is_number(payload[name]) or not payload[name] >= 0:
            out.append(f"{name} is {payload[name]!r}, expected a number >= 0")
    if out:
        return out
    for part in ("validation", "test"):
        if not payload[part]:
            out.append(f"no {part} metrics")
        for metric, value in payload[part].items():
            if not _is_number(value) or not math.isfinite(value):
                out.append(f"{part} {metric} is {value!r}, expected a finite number")
    epochs, best = payload["epochs"], payload["best_epoch"]
    if epochs < 1 or not 1 <= best <= epochs:
        out.append(f"best_epoch {best} and epochs {epochs}: expected 1 <= best_epoch <= epochs")
    for column, values in payload["history"].items():
        if not isinstance(values, list) or len(values) != epochs:
            size = len(values) if isinstance(values, list) else type(values).__name__
            out.append(f"history column {column!r} has {size} values, expected {epochs} (epochs)")
    expected = f"{config_key(payload['config'])}-seed{payload['seed']}.json"
    if path.name != expected:
        out.append(f"its configuration and seed belong in {expected}, not {path.name}")
        return out
    folders = (path.parent.parent.parent.name, path.parent.parent.name, path.parent.name)
    for name, folder in zip(("profile", "dataset", "model"), folders):
        if folder != payload[name]:
            out.append(f"its {name} is {payload[name]!r} but it lies under {folder}/")
    return out


def read_record(path: Path) -> Record:
    """Read and validate one record: the schema, finite metrics, ``1 <= best_epoch <= epochs``,
    history columns of ``epochs`` values, and the configuration, seed, model, data set and
    profile its path spells. Anything else raises :class:`RecordError` naming the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise RecordError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not text.strip():
        raise RecordError(f"{path}: not a valid result record (the file is empty)")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(
            f"{path}: not a valid result record (truncated or not JSON: {exc})"
        ) from None
    problems = [p for p in _problems(payload, path) if p]
    if problems:
        raise RecordError(f"{path}: not a valid result record ({'; '.join(problems)})")
    return Record(**payload)


def check_history(record: Record) -> list[str]:
    """What a record's stored numbers contradict in its own stored history (empty: nothing).

    Every trainer stores one history row per epoch: ``epoch`` runs 1..epochs, the stored
    validation metrics are the history's values at ``best_epoch``, and that epoch holds the
    best value of the early-stopping metric (RMSE lowest, HitRatio@10 highest; the first such
    epoch when values tie). :func:`read_record` checks the shape; this checks the numbers.
    """
    h, out = record.history, []
    if h.get("epoch") != list(range(1, record.epochs + 1)):
        out.append(f"history epochs are not 1..{record.epochs}")
    for metric, value in record.validation.items():
        column = h.get(f"validation_{metric}")
        if column is None:
            out.append(f"history has no validation_{metric} column")
            continue
        if column[record.best_epoch - 1] != value:
            out.append(
                f"validation {metric} is {value!r} but the history has "
                f"{column[record.best_epoch - 1]!r} at best epoch {record.best_epoch}"
            )
    if "retrain_epochs" in record.config:  # the retrain protocol reports its last epoch
        # (eTREE may converge, and stop, before the epochs it was given)
        if not record.best_epoch == record.epochs <= record.config["retrain_epochs"]:
            out.append(
                f"a retrain run reports its last epoch: expected best_epoch = epochs <= "
                f"{record.config['retrain_epochs']}, got {record.best_epoch} and {record.epochs}"
            )
        return out
    primary = "rmse" if "rmse" in record.validation else "hit_ratio@10"
    column = h.get(f"validation_{primary}")
    if column is not None and primary in record.validation:
        finite = [v for v in column if isinstance(v, (int, float)) and math.isfinite(v)]
        if finite:
            best = min(finite) if primary == "rmse" else max(finite)
            first = column.index(best) + 1
            if first != record.best_epoch:
                out.append(
                    f"best_epoch is {record.best_epoch} but the history's best validation "
                    f"{primary} ({best!r}) is first reached at epoch {first}"
                )
    return out


def set_aside(path: Path) -> Path:
    """Move a broken record out of the way (``<name>.broken``, numbered if taken); returns the
    new path. Nothing reads ``*.broken`` files; they are kept for a person to look at."""
    path = Path(path)
    target, n = path.with_name(path.name + ".broken"), 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.broken{n}")
    os.replace(path, target)
    return target


def usable(path: Path) -> bool:
    """Whether ``path`` holds a valid record; a broken one is moved aside with a warning."""
    if not Path(path).exists():
        return False
    try:
        read_record(path)
    except RecordError as exc:
        moved = set_aside(path)
        warnings.warn(
            f"{' '.join(str(exc).split())}; moved to {moved.name} and run again",
            BrokenRecordWarning,
            stacklevel=2,
        )
        return False
    return True


# -- locks: one sweep trains a run at a time -------------------------------------------------

_HOST = socket.gethostname()
_HELD: dict[Path, int] = {}  # lock path -> open descriptor, for the locks this process holds


def lock_path(path: Path) -> Path:
    """The lock file of the run whose record is ``path``."""
    return Path(path).with_name(f".{Path(path).stem}.lock")


def _owner(lock: Path) -> dict:
    try:
        return json.loads(lock.read_text() or "{}")
    except (OSError, ValueError):
        return {}


class RunLock:
    """A run's lock: ``.<record stem>.lock`` beside its record, holding the owner's pid, host
    and start time, locked with ``flock`` while the owner lives. The kernel releases the lock
    when its owner dies however it dies, so a stale lock file (its owner killed) is taken over
    by the next sweep; :meth:`release` removes the file."""

    def __init__(self, record: Path):
        self.path = lock_path(record)

    def acquire(self) -> bool:
        """Take the lock, or return False while another live process holds it."""
        if self.path in _HELD:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                elif _owner(self.path).get("pid") not in (None, os.getpid()) and _alive(
                    _owner(self.path)["pid"]
                ):  # pragma: no cover - without flock, a live owner's pid is the lock
                    raise BlockingIOError
            except BlockingIOError:
                os.close(fd)
                return False
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the holder removed the file between our open and lock: retry
                os.close(fd)
                continue
            owner = {"pid": os.getpid(), "host": _HOST, "since": time.time()}
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(owner).encode())
            _HELD[self.path] = fd
            return True
        return False

    def owner(self) -> dict:
        """``{"pid", "host", "since"}`` of the holder as its lock file says (may be empty)."""
        return _owner(self.path)

    def release(self) -> None:
        fd = _HELD.pop(self.path, None)
        if fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def release_held() -> None:
    """Release every lock this process holds and remove the record files it is writing (a
    worker whose parent died calls this before it exits)."""
    for tmp in list(_WRITING):
        tmp.unlink(missing_ok=True)
    for path in list(_HELD):
        RunLock(path.with_name(path.name[1:].removesuffix(".lock") + ".json")).release()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def discard_partial(record: Path, pids: Iterable[int]) -> int:
    """Remove what processes ``pids`` (ended) left of the run ``record``: its temporary files
    and its lock file; returns how many files went. The record itself, if written, stays."""
    record, removed = Path(record), 0
    for pid in pids:
        for tmp in record.parent.glob(f"{_tmp_prefix(record, pid)}*.tmp"):
            tmp.unlink(missing_ok=True)
            removed += 1
    lock = lock_path(record)
    if lock.exists() and _owner(lock).get("pid") in set(pids):
        lock.unlink(missing_ok=True)
        removed += 1
    return removed


_STALE_AFTER = 10.0  # seconds: a younger lock file may be one another sweep is just taking


def clean_stale(folder: Path) -> int:
    """Remove leftovers of dead processes under ``folder``: temporary record files whose writer
    (this host) is gone, and lock files nobody holds. Returns how many files went."""
    folder, removed = Path(folder), 0
    if not folder.is_dir():
        return 0
    for tmp in folder.glob(".*.tmp"):
        try:
            pid = int(tmp.name.rsplit(".", 3)[-3])
        except (ValueError, IndexError):
            continue
        if not _alive(pid):
            tmp.unlink(missing_ok=True)
            removed += 1
    for lock in folder.glob(".*.lock"):
        try:
            if time.time() - lock.stat().st_mtime < _STALE_AFTER:
                continue
        except FileNotFoundError:
            continue
        candidate = RunLock(lock.with_name(lock.name[1:].removesuffix(".lock") + ".json"))
        if candidate.path in _HELD:
            continue
        if candidate.acquire():  # nobody held it: its owner is gone
            candidate.release()
            removed += 1
    return removed


STUDIES = ("accuracy", "depth", "full-ranking", "beyond", "retrain")
# Keys only the beyond-the-paper study's configurations state (hmf.experiments.grids).
BEYOND_KEYS = ("l2", "biases", "temperature", "patience")


def study_of(config: dict[str, Any]) -> str:
    """The study a configuration belongs to: ``depth`` sets the depths, ``full-ranking`` (ours)
    takes the test metrics of both ranking protocols, ``retrain`` (ours) retrains on training +
    validation for a fixed number of epochs, ``beyond`` (ours) states one of
    :data:`BEYOND_KEYS`, ``accuracy`` none of these."""
    if "user_depth" in config:
        return "depth"
    if config.get("protocol") == "full":
        return "full-ranking"
    if "retrain_epochs" in config:
        return "retrain"
    return "beyond" if any(k in config for k in BEYOND_KEYS) else "accuracy"


def load_records(
    root: Path,
    profile: str | None = None,
    dataset: str | None = None,
    model: str | None = None,
    *,
    study: str | None = None,
) -> list[Record]:
    """Every record under ``root`` matching the filters (``None`` = any). ``study``:
    ``"accuracy"`` (Table 3's grids), ``"depth"`` (Table 6's, whose configurations set the
    depths), ``"full-ranking"`` or ``"beyond"`` (:func:`study_of`) - the studies keep their
    records side by side under a profile."""
    if study is not None and study not in STUDIES:
        raise UsageError(f"unknown study {study!r}: expected one of {', '.join(STUDIES)}")
    pattern = "/".join(x or "*" for x in (profile, dataset, model)) + "/*.json"
    records = [read_record(p) for p in sorted(Path(root).glob(pattern))]
    if study is None:
        return records
    return [r for r in records if study_of(r.config) == study]


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
            "optimizer": r.config.get("optimizer", OPTIONAL_KEYS["optimizer"]),
        }
        row.update({f"validation {k}": v for k, v in r.validation.items()})
        row.update({f"test {k}": v for k, v in r.test.items()})
        row.update({f"config.{k}": v for k, v in r.config.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def git(*args: str) -> str | None:
    """What ``git <args>`` prints in this package's repository; None where git fails or prints
    nothing (no git, no repository)."""
    try:
        out = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def current_commit() -> str:
    """The repository's short commit; ``$HMF_COMMIT`` where the code runs from a copy without
    ``.git`` (a working tree sent to a GPU machine, say)."""
    return os.environ.get("HMF_COMMIT") or git("rev-parse", "--short", "HEAD") or "unknown"


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
