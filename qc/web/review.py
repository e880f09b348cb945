"""Several results of one batch reviewed in one sitting: the results awaiting the user's
review, each with a checkbox, and one e-signature for the chosen ones (`qc_results_review`:
each its own review and signature, all or none)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html

from batches.models import Batch
from carnk_mfg.forms import ESignForm
from carnk_mfg.web import allowed_to, call_service, url_text
from qc.presenters.results import batch_review_page
from qc.services import results
from qc.web.results import confirm


class BatchReviewForm(ESignForm):
    """The results chosen (all, unless unticked) and the reviewer's password."""

    tests = forms.TypedMultipleChoiceField(
        label="Results to review",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one result to review.",
            "invalid_choice": "A chosen result no longer awaits your review; "
            "the list below is as it stands now.",
        },
    )

    def __init__(self, *args, rows, **kwargs):
        kwargs.setdefault("auto_id", "batch-review-%s")
        super().__init__(*args, **kwargs)
        tests = cast("forms.TypedMultipleChoiceField", self.fields["tests"])
        tests.choices = [(row["test"].pk, str(row["test"])) for row in rows]
        tests.initial = [row["test"].pk for row in rows]


@allowed_to("qc.review_qc_result")
def batch_review(request, lot_number):
    batch = get_object_or_404(Batch, lot_number=url_text(lot_number))
    context = batch_review_page(batch=batch, user=request.user)
    rows = context["rows"]
    if request.method == "POST":
        form = BatchReviewForm(request.POST, rows=rows)
        if form.is_valid():
            by_pk = {row["test"].pk: row["test"] for row in rows}
            done = call_service(
                form,
                lambda: results.qc_results_review(
                    actor=request.user,
                    password=form.cleaned_data["password"],
                    tests=[by_pk[pk] for pk in form.cleaned_data["tests"]],
                    request=request,
                ),
            )
            if done:
                confirm(
                    request,
                    format_html(
                        "{} {} of batch {} reviewed, each signed.",
                        len(done),
                        "result" if len(done) == 1 else "results",
                        batch.lot_number,
                    ),
                    done[-1],
                )
                return redirect(reverse("qc-batch-review", args=[batch.lot_number]))
    else:
        form = BatchReviewForm(rows=rows)
    chosen = {str(pk) for pk in (form["tests"].value() or [])}
    for row in rows:
        row["checked"] = str(row["test"].pk) in chosen
    return render(request, "qc/batch_review.html", {**context, "form": form})
