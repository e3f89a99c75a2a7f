"""Writers of small synthetic data files in each source's exact raw format."""

from __future__ import annotations

from pathlib import Path

import numpy as np

GENRES = 19


def write_ml100k(root: Path, ratings: list[tuple[int, int, int, int]] | None = None) -> Path:
    folder = root / "ml-100k"
    folder.mkdir(parents=True, exist_ok=True)
    ratings = ratings or [
        (1, 1, 5, 100),
        (1, 2, 3, 200),
        (2, 1, 4, 150),
        (2, 3, 1, 300),
        (3, 2, 2, 250),
    ]
    (folder / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ratings))
    flags = ["0"] * GENRES
    rows = []
    for item, title in [
        (1, "Toy Story (1995)"),
        (2, "Á köldum klaka (Cold Fever) (1994)"),
        (3, "Heat (1995)"),
    ]:
        f = list(flags)
        f[item] = "1"
        rows.append(f"{item}|{title}|01-Jan-1995||http://us.imdb.com/x|" + "|".join(f) + "\n")
    (folder / "u.item").write_bytes("".join(rows).encode("latin-1"))
    (folder / "u.user").write_text(
        "1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n"
    )
    return folder


def write_ml1m(root: Path) -> Path:
    folder = root / "ml-1m"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ratings.dat").write_text(
        "1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n"
    )
    (folder / "movies.dat").write_bytes(
        "10::Amélie (2001)::Comedy|Romance\n20::Heat (1995)::Action\n".encode("latin-1")
    )
    (folder / "users.dat").write_text("1::F::1::10::48067\n2::M::56::16::70072\n")
    return folder


def ciao_line(*values: float) -> str:
    return "".join(f"  {v:.7e}".replace("e+0", "e+00") for v in values) + "\r\n"


def write_ciao(root: Path, rows=None) -> Path:
    folder = root / "ciao" / "ciao_with_rating_timestamp_txt"
    folder.mkdir(parents=True, exist_ok=True)
    rows = rows or [
        (1, 1, 1, 5, 1, 1298876400),
        (1, 2, 2, 4, 2, 1298880000),
        (2, 1, 1, 3, 1, 959842800),
    ]
    (folder / "rating_with_timestamp.txt").write_bytes(
        "".join(ciao_line(*r) for r in rows).encode()
    )
    return folder


def write_diginetica(
    root: Path, body: str, header: str = "sessionId;userId;itemId;timeframe;eventdate"
) -> Path:
    folder = root / "diginetica"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train-item-views.csv").write_text(header + "\n" + body)
    return folder


def write_ml100k_planted(
    root: Path, n_users: int = 120, n_items: int = 90, density: float = 0.3, seed: int = 0
) -> Path:
    """An ML-100K-format directory big enough to train on for a few seconds: integer ratings
    from planted user and item clusters (as tests/test_train.py's ``planted_split``), one
    timestamp per rating in random order, and the side files listing every user and item."""
    rng = np.random.default_rng(seed)
    planted = np.array([[5, 1, 3], [1, 5, 2], [3, 2, 5], [2, 4, 1]])
    cu, ci = rng.integers(0, 4, n_users), rng.integers(0, 3, n_items)
    u, i = np.nonzero(rng.random((n_users, n_items)) < density)
    r = np.clip(planted[cu[u], ci[i]] + rng.integers(-1, 2, len(u)), 1, 5)
    t = 800_000_000 + rng.permutation(len(u)) * 60
    folder = root / "ml-100k"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text(
        "".join(f"{a + 1}\t{b + 1}\t{c}\t{d}\n" for a, b, c, d in zip(u, i, r, t))
    )
    flags = "|".join(["0"] * GENRES)
    (folder / "u.item").write_text(
        "".join(f"{k}|Item {k}|01-Jan-1995||http://x|{flags}\n" for k in range(1, n_items + 1))
    )
    (folder / "u.user").write_text(
        "".join(f"{k}|30|M|other|00000\n" for k in range(1, n_users + 1))
    )
    return folder
