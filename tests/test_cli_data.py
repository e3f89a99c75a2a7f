"""``hmf data``: JSON for scripts, one-line errors, non-zero exits."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from rawfiles import write_ml100k

from hmf.cli import main


def test_stats_json_is_our_numbers_only(isolated_env, capsys):
    write_ml100k(isolated_env)
    assert (
        main(["data", "stats", "ml-100k", "--format", "json", "--data-dir", str(isolated_env)]) == 0
    )
    records = json.loads(capsys.readouterr().out)
    assert records == [
        # five ratings: train = the first 3 by time (users 1, 2; items 1, 2); the validation
        # row has an unseen user and the test row an unseen item, so both are filtered out.
        {
            "dataset": "ml-100k",
            "users": 2,
            "items": 2,
            "train": 3,
            "validation": 0,
            "test": 0,
            "density": 0.75,
            "verified": False,
        }
    ]


def test_stats_markdown_shows_paper_beside_ours(isolated_env, capsys):
    write_ml100k(isolated_env)
    assert main(["data", "stats", "ml-100k", "--data-dir", str(isolated_env)]) == 0
    out = capsys.readouterr().out
    assert "| ML-100K | 2 | 2 | 3 | 0 | 0 | 0.7500 | 625 | 1561 | 64000 |" in out
    assert "unverified copy" in out


def test_stats_marks_missing_dataset(isolated_env, capsys):
    # A named data set that is missing: a marked gap in the table and exit 1, in every format.
    for fmt in ("csv", "markdown", "json"):
        assert main(["data", "stats", "ciao", "--format", fmt]) == 1
        captured = capsys.readouterr()
        assert "hmf data stats: ciao is missing; run `hmf data fetch ciao`" in captured.err
        if fmt == "csv":
            assert "Ciao,,,,,,,1786,9004" in captured.out and "hmf data fetch ciao" in captured.out
    write_ml100k(isolated_env)  # none named: every data set's row, missing ones marked, exit 0
    assert main(["data", "stats", "--data-dir", str(isolated_env)]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["data", "stats", "movielens"], "unknown dataset 'movielens'"),
        (["data", "fetch", "nope"], "unknown dataset 'nope'"),
        (["data", "stats", "--format", "xml"], "invalid choice: 'xml'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message):
    result = subprocess.run([sys.executable, "-m", "hmf", *argv], capture_output=True, text=True)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_fetch_missing_manual_dataset_fails_with_instructions(isolated_env, capsys):
    assert main(["data", "fetch", "diginetica"]) == 2
    assert "codalab" in capsys.readouterr().err
