"""QC specification sets: QA approval, e-signed; an approved set is frozen by triggers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from carnk_mfg.audit import gmp_write
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import require_permission
from carnk_mfg.signatures import signature_apply, signature_authenticate
from qc.models import QcSpecSet, SpecStatus


def qc_spec_set_approve(
    *, actor, password: str, spec_set: QcSpecSet, request: HttpRequest | None = None
) -> QcSpecSet:
    require_permission(actor, "qc.approve_qcspecset")
    if spec_set.status != SpecStatus.DRAFT:
        raise ValidationError({"status": f"{spec_set} is {spec_set.status}, not a draft."})
    label = f"QC specification set {spec_set}"
    signature_authenticate(
        signer=actor,
        password=password,
        meaning=SignatureMeaning.APPROVED,
        record_label=label,
        request=request,
    )
    with gmp_write(actor=actor, permission="qc.approve_qcspecset", reason="Spec set approved"):
        locked = QcSpecSet.objects.select_for_update().get(pk=spec_set.pk)
        QcSpecSet.objects.filter(template=locked.template, status=SpecStatus.APPROVED).update(
            status=SpecStatus.RETIRED
        )
        locked.status, locked.approved_by, locked.approved_at = (
            SpecStatus.APPROVED,
            actor,
            timezone.now(),
        )
        locked.save()
        signature_apply(
            signer=actor, meaning=SignatureMeaning.APPROVED, record=locked, record_label=label
        )
    return locked
