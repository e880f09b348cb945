"""One QC test's page and its actions: the sample taken, the result entered, the signed
second-person review, and a retest. `actor_may` decides what is shown and what a POST may do
(403 otherwise); one QC service call per POST, and a refusal becomes form errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from carnk_mfg.forms import ESignForm, datetime_field
from carnk_mfg.web import allowed_to, call_service, form_messages
from qc.models import QcTest, ResultType
from qc.presenters.results import qc_test_page, qc_tests_for_page, result_entry, shown_result
from qc.selectors import qc_next_test
from qc.services import results

if TYPE_CHECKING:
    from django.http import HttpRequest

    from qc.presenters.results import MarkedTest

# --- forms: they check the shape of what was typed; the QC services evaluate results against
# the spec and decide what is allowed.


class SampleForm(forms.Form):
    sampled_at = datetime_field(
        "Sampled at", required=False, help_text="Blank: now. Not before the triggering step."
    )


class ResultForm(forms.Form):
    """A number with its unit for a numeric test; one of the allowed answers otherwise."""

    def __init__(self, *args, definition, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        if definition.result_type == ResultType.NUMERIC:
            # The unit is the specification's, shown beside the input rather than typed, so
            # the analyst enters in the unit they see (CD3+ as % or per kg is easily confused).
            entry = result_entry(definition)
            self.unit = entry["unit"]
            self.fields["value"] = forms.CharField(
                label=f"Result in {self.unit}" if self.unit else "Result",
                max_length=40,
                help_text=entry["help"],
                widget=forms.TextInput(
                    attrs={"inputmode": entry["inputmode"], "autocomplete": "off"}
                ),
            )
        else:
            allowed = definition.allowed_values or definition.passing_values
            self.fields["value"] = forms.ChoiceField(
                label="Result",
                choices=[("", "— choose —"), *[(a, a) for a in allowed]],
                help_text=f"In specification: {definition.spec_text}",
            )

    @property
    def is_numeric(self) -> bool:
        return self.definition.result_type == ResultType.NUMERIC

    def service_arguments(self) -> dict:
        # No unit given: the service evaluates in the specification's own unit.
        return {"value": self.cleaned_data["value"]}


class ReviewForm(ESignForm):
    """Second-person review: the reviewer signs with their password."""


class RetestForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the retest",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The original result stays on record; the retest is a new test.",
    )


# --- views ---


def confirm(request: HttpRequest, text: str, done: QcTest, *, warning: bool = False) -> None:
    """The confirmation of an action, offering the next test of the worklist the user can act
    on (other than the one just done)."""
    following = qc_next_test(user=request.user, now=timezone.now(), after=done)
    if following is None:
        offer = format_html(
            'Nothing else in the <a href="{}">worklist</a> waits for you.', reverse("qc-worklist")
        )
    else:
        offer = format_html(
            'Next test: <a class="next-test" href="{}">{}</a>',
            reverse("qc-test", args=[following.pk]),
            following,
        )
    (messages.warning if warning else messages.success)(request, format_html("{} {}", text, offer))


# Which context flag shows each action's form on the test page.
FORM_SHOWN = {
    "sample_form": "show_sample_form",
    "result_form": "show_result_form",
    "review_form": "show_review_form",
    "retest_form": "show_retest_form",
}


def _test_or_404(pk: int) -> MarkedTest:
    return get_object_or_404(qc_tests_for_page(now=timezone.now()), pk=pk)


def _test_page(request, test: MarkedTest, **bound_forms):
    """The test page; a refused action passes its bound form so its errors show in place."""
    context = qc_test_page(test, user=request.user, now=timezone.now())
    context.update(
        sample_form=SampleForm(auto_id="sample-%s"),
        result_form=ResultForm(definition=test.definition, auto_id="result-%s"),
        review_form=ReviewForm(auto_id="review-%s"),
        retest_form=RetestForm(auto_id="retest-%s"),
    )
    context.update(bound_forms)
    # A refused action whose form is no longer offered (e.g. the analyst's own review, or a
    # sample already taken) still says why, at the top of the page.
    context["refused"] = [
        message
        for name, form in bound_forms.items()
        if not context[FORM_SHOWN[name]]
        for message in form_messages(form)
    ]
    return render(request, "qc/test.html", context)


@allowed_to("qc.view_qctest")
def test_detail(request, pk):
    return _test_page(request, _test_or_404(pk))


@allowed_to("qc.record_qc_sample")
@require_POST
def test_sample(request, pk):
    test = _test_or_404(pk)
    form = SampleForm(request.POST, auto_id="sample-%s")
    if form.is_valid():
        done = call_service(
            form,
            lambda: results.qc_sample_record(
                actor=request.user, test=test, sampled_at=form.cleaned_data["sampled_at"]
            ),
        )
        if done is not None:
            confirm(request, f"Sample of {done} recorded.", done)
            return redirect("qc-test", pk=done.pk)
    return _test_page(request, test, sample_form=form)


@allowed_to("qc.enter_qc_result")
@require_POST
def test_result(request, pk):
    test = _test_or_404(pk)
    form = ResultForm(request.POST, definition=test.definition, auto_id="result-%s")
    if form.is_valid():
        done = call_service(
            form,
            lambda: results.qc_result_enter(
                actor=request.user, test=test, **form.service_arguments()
            ),
        )
        if done is not None:
            entered = f"Result entered: {shown_result(done)} for {done}."
            if done.in_spec is False:
                confirm(
                    request,
                    f"{entered} OUT OF SPECIFICATION ({done.definition.spec_text}): a deviation "
                    "was opened and the batch is held until QA dispositions it.",
                    done,
                    warning=True,
                )
            else:
                confirm(request, f"{entered} In specification.", done)
            return redirect("qc-test", pk=done.pk)
    return _test_page(request, test, result_form=form)


@allowed_to("qc.review_qc_result")
@require_POST
def test_review(request, pk):
    test = _test_or_404(pk)
    form = ReviewForm(request.POST, auto_id="review-%s")
    if form.is_valid():
        done = call_service(
            form,
            lambda: results.qc_result_review(
                actor=request.user,
                request=request,
                test=test,
                password=form.cleaned_data["password"],
            ),
        )
        if done is not None:
            confirm(request, f"Result of {done} reviewed and signed.", done)
            return redirect("qc-test", pk=done.pk)
    return _test_page(request, test, review_form=form)


@allowed_to("qc.enter_qc_result")
@require_POST
def test_retest(request, pk):
    test = _test_or_404(pk)
    form = RetestForm(request.POST, auto_id="retest-%s")
    if form.is_valid():
        retest = call_service(
            form,
            lambda: results.qc_retest(
                actor=request.user, test=test, reason=form.cleaned_data["reason"]
            ),
        )
        if retest is not None:
            confirm(request, f"Retest created; the original result of {test} stays.", retest)
            return redirect("qc-test", pk=retest.pk)
    return _test_page(request, test, retest_form=form)
