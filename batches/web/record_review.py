"""QA's review of a batch record by exception: the page shows first what needs judgement,
the checks that passed folded away with their count, and the signed review beneath."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from batches.presenters.release_queue import batches_for_release
from batches.selectors.record_review import batch_record_review
from batches.services import release
from batches.web.release import RecordReviewForm
from carnk_mfg.errors import Conflict
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service, deny, url_text


@allowed_to("batches.view_batch")
def record_review(request, lot_number):
    """GET: the review by exception. POST (QA): the signed review of the whole record."""
    batch = get_object_or_404(batches_for_release(), lot_number=url_text(lot_number))
    can_sign = actor_may(request.user, "batches.release_batch")
    form = RecordReviewForm(auto_id="record-review-%s")
    status = 200
    if request.method == "POST":
        if not can_sign:
            deny("batches.release_batch")
        form = RecordReviewForm(request.POST, auto_id="record-review-%s")
        if form.is_valid():
            try:
                done = call_service(form, lambda: _sign(request, batch, form))
            except Conflict as exc:
                form.add_error(None, str(exc))
                done, status = None, 409
            if done is not None:
                messages.success(request, f"Batch record of {batch.lot_number} reviewed (signed).")
                return redirect("release-queue")
    return render(
        request,
        "release/record_review.html",
        {
            "batch": batch,
            "review": batch_record_review(batch),
            "form": form,
            "can_sign": can_sign,
        },
        status=status,
    )


def _sign(request, batch, form):
    return release.batch_record_review(
        actor=request.user, password=form.cleaned_data["password"], batch=batch, request=request
    )
