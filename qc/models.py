"""QC specs, tests and overdue flagging arrive with the QC issue."""
