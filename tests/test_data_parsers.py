"""Parsers on synthetic files in each exact raw format: good files, malformed rows, encodings."""

from __future__ import annotations

import numpy as np
import pytest
from rawfiles import write_ciao, write_diginetica, write_ml1m, write_ml100k

from hmf import data
from hmf.data.store import UnverifiedCopyWarning
from hmf.errors import UsageError

pytestmark = pytest.mark.filterwarnings("ignore::hmf.data.store.UnverifiedCopyWarning")


def test_ml100k_tidy_tables(isolated_env):
    write_ml100k(isolated_env)
    ds = data.load("ml-100k", isolated_env)
    assert list(ds.interactions.columns) == ["user", "item", "rating", "timestamp"]
    assert ds.interactions["user"].tolist() == [1, 1, 2, 2, 3]  # file order kept
    assert ds.interactions["rating"].dtype == np.float32
    assert ds.items.loc[2, "title"] == "Á köldum klaka (Cold Fever) (1994)"  # Latin-1 decoded
    assert ds.items.loc[1, "genres"] == "Action"
    assert ds.users.loc[2, "gender"] == "F" and ds.users.loc[3, "occupation"] == "writer"
    assert not ds.implicit


def test_synthetic_copy_is_marked_unverified(isolated_env):
    write_ml100k(isolated_env)
    with pytest.warns(UnverifiedCopyWarning, match=r"u\.data differs from the official file"):
        ds = data.load("ml-100k", isolated_env)
    assert ds.verified is False and ds.mark == "unverified copy"


@pytest.mark.parametrize(
    "line, problem",
    [
        ("2\t3\t4\n", "expected 4 fields"),
        ("2\t3\tfour\t5\n", "'rating' = 'four'"),
        ("2\t3\t4\t5\t6\n", "expected 4 fields"),
    ],
)
def test_ml100k_malformed_row_names_file_and_line(isolated_env, line, problem):
    folder = write_ml100k(isolated_env)
    good = (folder / "u.data").read_text().splitlines(keepends=True)
    (folder / "u.data").write_text("".join(good[:2]) + line + "".join(good[2:]))
    with pytest.raises(data.FormatError, match=rf"u\.data, line 3: .*{problem}"):
        data.load("ml-100k", isolated_env)


def test_rating_outside_scale(isolated_env):
    write_ml100k(isolated_env, ratings=[(1, 1, 5, 1), (1, 2, 9, 2)])
    with pytest.raises(data.FormatError, match=r"u\.data, line 2: rating 9 outside 1..5"):
        data.load("ml-100k", isolated_env)


def test_utf8_copy_of_latin1_file_is_refused(isolated_env):
    folder = write_ml100k(isolated_env)
    text = (folder / "u.item").read_bytes().decode("latin-1")
    (folder / "u.item").write_bytes(text.encode("utf-8"))
    with pytest.raises(data.FormatError, match=r"u\.item: is UTF-8 encoded; expected Latin-1"):
        data.load("ml-100k", isolated_env)


def test_utf16_file_is_refused(isolated_env):
    folder = write_ml100k(isolated_env)
    (folder / "u.data").write_bytes((folder / "u.data").read_text().encode("utf-16"))
    with pytest.raises(data.FormatError, match=r"u\.data: contains NUL bytes"):
        data.load("ml-100k", isolated_env)


def test_ml1m_decodes_codes(isolated_env):
    write_ml1m(isolated_env)
    ds = data.load("ml-1m", isolated_env)
    assert ds.interactions[["user", "item"]].values.tolist() == [[1, 10], [1, 20], [2, 10]]
    assert ds.items.loc[10, "title"] == "Amélie (2001)"
    assert ds.users.loc[1].tolist() == ["F", "Under 18", "K-12 student", "48067"]
    assert ds.users.loc[2, "occupation"] == "self-employed"


def test_ml1m_malformed_row(isolated_env):
    folder = write_ml1m(isolated_env)
    (folder / "ratings.dat").write_text("1::10::5::978300760\n1::20::3\n")
    with pytest.raises(data.FormatError, match=r"ratings\.dat, line 2: expected 4 fields"):
        data.load("ml-1m", isolated_env)


