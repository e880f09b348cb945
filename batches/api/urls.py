from rest_framework.routers import DefaultRouter

from batches.api import batch_views, views

router = DefaultRouter()
router.register("donor-units", views.CordBloodUnitViewSet, basename="donor-unit")
router.register("recipients", views.RecipientViewSet, basename="recipient")
router.register("vector-lots", views.VectorLotViewSet, basename="vector-lot")
router.register("feeder-lots", views.FeederLotViewSet, basename="feeder-lot")
router.register("reagent-lots", views.ReagentLotViewSet, basename="reagent-lot")

router.register(
    "process-templates", batch_views.ProcessTemplateViewSet, basename="process-template"
)
router.register("batches", batch_views.BatchViewSet, basename="batch")

urlpatterns = router.urls
