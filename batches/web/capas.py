"""CAPAs on the web: the list (overdue ones marked), QA raising one on a batch's deviations,
its owner recording the action done, and QA's signed effectiveness check."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from batches.models import Capa, Deviation
from batches.selectors.capa import capas, overdue_q
from batches.services import capa as capa_services
from carnk_mfg.forms import ESignForm, date_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import call_service, require


class RaiseForm(forms.Form):
    deviations = forms.ModelMultipleChoiceField(
        label="Deviations",
        queryset=Deviation.objects.select_related("batch").order_by("-opened_at"),
        help_text="The deviations whose root cause this action addresses.",
    )
    action = forms.CharField(label="Corrective or preventive action", widget=forms.Textarea)
    owner = forms.ModelChoiceField(
        label="Owner",
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
    )
    due_on = date_field("Due on")
    effectiveness_check_on = date_field("Effectiveness checked on")


class CompleteForm(forms.Form):
    notes = forms.CharField(label="What was done", widget=forms.Textarea)


class VerifyForm(ESignForm):
    effective = forms.TypedChoiceField(
        label="Effective",
        choices=[("yes", "Effective"), ("no", "Not effective")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    result = forms.CharField(label="Effectiveness check: what was looked at", widget=forms.Textarea)


@login_required
def capa_list(request):
    require(request, "batches.view_capa")
    show = request.GET.get("show", "open")
    listed = capas()
    if show == "open":
        listed = listed.filter(state="open")
    elif show == "overdue":
        listed = listed.filter(overdue_q())
    overdue = set(capas().filter(overdue_q()).values_list("pk", flat=True))
    return render(
        request,
        "capas/list.html",
        {
            "capas": listed,
            "overdue": overdue,
            "show": show,
            "may_raise": actor_may(request.user, capa_services.RAISE),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def capa_new(request):
    require(request, capa_services.RAISE)
    initial = {}
    if request.GET.get("deviation", "").isdigit():
        initial["deviations"] = [int(request.GET["deviation"])]
    form = RaiseForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        capa = call_service(
            form,
            lambda: capa_services.capa_raise(
                actor=request.user,
                deviations=list(form.cleaned_data["deviations"]),
                action=form.cleaned_data["action"],
                owner=form.cleaned_data["owner"],
                due_on=form.cleaned_data["due_on"],
                effectiveness_check_on=form.cleaned_data["effectiveness_check_on"],
            ),
        )
        if capa is not None:
            messages.success(request, f"CAPA {capa.pk} raised, due {capa.due_on:%Y-%m-%d}.")
            return redirect("capa-detail", pk=capa.pk)
    return render(request, "capas/new.html", {"form": form})


def _detail(request, capa, *, complete_form=None, verify_form=None, status=200):
    return render(
        request,
        "capas/detail.html",
        {
            "capa": capa,
            "deviations": capa.deviations.select_related("batch"),
            "overdue": Capa.objects.filter(overdue_q(), pk=capa.pk).exists(),
            "today": timezone.localdate(),
            "may_complete": capa.state == "open"
            and capa.owner_id == request.user.pk
            and actor_may(request.user, capa_services.COMPLETE),
            "may_verify": capa.state == "done" and actor_may(request.user, capa_services.VERIFY),
            "complete_form": complete_form or CompleteForm(auto_id="complete-%s"),
            "verify_form": verify_form or VerifyForm(auto_id="verify-%s"),
        },
        status=status,
    )


@login_required
def capa_detail(request, pk):
    require(request, "batches.view_capa")
    return _detail(request, get_object_or_404(capas(), pk=pk))


@login_required
@require_POST
def capa_complete(request, pk):
    require(request, capa_services.COMPLETE)
    capa = get_object_or_404(capas(), pk=pk)
    form = CompleteForm(request.POST, auto_id="complete-%s")
    if form.is_valid():
        done = call_service(
            form,
            lambda: capa_services.capa_complete(
                actor=request.user, capa=capa, notes=form.cleaned_data["notes"]
            ),
        )
        if done is not None:
            messages.success(request, f"CAPA {capa.pk} recorded as done.")
            return redirect("capa-detail", pk=capa.pk)
    return _detail(request, capa, complete_form=form, status=400)


@login_required
@require_POST
def capa_verify(request, pk):
    require(request, capa_services.VERIFY)
    capa = get_object_or_404(capas(), pk=pk)
    form = VerifyForm(request.POST, auto_id="verify-%s")
    if form.is_valid():
        done = call_service(
            form,
            lambda: capa_services.capa_verify(
                actor=request.user, request=request, capa=capa, **form.cleaned_data
            ),
        )
        if done is not None:
            messages.success(request, f"CAPA {capa.pk}: effectiveness checked (signed).")
            return redirect("capa-detail", pk=capa.pk)
    return _detail(request, capa, verify_form=form, status=400)
