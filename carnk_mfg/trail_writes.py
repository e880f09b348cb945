"""The only writers of signature rows and refused signing attempts.

Signatures and refused attempts are audit trail: nothing but these two functions creates them,
and nothing updates or deletes them (database triggers refuse it).
"""

from __future__ import annotations

from django.utils import timezone

from carnk_mfg.models import ElectronicSignature, SignatureFailure


def insert_signature(
    *,
    signer,
    printed_name: str,
    meaning: str,
    content_type,
    object_id: str,
    record_label: str,
    attests: str,
    record_sha256: str,
    record_content: dict,
    comment: str = "",
) -> ElectronicSignature:
    """Write one signature, stamped with the time of writing."""
    return ElectronicSignature.objects.create(
        signer=signer,
        printed_name=printed_name,
        signed_at=timezone.now(),
        meaning=meaning,
        content_type=content_type,
        object_id=object_id,
        record_label=record_label,
        attests=attests,
        record_sha256=record_sha256,
        record_content=record_content,
        comment=comment,
    )


def insert_signature_failure(
    *, user, username: str, meaning: str, record_label: str, cause: str, ip_address: str | None
) -> SignatureFailure:
    """Record one refused signing attempt, stamped with the time of writing."""
    return SignatureFailure.objects.create(
        user=user,
        username=username,
        attempted_at=timezone.now(),
        meaning=meaning,
        record_label=record_label,
        cause=cause,
        ip_address=ip_address,
    )
