"""Shared fixtures: where the real data lives, and writers of tiny raw files in exact formats."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from hmf import data

REPO = Path(__file__).resolve().parents[1]


def real_data_dir() -> Path | None:
    """``$HMF_DATA_DIR``, else ``../shared/datasets`` beside the repository, else None."""
    if os.environ.get("HMF_DATA_DIR"):
        return Path(os.environ["HMF_DATA_DIR"])
    shared = REPO.parent / "shared" / "datasets"
    return shared if shared.is_dir() else None


def load_real(name: str) -> data.Dataset:
    """Load a real data set or skip the test that needs it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", data.store.UnverifiedCopyWarning)
            return data.load(name, real_data_dir())
    except data.DataError as exc:
        pytest.skip(f"real {name} not available: {exc}")


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """No HMF_DATA_DIR and an empty private cache, so only what a test writes is found."""
    monkeypatch.delenv("HMF_DATA_DIR", raising=False)
    monkeypatch.setenv("HMF_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def planted_in_runner(monkeypatch):
    """A small planted split that the experiment runner finds under the data set name "planted"."""
    from test_train import planted_split

    from hmf import split as splits

    split, _, _ = planted_split(n_users=60, n_items=100)
    monkeypatch.setitem(splits._CACHE, ("planted", None), split)
    return split
