"""Process templates: QA approval (signed) and new versions. An approved version never
changes (database triggers refuse it); a change is a new draft version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from batches.models import ProcessTemplate, StepParameter, TemplateStatus, TemplateStep
from carnk_mfg.audit import gmp_write
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.signatures import signed_write

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def template_approve(
    *,
    actor: User,
    password: str,
    template: ProcessTemplate,
    reason: str = "Template approved for use",
    request: HttpRequest | None = None,
) -> ProcessTemplate:
    with signed_write(
        actor=actor,
        password=password,
        permission="batches.approve_processtemplate",
        meaning=SignatureMeaning.APPROVED,
        label=f"Process template {template}",
        reason=reason,
        request=request,
    ) as signing:
        locked = ProcessTemplate.objects.select_for_update().get(pk=template.pk)
        if locked.status != TemplateStatus.DRAFT:
            raise ValidationError({"status": f"{locked} is {locked.status}, not a draft."})
        if not locked.steps.exists():
            raise ValidationError({"steps": "A template without steps cannot be approved."})
        # An approved earlier version of the same code is retired by the new one.
        ProcessTemplate.objects.filter(code=locked.code, status=TemplateStatus.APPROVED).update(
            status=TemplateStatus.RETIRED
        )
        locked.status = TemplateStatus.APPROVED
        locked.approved_by = actor
        locked.approved_at = timezone.now()
        locked.save()
        signing.sign(locked, attests="template", comment=reason)
    return locked


def template_new_version(*, actor: User, template: ProcessTemplate, reason: str) -> ProcessTemplate:
    """Copy a template, steps and parameters into the next draft version for editing."""
    with gmp_write(actor=actor, permission="batches.add_processtemplate", reason=reason):
        latest = ProcessTemplate.objects.filter(code=template.code).aggregate(v=Max("version"))["v"]
        draft = ProcessTemplate.objects.create(
            code=template.code,
            version=latest + 1,
            name=template.name,
            construct=template.construct,
            product=template.product,
            expected_fold_min=template.expected_fold_min,
            expected_fold_max=template.expected_fold_max,
            notes=template.notes,
        )
        for step in template.steps.prefetch_related("parameters"):
            params = list(step.parameters.all())
            step.pk = None
            step.template = draft
            step.save()
            StepParameter.objects.bulk_create(
                [StepParameter(**{**_fields(p), "step": step}) for p in params]
            )
    return draft


def _fields(param: StepParameter) -> dict[str, Any]:
    return {
        f.name: getattr(param, f.name)
        for f in StepParameter._meta.concrete_fields
        if f.name not in ("id", "step")
    }


__all__ = ["template_approve", "template_new_version", "TemplateStep"]
