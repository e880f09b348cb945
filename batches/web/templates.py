"""Process template pages: the versions, one version with its steps, and QA's signed approval
of a draft."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from batches.models import ProcessTemplate, TemplateStatus
from batches.presenters.templates import template_versions, templates_for_page
from batches.services import templates
from carnk_mfg.audit import audit_history
from carnk_mfg.forms import ESignForm, textarea_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service, deny, history_rows, signature_rows


class TemplateApproveForm(ESignForm):
    reason = textarea_field("Reason", help_text="Recorded with your signature.")


@allowed_to("batches.view_processtemplate")
def template_list(request):
    return render(
        request,
        "batches/templates_list.html",
        {
            "templates": template_versions(),
            "can_approve": actor_may(request.user, "batches.approve_processtemplate"),
        },
    )


@allowed_to("batches.view_processtemplate")
@require_http_methods(["GET", "POST"])
def template_detail(request, pk):
    """GET shows the template version; POST is QA's signed approval of a draft."""
    template = get_object_or_404(templates_for_page(), pk=pk)
    can_approve = actor_may(request.user, "batches.approve_processtemplate")
    form = TemplateApproveForm(auto_id="approve-%s", initial={"reason": "Approved for use"})
    if request.method == "POST":
        if not can_approve:
            deny("batches.approve_processtemplate")
        form = TemplateApproveForm(request.POST, auto_id="approve-%s")
        if form.is_valid():
            approved = call_service(
                form,
                lambda: templates.template_approve(
                    actor=request.user, request=request, template=template, **form.cleaned_data
                ),
            )
            if approved is not None:
                messages.success(request, f"{approved} approved and signed.")
                return redirect("template-detail", pk=approved.pk)
    return render(
        request,
        "batches/template_detail.html",
        {
            "template": template,
            "can_approve": can_approve and template.status == TemplateStatus.DRAFT,
            "form": form,
            "signatures": signature_rows(template),
            "history": history_rows(audit_history(template), ProcessTemplate),
        },
    )
