"""Instrument file import pages: upload, a preview once a worker has parsed the file (the
page refreshes itself meanwhile), then accept."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from carnk_mfg.web import allowed_to, call_service, require
from qc.instrument_files import FORMAT_LABELS
from qc.models import Instrument
from qc.presenters.imports import imports_for_page, recent_imports
from qc.services.imports import import_accept, import_stage


class UploadForm(forms.Form):
    instrument = forms.ModelChoiceField(
        queryset=Instrument.objects.filter(retired=False),
        to_field_name="serial_number",
        help_text="The instrument that wrote the file.",
    )
    file = forms.FileField(help_text="The export exactly as the instrument wrote it.")


@allowed_to("qc.submit_reading")
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = call_service(
            form,
            lambda: import_stage(
                actor=request.user,
                instrument=form.cleaned_data["instrument"],
                filename=upload.name,
                data=upload.read(),
            ),
        )
        if result is not None:
            staged, again = result
            if again:
                messages.info(request, "This file was imported before; nothing changed.")
            return redirect("import-detail", pk=staged.pk)
    return render(
        request,
        "imports/upload.html",
        {"form": form, "recent": recent_imports(), "max_rows": f"{settings.IMPORT_MAX_ROWS:,}"},
    )


@allowed_to("qc.view_instrumentimport")
@require_http_methods(["GET", "POST"])
def import_detail(request, pk):
    staged = get_object_or_404(imports_for_page(), pk=pk)
    # Bound on POST even with no fields, so a refusal can be shown on it.
    form = forms.Form(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        require(request, "qc.submit_reading")
        accepted = call_service(form, lambda: import_accept(actor=request.user, staged=staged))
        if accepted is not None:
            messages.success(request, f"{staged.filename}: matched rows committed.")
            return redirect("import-detail", pk=staged.pk)
    context = {
        "staged": staged,
        "preview": staged.preview,
        "format_label": FORMAT_LABELS.get(staged.file_format, staged.file_format),
        "form": form,
    }
    return render(request, "imports/detail.html", context)
