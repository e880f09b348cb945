"""QC pages (issue 4): the analysts' worklist, one test with its actions, and in-app notices.

Same shape as the batch pages: `actor_may` decides what is shown and what a POST may do
(403 otherwise), one QC service call per POST, and a refusal becomes form errors.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from carnk_mfg.audit import audit_history
from carnk_mfg.roles import actor_may
from carnk_mfg.signatures import signature_intact, signatures_for
from carnk_mfg.web import allowed_to, call_service, history_rows
from qc.forms import ResultForm, RetestForm, ReviewForm, SampleForm
from qc.models import Channel, Notification, QcTest, TestState
from qc.selectors import due_soon_q, overdue_q, with_overdue
from qc.services import results

# A worklist section longer than this is cut, with a note; open tests are few in practice.
SECTION_LIMIT = 200
NOTICES_PER_PAGE = 50
# Which context flag shows each action's form on the test page.
FORM_SHOWN = {
    "sample_form": "show_sample_form",
    "result_form": "show_result_form",
    "review_form": "show_review_form",
    "retest_form": "show_retest_form",
}


def _tests(now):
    return with_overdue(
        QcTest.objects.select_related("batch", "definition", "resulted_by"), now=now
    )


def _section(key, title, help_text, queryset):
    rows = list(queryset[: SECTION_LIMIT + 1])
    return {
        "key": key,
        "title": title,
        "help": help_text,
        "rows": rows[:SECTION_LIMIT],
        "cut": len(rows) > SECTION_LIMIT,
    }


@allowed_to("qc.view_qctest")
def worklist(request):
    now = timezone.now()
    lead = settings.QC_DUE_SOON_LEAD_HOURS
    overdue = overdue_q(now=now)
    sections = [
        _section(
            "due-now",
            "Due now",
            "The sample is due and no result is entered yet.",
            _tests(now)
            .filter(state__in=[TestState.PLANNED, TestState.SAMPLED], sample_due_at__lte=now)
            .exclude(overdue)
            .order_by("due_at", "id"),
        ),
        _section(
            "due-soon",
            "Due soon",
            f"Open tests whose result must be reviewed within {lead:g} h.",
            _tests(now)
            .filter(due_soon_q(now=now, lead=timedelta(hours=lead)))
            .order_by("due_at", "id"),
        ),
        _section(
            "overdue",
            "Overdue",
            "Open and past the time their result had to be reviewed.",
            _tests(now).filter(overdue).order_by("due_at", "id"),
        ),
        _section(
            "awaiting-review",
            "Awaiting review",
            "Resulted; a second person reviews and signs.",
            _tests(now).filter(state=TestState.RESULTED).order_by("due_at", "id"),
        ),
    ]
    return render(request, "qc/worklist.html", {"sections": sections, "now": now})


def _test_or_404(pk: int) -> QcTest:
    return get_object_or_404(
        with_overdue(QcTest.objects.all(), now=timezone.now()).select_related(
            "batch",
            "batch__intended_recipient",
            "definition",
            "definition__spec_set",
            "sampled_by",
            "resulted_by",
            "reviewed_by",
            "retest_of",
        ),
        pk=pk,
    )


def _test_page(request, test: QcTest, **bound_forms):
    """The test page; a refused action passes its bound form so its errors show in place."""
    user = request.user
    now = timezone.now()
    state = test.state
    may_result = actor_may(user, "qc.enter_qc_result")
    may_review = actor_may(user, "qc.review_qc_result")
    own_result = test.resulted_by_id is not None and test.resulted_by_id == user.pk
    context = {
        "test": test,
        "definition": test.definition,
        "overdue": test.overdue,
        "sample_due": test.sample_due_at <= now,
        "alerts": list(test.alerts.all()),
        "retests": list(test.retests.select_related("definition")),
        "show_sample_form": actor_may(user, "qc.record_qc_sample") and state == TestState.PLANNED,
        "show_result_form": may_result and state in (TestState.PLANNED, TestState.SAMPLED),
        "may_review": may_review and state == TestState.RESULTED,
        "own_result": own_result,
        "show_review_form": may_review and state == TestState.RESULTED and not own_result,
        "show_retest_form": may_result and state in (TestState.RESULTED, TestState.REVIEWED),
        "sample_form": SampleForm(auto_id="sample-%s"),
        "result_form": ResultForm(definition=test.definition, auto_id="result-%s"),
        "review_form": ReviewForm(auto_id="review-%s"),
        "retest_form": RetestForm(auto_id="retest-%s"),
        "signatures": [
            {"signature": sig, "intact": signature_intact(sig, test)}
            for sig in signatures_for(test)
        ],
        "history": history_rows(audit_history(test), QcTest),
    }
    context.update(bound_forms)
    # A refused action whose form is no longer offered (e.g. the analyst's own review, or a
    # sample already taken) still says why, at the top of the page.
    context["refused"] = [
        message
        for name, form in bound_forms.items()
        if not context[FORM_SHOWN[name]]
        for errors in form.errors.values()
        for message in errors
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
            messages.success(request, f"Sample of {done} recorded.")
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
            if done.in_spec is False:
                messages.warning(
                    request,
                    f"Result entered: {done.evaluation}. A deviation was opened and the batch "
                    "is held until QA dispositions it.",
                )
            else:
                messages.success(request, f"Result entered: {done.evaluation}.")
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
            messages.success(request, f"Result of {done} reviewed and signed.")
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
            messages.success(request, f"Retest created; the original result of {test} stays.")
            return redirect("qc-test", pk=retest.pk)
    return _test_page(request, test, retest_form=form)


# --- in-app notices ---


def _in_app_notices(user):
    return Notification.objects.filter(recipient=user, channel=Channel.IN_APP)


@login_required
def notices(request):
    """The signed-in user's in-app notices, newest first (read-only)."""
    rows = _in_app_notices(request.user).select_related(
        "alert",
        "alert__test",
        "alert__test__batch",
        "alert__test__definition",
        "visit__recipient",
    )
    page = Paginator(rows.order_by("-created_at", "-id"), NOTICES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "qc/notices.html",
        {"page": page, "unread_count": _in_app_notices(request.user).filter(read_at=None).count()},
    )


def unread_notices(request) -> dict:
    """Template context processor: the count of unread in-app notices for the nav badge.
    To be listed in TEMPLATES["OPTIONS"]["context_processors"] as "qc.views.unread_notices"."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": _in_app_notices(user).filter(read_at=None).count()}
