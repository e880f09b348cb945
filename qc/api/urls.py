from rest_framework.routers import DefaultRouter

from qc.api.views import QcTestViewSet

router = DefaultRouter()
router.register("qc-tests", QcTestViewSet, basename="qc-test")
urlpatterns = router.urls
