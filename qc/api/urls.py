from rest_framework.routers import DefaultRouter

from qc.api.instruments import ImportViewSet, ReadingViewSet
from qc.api.views import QcTestViewSet

router = DefaultRouter()
router.register("qc-tests", QcTestViewSet, basename="qc-test")
router.register("readings", ReadingViewSet, basename="reading")
router.register("imports", ImportViewSet, basename="import")
urlpatterns = router.urls
