"""The QC analysts' worklist: open tests due now, due soon, overdue, and awaiting review."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to
from qc.presenters.worklist import worklist_sections


@allowed_to("qc.view_qctest")
def worklist(request):
    now = timezone.now()
    sections = worklist_sections(
        actor=request.user, now=now, may_review=actor_may(request.user, "qc.review_qc_result")
    )
    return render(request, "qc/worklist.html", {"sections": sections, "now": now})