def test_ciao_matlab_ascii(isolated_env):
    write_ciao(isolated_env)
    ds = data.load("ciao", isolated_env)
    frame = ds.interactions
    assert frame["timestamp"].tolist() == [1298876400, 1298880000, 959842800]
    assert frame["rating"].tolist() == [5.0, 4.0, 3.0]
    assert ds.items["category"].to_dict() == {1: 1, 2: 2}


def test_ciao_non_integral_value(isolated_env):
    folder = write_ciao(isolated_env)
    path = folder / "rating_with_timestamp.txt"
    lines = path.read_bytes().decode().split("\r\n")
    lines[1] = lines[1].replace("4.0000000e+000", "4.5000000e+000")
    path.write_bytes("\r\n".join(lines).encode())
    with pytest.raises(
        data.FormatError, match=r"rating_with_timestamp\.txt, line 2: field 'rating'"
    ):
        data.load("ciao", isolated_env)


DIGINETICA_BODY = """\
1;NA;100;0;2016-01-05
1;7;101;10;2016-01-05
1;NA;102;20;2016-01-05
2;NA;100;0;2016-01-06
3;8;103;0;2016-02-01
3;9;104;5;2016-02-01
4;10;105;0;2015-12-31
5;11;106;0;2016-06-02
6;12;107;0;2016-06-01
"""


@pytest.mark.parametrize(
    "header",
    [
        "sessionId;userId;itemId;timeframe;eventdate",
        "session_id;user_id;item_id;timeframe;eventdate",
    ],
)
def test_diginetica_session_users(isolated_env, header):
    write_diginetica(isolated_env, DIGINETICA_BODY, header)
    ds = data.load("diginetica", isolated_env)
    frame = ds.interactions
    # Session 1: anonymous views belong to its (last) user 7; session 2 has no user: dropped.
    # Session 3 saw users 8 then 9: the last one wins. Views outside 2016-01-01..06-01 dropped.
    assert frame[["user", "item"]].values.tolist() == [
        [7, 100],
        [7, 101],
        [7, 102],
        [9, 103],
        [9, 104],
        [12, 107],
    ]
    assert (frame["rating"] == 1.0).all() and ds.implicit
    assert frame["timestamp"].iloc[0] == 1451952000  # 2016-01-05 00:00 UTC


def test_diginetica_bad_header_and_row(isolated_env):
    write_diginetica(isolated_env, DIGINETICA_BODY, header="a;b;c;d;e")
    with pytest.raises(data.FormatError, match=r"train-item-views\.csv, line 1: header"):
        data.load("diginetica", isolated_env)
    write_diginetica(isolated_env, "1;NA;100;0;2016-01-05\n1;x;101;0;2016-01-05\n")
    with pytest.raises(data.FormatError, match=r"train-item-views\.csv, line 3: userId"):
        data.load("diginetica", isolated_env)


def test_missing_dataset_says_where_and_how(isolated_env):
    with pytest.raises(data.DatasetMissingError) as info:
        data.load("ml-100k")
    message = str(info.value)
    assert "ml-100k/u.data" in message
    assert str(isolated_env / "cache") in message
    assert "hmf data fetch ml-100k" in message


def test_missing_diginetica_explains_manual_download(isolated_env):
    with pytest.raises(data.DatasetMissingError, match="no direct download.*codalab"):
        data.load("diginetica")


def test_unknown_dataset_name():
    with pytest.raises(
        UsageError,
        match="unknown dataset 'ml-10m': expected one of ml-100k, ml-1m, ciao, diginetica",
    ):
        data.load("ml-10m")


def test_data_dir_argument_wins_over_environment(isolated_env, monkeypatch, tmp_path):
    other = tmp_path / "other"
    write_ml100k(other, ratings=[(9, 9, 1, 1)])
    write_ml100k(isolated_env)
    monkeypatch.setenv("HMF_DATA_DIR", str(isolated_env))
    assert data.load("ml-100k", other).interactions["user"].tolist() == [9]
    assert len(data.load("ml-100k").interactions) == 5
