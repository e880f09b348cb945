from django.urls import path
from rest_framework.routers import DefaultRouter

from batches.api.views import (
    batch_record,
    bedside,
    capa,
    clinical,
    donor,
    equipment,
    facility,
    materials,
    recipients,
    release,
    templates,
    training,
)

router = DefaultRouter()
router.register("donor-units", donor.CordBloodUnitViewSet, basename="api-donor-unit")
router.register("recipients", recipients.RecipientViewSet, basename="api-recipient")
router.register("vector-lots", materials.VectorLotViewSet, basename="api-vector-lot")
router.register("feeder-lots", materials.FeederLotViewSet, basename="api-feeder-lot")
router.register("reagent-lots", materials.ReagentLotViewSet, basename="api-reagent-lot")

router.register(
    "process-templates", templates.ProcessTemplateViewSet, basename="api-process-template"
)
router.register("batches", batch_record.BatchViewSet, basename="api-batch")
router.register("doses", release.DoseViewSet, basename="api-dose")
router.register("bedside-checks", bedside.BedsideCheckViewSet, basename="api-bedside-check")
router.register("infusions", bedside.InfusionViewSet, basename="api-infusion")
router.register("adverse-events", clinical.AdverseEventViewSet, basename="api-adverse-event")
router.register("follow-ups", clinical.FollowUpViewSet, basename="api-follow-up")
router.register("procedures", training.ProcedureViewSet, basename="api-procedure")
router.register("capas", capa.CapaViewSet, basename="api-capa")
router.register("rooms", facility.RoomViewSet, basename="api-room")
router.register("equipment", equipment.EquipmentViewSet, basename="api-equipment")
router.register(
    "feeder-irradiations", equipment.FeederIrradiationViewSet, basename="api-feeder-irradiation"
)
router.register("training-records", training.TrainingRecordViewSet, basename="api-training-record")

# The ZPL label is a file the printer takes as it is, named by its suffix rather than a
# sub-path (before the router, whose format suffixes would otherwise read `.zpl`).
label_zpl = release.DoseViewSet.as_view({"get": "label_zpl"})

urlpatterns = [
    path("doses/<int:pk>/label.zpl", label_zpl, name="api-dose-label-zpl"),
    *router.urls,
]
