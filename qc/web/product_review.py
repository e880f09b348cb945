"""The periodic product review PDF of one template version over a date range."""

from __future__ import annotations

from datetime import date

from django import forms
from django.http import HttpResponse

from batches.models import ProcessTemplate
from carnk_mfg.web import allowed_to
from qc.documents.product_review import product_review_pdf
from qc.selectors.product_review import product_review

# A review longer than this is not a periodic review, and its PDF would be unwieldy.
LONGEST_PERIOD_DAYS = 5 * 366


class ProductReviewForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=ProcessTemplate.objects.all(),
        error_messages={"invalid_choice": "No such process template version."},
    )
    start = forms.DateField(input_formats=["%Y-%m-%d"])
    end = forms.DateField(input_formats=["%Y-%m-%d"])

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, date) and isinstance(end, date):
            if end < start:
                self.add_error("end", "The period ends before it starts.")
            elif (end - start).days > LONGEST_PERIOD_DAYS:
                self.add_error("end", "A product review covers at most five years.")
        return data


@allowed_to("qc.view_trendattribute")
def product_review_download(request):
    form = ProductReviewForm(request.GET)
    if not form.is_valid():
        problems = [f"{field}: {m}" for field, errors in form.errors.items() for m in errors]
        text = "The product review was not made:\n" + "\n".join(problems)
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
    template, start, end = (form.cleaned_data[k] for k in ("template", "start", "end"))
    pdf = product_review_pdf(product_review(template, start, end))
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"product-review-{template.code}-v{template.version}-{start:%Y%m%d}-{end:%Y%m%d}"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    response["Content-Disposition"] = f'inline; filename="{safe}.pdf"'
    return response
