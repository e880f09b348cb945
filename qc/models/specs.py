"""Versioned QC specification sets: the release panel of a process template, each test's
method and limits, and the step that triggers it."""

import pghistory
from django.conf import settings
from django.db import models

from batches.models.templates import TEMPLATE_FROZEN, TemplateStatus, child_frozen
from carnk_mfg.fields import FreeCharField
from carnk_mfg.notation import lab_number_text

# Spec sets live like templates: draft, approved (frozen), retired.
SpecStatus = TemplateStatus


class ResultType(models.TextChoices):
    NUMERIC = "numeric", "Numeric"
    PASS_FAIL = "pass_fail", "Pass/fail"
    CATEGORICAL = "categorical", "Categorical"


@pghistory.track()
class QcSpecSet(models.Model):
    """A versioned release panel for one process template, approved by QA before use."""

    template = models.ForeignKey(
        "batches.ProcessTemplate", on_delete=models.PROTECT, related_name="spec_sets"
    )
    version = models.PositiveIntegerField()
    name = FreeCharField(max_length=200)
    status = models.CharField(max_length=20, choices=SpecStatus.choices, default=SpecStatus.DRAFT)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["template", "-version"]
        permissions = [("approve_qcspecset", "Approve a QC specification set")]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="specset_version"),
        ]
        triggers = TEMPLATE_FROZEN

    def __str__(self):
        return f"{self.name} v{self.version}"


@pghistory.track()
class QcTestDefinition(models.Model):
    spec_set = models.ForeignKey(QcSpecSet, on_delete=models.CASCADE, related_name="definitions")
    code = models.SlugField(max_length=40)
    name = FreeCharField(max_length=200)
    method = FreeCharField(max_length=200)
    result_type = models.CharField(max_length=20, choices=ResultType.choices)
    unit = FreeCharField(max_length=40, blank=True)
    lower_limit = models.FloatField(null=True, blank=True)
    upper_limit = models.FloatField(null=True, blank=True)
    # Limits are inclusive unless marked strict (e.g. endotoxin < 5.0 EU/mL is strict).
    lower_strict = models.BooleanField(default=False)
    upper_strict = models.BooleanField(default=False)
    # Categorical and pass/fail: the allowed answers, and those that are in spec.
    allowed_values = models.JSONField(default=list, blank=True)
    passing_values = models.JSONField(default=list, blank=True)
    trigger_step_code = models.SlugField(max_length=40)
    sample_offset_hours = models.PositiveIntegerField(default=0)
    turnaround_hours = models.PositiveIntegerField()
    required_for_release = models.BooleanField(default=True)
    may_release_pending = models.BooleanField(default=False)

    class Meta:
        ordering = ["spec_set", "id"]
        constraints = [
            models.UniqueConstraint(fields=["spec_set", "code"], name="qc_definition_code"),
        ]
        triggers = [
            child_frozen(
                "SELECT s.status FROM qc_qcspecset s "
                "WHERE s.id = COALESCE(NEW.spec_set_id, OLD.spec_set_id)"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def spec_text(self) -> str:
        """The specification as the lab reads it: "at least 70 %", "less than 2 × 10⁵
        cells/kg", "negative"; every page, message, API answer and certificate shows this."""
        if self.result_type != ResultType.NUMERIC:
            return " or ".join(self.passing_values)
        parts = []
        if self.lower_limit is not None:
            words = "more than" if self.lower_strict else "at least"
            parts.append(f"{words} {lab_number_text(self.lower_limit)}")
        if self.upper_limit is not None:
            words = "less than" if self.upper_strict else "at most"
            parts.append(f"{words} {lab_number_text(self.upper_limit)}")
        return f"{' and '.join(parts) or 'any value'} {self.unit}".strip()
