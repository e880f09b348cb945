from rest_framework.routers import DefaultRouter

from batches.api import batch_views, release_views, views

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

urlpatterns = router.urls
