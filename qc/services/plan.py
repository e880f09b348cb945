"""The QC plan: when a trigger step is done, the batch's QC tests are created with due dates."""

from __future__ import annotations

from datetime import timedelta

from qc.models import QcSpecSet, QcTest, SpecStatus


def approved_spec_set(template) -> QcSpecSet | None:
    return (
        QcSpecSet.objects.filter(template=template, status=SpecStatus.APPROVED)
        .order_by("-version")
        .first()
    )


def qc_plan_for_step(*, executed_step) -> list[QcTest]:
    """Create the tests triggered by this step (inside the step's transaction and trail)."""
    batch = executed_step.batch
    spec_set = approved_spec_set(batch.template)
    if spec_set is None:
        return []
    code = executed_step.template_step.code
    tests = []
    for definition in spec_set.definitions.filter(trigger_step_code=code):
        start = executed_step.performed_at
        sample_due = start + timedelta(hours=definition.sample_offset_hours)
        tests.append(
            QcTest(
                batch=batch,
                definition=definition,
                triggered_at=start,
                sample_due_at=sample_due,
                due_at=sample_due + timedelta(hours=definition.turnaround_hours),
            )
        )
    return QcTest.objects.bulk_create(tests)
