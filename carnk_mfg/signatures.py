"""Electronic signatures (21 CFR 11.50, 11.70, 11.200): the one way anything is signed.

Every signed service writes through `signed_write`, which does the steps in one order:
permission, then the re-entered password (checked *before* the transaction, so a refused
attempt is recorded and counted toward lockout even though the write is abandoned), then one
transaction in which the caller locks its row, checks the state it found under the lock,
writes, and signs. The block refuses to finish without a signature. `signing_sitting` asks
the password once for several such writes, all in one transaction.

What a signature attests is named (`attests`) and defined once, by an attestation registered
with `@attestation(name)`: a function from the signed record to the content it vouches for.
The eligibility determination attests its own fields, the batch record review a manifest of
the whole batch record, and so on. The content and its SHA-256 are stored; the same function,
applied later, shows whether what was attested has changed, and an unrelated change (a
status, a storage move) does not raise a false alarm.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest

from carnk_mfg.audit import gmp_write
from carnk_mfg.models import ElectronicSignature, SignatureMeaning
from carnk_mfg.people import printed_name
from carnk_mfg.roles import require_permission
from carnk_mfg.sign_in import SIGNING_LOCKED, signing_credentials
from carnk_mfg.trail_writes import insert_signature, insert_signature_failure

if TYPE_CHECKING:
    from django.contrib.auth.models import User

WRONG_PASSWORD = "The password is not correct. The signature was refused and the attempt recorded."

# (signer id, permission, meaning) while one password, asked once, covers the signed writes
# of a sitting.
_SITTING: contextvars.ContextVar[tuple[int, str, str] | None] = contextvars.ContextVar(
    "signing_sitting", default=None
)

# Each attestation takes the records of its own model.
Attestation = Callable[[Any], dict[str, Any]]
_ATTESTATIONS: dict[str, Attestation] = {}


def attestation(name: str) -> Callable[[Attestation], Attestation]:
    """Register what a signature named `name` attests (apps register theirs when ready)."""

    def register(function: Attestation) -> Attestation:
        if _ATTESTATIONS.get(name, function) is not function:
            raise ValueError(f"Attestation {name!r} is defined twice.")
        _ATTESTATIONS[name] = function
        return function

    return register


def canonical(values: dict[str, Any]) -> dict[str, Any]:
    """Values in the JSON form they are hashed and stored in (dates as ISO text, keys sorted)."""
    content: dict[str, Any] = json.loads(json.dumps(values, cls=DjangoJSONEncoder, sort_keys=True))
    return content


def fields_of(record: Model, names: Iterable[str]) -> dict[str, Any]:
    """The named concrete fields of a record (foreign keys by id)."""
    by_name = {f.name: f for f in record._meta.concrete_fields}
    return {by_name[n].attname: getattr(record, by_name[n].attname) for n in names}


@attestation("record")
def record_content(record: Model) -> dict[str, Any]:
    """Every concrete field of the record: for records that do not change after signing."""
    return {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}


def attested_content(record: Model, attests: str) -> dict[str, Any]:
    try:
        function = _ATTESTATIONS[attests]
    except KeyError:
        raise ValueError(f"No attestation {attests!r} is registered.") from None
    return canonical(function(record))


def content_sha256(content: dict[str, Any], *, label: str) -> str:
    serialized = json.dumps({"record": label, "content": content}, sort_keys=True)
    return hashlib.sha256(serialized.encode()).hexdigest()


def _record_key(record: Model) -> str:
    return f"{record._meta.label}:{record.pk}"


def _lockout_request(request: HttpRequest | None) -> HttpRequest:
    # django-axes keys its counters off a request; non-web callers get a bare one.
    if request is None:
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
    return request


def signature_authenticate(
    *,
    signer: User,
    password: str,
    meaning: str,
    record_label: str,
    request: HttpRequest | None = None,
) -> None:
    """Refuse (ValidationError on `password`) unless `password` is the signer's own.
    Call outside any transaction, so the refused attempt stays recorded."""
    request = _lockout_request(request)
    credentials = signing_credentials(signer)
    cause = None
    if AxesProxyHandler.is_locked(request, credentials):
        cause = SIGNING_LOCKED
    elif not password or not signer.check_password(password):
        cause = WRONG_PASSWORD
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if cause is None:
        return
    insert_signature_failure(
        user=signer,
        username=signer.get_username(),
        meaning=meaning,
        record_label=record_label[:200],
        cause=cause[:200],
        ip_address=request.META.get("REMOTE_ADDR") or None,
    )
    raise ValidationError({"password": cause})


class SignedWrite:
    """The handle a `signed_write` block signs with."""

    def __init__(self, *, signer: User, meaning: str, label: str) -> None:
        self.signer, self.meaning, self.label = signer, meaning, label
        self.signatures: list[ElectronicSignature] = []

    def sign(
        self, record: Model, *, attests: str = "record", comment: str = ""
    ) -> ElectronicSignature:
        """Sign `record` as it stands in the database now, over what `attests` names."""
        record.refresh_from_db()
        content = attested_content(record, attests)
        signature = insert_signature(
            signer=self.signer,
            printed_name=printed_name(self.signer),
            meaning=self.meaning,
            content_type=ContentType.objects.get_for_model(record),
            object_id=str(record.pk),
            record_label=self.label[:200],
            attests=attests,
            record_sha256=content_sha256(content, label=_record_key(record)),
            record_content=content,
            comment=comment,
        )
        self.signatures.append(signature)
        return signature


@contextlib.contextmanager
def signed_write(
    *,
    actor: User,
    password: str,
    permission: str,
    meaning: str,
    label: str,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Iterator[SignedWrite]:
    """Permission, password, then one audited transaction; inside it the caller locks its
    row, checks what it found, writes, and calls `.sign(record)` at least once."""
    if meaning not in SignatureMeaning.values:
        raise ValueError(f"Unknown signature meaning {meaning!r}.")
    require_permission(actor, permission)
    if _SITTING.get() != (actor.pk, permission, meaning):
        signature_authenticate(
            signer=actor, password=password, meaning=meaning, record_label=label, request=request
        )
    handle = SignedWrite(signer=actor, meaning=meaning, label=label)
    with gmp_write(actor=actor, permission=permission, reason=reason or label):
        yield handle
        if not handle.signatures:
            raise RuntimeError(f"{label}: a signed write finished without a signature.")


@contextlib.contextmanager
def signing_sitting(
    *,
    actor: User,
    password: str,
    permission: str,
    meaning: str,
    label: str,
    request: HttpRequest | None = None,
) -> Iterator[None]:
    """One password for several signed writes (a reviewer signing a batch's results in one
    sitting): permission and password once, before one transaction. Each `signed_write` of
    `actor` with that permission and meaning inside skips only the password: it still asks
    its own rules and signs its own record, with its own signature row. A refusal inside
    rolls all of them back."""
    if meaning not in SignatureMeaning.values:
        raise ValueError(f"Unknown signature meaning {meaning!r}.")
    require_permission(actor, permission)
    signature_authenticate(
        signer=actor, password=password, meaning=meaning, record_label=label, request=request
    )
    token = _SITTING.set((actor.pk, permission, meaning))
    try:
        with transaction.atomic():
            yield
    finally:
        _SITTING.reset(token)


@contextlib.contextmanager
def signed_by_parties(
    *,
    actor: User,
    permission: str,
    parties: Sequence[tuple[str, User, str]],
    meaning: str,
    label: str,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Iterator[dict[str, SignedWrite]]:
    """A record each named party signs with their own password (a hand-off: who gave and who
    took). `parties` are (field, signer, password); the actor recording it needs `permission`.
    Every party's password is checked before the transaction, each refusal recorded against
    that party and reported on `<field>_password`; then one audited transaction in which the
    handle of every party (by field) must sign."""
    if meaning not in SignatureMeaning.values:
        raise ValueError(f"Unknown signature meaning {meaning!r}.")
    require_permission(actor, permission)
    errors: dict[str, Any] = {}
    for field, signer, password in parties:
        try:
            signature_authenticate(
                signer=signer,
                password=password,
                meaning=meaning,
                record_label=label,
                request=request,
            )
        except ValidationError as exc:
            errors[f"{field}_password"] = exc.message_dict["password"]
    if errors:
        raise ValidationError(errors)
    handles = {
        field: SignedWrite(signer=signer, meaning=meaning, label=label)
        for field, signer, _password in parties
    }
    with gmp_write(actor=actor, permission=permission, reason=reason or label):
        yield handles
        unsigned = [field for field, handle in handles.items() if not handle.signatures]
        if unsigned:
            raise RuntimeError(f"{label}: not signed by {', '.join(unsigned)}.")


def signature_intact(signature: ElectronicSignature, record: Model) -> bool:
    """True while the record still holds exactly the content the signature attests."""
    current = attested_content(record, signature.attests)
    return content_sha256(current, label=_record_key(record)) == signature.record_sha256


def signature_changes(signature: ElectronicSignature, record: Model) -> list[str]:
    """The parts of the attested content that differ now (top-level keys), for display."""
    current = attested_content(record, signature.attests)
    signed = signature.record_content or {}
    return sorted(k for k in set(current) | set(signed) if current.get(k) != signed.get(k))


def signatures_for(*records: Model) -> QuerySet[ElectronicSignature]:
    """Every signature on these records (one query), oldest first, with its signer."""
    by_type: dict[int, list[str]] = {}
    for record in records:
        content_type = ContentType.objects.get_for_model(record)
        by_type.setdefault(content_type.pk, []).append(str(record.pk))
    found = Q(pk__in=[])
    for content_type_id, ids in by_type.items():
        found |= Q(content_type_id=content_type_id, object_id__in=ids)
    return ElectronicSignature.objects.filter(found).select_related("signer")
