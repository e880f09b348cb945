"""Pages of the batch record's lists, each a page at a time (the batch page shows the latest
few of each), and the correction of a cell count."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from batches.models import COUNT_STATES, Batch, CellCount
from batches.presenters.batch_lists import RECORD_LISTS, list_page
from batches.services import batch_record
from batches.web.forms.batch_record import CountCorrectionForm
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service, now_minute, url_text


def _batch(lot_number: str) -> Batch:
    try:
        return Batch.objects.select_related("source_unit").get(lot_number=url_text(lot_number))
    except Batch.DoesNotExist:
        raise Http404("No such batch.") from None


@allowed_to("batches.view_batch")
def batch_record_list(request, lot_number, key):
    batch = _batch(lot_number)
    if key not in RECORD_LISTS:
        raise Http404("The batch record has no such list.")
    context = list_page(batch, key, request.GET.get("page"))
    context["may_correct"] = (
        actor_may(request.user, "batches.record_count") and batch.state in COUNT_STATES
    )
    return render(request, "batches/record_list.html", context)


@allowed_to("batches.record_count")
@require_http_methods(["GET", "POST"])
def count_correct(request, lot_number, pk):
    """Record a count that replaces one of the batch's counts, with the reason."""
    batch = _batch(lot_number)
    count = (
        CellCount.objects.select_related("corrected_by", "recorded_by")
        .filter(batch=batch, pk=pk)
        .first()
    )
    if count is None:
        raise Http404("No such count on this batch.")
    if request.method == "POST":
        form = CountCorrectionForm(request.POST, auto_id="correction-%s")
        if form.is_valid():
            correction = call_service(
                form,
                lambda: batch_record.cell_count_record(
                    actor=request.user,
                    batch=batch,
                    day=count.day,
                    corrects=count.pk,
                    **form.cleaned_data,
                ),
            )
            if correction is not None:
                messages.success(
                    request, f"Count {count.pk} corrected: {correction} (count {correction.pk})."
                )
                return redirect(batch)
    else:
        form = CountCorrectionForm(
            auto_id="correction-%s",
            initial={
                "measured_at": now_minute(),
                "volume_ml": count.volume_ml,
            },
        )
    return render(
        request, "batches/count_correct.html", {"batch": batch, "count": count, "form": form}
    )
