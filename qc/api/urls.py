from rest_framework.routers import DefaultRouter

from qc.api.instruments import ImportViewSet, ReadingViewSet
from qc.api.views import QcTestViewSet

router = DefaultRouter()
router.register("qc-tests", QcTestViewSet, basename="api-qc-test")
router.register("readings", ReadingViewSet, basename="api-reading")
router.register("imports", ImportViewSet, basename="api-import")
urlpatterns = router.urls
