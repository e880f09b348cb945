"""What work is due on a batch, as the pages show it: the rule lives in
`batches.selectors.due_steps`, read here under the names the pages import."""

from __future__ import annotations

from batches.selectors.due_steps import WORKING_STATES, culture_day, due_work, next_step_of

__all__ = ["WORKING_STATES", "culture_day", "due_work", "next_step_of"]
