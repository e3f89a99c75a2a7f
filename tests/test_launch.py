"""The launch buttons' promise: a chapter opened where `hmf` is not installed (Colab) installs the
package in its first cell, fetches ML-100K, and runs.

A fresh virtual environment sees this environment's dependencies (a ``.pth`` line naming its
site-packages; the editable install of `hmf` is not processed from there) but not `hmf`. The
notebook's setup cell is pointed at a wheel built from this checkout (``HMF_SOURCE``), pip runs
with no index, and the data chapter is executed by a kernel of the fresh environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, real_data_dir

pytestmark = [pytest.mark.slow, pytest.mark.realdata]

NOTEBOOK = REPO / "notebooks" / "01_datasets.ipynb"

EXECUTE = textwrap.dedent(
    """
    import sys
    import nbformat
    from nbclient import NotebookClient

    path, out, cwd = sys.argv[1:]
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": cwd}}
                   ).execute()
    nbformat.write(nb, out)
    """
)


def test_a_notebook_installs_hmf_where_it_is_missing(tmp_path):
    if real_data_dir() is None:
        pytest.skip("needs the real data (HMF_DATA_DIR)")
    source, wheels = tmp_path / "source", tmp_path / "wheels"  # built from a copy: no build/ here
    shutil.copytree(REPO / "hmf", source / "hmf", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(wheels), str(source)],
        check=True,
    )
    (wheel,) = wheels.glob("*.whl")
    fresh = tmp_path / "fresh"
    subprocess.run([sys._base_executable, "-m", "venv", str(fresh)], check=True)
    python = fresh / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]  # this environment's dependencies, hmf not among them
    (Path(purelib) / "deps.pth").write_text(ours + "\n")
    probe = subprocess.run([python, "-c", "import hmf"], capture_output=True, cwd=tmp_path)
    assert probe.returncode != 0, "hmf must not be importable in the fresh environment"

    env = dict(
        os.environ,
        HMF_SOURCE=str(wheel),
        HMF_DATA_DIR=str(real_data_dir()),
        HMF_RESULTS_DIR=str(tmp_path / "results"),
        HMF_CACHE_DIR=str(tmp_path / "cache"),
        HMF_PROFILE="smoke",
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONPATH="",
        MPLBACKEND="Agg",
    )
    out = tmp_path / "executed.ipynb"
    script = tmp_path / "execute.py"
    script.write_text(EXECUTE)
    subprocess.run(
        [python, str(script), str(NOTEBOOK), str(out), str(tmp_path)],
        check=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    installed = subprocess.run(
        [python, "-c", "import hmf; print(hmf.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert installed.startswith(str(fresh)), "the setup cell installed hmf into the kernel's env"
    cells = {c["id"]: c for c in json.loads(out.read_text(encoding="utf-8"))["cells"]}
    assert cells["618d6c8f"]["outputs"], "Table 1 was computed"
