"""The QC tests of each batch: sampled, resulted, evaluated against the spec, reviewed by a
second person. Each stores its `due_at`; partial indexes hold only the open tests each overdue
question reads, in the manner of healthchecks' `sendalerts`, so closed tests cost nothing."""

from typing import Any

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from carnk_mfg.fields import FreeCharField
from carnk_mfg.trail_trackers import track_per_statement
from qc.models.specs import QcTestDefinition


class TestState(models.TextChoices):
    PLANNED = "planned", "Awaiting sample"
    SAMPLED = "sampled", "Sampled"
    RESULTED = "resulted", "Resulted, awaiting review"
    REVIEWED = "reviewed", "Reviewed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_TEST_STATES = [TestState.PLANNED, TestState.SAMPLED, TestState.RESULTED]
OPEN_TEST = Q(state__in=OPEN_TEST_STATES)


# A retest of an out-of-specification result is recorded only once its phase I
# investigation is approved: the lowest layer's copy of `retest_blocker`.
RETEST_AFTER_APPROVAL = pgtrigger.Trigger(
    name="retest_after_approved_investigation",
    operation=pgtrigger.Insert,
    when=pgtrigger.Before,
    condition=pgtrigger.Q(new__retest_of__isnull=False),
    func="""
        IF EXISTS (
            SELECT 1 FROM qc_qctest o WHERE o.id = NEW.retest_of_id AND o.in_spec IS FALSE
        ) AND NOT EXISTS (
            SELECT 1 FROM qc_oosinvestigation i
            WHERE i.test_id = NEW.retest_of_id AND i.state = 'approved'
        ) THEN
            RAISE EXCEPTION 'test % is out of specification: it is retested only once its '
                'phase I investigation is approved by QA', NEW.retest_of_id;
        END IF;
        RETURN NEW;
    """,
)


def _signed_by() -> models.ForeignKey[Any, Any]:
    """Who sampled, resulted or reviewed a test: set late or never, so indexed only where set
    (QcTest.Meta.indexes)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )


@track_per_statement()
class QcTest(models.Model):
    # Found by `qctest_batch_state`, which leads with the batch.
    batch = models.ForeignKey(
        "batches.Batch", on_delete=models.PROTECT, related_name="qc_tests", db_index=False
    )
    definition = models.ForeignKey(QcTestDefinition, on_delete=models.PROTECT, related_name="+")
    retest_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="retests",
        db_index=False,
    )
    state = models.CharField(max_length=20, choices=TestState.choices, default=TestState.PLANNED)
    triggered_at = models.DateTimeField()
    sample_due_at = models.DateTimeField()
    due_at = models.DateTimeField(help_text="Result reviewed by this time, or overdue")
    sampled_at = models.DateTimeField(null=True, blank=True)
    sampled_by = _signed_by()
    result_numeric = models.FloatField(null=True, blank=True)
    result_text = FreeCharField(max_length=100, blank=True)
    result_unit = FreeCharField(max_length=40, blank=True)
    in_spec = models.BooleanField(null=True, blank=True)
    evaluation = FreeCharField(max_length=300, blank=True)
    resulted_at = models.DateTimeField(null=True, blank=True)
    resulted_by = _signed_by()
    result_source = FreeCharField(max_length=20, default="manual")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = _signed_by()
    # Set once by the scan that claims the flag; never by two (compare-and-set).
    due_soon_flagged_at = models.DateTimeField(null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        permissions = [
            ("record_qc_sample", "Record that a QC sample was taken"),
            ("enter_qc_result", "Enter a QC result"),
            ("review_qc_result", "Review a QC result (second person)"),
        ]
        indexes = [
            # The scan's three questions each read only open, not-yet-flagged rows.
            models.Index(
                fields=["due_at"],
                name="qctest_overdue_scan",
                condition=OPEN_TEST & Q(overdue_flagged_at__isnull=True),
            ),
            models.Index(
                fields=["due_at"],
                name="qctest_due_soon_scan",
                condition=OPEN_TEST & Q(due_soon_flagged_at__isnull=True),
            ),
            models.Index(
                fields=["overdue_flagged_at"],
                name="qctest_escalation_scan",
                condition=OPEN_TEST
                & Q(overdue_flagged_at__isnull=False, escalated_at__isnull=True),
            ),
            models.Index(fields=["batch", "state"], name="qctest_batch_state"),
            # The optional links are indexed where they are set: an open test (most of the
            # scan's flagging) then enters none of these, and each flag writes fewer indexes.
            *(
                models.Index(
                    fields=[link], name=f"qctest_{link}", condition=Q(**{f"{link}__isnull": False})
                )
                for link in ("retest_of", "sampled_by", "resulted_by", "reviewed_by")
            ),
            # The list's order (the other indexes hold open tests only): its first page is read
            # from the index, not sorted from the table.
            models.Index(fields=["due_at", "id"], name="qctest_due_order"),
            # The worklists' sections (overdue, to sample, due soon) in the same order: open
            # tests are few, and walking `qctest_due_order` would pass every finished one.
            models.Index(
                fields=["due_at", "id"], name="qctest_open_due_order", condition=OPEN_TEST
            ),
        ]
        triggers = [RETEST_AFTER_APPROVAL]

    def __str__(self):
        return f"{self.definition.name} for {self.batch.lot_number}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_TEST_STATES

    @property
    def is_reviewed(self) -> bool:
        return self.state == TestState.REVIEWED
