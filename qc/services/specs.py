"""QC specification sets: QA approval, e-signed (an approved set is frozen by triggers), and
the QC plan: when a trigger step is done, the batch's QC tests are created with due dates."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from carnk_mfg.models import SignatureMeaning
from carnk_mfg.signatures import signed_write
from qc.models import QcSpecSet, QcTest, SpecStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from batches.models import ExecutedStep, ProcessTemplate


def qc_spec_set_approve(
    *, actor: User, password: str, spec_set: QcSpecSet, request: HttpRequest | None = None
) -> QcSpecSet:
    with signed_write(
        actor=actor,
        password=password,
        permission="qc.approve_qcspecset",
        meaning=SignatureMeaning.APPROVED,
        label=f"QC specification set {spec_set}",
        reason="Spec set approved",
        request=request,
    ) as signing:
        locked = QcSpecSet.objects.select_for_update().get(pk=spec_set.pk)
        if locked.status != SpecStatus.DRAFT:
            raise ValidationError({"status": f"{locked} is {locked.status}, not a draft."})
        QcSpecSet.objects.filter(template=locked.template, status=SpecStatus.APPROVED).update(
            status=SpecStatus.RETIRED
        )
        locked.status, locked.approved_by, locked.approved_at = (
            SpecStatus.APPROVED,
            actor,
            timezone.now(),
        )
        locked.save()
        signing.sign(locked, attests="spec_set")
    return locked


def approved_spec_set(template: ProcessTemplate) -> QcSpecSet | None:
    return (
        QcSpecSet.objects.filter(template=template, status=SpecStatus.APPROVED)
        .order_by("-version")
        .first()
    )


def qc_plan_for_step(*, executed_step: ExecutedStep) -> list[QcTest]:
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
