"""Finding, downloading and verifying data files; ``load`` ties it to the parsers.

Downloads are strict: an archive lands under a temporary name, is checked against the published
digest, and only then extracted (each member again to a temporary name, checked, renamed). A
mismatch or a truncated archive raises and leaves nothing behind.

Local copies are honest rather than strict: a file whose digest differs from the official one is
used with a warning, and the data set is marked ``verified=False`` so every table computed from
it can say so.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import platformdirs
import pooch  # well-tested HTTP download with a progress bar; we do the checking

from hmf.data._types import ChecksumError, DataError, Dataset, DatasetMissingError, FormatError
from hmf.data.registry import DatasetSpec, FileSpec, get_spec

__all__ = [
    "cache_dir",
    "search_roots",
    "locate",
    "fetch",
    "load",
    "file_digest",
    "UnverifiedCopyWarning",
]


class UnverifiedCopyWarning(UserWarning):
    """A local file differs from the official release; results from it are marked."""


def cache_dir() -> Path:
    """Per-user download cache: ``$HMF_CACHE_DIR``, else the platform's user cache dir."""
    configured = os.environ.get("HMF_CACHE_DIR")
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("hmf")) / "datasets"


def search_roots(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Directories searched, in order: ``data_dir``, ``$HMF_DATA_DIR``, the cache."""
    roots = []
    if data_dir is not None:
        roots.append(Path(data_dir))
    if os.environ.get("HMF_DATA_DIR"):
        roots.append(Path(os.environ["HMF_DATA_DIR"]))
    roots.append(cache_dir())
    return [r.expanduser().resolve() for r in roots]


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of a file; ``gitblob`` is git's blob id (sha1 over ``"blob <size>\\0"`` +
    data)."""
    if algorithm == "gitblob":
        hasher = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    else:
        hasher = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


@functools.lru_cache(maxsize=64)
def _digest_cached(path: str, size: int, mtime_ns: int, algorithm: str) -> str:
    return file_digest(Path(path), algorithm)


def _matches(path: Path, digest: str) -> tuple[bool, str]:
    algorithm, expected = digest.split(":", 1)
    try:
        stat = path.stat()
        actual = _digest_cached(str(path), stat.st_size, stat.st_mtime_ns, algorithm)
    except OSError as exc:
        raise FormatError(
            f"{path}: cannot be read ({exc.strerror or exc}); expected a readable file"
        ) from None
    return actual == expected, f"{algorithm}:{actual}"


def _check_root(root: Path, what: str) -> None:
    """A configured directory that exists but is a file is an error, not a silent miss."""
    if root.exists() and not root.is_dir():
        raise DataError(f"{what} {root}: is a file; expected a directory")


def locate(name: str, data_dir: str | os.PathLike | None = None) -> tuple[dict[str, Path], bool]:
    """Paths of ``name``'s files in the first root that has all of them, and whether all verify.

    Raises :class:`DatasetMissingError` naming the missing file, every place looked, and the
    command that gets it.
    """
    spec = get_spec(name)
    roots = search_roots(data_dir)
    if data_dir is not None:
        _check_root(roots[0], "--data-dir / data_dir")
    if os.environ.get("HMF_DATA_DIR"):
        _check_root(Path(os.environ["HMF_DATA_DIR"]).expanduser().resolve(), "HMF_DATA_DIR")
    for root in roots:
        paths = {f.path: root / f.path for f in spec.files}
        if all(p.is_file() for p in paths.values()):
            return paths, _verify_local(spec, paths)
    first = spec.files[0].path
    looked = ", ".join(str(r) for r in roots)
    how = f"run `hmf data fetch {name}` to download it" if spec.archive else spec.manual
    raise DatasetMissingError(
        f"{spec.title} not found: looked for {first} under {looked}. {how.rstrip('.')}; "
        "or set HMF_DATA_DIR to a directory laid out as the official archives extract."
    )


def _verify_local(spec: DatasetSpec, paths: dict[str, Path]) -> bool:
    verified = True
    for f in spec.files:
        if paths[f.path].stat().st_size == 0:
            raise FormatError(
                f"{paths[f.path]}: is empty; expected {spec.title}'s {Path(f.path).name} as the "
                f"official release has it - remove the empty file and run `hmf data fetch "
                f"{spec.name}`, or put a complete copy there"
            )
        if f.digest is None:
            continue
        ok, actual = _matches(paths[f.path], f.digest)
        if not ok:
            verified = False
            warnings.warn(
                f"{paths[f.path]} differs from the official file (expected {f.digest} "
                f"[{f.digest_source}], found {actual}); using it, and marking everything "
                "computed from it as 'unverified copy'",
                UnverifiedCopyWarning,
                stacklevel=3,
            )
    return verified


def load(name: str, data_dir: str | os.PathLike | None = None) -> Dataset:
    """Locate, verify and parse one data set (see :mod:`hmf.data` for where it looks)."""
    spec = get_spec(name)
    paths, verified = locate(name, data_dir)
    interactions, users, items = spec.parse(paths)
    notes = () if verified else (f"{name}: a local copy that differs from the official release",)
    return Dataset(
        name=name,
        interactions=interactions,
        users=users,
        items=items,
        implicit=spec.implicit,
        verified=verified,
        files=tuple(str(p) for p in paths.values()),
        notes=notes,
    )


def fetch(
    name: str, data_dir: str | os.PathLike | None = None, progress: bool = True
) -> tuple[dict[str, Path], bool]:
    """Make ``name`` available: reuse a local copy if one is found, else download it.

    Returns the paths of its files and whether they match the official digests (a download
    always does, or it raises). A download goes into the cache (``cache_dir()``).
    """
    spec = get_spec(name)
    try:
        paths, verified = locate(name, data_dir)
    except DatasetMissingError:
        if spec.archive is None:
            raise
    else:
        if not verified:  # a copy that differs from the official one must at least parse
            spec.parse(paths)
        return paths, verified
    root = cache_dir()
    _check_root(root, "HMF_CACHE_DIR" if os.environ.get("HMF_CACHE_DIR") else "the cache")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the download cache {root} ({exc.strerror or exc}); set "
            "HMF_CACHE_DIR to a writable directory"
        ) from None
    return _download(spec, root, progress), True


