"""The report's sampled-against-full views (ours) on hand-made full-ranking records."""

from __future__ import annotations

import pandas as pd
from fake_records import fake_record

from hmf import data
from hmf.experiments.records import Record, records_frame
from hmf.report import claims, findings, tables
from hmf.report.common import DATASETS

RANKING = next(c for c in claims.CLAIMS if c.text.startswith("Ranking"))


def _record(model, seed, sampled, full, config=None) -> Record:
    """A `book` full-ranking record: test HR@10 / MRR@10 ``sampled`` and ``full`` (pairs)."""
    test = {"hit_ratio@10": sampled[0], "mrr@10": sampled[1]}
    test |= {"full_hit_ratio@10": full[0], "full_mrr@10": full[1], "full_ndcg@10": full[1]}
    return fake_record(
        dataset="ml-100k-implicit",
        model=model,
        config=dict(config or {}, protocol="full"),
        seed=seed,
        validation={"hit_ratio@10": sampled[0], "mrr@10": sampled[1]},
        test=test,
        epochs=1,
    )


# sampled: BPR-HMF > most popular > BPR-MF in HR; full: most popular > BPR-MF > BPR-HMF
MEANS = {
    "bpr-hmf": ((0.50, 0.20), (0.10, 0.030)),
    "most-popular": ((0.48, 0.22), (0.14, 0.040)),
    "bpr-mf": ((0.46, 0.21), (0.12, 0.045)),
}


def _frame(means=MEANS, seeds=3):
    return records_frame(
        [
            _record(m, s, (hr + 0.001 * s, mrr), (fhr + 0.0001 * s, fmrr))
            for m, ((hr, mrr), (fhr, fmrr)) in means.items()
            for s in range(seeds)
        ]
    )


def test_the_table_shows_both_protocols_side_by_side():
    table = tables.protocol_table(_frame(), ["ml-100k-implicit"], ["bpr-mf", "bpr-hmf", "ease"])
    row = table.loc[("ml-100k-implicit", "BPR-HMF")]
    assert row["sampled HR@10"].startswith("0.501 ± 0.001")
    assert row["full HR@10"].startswith("0.100 ± 0.000")
    assert row["seeds"] == 3 and row["selected configuration"] == "protocol=full"
    assert table.loc[("ml-100k-implicit", "EASE (Cornac; not in the paper)")]["seeds"] == 0
    assert list(table.columns[:5]) == list(tables.PROTOCOL_LABELS.values())


def test_flips_name_the_pairs_whose_order_reverses():
    flips = tables.protocol_flips(
        _frame(), ["ml-100k-implicit"], ["bpr-mf", "bpr-hmf", "most-popular"]
    )
    hr = flips.loc[("ml-100k-implicit", "HR@10")]
    assert hr["sampled order"] == "BPR-HMF > most popular > BPR-MF"
    assert hr["full order"] == "most popular > BPR-MF > BPR-HMF"
    assert hr["pairs reversed"] == "2 of 3"
    assert hr["reversed"] == "BPR-MF / BPR-HMF; BPR-HMF / most popular"
    mrr = flips.loc[("ml-100k-implicit", "MRR@10")]
    assert mrr["sampled order"] == "most popular > BPR-MF > BPR-HMF"
    assert mrr["full order"] == "BPR-MF > most popular > BPR-HMF"
    assert mrr["pairs reversed"] == "1 of 3"


def test_equal_means_are_ties_not_reversals():
    tied = dict(MEANS, **{"bpr-mf": ((0.46, 0.21), (0.10, 0.030))})  # BPR-MF = BPR-HMF in full
    flips = tables.protocol_flips(_frame(tied, seeds=1), ["ml-100k-implicit"], list(tied))
    hr = flips.loc[("ml-100k-implicit", "HR@10")]
    assert hr["full order"] == "most popular > BPR-HMF = BPR-MF"  # ties keep the given order
    assert hr["pairs reversed"] == "1 of 3" and hr["pairs tied under one protocol"] == 1


def test_the_ranking_claim_says_how_it_fares_in_full_and_against_popularity():
    accuracy = _frame({m: v for m, v in MEANS.items() if m != "most-popular"})
    row = RANKING.row({"table3b": accuracy, "protocols": _frame(), "missing": {}})
    # sampled: BPR-HMF best at HR, not at MRR, as in the paper
    assert row["verdict"].startswith(
        "reproduced (substitute data); ML-100K implicit substitute: under full ranking "
    )
    assert row["verdict"].endswith(
        "BPR-HMF above most popular (sampled) and not above most popular (full)"
    )
    assert "full ranking: HR 0.100 (best: BPR-MF), MRR 0.030 (best: BPR-MF)" in row["ours"]
    assert "most popular: HR 0.481 sampled, 0.140 full" in row["ours"]
    # under full ranking BPR-MF is best at both, so only the MRR half of the paper's pattern holds
    assert "under full ranking partly" in row["verdict"]
    without = RANKING.row({"table3b": accuracy, "missing": {}})
    assert "full ranking" not in without["ours"] and without["verdict"] == (
        "reproduced (substitute data)"
    )


def test_the_ranking_claim_covers_every_substitute_with_records():
    like_the_paper = {m: v for m, v in MEANS.items() if m != "most-popular"}
    best_at_both = {"bpr-hmf": ((0.50, 0.30), (0.1, 0.1)), "bpr-mf": ((0.40, 0.25), (0.1, 0.1))}
    ciao = _frame(best_at_both).assign(dataset="ciao-implicit")
    frame = pd.concat([_frame(like_the_paper), ciao], ignore_index=True)
    row = RANKING.row({"table3b": frame, "missing": {}})
    assert row["verdict"] == "partly (substitute data)"  # one substitute agrees, one does not
    first, second = row["ours"].split(" | ")
    assert first.startswith("ML-100K implicit substitute: BPR-HMF HR 0.501 (best: BPR-HMF)")
    assert second.startswith("Ciao implicit substitute: BPR-HMF HR 0.501 (best: BPR-HMF)")


def test_the_findings_sentence_is_computed_from_the_records(monkeypatch):
    frame = _frame()
    models = ["bpr-mf", "bpr-hmf", "most-popular"]
    monkeypatch.setattr(findings, "_frame", lambda table, profile: frame)
    monkeypatch.setattr(
        tables,
        "ranking_flips",
        lambda profile: tables.protocol_flips(frame, DATASETS["ranking"], models),
    )
    monkeypatch.setattr(findings.split, "split_for", _no_data)
    text = findings.protocol_findings("book")
    assert text == (
        "On the ML-100K implicit substitute, BPR-HMF's HR@10 is 0.501 sampled and 0.100 against "
        "every unseen item, most popular's 0.481 and 0.140; the best under full ranking is most "
        "popular (not in the paper), 0.140, and 2 of 3 model pairs in HR@10 and 1 of 3 model "
        "pairs in MRR@10 reverse their order between the two protocols."
    )
    monkeypatch.setattr(findings, "_frame", lambda table, profile: frame.iloc[:0])
    assert findings.protocol_findings("book") == "No full-ranking records under this profile yet."


def _no_data(name):
    raise data.DataError(f"{name} is not here")
