"""Hand-made result records for the tests of the report and experiment layers."""

from __future__ import annotations

from hmf.experiments.records import Record


def fake_record(**fields) -> Record:
    """A ``book`` record of HMF on a data set called ``toy`` with placeholder metrics, timings
    and an empty history; ``fields`` replace any of these (``best_epoch`` follows ``epochs``)."""
    epochs = fields.get("epochs", 3)
    defaults = dict(
        dataset="toy",
        model="hmf",
        config={"lr": 0.01},
        seed=0,
        profile="book",
        validation={"rmse": 1.0},
        test={"rmse": 1.0},
        epochs=epochs,
        best_epoch=epochs,
        train_seconds=1.0,
        inference_seconds=0.1,
        history={},
        verified=True,
        environment={},
    )
    return Record(**(defaults | fields))
