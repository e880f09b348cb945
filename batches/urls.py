"""Web UI pages (included at "" by carnk_mfg/urls.py)."""

from django.urls import path, register_converter

from batches.web import dashboard, donor, materials, recipients


class LotKind:
    """Only the three kinds of material lot; anything else is a 404, not a server error."""

    regex = "vector|feeder|reagent"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(LotKind, "lotkind")

# Lot numbers and subject IDs are free text from the bank or the study (they may hold "/"),
# so their pages take the rest of the path; their one action is a POST to the same page.
urlpatterns = [
    path("", dashboard.dashboard, name="home"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("units/", donor.unit_list, name="cbu-list"),
    path("units/new/", donor.unit_register, name="cbu-register"),
    path("units/<str:din>/", donor.unit_detail, name="cbu-detail"),
    path("units/<str:din>/eligibility/", donor.unit_eligibility, name="cbu-eligibility"),
    path("units/<str:din>/allocate/", donor.unit_allocate, name="cbu-allocate"),
    path("units/<str:din>/move/", donor.unit_move, name="cbu-move"),
    path("units/<str:din>/discard/", donor.unit_discard, name="cbu-discard"),
    path("lots/", materials.lot_list, name="lot-list"),
    path("lots/new/<lotkind:kind>/", materials.lot_register, name="lot-register"),
    path("lots/<lotkind:kind>/<path:lot_number>/", materials.lot_detail, name="lot-detail"),
    path("recipients/", recipients.recipient_list, name="recipient-list"),
    path("recipients/new/", recipients.recipient_register, name="recipient-register"),
    path("recipients/<path:subject_id>/", recipients.recipient_detail, name="recipient-detail"),
]

# --- batch record and QC pages (issues 3 and 4) ---
# Imported here so the lines above stay as they were. A batch's lot number takes the rest of
# the path (like material lots), so its sub-pages come before the page itself.
from django.urls import include  # noqa: E402

from batches.web import batch_record as views_batches  # noqa: E402
from batches.web import templates as views_templates  # noqa: E402

urlpatterns += [
    path("batches/", views_batches.batch_list, name="batch-list"),
    path("batches/new/", views_batches.batch_new, name="batch-new"),
    path("batches/<path:lot_number>/steps/", views_batches.batch_step, name="batch-step"),
    path("batches/<path:lot_number>/counts/", views_batches.batch_count, name="batch-count"),
    path(
        "batches/<path:lot_number>/deviations/<int:pk>/disposition/",
        views_batches.batch_deviation_disposition,
        name="batch-disposition",
    ),
    path(
        "batches/<path:lot_number>/deviations/",
        views_batches.batch_deviation,
        name="batch-deviation",
    ),
    path("batches/<path:lot_number>/custody/", views_batches.batch_custody, name="batch-handoff"),
    path(
        "batches/<path:lot_number>/transitions/",
        views_batches.batch_transition,
        name="batch-transition",
    ),
    path("batches/<path:lot_number>/", views_batches.batch_detail, name="batch-detail"),
    path("templates/", views_templates.template_list, name="template-list"),
    path("templates/<int:pk>/", views_templates.template_detail, name="template-detail"),
    path("qc/", include("qc.urls")),
]

# --- release, bags, dose and the bedside (issue 5) ---
from batches import views_release  # noqa: E402

urlpatterns += [
    path("release/", views_release.release_queue, name="release-queue"),
    path(
        "release/<path:lot_number>/formulate/",
        views_release.release_formulate,
        name="release-formulate",
    ),
    path("release/<path:lot_number>/review/", views_release.release_review, name="release-review"),
    path("release/<path:lot_number>/decide/", views_release.release_decide, name="release-decide"),
    path("release/<path:lot_number>/coa.pdf", views_release.release_coa, name="release-coa"),
    path("bags/<int:pk>/", views_release.bag_detail, name="bag-detail"),
    path("bags/<int:pk>/label.pdf", views_release.bag_label, name="bag-label"),
    path("bags/<int:pk>/handoff/", views_release.bag_handoff, name="bag-handoff"),
    path("bedside/", views_release.bedside_check, name="bedside"),
    path("bedside/<int:check_id>/infusion/", views_release.infusion_record, name="infusion-record"),
]
# A subject ID takes the rest of the path, so "recipients/<subject>/" above would swallow
# ".../dose/": the dose calculator goes in front of it.
urlpatterns.insert(
    0,
    path(
        "recipients/<path:subject_id>/dose/",
        views_release.dose_calculator,
        name="dose-calculator",
    ),
)

# --- after infusion ---
from batches import views_clinical  # noqa: E402

urlpatterns += [
    path("clinical/follow-ups/", views_clinical.follow_up_worklist, name="follow-up-worklist"),
    path("clinical/infusions/<int:pk>/", views_clinical.infusion_detail, name="infusion-detail"),
]
