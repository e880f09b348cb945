from rest_framework.routers import DefaultRouter

from batches.api import batch_views, clinical_views, release_views, views

router = DefaultRouter()
router.register("donor-units", views.CordBloodUnitViewSet, basename="api-donor-unit")
router.register("recipients", views.RecipientViewSet, basename="api-recipient")
router.register("vector-lots", views.VectorLotViewSet, basename="api-vector-lot")
router.register("feeder-lots", views.FeederLotViewSet, basename="api-feeder-lot")
router.register("reagent-lots", views.ReagentLotViewSet, basename="api-reagent-lot")

router.register(
    "process-templates", batch_views.ProcessTemplateViewSet, basename="api-process-template"
)
router.register("batches", batch_views.BatchViewSet, basename="api-batch")
router.register("doses", release_views.DoseViewSet, basename="api-dose")
router.register("bedside-checks", clinical_views.BedsideCheckViewSet, basename="api-bedside-check")
router.register("infusions", clinical_views.InfusionViewSet, basename="api-infusion")
router.register("adverse-events", clinical_views.AdverseEventViewSet, basename="api-adverse-event")
router.register("follow-ups", clinical_views.FollowUpViewSet, basename="api-follow-up")

urlpatterns = router.urls
