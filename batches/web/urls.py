"""Every batches web page (mounted once at "" by carnk_mfg/urls.py).

Lot numbers and subject IDs are free text from the bank, the study or the lab (they may hold
"/"), so their pages take the rest of the path with `<path:...>`: a page's sub-pages are
written before the page itself, or the page would swallow them. Likewise "new" pages come
before the identifier they would otherwise be read as.
"""

from django.urls import path, register_converter

from batches.web import (
    batch_lists,
    batch_record,
    bedside,
    capas,
    clinical,
    dashboard,
    donor,
    equipment,
    find,
    materials,
    procedures,
    recipients,
    record_review,
    release,
    templates,
    training,
)


class LotKind:
    """Only the three kinds of material lot; anything else is a 404, not a server error."""

    regex = "vector|feeder|reagent"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(LotKind, "lotkind")

home = [
    path("", dashboard.dashboard, name="home"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("find/", find.find, name="find"),
    path("work/<slug:key>/", dashboard.worklist, name="worklist"),
]

units = [
    path("units/", donor.unit_list, name="cbu-list"),
    # Before the unit page: "new" would be read as a DIN.
    path("units/new/", donor.unit_register, name="cbu-register"),
    path("units/<str:din>/", donor.unit_detail, name="cbu-detail"),
    path("units/<str:din>/eligibility/", donor.unit_eligibility, name="cbu-eligibility"),
    path("units/<str:din>/allocate/", donor.unit_allocate, name="cbu-allocate"),
    path("units/<str:din>/move/", donor.unit_move, name="cbu-move"),
    path("units/<str:din>/dsa/", donor.unit_dsa, name="cbu-dsa"),
    path("units/<str:din>/donor-tests/", donor.unit_donor_test, name="cbu-donor-test"),
    path("units/<str:din>/discard/", donor.unit_discard, name="cbu-discard"),
]

lots = [
    path("lots/", materials.lot_list, name="lot-list"),
    path("lots/new/<lotkind:kind>/", materials.lot_register, name="lot-register"),
    # Before the lot page, which would swallow ".../irradiation/".
    path(
        "lots/feeder/<path:lot_number>/irradiation/",
        materials.feeder_irradiation,
        name="feeder-irradiation",
    ),
    # Before the lot's page: its lot number is a path and would take these suffixes.
    path(
        "lots/<lotkind:kind>/<path:lot_number>/certificates/<int:pk>/",
        materials.lot_certificate_file,
        name="lot-certificate-file",
    ),
    path(
        "lots/<lotkind:kind>/<path:lot_number>/certificates/",
        materials.lot_certificate_upload,
        name="lot-certificate-upload",
    ),
    path(
        "lots/<lotkind:kind>/<path:lot_number>/adjustments/",
        materials.lot_adjust,
        name="lot-adjust",
    ),
    path("lots/<lotkind:kind>/<path:lot_number>/recall/", materials.lot_recall, name="lot-recall"),
    # The lot's disposition is a POST to its own page.
    path("lots/<lotkind:kind>/<path:lot_number>/", materials.lot_detail, name="lot-detail"),
]

recipient_pages = [
    path("recipients/", recipients.recipient_list, name="recipient-list"),
    # Before the recipient page: "new" would be read as a subject ID.
    path("recipients/new/", recipients.recipient_register, name="recipient-register"),
    # Before the recipient page, which would swallow ".../dose/".
    path("recipients/<path:subject_id>/dose/", release.dose_calculator, name="dose-calculator"),
    path(
        "recipients/<path:subject_id>/follow-up-end/",
        clinical.follow_up_end,
        name="follow-up-end",
    ),
    path(
        "recipients/<path:subject_id>/lymphodepletion/",
        recipients.lymphodepletion_dose_record,
        name="recipient-lymphodepletion",
    ),
    path(
        "recipients/<path:subject_id>/clinician/",
        recipients.recipient_clinician,
        name="recipient-clinician",
    ),
    path("recipients/<path:subject_id>/", recipients.recipient_detail, name="recipient-detail"),
]

batch_pages = [
    path("batches/", batch_record.batch_list, name="batch-list"),
    # Before the batch page: "new" would be read as a lot number.
    path("batches/new/", batch_record.batch_new, name="batch-new"),
    # The batch's actions before the batch page, which would swallow them.
    # A list's page first: "lists/steps/" would otherwise read as the steps action.
    path(
        "batches/<path:lot_number>/lists/<slug:key>/",
        batch_lists.batch_record_list,
        name="batch-list-page",
    ),
    path("batches/<path:lot_number>/steps/", batch_record.batch_step, name="batch-step"),
    path("batches/<path:lot_number>/counts/", batch_record.batch_count, name="batch-count"),
    path(
        "batches/<path:lot_number>/counts/<int:pk>/correct/",
        batch_lists.count_correct,
        name="batch-count-correct",
    ),
    path(
        "batches/<path:lot_number>/deviations/<int:pk>/disposition/",
        batch_record.batch_deviation_disposition,
        name="batch-disposition",
    ),
    path(
        "batches/<path:lot_number>/deviations/",
        batch_record.batch_deviation,
        name="batch-deviation",
    ),
    path("batches/<path:lot_number>/custody/", batch_record.batch_custody, name="batch-handoff"),
    path(
        "batches/<path:lot_number>/transitions/",
        batch_record.batch_transition,
        name="batch-transition",
    ),
    path("batches/<path:lot_number>/", batch_record.batch_detail, name="batch-detail"),
    path("templates/", templates.template_list, name="template-list"),
    path("templates/<int:pk>/", templates.template_detail, name="template-detail"),
]

release_pages = [
    path("release/", release.release_queue, name="release-queue"),
    path(
        "release/<path:lot_number>/formulate/", release.release_formulate, name="release-formulate"
    ),
    path("release/<path:lot_number>/review/", release.release_review, name="release-review"),
    path(
        "release/<path:lot_number>/record-review/",
        record_review.record_review,
        name="release-record-review",
    ),
    path("release/<path:lot_number>/decide/", release.release_decide, name="release-decide"),
    path("release/<path:lot_number>/coa.pdf", release.release_coa, name="release-coa"),
    path("bags/", release.bag_list, name="bag-list"),
    path("bags/<int:pk>/", release.bag_detail, name="bag-detail"),
    path("bags/<int:pk>/label.pdf", release.bag_label, name="bag-label"),
    path("bags/<int:pk>/label/print/", release.bag_label_print, name="bag-label-print"),
    path("bags/<int:pk>/handoff/", release.bag_handoff, name="bag-handoff"),
]

bedside_and_after = [
    path("bedside/", bedside.bedside_check, name="bedside"),
    path("bedside/<int:check_id>/infusion/", bedside.infusion_record, name="infusion-record"),
    path("clinical/follow-ups/", clinical.follow_up_worklist, name="follow-up-worklist"),
    path("clinical/infusions/<int:pk>/", clinical.infusion_detail, name="infusion-detail"),
]

training_pages = [
    path("capas/", capas.capa_list, name="capa-list"),
    path("capas/new/", capas.capa_new, name="capa-new"),
    path("capas/<int:pk>/", capas.capa_detail, name="capa-detail"),
    path("capas/<int:pk>/complete/", capas.capa_complete, name="capa-complete"),
    path("capas/<int:pk>/verify/", capas.capa_verify, name="capa-verify"),
    path("training/", training.training_overview, name="training-overview"),
    path("training/record/", training.training_record, name="training-record"),
    path("training/procedures/new/", procedures.procedure_new, name="procedure-new"),
    path("training/procedures/<str:code>/", procedures.procedure_detail, name="procedure-detail"),
    path(
        "training/procedures/<str:code>/versions/",
        procedures.procedure_version_issue,
        name="procedure-version-issue",
    ),
    path(
        "training/procedures/<str:code>/qualifications/",
        procedures.procedure_qualification_add,
        name="procedure-qualification-add",
    ),
    path("training/people/<str:username>/", training.person_training, name="person-training"),
]

equipment_pages = [
    path("equipment/", equipment.equipment_overview, name="equipment-list"),
    path("equipment/register/", equipment.equipment_register, name="equipment-register"),
    path("equipment/failures/<int:pk>/", equipment.equipment_failure, name="equipment-failure"),
    path("equipment/<str:identifier>/", equipment.equipment_detail, name="equipment-detail"),
    path("equipment/<str:identifier>/status/", equipment.equipment_status, name="equipment-status"),
    path(
        "equipment/<str:identifier>/calibration/",
        equipment.equipment_calibration,
        name="equipment-calibration",
    ),
    path(
        "equipment/<str:identifier>/maintenance/",
        equipment.equipment_maintenance,
        name="equipment-maintenance",
    ),
    path(
        "equipment/<str:identifier>/failure/",
        equipment.equipment_failure_record,
        name="equipment-failure-record",
    ),
]

urlpatterns = [
    *home,
    *equipment_pages,
    *training_pages,
    *units,
    *lots,
    *recipient_pages,
    *batch_pages,
    *release_pages,
    *bedside_and_after,
]
