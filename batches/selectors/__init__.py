"""Reads: querysets and answers shaped for each page and endpoint, so views stay thin; one
module per subdomain. `from batches.selectors import X` and `selectors.X` reach every public
name."""

from batches.selectors.batch_lists import (
    Newest,
    batch_counts_in_order,
    batch_custody,
    batch_deviations,
    batch_newest,
    batch_steps,
)
from batches.selectors.batch_record import (
    batch_detail,
    batch_list,
    batch_summary,
    expansion_flag,
    growth_of,
    growth_series,
    next_template_step,
)
from batches.selectors.clinical import (
    made_with_integrating_vector,
    visit_open_q,
    visit_overdue_q,
    visits_to_flag_overdue,
)
from batches.selectors.counts import (
    batch_counts,
    current_counts,
    current_counts_of_days,
    current_counts_query,
)
from batches.selectors.donor import cord_blood_unit_list
from batches.selectors.recipients import clinical_staff, current_weight, recipient_list
from batches.selectors.release import (
    IN_SPEC,
    OPEN,
    OUT_OF_SPEC,
    PENDING,
    ReleaseReadiness,
    bag_label_for,
    bag_not_usable,
    coa_for,
    newest_tests,
    open_conditional_releases,
    performed_steps_of,
    recalls,
    record_reviews,
    release_queue,
    release_readiness,
    release_test_status,
    release_tests_query,
)

__all__ = [
    "IN_SPEC",
    "OPEN",
    "OUT_OF_SPEC",
    "PENDING",
    "ReleaseReadiness",
    "bag_label_for",
    "bag_not_usable",
    "Newest",
    "batch_counts",
    "batch_counts_in_order",
    "batch_custody",
    "batch_detail",
    "batch_deviations",
    "batch_newest",
    "batch_steps",
    "batch_list",
    "batch_summary",
    "coa_for",
    "cord_blood_unit_list",
    "current_counts",
    "current_counts_of_days",
    "current_counts_query",
    "current_weight",
    "expansion_flag",
    "growth_of",
    "growth_series",
    "newest_tests",
    "next_template_step",
    "open_conditional_releases",
    "performed_steps_of",
    "recalls",
    "record_reviews",
    "clinical_staff",
    "recipient_list",
    "release_queue",
    "release_readiness",
    "release_test_status",
    "release_tests_query",
    "made_with_integrating_vector",
    "visit_open_q",
    "visit_overdue_q",
    "visits_to_flag_overdue",
]
