"""The book's tables, the checks beside them, the landing page's claims and the figures, each one
call for a chapter; builders take the profile (a name or a Profile; None: ``$HMF_PROFILE``)."""

from hmf.report.claims import claims_table
from hmf.report.diagnostics import (
    cost_table,
    depth_levels,
    device_agreement,
    protocol_check,
    selection_table,
    weight_decay_check,
)
from hmf.report.figures import fig2
from hmf.report.findings import (
    accuracy_findings,
    case_study_findings,
    datasets_findings,
    depth_findings,
    grid_exceptions,
    landing,
    loss_curve_findings,
    missing_note,
    protocol_values,
    ranking_scaling,
    verdict_html,
    weight_decay_sentence,
)
from hmf.report.tables import (
    not_computed,
    reference_table,
    table1_view,
    table3a,
    table3b,
    table6a,
    table6b,
)

__all__ = [
    "claims_table",
    "cost_table",
    "depth_levels",
    "device_agreement",
    "protocol_check",
    "selection_table",
    "weight_decay_check",
    "fig2",
    "accuracy_findings",
    "case_study_findings",
    "datasets_findings",
    "depth_findings",
    "grid_exceptions",
    "landing",
    "loss_curve_findings",
    "missing_note",
    "protocol_values",
    "ranking_scaling",
    "verdict_html",
    "weight_decay_sentence",
    "not_computed",
    "reference_table",
    "table1_view",
    "table3a",
    "table3b",
    "table6a",
    "table6b",
]
