"""Admin for the compliance records: view-only, because signatures and refusals are append-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from carnk_mfg.models import ElectronicSignature, SignatureFailure
from carnk_mfg.roles import actor_may


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """GMP records change only through services with a reason; the admin shows them."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=True)


class AdminAction(Protocol):
    """An admin action as the admin reads it: a callable with a name and a description."""

    __name__: str
    short_description: str

    def __call__(
        self, modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
    ) -> HttpResponse | None: ...


def reasoned_action(
    *, description: str, service: Callable[..., object], permission: str
) -> AdminAction:
    """An admin action that asks for the reason, then calls `service(actor, obj, reason)` per
    selected record, so admin changes go through the same services and trail as every path."""

    def action(
        modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
    ) -> HttpResponse | None:
        if not actor_may(request.user, permission):
            raise PermissionDenied
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    service(actor=request.user, obj=obj, reason=form.cleaned_data["reason"])
                    done += 1
                except ValidationError as exc:
                    modeladmin.message_user(
                        request, f"{obj}: {'; '.join(exc.messages)}", messages.ERROR
                    )
            if done:
                modeladmin.message_user(request, f"{description}: {done} done.", messages.SUCCESS)
            return None
        return render(
            request,
            "admin/reasoned_action.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": description,
                "objects": queryset,
                "form": form,
                "action_name": request.POST.get("action"),
                "opts": modeladmin.model._meta,
            },
        )

    named = cast(AdminAction, action)  # the function, with the two attributes set below
    named.short_description = description
    named.__name__ = f"action_{service.__name__}"
    return named


@admin.register(ElectronicSignature)
class ElectronicSignatureAdmin(ReadOnlyAdmin):
    list_display = ["signed_at", "printed_name", "meaning", "record_label", "record_sha256"]
    list_filter = ["meaning"]
    search_fields = ["printed_name", "record_label", "record_sha256"]


@admin.register(SignatureFailure)
class SignatureFailureAdmin(ReadOnlyAdmin):
    list_display = ["attempted_at", "username", "meaning", "record_label", "cause", "ip_address"]
    search_fields = ["username", "record_label"]
