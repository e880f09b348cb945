"""Continued process verification: the figures trended across batches, their points, the
baseline QA fixes for the control limits, and the run-rule signals QA assesses."""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from carnk_mfg.fields import FreeCharField, FreeTextField


class TrendSource(models.TextChoices):
    STEP_PARAMETER = "step_parameter", "Step parameter"
    CELL_COUNT = "cell_count", "Figure from the cell counts"
    STEP_TIMING = "step_timing", "Step timing"
    QC_RESULT = "qc_result", "QC result"


@pghistory.track()
class TrendAttribute(models.Model):
    """One figure followed from batch to batch, for one template version (and, for a QC
    result, one spec version). Found in the batch record by the trend scan, never typed."""

    template = models.ForeignKey(
        "batches.ProcessTemplate", on_delete=models.PROTECT, related_name="trend_attributes"
    )
    spec_set = models.ForeignKey(
        "qc.QcSpecSet",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trend_attributes",
    )
    source = models.CharField(max_length=20, choices=TrendSource.choices)
    # What the figure is, in the lab's words and stable across scans: "step:thaw:volume_ml",
    # "fold:14", "doublings:14", "tvc_harvest", "hours_to:harvest", "qc:viability".
    key = FreeCharField(max_length=120)
    name = FreeCharField(max_length=200)
    unit = FreeCharField(max_length=40, blank=True)
    spec_lower = models.FloatField(null=True, blank=True)
    spec_upper = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["template", "source", "key"]
        permissions = [
            ("fix_trend_baseline", "Fix the baseline of a trended figure (signed)"),
            ("assess_trend_signal", "Assess a trend signal (signed)"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "key", "spec_set"],
                nulls_distinct=False,
                name="trend_attribute_once",
            ),
            # A QC result is trended per spec version; nothing else has one.
            models.CheckConstraint(
                condition=Q(source="qc_result", spec_set__isnull=False)
                | (~Q(source="qc_result") & Q(spec_set__isnull=True)),
                name="trend_attribute_spec_set_for_qc_only",
            ),
        ]

    def __str__(self):
        unit = f" ({self.unit})" if self.unit else ""
        return f"{self.name}{unit}, {self.template}"


class TrendPoint(models.Model):
    """A batch's value of one attribute, with when it was made: kept in step with the batch
    record by the trend scan (derived, so its history is the record's own trail)."""

    attribute = models.ForeignKey(TrendAttribute, on_delete=models.CASCADE, related_name="points")
    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT, related_name="+")
    value = models.FloatField()
    observed_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["attribute", "observed_at", "batch_id"]
        constraints = [
            models.UniqueConstraint(fields=["attribute", "batch"], name="trend_point_once"),
            # No NaN or infinity reaches a chart or a limit.
            models.CheckConstraint(
                condition=Q(value__gt=float("-inf"), value__lt=float("inf")),
                name="trend_point_finite",
            ),
        ]
        indexes = [
            # A chart reads one attribute's points in time order: an index range, whatever
            # the number of batches.
            models.Index(fields=["attribute", "observed_at", "batch"], name="trend_point_series"),
        ]

    def __str__(self):
        return f"{self.attribute.name}: {self.value:g} ({self.batch_id})"


@pghistory.track()
class TrendBaseline(models.Model):
    """The points QA chose for an attribute's control limits, with the limits as computed
    then (later corrections to a point do not move signed limits). The newest is in force."""

    attribute = models.ForeignKey(
        TrendAttribute, on_delete=models.PROTECT, related_name="baselines"
    )
    points = models.ManyToManyField(TrendPoint, related_name="baselines")
    # How the points were chosen, as QA said it: the lots, or a date range.
    chosen_as = FreeCharField(max_length=300)
    centre = models.FloatField()
    sigma = models.FloatField()
    mean_moving_range = models.FloatField()
    point_count = models.PositiveIntegerField()
    # The newest point of the baseline: points made after it are judged against it.
    covers_until = models.DateTimeField()
    reason = FreeTextField()
    fixed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    fixed_at = models.DateTimeField()

    class Meta:
        ordering = ["attribute", "-fixed_at", "-id"]
        # Signed limits stay as signed: a new baseline replaces one, nothing edits it.
        triggers = [
            pgtrigger.Protect(name="baseline_final", operation=pgtrigger.Update | pgtrigger.Delete)
        ]
        constraints = [
            models.CheckConstraint(condition=Q(sigma__gte=0), name="trend_baseline_sigma"),
            models.CheckConstraint(condition=Q(point_count__gte=2), name="trend_baseline_points"),
        ]

    def __str__(self):
        fixed = f"{self.fixed_at:%Y-%m-%d}"
        return f"Baseline of {self.attribute.name} ({self.point_count} points, {fixed})"


class SignalAssessment(models.TextChoices):
    NO_ACTION = "no_action", "No action needed"
    INVESTIGATION = "investigation", "Investigation opened"


@pghistory.track()
class TrendSignal(models.Model):
    """A run rule a new point fired against the baseline in force, raised once per point and
    rule; QA assesses it with a signature."""

    point = models.ForeignKey(TrendPoint, on_delete=models.PROTECT, related_name="signals")
    baseline = models.ForeignKey(TrendBaseline, on_delete=models.PROTECT, related_name="signals")
    rule = FreeCharField(max_length=80)
    value = models.FloatField()  # the point's value when it fired
    raised_at = models.DateTimeField()
    assessment = models.CharField(max_length=20, choices=SignalAssessment.choices, blank=True)
    assessment_comment = FreeTextField(blank=True)
    investigation_reference = FreeCharField(max_length=60, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["point", "rule"], name="trend_signal_once"),
            # An assessment is whole or absent, and an investigation is named.
            models.CheckConstraint(
                condition=Q(assessment="", assessed_by__isnull=True, assessed_at__isnull=True)
                | (
                    ~Q(assessment="")
                    & Q(assessed_by__isnull=False, assessed_at__isnull=False)
                    & Q(assessment_comment__regex=r"\S")
                ),
                name="trend_signal_assessment_whole",
            ),
            models.CheckConstraint(
                condition=~Q(assessment="investigation") | Q(investigation_reference__regex=r"\S"),
                name="trend_signal_investigation_named",
            ),
        ]
        indexes = [
            models.Index(fields=["raised_at"], name="trend_signal_open", condition=Q(assessment=""))
        ]
        triggers = [
            # The signed assessment is final, and what fired never changes.
            pgtrigger.Trigger(
                name="signal_assessed_once",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.Condition(
                    "OLD.assessed_at IS NOT NULL"
                    " OR OLD.point_id IS DISTINCT FROM NEW.point_id"
                    " OR OLD.rule IS DISTINCT FROM NEW.rule"
                    " OR OLD.value IS DISTINCT FROM NEW.value"
                    " OR OLD.baseline_id IS DISTINCT FROM NEW.baseline_id"
                ),
                func="RAISE EXCEPTION 'trend signal %: what fired and its signed assessment "
                "stay as they are', OLD.id; RETURN NULL;",
            ),
            pgtrigger.Protect(name="signal_kept", operation=pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.rule}: {self.point}"


class TrendScan(models.Model):
    """The one row that says up to when the batch record has been read into trend points."""

    read_up_to = models.DateTimeField()

    def __str__(self):
        return f"Trend points read up to {self.read_up_to:%Y-%m-%d %H:%M}"
