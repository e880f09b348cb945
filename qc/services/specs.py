"""QC specification sets: QA approval, e-signed; an approved set is frozen by triggers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from carnk_mfg.models import SignatureMeaning
from carnk_mfg.signatures import signed_write
from qc.models import QcSpecSet, SpecStatus


def qc_spec_set_approve(
    *, actor, password: str, spec_set: QcSpecSet, request: HttpRequest | None = None
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
