"""QC specification set pages: the panel of a template version, and QA's signed approval of a
draft."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from carnk_mfg.forms import ESignForm
from carnk_mfg.roles import actor_may
from carnk_mfg.signatures import signatures_for
from carnk_mfg.web import allowed_to, call_service, require
from qc.models import SpecStatus
from qc.presenters.specs import spec_sets_for_list, spec_sets_for_page
from qc.services.specs import qc_spec_set_approve


@allowed_to("qc.view_qcspecset")
def spec_set_list(request):
    return render(request, "qc/specs/list.html", {"spec_sets": spec_sets_for_list()})


@allowed_to("qc.view_qcspecset")
@require_http_methods(["GET", "POST"])
def spec_set_detail(request, pk):
    spec_set = get_object_or_404(spec_sets_for_page(), pk=pk)
    form = ESignForm(request.POST or None, auto_id="approve-%s")
    if request.method == "POST":
        require(request, "qc.approve_qcspecset")
        if form.is_valid():
            approved = call_service(
                form,
                lambda: qc_spec_set_approve(
                    actor=request.user, request=request, spec_set=spec_set, **form.cleaned_data
                ),
            )
            if approved is not None:
                messages.success(request, f"{approved} approved and signed.")
                return redirect("spec-set-detail", pk=spec_set.pk)
    return render(
        request,
        "qc/specs/detail.html",
        {
            "spec_set": spec_set,
            "form": form,
            "can_approve": actor_may(request.user, "qc.approve_qcspecset")
            and spec_set.status == SpecStatus.DRAFT,
            "signature_list": signatures_for(spec_set),
        },
    )
