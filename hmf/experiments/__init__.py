"""Experiments: result records, grids per profile, sweeps, selection and Tukey's HSD."""

from hmf.experiments.records import (
    Record,
    config_key,
    environment,
    load_records,
    read_record,
    record_path,
    records_frame,
    write_record,
)
from hmf.experiments.runner import (
    default_results_dir,
    ensure_records,
    fit_config,
    run_one,
    run_plan,
    sweep,
)
from hmf.experiments.selection import select, selected_config, selection_check, summarize, tukey_against

__all__ = [
    "Record", "config_key", "environment", "load_records", "read_record", "record_path",
    "records_frame", "select", "selected_config", "selection_check", "summarize", "tukey_against", "write_record", "default_results_dir",
    "ensure_records", "fit_config", "run_one", "run_plan", "sweep",
]  # fmt: skip
