"""Experiments: result records, grids per profile, runs and sweeps, studies, selection and
Tukey's HSD. Modules from the bottom up: ``records``, ``grids``, ``selection``, ``trainers``
(one configuration -> one record), ``distributed`` and ``execution`` (where runs execute),
``studies`` (what a chapter needs)."""

from hmf.experiments.execution import sweep
from hmf.experiments.records import (
    Record,
    config_key,
    default_results_dir,
    environment,
    load_records,
    read_record,
    record_path,
    records_frame,
    write_record,
)
from hmf.experiments.selection import (
    select,
    selected_config,
    selection_check,
    summarize,
    tukey_against,
)
from hmf.experiments.studies import ensure_records, run_plan
from hmf.experiments.trainers import fit_config, run_group, run_one

__all__ = [
    "Record",
    "config_key",
    "default_results_dir",
    "environment",
    "load_records",
    "read_record",
    "record_path",
    "records_frame",
    "write_record",
    "select",
    "selected_config",
    "selection_check",
    "summarize",
    "tukey_against",
    "ensure_records",
    "run_plan",
    "fit_config",
    "run_group",
    "run_one",
    "sweep",
]
