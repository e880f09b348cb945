from rest_framework.routers import DefaultRouter

from qc.api.instruments import ImportViewSet, ReadingViewSet
from qc.api.views import QcSpecSetViewSet, QcTestViewSet

router = DefaultRouter()
router.register("qc-tests", QcTestViewSet, basename="api-qc-test")
router.register("qc-spec-sets", QcSpecSetViewSet, basename="api-qc-spec-set")
router.register("readings", ReadingViewSet, basename="api-reading")
router.register("imports", ImportViewSet, basename="api-import")
urlpatterns = router.urls
