"""Web UI pages (included at "" by carnk_mfg/urls.py)."""

from django.urls import path, register_converter

from batches import views


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
    path("dashboard/", views.dashboard, name="dashboard"),
    path("units/", views.unit_list, name="cbu-list"),
    path("units/new/", views.unit_register, name="cbu-register"),
    path("units/<str:din>/", views.unit_detail, name="cbu-detail"),
    path("units/<str:din>/eligibility/", views.unit_eligibility, name="cbu-eligibility"),
    path("units/<str:din>/allocate/", views.unit_allocate, name="cbu-allocate"),
    path("units/<str:din>/move/", views.unit_move, name="cbu-move"),
    path("units/<str:din>/discard/", views.unit_discard, name="cbu-discard"),
    path("lots/", views.lot_list, name="lot-list"),
    path("lots/new/<lotkind:kind>/", views.lot_register, name="lot-register"),
    path("lots/<lotkind:kind>/<path:lot_number>/", views.lot_detail, name="lot-detail"),
    path("recipients/", views.recipient_list, name="recipient-list"),
    path("recipients/new/", views.recipient_register, name="recipient-register"),
    path("recipients/<path:subject_id>/", views.recipient_detail, name="recipient-detail"),
]
