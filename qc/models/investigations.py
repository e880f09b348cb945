"""Phase I laboratory investigation of an out-of-specification result: opened with the result,
in the same transaction; the analyst records the checks done, whether an assignable cause was
found (and which) and the conclusion; QA approves it, signed. Until then no retest of that
result is recorded (`qc.services.investigations.retest_blocker`, and the database's trigger
on `QcTest` below)."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from carnk_mfg.fields import FreeTextField
from qc.models.results import QcTest


class InvestigationState(models.TextChoices):
    OPEN = "open", "Open: laboratory checks under way"
    COMPLETED = "completed", "Completed, awaiting QA approval"
    APPROVED = "approved", "Approved by QA"


@pghistory.track()
class OosInvestigation(models.Model):
    test = models.OneToOneField(QcTest, on_delete=models.PROTECT, related_name="oos_investigation")
    state = models.CharField(
        max_length=10, choices=InvestigationState.choices, default=InvestigationState.OPEN
    )
    opened_at = models.DateTimeField()
    checks_done = FreeTextField(
        "Checks done",
        blank=True,
        help_text="Calculation, instrument, reagents, sample handling, analyst and method",
    )
    assignable_cause_found = models.BooleanField(null=True, blank=True)
    assignable_cause = FreeTextField(blank=True)
    conclusion = FreeTextField(blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = "OOS investigation"
        permissions = [
            ("complete_oos_investigation", "Complete a phase I OOS investigation"),
            ("approve_oos_investigation", "Approve a phase I OOS investigation (signed)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="open")
                | (
                    Q(completed_by__isnull=False, completed_at__isnull=False)
                    & Q(assignable_cause_found__isnull=False)
                    & ~Q(checks_done="")
                    & ~Q(conclusion="")
                ),
                name="oos_completed_whole",
            ),
            models.CheckConstraint(
                condition=~Q(assignable_cause_found=True) | ~Q(assignable_cause=""),
                name="oos_cause_named",
            ),
            models.CheckConstraint(
                condition=~Q(state="approved")
                | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="oos_approved_by_someone",
            ),
            # The analyst who investigated does not approve their own investigation.
            models.CheckConstraint(
                condition=~Q(approved_by=F("completed_by")), name="oos_approver_not_analyst"
            ),
        ]

    def __str__(self):
        return f"OOS investigation {self.pk} of {self.test}"
