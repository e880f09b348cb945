"""Electronic signatures (21 CFR 11.50, 11.70, 11.200): the one service every signing path uses.

Signing has two halves. `signature_authenticate` checks the re-entered password *before* the
caller opens its transaction, so a refused attempt is recorded (and counted toward lockout by
django-axes) even though the business write is abandoned. `signature_apply` then writes the
signature inside the caller's transaction, after the record is saved, over the exact content
that was saved.
"""

from __future__ import annotations

import hashlib
import json

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from django.utils import timezone

from carnk_mfg.models import ElectronicSignature, SignatureFailure, SignatureMeaning

WRONG_PASSWORD = "The password is not correct. The signature was refused and the attempt recorded."
LOCKED_OUT = (
    "This account is locked after repeated failed password entries. Ask an administrator to "
    "unlock it."
)


def record_content(record) -> dict:
    """The signed content: every concrete field of the record, in a canonical JSON form."""
    values = {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder, sort_keys=True))


def content_sha256(content: dict, *, label: str) -> str:
    canonical = json.dumps({"record": label, "content": content}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lockout_request(request: HttpRequest | None) -> HttpRequest:
    # django-axes keys its counters off a request; non-web callers get a bare one.
    if request is None:
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
    return request


def signature_authenticate(
    *, signer, password: str, meaning: str, record_label: str, request: HttpRequest | None = None
) -> None:
    """Refuse (ValidationError on `password`) unless `password` is the signer's own."""
    request = _lockout_request(request)
    credentials = {"username": signer.get_username()}
    cause = None
    if AxesProxyHandler.is_locked(request, credentials):
        cause = LOCKED_OUT
    elif not password or not signer.check_password(password):
        cause = WRONG_PASSWORD
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if cause is None:
        return
    SignatureFailure.objects.create(
        user=signer,
        username=signer.get_username(),
        attempted_at=timezone.now(),
        meaning=meaning,
        record_label=record_label[:200],
        cause=cause[:200],
        ip_address=request.META.get("REMOTE_ADDR") or None,
    )
    raise ValidationError({"password": cause})


def signature_apply(*, signer, meaning: str, record, record_label: str, comment: str = ""):
    """Write the signature over the record as it stands now (call inside the transaction)."""
    if meaning not in SignatureMeaning.values:
        raise ValidationError({"meaning": f"Unknown signature meaning {meaning!r}."})
    record.refresh_from_db()
    content = record_content(record)
    label = f"{record._meta.label}:{record.pk}"
    printed = signer.get_full_name().strip() or signer.get_username()
    return ElectronicSignature.objects.create(
        signer=signer,
        printed_name=printed,
        signed_at=timezone.now(),
        meaning=meaning,
        content_type=ContentType.objects.get_for_model(record),
        object_id=str(record.pk),
        record_label=record_label[:200],
        record_sha256=content_sha256(content, label=label),
        record_content=content,
        comment=comment,
    )


def signature_matches_record(signature: ElectronicSignature, record) -> bool:
    """True while the record still holds exactly the content that was signed."""
    label = f"{record._meta.label}:{record.pk}"
    return content_sha256(record_content(record), label=label) == signature.record_sha256


def signatures_for(record):
    return ElectronicSignature.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=str(record.pk)
    ).select_related("signer")
