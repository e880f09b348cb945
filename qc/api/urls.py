from rest_framework.routers import DefaultRouter

from qc.api.views import (
    environment,
    imports,
    investigations,
    readings,
    results,
    specs,
    trends,
)

router = DefaultRouter()
router.register("qc-tests", results.QcTestViewSet, basename="api-qc-test")
router.register("qc-spec-sets", specs.QcSpecSetViewSet, basename="api-qc-spec-set")
router.register("readings", readings.ReadingViewSet, basename="api-reading")
router.register("imports", imports.ImportViewSet, basename="api-import")
router.register("trends", trends.TrendAttributeViewSet, basename="api-trend")
router.register("trend-signals", trends.TrendSignalViewSet, basename="api-trend-signal")
router.register("sampling-points", environment.SamplingPointViewSet, basename="api-sampling-point")
router.register("em-samples", environment.EmSampleViewSet, basename="api-em-sample")
router.register(
    "oos-investigations",
    investigations.OosInvestigationViewSet,
    basename="api-oos-investigation",
)
urlpatterns = router.urls
