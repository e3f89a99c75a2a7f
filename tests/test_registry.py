"""Every model's registry entry is complete: what the runner, grids, CLI and tables read."""

from __future__ import annotations

import pytest

from hmf import registry
from hmf.cli import main
from hmf.errors import UsageError
from hmf.experiments import grids


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_entry_is_complete(name):
    entry = registry.get(name)
    assert entry.name == name and entry.label and entry.task in ("rating", "ranking")
    assert set(entry.keys) <= set(registry.PARAMETERS)
    assert (entry.factory is not None) == (entry.trainer == "gradient") == entry.vectorizes
    assert (entry.fitter is not None) == (entry.trainer != "gradient")
    for profile in ("smoke", "book", "paper"):
        for config in grids.grid(profile, name, 600, 1500, dataset="ml-100k"):
            entry.check_config(config)  # every grid configuration fits the entry's keys


def test_the_paper_rows_and_the_outside_references():
    assert registry.RATING_METHODS == ("mf", "ihsr", "etree", "hmf")
    assert registry.RANKING_METHODS == ("bpr-mf", "neumf", "protomf", "bpr-hmf")
    assert registry.REFERENCE_MODELS == ("ref-mf-biased", "ref-mf")
    assert registry.label("etree") == "eTREE" and registry.label("unregistered") == "unregistered"


def test_configurations_that_do_not_fit_are_refused():
    with pytest.raises(UsageError, match="unknown model 'svd': expected one of mf, ihsr"):
        registry.get("svd")
    with pytest.raises(UsageError, match="does not fit model 'mf': it takes lr, weight_decay"):
        registry.get("mf").check_config(dict(lr=1e-3, weight_decay=0.0, user_clusters=3))
    with pytest.raises(UsageError, match="configuration of 'hmf' needs 'weight_decay'"):
        registry.get("hmf").check_config(dict(lr=1e-3))
    with pytest.raises(UsageError, match="not a gradient model"):
        registry.make_model("ihsr")


def test_gradient_spec_halves_clusters_per_level():
    spec = registry.gradient_spec(
        "hmf",
        dict(
            lr=1e-3, weight_decay=0.0, user_clusters=8, item_clusters=4, user_depth=3, item_depth=2
        ),
    )
    assert spec.config["user_clusters"] == (8, 4, 2) and spec.config["item_clusters"] == (4, 2)
    with pytest.raises(UsageError, match="user_depth given without user_clusters"):
        registry.gradient_spec("mf", dict(lr=1e-3, weight_decay=0.0, user_depth=2))


def test_cli_flags_come_from_the_entry(capsys):
    assert main(["train", "--dataset", "ml-100k", "--model", "mf", "--mu", "1"]) == 2
    assert (
        "--mu does not apply to 'mf' (it takes --lr, --weight-decay, --optimizer, --l2, "
        "--biases, --retrain-epochs, --patience)" in (capsys.readouterr().err)
    )
