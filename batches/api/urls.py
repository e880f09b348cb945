from rest_framework.routers import DefaultRouter

from batches.api import views

router = DefaultRouter()
router.register("donor-units", views.CordBloodUnitViewSet, basename="donor-unit")
router.register("recipients", views.RecipientViewSet, basename="recipient")
router.register("vector-lots", views.VectorLotViewSet, basename="vector-lot")
router.register("feeder-lots", views.FeederLotViewSet, basename="feeder-lot")
router.register("reagent-lots", views.ReagentLotViewSet, basename="reagent-lot")

urlpatterns = router.urls
