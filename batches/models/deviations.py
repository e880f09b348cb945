"""Deviations: departures from the procedure, recorded when they happen, classified by QA
with their root cause and closed only so (DESIGN section 4)."""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models

from batches.models.batch_record import Batch, ExecutedStep
from carnk_mfg.fields import FreeTextField


class DeviationKind(models.TextChoices):
    OUT_OF_RANGE = "out_of_range", "Parameter out of range"
    LATE = "late", "Step performed late"
    MATERIAL = "material", "Different or unusable material"
    OUT_OF_SPEC = "out_of_spec", "Out-of-specification result"
    INFUSED_VOLUME = "infused_volume", "Infused volume differs from the prescribed volume"
    ENVIRONMENTAL = "environmental", "Environmental monitoring excursion"
    OTHER = "other", "Other departure from procedure"


class DeviationState(models.TextChoices):
    OPEN = "open", "Open (awaiting QA)"
    CLOSED = "closed", "Closed"


class DeviationDisposition(models.TextChoices):
    ACCEPT = "accept", "Accept: continue manufacturing"
    REJECT_BATCH = "reject_batch", "Reject: terminate the batch"


class DeviationClassification(models.TextChoices):
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


# The classes of deviation that are closed only with a corrective and preventive action:
# a major or critical deviation may recur and touch other batches, so its cause is acted on
# (DESIGN: deviations are investigated to their root cause). Read here, by the closing
# check (`deviation_close_blocker`) and by the database's trigger below.
CAPA_REQUIRED = frozenset({DeviationClassification.MAJOR, DeviationClassification.CRITICAL})
CAPA_REQUIRED_SQL = ", ".join(f"'{c.value}'" for c in sorted(CAPA_REQUIRED))


@pghistory.track()
class Deviation(models.Model):
    """A departure from the procedure, recorded and justified when it happens
    (21 CFR 1271.47(d)); it holds the batch until QA dispositions it."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="deviations")
    step = models.ForeignKey(
        ExecutedStep, null=True, blank=True, on_delete=models.PROTECT, related_name="deviations"
    )
    kind = models.CharField(max_length=20, choices=DeviationKind.choices)
    what = FreeTextField("What departed from procedure")
    why = FreeTextField("Why")
    impact = FreeTextField("Impact assessment")
    state = models.CharField(
        max_length=10, choices=DeviationState.choices, default=DeviationState.OPEN
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField()
    disposition = models.CharField(max_length=20, choices=DeviationDisposition.choices, blank=True)
    disposition_notes = FreeTextField(blank=True)
    dispositioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispositioned_at = models.DateTimeField(null=True, blank=True)
    # QA's judgement of how far the product may be affected, and why it happened; both are
    # required before the deviation is closed (`deviation_close_blocker`).
    classification = models.CharField(
        max_length=10, choices=DeviationClassification.choices, blank=True
    )
    root_cause = FreeTextField("Root cause", blank=True)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    classified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "opened_at"]
        permissions = [
            ("classify_deviation", "Classify a deviation and record its root cause"),
        ]
        triggers = [
            # Closing asks what `deviation_close_blocker` asks, whatever path writes. A
            # trigger on the closing itself, not a check: deviations closed before
            # classification existed stay as they were recorded.
            pgtrigger.Trigger(
                name="deviation_closed_classified",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.Q(old__state="open") & pgtrigger.Q(new__state="closed"),
                func=f"""
                    IF NEW.classification = '' OR btrim(NEW.root_cause) = '' THEN
                        RAISE EXCEPTION 'deviation % is closed only once classified, with '
                            'its root cause', NEW.id;
                    END IF;
                    IF NEW.classification IN ({CAPA_REQUIRED_SQL}) AND NOT EXISTS (
                        SELECT 1 FROM batches_capadeviation l WHERE l.deviation_id = NEW.id
                    ) THEN
                        RAISE EXCEPTION 'a % deviation (%) is closed only with a CAPA',
                            NEW.classification, NEW.id;
                    END IF;
                    RETURN NEW;
                """,  # noqa: S608 - the classes are this module's constants
            ),
        ]

    def __str__(self):
        return f"Deviation {self.pk} on {self.batch.lot_number}: {self.get_kind_display()}"
