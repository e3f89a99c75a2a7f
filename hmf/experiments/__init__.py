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
from hmf.experiments.selection import select, summarize, tukey_against

__all__ = [
    "Record", "config_key", "environment", "load_records", "read_record", "record_path",
    "records_frame", "select", "summarize", "tukey_against", "write_record",
]  # fmt: skip
