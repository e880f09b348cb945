"""Compliance records shared by every app: electronic signatures and refused signing attempts."""

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from carnk_mfg.fields import FreeCharField, FreeTextField

APPEND_ONLY = pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)


class SignatureMeaning(models.TextChoices):
    """What a signature means (21 CFR 11.50(a)(3)); shown beside the signed record."""

    PERFORMED = "performed", "Performed"
    REVIEWED = "reviewed", "Reviewed"
    APPROVED = "approved", "Approved"
    VERIFIED = "verified", "Verified"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"
    RECALLED = "recalled", "Recalled"


@pghistory.track(pghistory.InsertEvent())
class ElectronicSignature(models.Model):
    """One signature on one exact version of a record (11.50, 11.70).

    The record's content at signing is kept with its SHA-256, so a later change to the record
    is visible as a mismatch and the signature cannot be moved to another record.
    """

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = FreeCharField(max_length=200)
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=20, choices=SignatureMeaning.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = FreeCharField(max_length=64)
    record_label = FreeCharField(max_length=200)
    # The name of what the signature vouches for (carnk_mfg.signatures.attestation): the
    # record's own fields, or a defined part of it, or a manifest such as a whole batch record.
    attests = FreeCharField(max_length=40, default="record")
    record_sha256 = models.CharField(max_length=64)
    record_content = models.JSONField()
    comment = FreeTextField(blank=True)

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        triggers = [APPEND_ONLY]

    def __str__(self) -> str:
        when = f"{self.signed_at:%Y-%m-%d %H:%M:%S %Z}"
        return f"{self.get_meaning_display()} by {self.printed_name} at {when}"


class SignatureFailure(models.Model):
    """A signing attempt refused for a wrong password or a locked account (11.300(d))."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    username = FreeCharField(max_length=150)
    attempted_at = models.DateTimeField()
    meaning = models.CharField(max_length=20, choices=SignatureMeaning.choices)
    record_label = FreeCharField(max_length=200)
    cause = FreeCharField(max_length=200)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-attempted_at"]
        triggers = [APPEND_ONLY]

    def __str__(self) -> str:
        return f"{self.username} refused at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.cause}"
