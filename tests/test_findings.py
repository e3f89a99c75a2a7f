"""The book's reader-facing pieces in hmf.report: verdicts, findings sentences, the note shown
only when records are missing, Fig. 2's coinciding curves, opaque figures, the figures page,
and the rules the notebooks follow (clean, setup cell first, folded code)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from fake_records import fake_record

from hmf.report import common, figures, findings

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _claims(*verdicts):
    return pd.DataFrame(
        {
            "claim": [f"claim <{i}>" for i in range(len(verdicts))],
            "paper": "p",
            "ours": "o & o",
            "verdict": list(verdicts),
        }
    ).set_index("claim")


def test_verdict_counts_read_the_leading_words():
    table = _claims("reproduced", "partly (substitute data)", "not reproduced", "reproduced, on a")
    assert findings.verdict_counts(table) == {
        "reproduced": 2,
        "partly": 1,
        "not reproduced": 1,
        "not computed": 0,
    }


def test_verdict_html_wraps_labels_and_escapes():
    text = findings.verdict_html(_claims("reproduced", "not reproduced"))
    assert text.startswith('<table class="verdicts">')
    assert text.count("<tr>") == 3  # header and two claims
    assert 'data-label="Claim">claim &lt;0&gt;' in text and "o &amp; o" in text
    assert "verdict-not-reproduced" in text and "✗" in text and "✓" in text


def test_join_and_counts_read_as_english():
    assert findings._join(["a"]) == "a"
    assert findings._join(["a", "b", "c"]) == "a, b and c"
    assert findings._count(1, "users") == "1 user"
    assert findings._count(150, "validation") == "150 validation ratings"


def _record(model, lr, wd, seed, val, epochs=4, dataset="ml-100k"):
    return fake_record(
        dataset=dataset,
        model=model,
        config=dict(lr=lr, weight_decay=wd, user_clusters=8, item_clusters=4),
        seed=seed,
        validation={"rmse": val},
        test={"rmse": val + 0.05},
        epochs=epochs,
        best_epoch=epochs - 1,
        history={"validation_rmse": [1.2, 1.1, val, val]},
        environment={"device": "cpu:cpu", "cpu_count": 2, "machine": "x86_64"},
    )


def test_selected_means_take_the_best_validation_configuration():
    records = [
        _record("hmf", lr, 0.0, s, val + 0.001 * s, epochs=3 + s)
        for lr, val in ((1e-2, 0.90), (1e-3, 0.95))
        for s in range(3)
    ]
    frame = pd.DataFrame(
        [
            dict(
                dataset=r.dataset,
                model=r.model,
                config=f"lr={r.config['lr']}",
                seed=r.seed,
                epochs=r.epochs,
                **{"validation rmse": r.validation["rmse"], "test rmse": r.test["rmse"]},
            )
            for r in records
        ]
    )
    got = findings.selected_means(frame, "ml-100k", "rmse")["hmf"]
    assert got["validation"] == pytest.approx(0.901)
    assert got["mean"] == pytest.approx(0.951)
    assert got["epochs"] == 4 and got["seeds"] == 3
    assert findings.selected_means(frame, "ciao", "rmse") == {}


def test_missing_note_says_nothing_when_every_data_set_has_records(monkeypatch):
    rows = [_record("hmf", 1e-2, 0.0, 0, 0.9, dataset=d) for d in common.DATASETS["rating"]]
    monkeypatch.setattr(common, "records", lambda table, profile=None, **_: (rows, {}))
    assert findings.missing_note("table3a", "book") is None
    monkeypatch.setattr(
        common, "records", lambda table, profile=None, **_: (rows[:1], {"ciao": "absent"})
    )
    note = findings.missing_note("table3a", "book").data
    assert "Ciao" in note and "hmf data fetch ciao" in note
    assert "ml-1m" in note and "hmf sweep --profile book --dataset ml-1m" in note
    assert "ML-100K" not in note


def test_coinciding_curves_are_grouped_and_labelled():
    curves = {
        1e-2: [1.0, 0.9, 0.8],
        1e-3: [1.0, 0.9, 0.8 + 1e-6],  # the same line at any width
        1e-4: [1.0, 0.9, 0.7],
        0.0: [1.0, 0.9],  # stopped earlier, on the first line where both ran
        1e-5: [1.3, 0.9],  # apart at the first epoch
    }
    assert figures.coinciding(curves) == [[1e-2, 1e-3, 0.0], [1e-4], [1e-5]]
    assert figures.curve_label([1e-2, 1e-3]) == "weight decays 0.01, 0.001 (coincide)"
    assert figures.curve_label([1e-2, 0.0], of=2) == "all weight decays 0.01, 0 (coincide)"
    assert figures.curve_label([0.0]) == "weight decay 0"


def test_fig2_draws_one_line_per_group_on_an_opaque_background():
    records = [_record("hmf", 1e-2, wd, 0, 0.9) for wd in (1e-2, 1e-3, 0.0)]
    records += [_record("mf", 1e-2, 1e-2, 0, 0.9), _record("mf", 1e-2, 0.0, 0, 0.8)]
    fig = figures.loss_curves(
        {"mf": [r for r in records if r.model == "mf"], "hmf": records[:3]}, "ml-100k"
    )
    mf, hmf = fig.axes
    assert len(hmf.get_lines()) == 1 and "coincide" in hmf.get_legend().texts[0].get_text()
    assert len(mf.get_lines()) == 2 and len(mf.get_legend().texts) == 2
    assert fig.patch.get_alpha() == 1.0 and fig.patch.get_facecolor()[:3] == (1.0, 1.0, 1.0)


def test_affinity_heatmap_is_opaque():
    affinity = pd.DataFrame(np.arange(6.0).reshape(2, 3) - 2.5)
    fig = figures.affinity_heatmap(affinity, ([1, 0], [2, 1, 0]), "smoke", "ml-100k", True)
    assert fig.patch.get_alpha() == 1.0


def test_figure_listing_names_every_file_caption_and_chapter(tmp_path):
    for suffix in ("svg", "pdf", "png"):
        (tmp_path / f"fig2-loss-curves-ciao.{suffix}").write_bytes(b"x")
    (tmp_path / "unrelated.png").write_bytes(b"x")
    (entry,) = figures.figure_entries(tmp_path)
    assert entry["dataset"] == "ciao" and set(entry["files"]) == {"svg", "pdf", "png"}
    text = figures.figure_listing(tmp_path, relative_to=tmp_path)
    assert "```{figure} fig2-loss-curves-ciao.png" in text and ":alt: " in text
    assert "{download}`PDF <fig2-loss-curves-ciao.pdf>`" in text
    assert "{doc}`/notebooks/03_loss_curves`" in text and "Ciao" in text


def test_the_figures_page_lists_this_profiles_figures_only(tmp_path):
    for name in ("case-study-affinity-ml-100k", "case-study-affinity-ml-1m"):
        (tmp_path / f"{name}.png").write_bytes(b"x")
    assert figures.case_study_dataset("smoke") == "ml-100k"
    assert figures.case_study_dataset("book") == "ml-1m"
    names = figures.book_figures("book")
    assert "fig2-loss-curves-ciao" in names and "case-study-affinity-ml-1m" in names
    listed = [e["name"] for e in figures.figure_entries(tmp_path, names)]
    assert listed == ["case-study-affinity-ml-1m"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_clean_and_start_with_the_setup_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        assert "id" in cell
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["id"]
    first = cells[0]
    assert first["id"] == "setup" and first["metadata"]["tags"] == ["remove-cell"]
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    assert f'"{url}"' in "".join(first["source"]), "the setup cell installs from _config.yml's URL"
    for cell in cells[1:]:
        if cell["cell_type"] == "code":
            tags = cell["metadata"].get("tags", [])
            assert {"hide-input", "remove-input", "remove-cell"} & set(tags), (
                f"{path.name} {cell['id']}: code is folded (hide-input) or has no output"
            )
        if cell["metadata"].get("mystnb", {}).get("image"):
            assert cell["metadata"]["mystnb"]["image"]["alt"].strip()


def test_binder_installs_the_lock_and_the_package():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-r requirements.lock", "-e ."]