def _download(spec: DatasetSpec, root: Path, progress: bool) -> dict[str, Path]:
    archive = spec.archive
    assert archive is not None
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".partial-") as tmp:
        tmp_dir = Path(tmp)
        try:
            downloaded = Path(
                pooch.retrieve(
                    archive.url,
                    known_hash=None,
                    fname=archive.filename,
                    path=tmp_dir,
                    progressbar=progress,
                )
            )
        except Exception as exc:  # network errors come in many types
            raise DataError(f"download of {archive.url} failed: {exc}") from None
        if archive.digest is not None:
            algorithm, expected = archive.digest.split(":", 1)
            actual = file_digest(downloaded, algorithm)
            if actual != expected:
                raise ChecksumError(
                    f"{archive.filename} from {archive.url}: {algorithm} is {actual}, expected "
                    f"{expected} - the download is corrupt or partial and was deleted; try again"
                )
        return _extract(spec, downloaded, root, tmp_dir)


def _extract(spec: DatasetSpec, archive_path: Path, root: Path, tmp_dir: Path) -> dict[str, Path]:
    try:
        bundle = zipfile.ZipFile(archive_path)
    except zipfile.BadZipFile:
        raise ChecksumError(
            f"{archive_path.name}: not a valid zip archive - the download is corrupt or "
            "partial and was deleted; try again"
        ) from None
    staged: dict[str, Path] = {}
    with bundle:
        members = {Path(m).name: m for m in bundle.namelist() if not m.endswith("/")}
        for f in spec.files:
            member = members.get(Path(f.path).name)
            if member is None:
                raise DataError(
                    f"{archive_path.name} has no {Path(f.path).name}; expected the files "
                    f"{', '.join(Path(x.path).name for x in spec.files)}"
                )
            target = tmp_dir / "extract" / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with bundle.open(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise ChecksumError(
                    f"{archive_path.name}: member {member} is damaged ({exc}); the download was "
                    "deleted; try again"
                ) from None
            _check_member(f, target, archive_path.name)
            staged[f.path] = target
    final = {}
    for rel, path in staged.items():
        destination = root / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, destination)
        final[rel] = destination
    return final


def _check_member(f: FileSpec, path: Path, archive_name: str) -> None:
    if f.digest is None:
        return
    ok, actual = _matches(path, f.digest)
    if not ok:
        raise ChecksumError(
            f"{Path(f.path).name} in {archive_name}: expected {f.digest}, found {actual} - the "
            "download was deleted; the archive may have changed upstream"
        )
