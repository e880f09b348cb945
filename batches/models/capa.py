"""Corrective and preventive actions (CAPA): what is done about the root cause of one or more
deviations, by whom and by when, and whether it worked (the effectiveness check, verified by
QA and signed). A CAPA still open after its due date is overdue (`batches.selectors.capa`)."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from carnk_mfg.fields import FreeTextField


class CapaState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done, awaiting effectiveness check"
    EFFECTIVE = "effective", "Effective"
    NOT_EFFECTIVE = "not_effective", "Not effective"


@pghistory.track()
class Capa(models.Model):
    deviations = models.ManyToManyField(
        "batches.Deviation", through="batches.CapaDeviation", related_name="capas"
    )
    action = FreeTextField("Corrective or preventive action")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    effectiveness_check_on = models.DateField(help_text="When the effectiveness is checked")
    state = models.CharField(max_length=20, choices=CapaState.choices, default=CapaState.OPEN)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField()
    completion_notes = FreeTextField(blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    effectiveness_result = FreeTextField(blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    # Set once, by the scan that told the owner the CAPA is overdue.
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = "CAPA"
        permissions = [
            ("raise_capa", "Raise a CAPA on deviations"),
            ("complete_capa", "Record a CAPA's action as done"),
            ("verify_capa", "Verify a CAPA's effectiveness (signed)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(effectiveness_check_on__gte=F("due_on")),
                name="capa_effectiveness_after_due",
            ),
            models.CheckConstraint(
                condition=Q(state="open")
                | Q(completed_by__isnull=False, completed_at__isnull=False),
                name="capa_done_has_who",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "done"])
                | (
                    Q(verified_by__isnull=False, verified_at__isnull=False)
                    & ~Q(effectiveness_result="")
                ),
                name="capa_verified_has_who",
            ),
            # Whoever did the action does not judge that it worked.
            models.CheckConstraint(
                condition=~Q(verified_by=F("completed_by")), name="capa_verifier_not_doer"
            ),
        ]
        indexes = [
            # The overdue scan reads only open CAPAs not yet flagged.
            models.Index(
                fields=["due_on"],
                name="capa_overdue_scan",
                condition=Q(state="open", overdue_flagged_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"CAPA {self.pk}: {self.action[:60]}"


@pghistory.track()
class CapaDeviation(models.Model):
    """A deviation a CAPA acts on; links are never undone (the deviation may have closed on
    the strength of it)."""

    capa = models.ForeignKey(Capa, on_delete=models.PROTECT, related_name="links")
    deviation = models.ForeignKey(
        "batches.Deviation", on_delete=models.PROTECT, related_name="capa_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["capa", "deviation"], name="capa_deviation_once"),
        ]

    def __str__(self):
        return f"CAPA {self.capa_id} on deviation {self.deviation_id}"
