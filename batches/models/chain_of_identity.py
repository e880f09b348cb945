"""The Chain of Identity identifier (ISBT 128 ST-028) of one patient-product chain: a batch
and the recipient its bags are for. It is carried in addition to the batch's DIN."""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models

# FIN (a letter or digit other than O and 0, then four digits), year, 8-digit sequence: the
# DIN's layout widened (carnk_mfg.isbt128 says why).
COI_PATTERN = r"^[A-NP-Z1-9][0-9]{4}[0-9]{2}[0-9]{8}$"


@pghistory.track()
class ChainOfIdentity(models.Model):
    identifier = models.CharField("Chain of Identity identifier", max_length=15, unique=True)
    batch = models.ForeignKey(
        "batches.Batch", on_delete=models.PROTECT, related_name="chains_of_identity"
    )
    recipient = models.ForeignKey(
        "batches.Recipient", on_delete=models.PROTECT, related_name="chains_of_identity"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField()

    class Meta:
        ordering = ["assigned_at", "id"]
        verbose_name = "Chain of Identity"
        verbose_name_plural = "Chains of Identity"
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "recipient"], name="chain_of_identity_once_per_batch_recipient"
            ),
            models.CheckConstraint(
                condition=models.Q(identifier__regex=COI_PATTERN),
                name="chain_of_identity_identifier_format",
            ),
        ]
        # Assigned once and printed on labels: whatever path writes, it is never changed or
        # removed.
        triggers = [
            pgtrigger.Trigger(
                name="never_changed",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                func="RAISE EXCEPTION 'Chain of Identity % is assigned once and never changed',"
                " OLD.identifier; RETURN NULL;",
            ),
            pgtrigger.Trigger(
                name="kept",
                operation=pgtrigger.Delete,
                when=pgtrigger.Before,
                func="RAISE EXCEPTION 'Chain of Identity % is kept: it is never deleted',"
                " OLD.identifier; RETURN NULL;",
            ),
        ]

    def __str__(self):
        return f"Chain of Identity {self.identifier}"
