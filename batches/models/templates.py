"""Process templates (master batch records): versioned, QA-approved, then frozen."""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from carnk_mfg.fields import FreeCharField, FreeTextField
from carnk_mfg.notation import spec_range_text


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    RETIRED = "retired", "Retired"


class ValueType(models.TextChoices):
    NUMBER = "number", "Number"
    TEXT = "text", "Text"
    CHOICE = "choice", "Choice"
    BOOLEAN = "boolean", "Yes/no"
    # The batch's source cord blood unit, scanned (DIN barcode) or typed with its check
    # character; anything but the batch's own unit is refused.
    UNIT_DIN = "unit_din", "Source unit DIN (scanned)"


class MaterialKind(models.TextChoices):
    VECTOR = "vector", "Retroviral vector"
    FEEDER = "feeder", "Feeder cells"
    REAGENT = "reagent", "Reagent"


# Once approved, a template's content is frozen: only approved -> retired may change it.
TEMPLATE_FROZEN = [
    pgtrigger.Protect(
        name="frozen_once_approved",
        operation=pgtrigger.Update,
        condition=(pgtrigger.Q(old__status="approved") & ~pgtrigger.Q(new__status="retired"))
        | pgtrigger.Q(old__status="retired"),
    ),
    pgtrigger.Protect(
        name="kept_once_approved",
        operation=pgtrigger.Delete,
        condition=pgtrigger.Q(old__status__in=["approved", "retired"]),
    ),
]


def child_frozen(status_query: str) -> pgtrigger.Trigger:
    """Refuse any change to a template's steps or parameters once the template is approved.
    `status_query` selects the owning template's status for the changed row."""
    return pgtrigger.Trigger(
        name="frozen_with_template",
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        when=pgtrigger.Before,
        func=f"""
            IF ({status_query}) IN ('approved', 'retired') THEN
                RAISE EXCEPTION 'process template is approved and cannot change; '
                    'make a new version';
            END IF;
            RETURN COALESCE(NEW, OLD);
        """,
    )


@pghistory.track()
class ProcessTemplate(models.Model):
    code = FreeCharField(max_length=40)
    version = models.PositiveIntegerField()
    name = FreeCharField(max_length=200)
    construct = FreeCharField(max_length=80, default="iC9/CAR.19/IL15")
    # The product this master batch record makes: its codes, label statements and stability.
    product = models.ForeignKey(
        "batches.ProductDefinition",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="templates",
    )
    # Fold expansion of total viable cells from day 0 expected at harvest (flag outside).
    expected_fold_min = models.FloatField()
    expected_fold_max = models.FloatField()
    status = models.CharField(
        max_length=20, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT
    )
    notes = FreeTextField(blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code", "-version"]
        permissions = [("approve_processtemplate", "Approve a process template version")]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="template_code_version"),
            models.CheckConstraint(
                condition=Q(
                    expected_fold_min__gt=0, expected_fold_max__gte=models.F("expected_fold_min")
                ),
                name="template_fold_range",
            ),
        ]
        triggers = TEMPLATE_FROZEN

    def __str__(self):
        return f"{self.code} v{self.version}"


@pghistory.track()
class TemplateStep(models.Model):
    template = models.ForeignKey(ProcessTemplate, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField()
    code = models.SlugField(max_length=40)
    name = FreeCharField(max_length=200)
    planned_day = models.IntegerField()
    # Performed after planned_day + late_after_days, the step is late (a deviation).
    late_after_days = models.PositiveIntegerField(default=1)
    # e.g. ["feeder", "reagent:il2"]: kinds of material lots the step consumes.
    material_kinds = models.JSONField(default=list, blank=True)
    # e.g. ["biosafety_cabinet"]: kinds of equipment the step must record using.
    equipment_kinds = models.JSONField(default=list, blank=True)
    is_harvest = models.BooleanField(default=False)
    instructions = FreeTextField(blank=True)

    class Meta:
        ordering = ["template", "order"]
        constraints = [
            models.UniqueConstraint(fields=["template", "order"], name="step_order_unique"),
            models.UniqueConstraint(fields=["template", "code"], name="step_code_unique"),
        ]
        triggers = [
            child_frozen(
                "SELECT t.status FROM batches_processtemplate t "
                "WHERE t.id = COALESCE(NEW.template_id, OLD.template_id)"
            )
        ]

    def __str__(self):
        return f"{self.order}. {self.name} (day {self.planned_day})"


@pghistory.track()
class StepParameter(models.Model):
    step = models.ForeignKey(TemplateStep, on_delete=models.CASCADE, related_name="parameters")
    code = models.SlugField(max_length=40)
    name = FreeCharField(max_length=200)
    value_type = models.CharField(max_length=10, choices=ValueType.choices)
    unit = FreeCharField(max_length=30, blank=True)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    choices = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["step", "id"]
        constraints = [
            models.UniqueConstraint(fields=["step", "code"], name="parameter_code_unique"),
        ]
        triggers = [
            child_frozen(
                "SELECT t.status FROM batches_processtemplate t JOIN batches_templatestep s "
                "ON s.template_id = t.id WHERE s.id = COALESCE(NEW.step_id, OLD.step_id)"
            )
        ]

    def __str__(self):
        unit = f" ({self.unit})" if self.unit else ""
        return f"{self.name}{unit}"

    @property
    def range_text(self) -> str:
        if self.min_value is None and self.max_value is None:
            return ""
        return spec_range_text(self.min_value, self.max_value, self.unit)
