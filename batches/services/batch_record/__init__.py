"""The batch record: planning a batch, executed steps with their materials, cell counts,
deviations and chain of custody. Lifecycle moves are in `batches.services.lifecycle`.
`from batches.services import batch_record` then `batch_record.step_record(...)` reaches each."""

from batches.services.batch_record.counts import (
    cell_count_build,
    cell_count_record,
    count_blocker,
    day_rule_errors,
    several_of_a_day,
)
from batches.services.batch_record.custody import custody_record
from batches.services.batch_record.deviations import (
    deviation_blocker,
    deviation_classify,
    deviation_close_blocker,
    deviation_disposition,
    deviation_open,
    environmental_deviations_open,
    open_deviation_locked,
)
from batches.services.batch_record.steps import (
    DeviationInput,
    StepCheck,
    batch_create,
    check_step,
    step_blocker,
    step_record,
)

__all__ = [
    "DeviationInput",
    "StepCheck",
    "batch_create",
    "cell_count_build",
    "cell_count_record",
    "check_step",
    "count_blocker",
    "custody_record",
    "day_rule_errors",
    "deviation_blocker",
    "deviation_classify",
    "deviation_close_blocker",
    "deviation_disposition",
    "deviation_open",
    "environmental_deviations_open",
    "open_deviation_locked",
    "several_of_a_day",
    "step_blocker",
    "step_record",
]
