"""Every QC web page (mounted once at "" by carnk_mfg/urls.py)."""

from django.urls import path

from qc.web import (
    environment,
    imports,
    investigations,
    notices,
    product_review,
    results,
    review,
    specs,
    trends,
    worklist,
)

urlpatterns = [
    path("qc/", worklist.worklist, name="qc-worklist"),
    path("qc/notices/", notices.notices, name="qc-notices"),
    path("qc/notices/read/", notices.notices_read_all, name="qc-notices-read-all"),
    path("qc/notices/<int:pk>/read/", notices.notice_read, name="qc-notice-read"),
    path("qc/tests/<int:pk>/", results.test_detail, name="qc-test"),
    path("qc/tests/<int:pk>/sample/", results.test_sample, name="qc-sample"),
    path("qc/tests/<int:pk>/result/", results.test_result, name="qc-result"),
    path("qc/tests/<int:pk>/review/", results.test_review, name="qc-review"),
    path("qc/tests/<int:pk>/retest/", results.test_retest, name="qc-retest"),
    path(
        "qc/investigations/<int:pk>/",
        investigations.investigation_detail,
        name="qc-investigation",
    ),
    path(
        "qc/investigations/<int:pk>/complete/",
        investigations.investigation_complete,
        name="qc-investigation-complete",
    ),
    path(
        "qc/investigations/<int:pk>/approve/",
        investigations.investigation_approve,
        name="qc-investigation-approve",
    ),
    path("qc/batches/<path:lot_number>/review/", review.batch_review, name="qc-batch-review"),
    path("qc/spec-sets/", specs.spec_set_list, name="spec-set-list"),
    path("qc/spec-sets/<int:pk>/", specs.spec_set_detail, name="spec-set-detail"),
    path("qc/trends/", trends.trend_list, name="trend-list"),
    path(
        "qc/trends/review.pdf",
        product_review.product_review_download,
        name="product-review-pdf",
    ),
    path("qc/trends/<int:pk>/", trends.trend_detail, name="trend-detail"),
    path("qc/trends/<int:pk>/points.csv", trends.trend_csv, name="trend-csv"),
    path("qc/trend-signals/<int:pk>/assess/", trends.signal_assess, name="trend-signal-assess"),
    path("qc/em/", environment.em_overview, name="em-overview"),
    path("qc/em/rooms/new/", environment.room_new, name="em-room-new"),
    path("qc/em/points/new/", environment.point_new, name="em-point-new"),
    path("qc/em/points/<int:pk>/", environment.point_detail, name="em-point"),
    path("qc/em/samples/new/", environment.sample_new, name="em-sample-new"),
    path("qc/em/samples/<int:pk>/", environment.sample_detail, name="em-sample"),
    path("imports/", imports.import_upload, name="import-upload"),
    path("imports/<int:pk>/", imports.import_detail, name="import-detail"),
]
