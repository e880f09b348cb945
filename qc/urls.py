"""QC web pages, included under /qc/ by batches/urls.py."""

from django.urls import path

from qc import views

urlpatterns = [
    path("", views.worklist, name="qc-worklist"),
    path("notices/", views.notices, name="qc-notices"),
    path("tests/<int:pk>/", views.test_detail, name="qc-test"),
    path("tests/<int:pk>/sample/", views.test_sample, name="qc-sample"),
    path("tests/<int:pk>/result/", views.test_result, name="qc-result"),
    path("tests/<int:pk>/review/", views.test_review, name="qc-review"),
    path("tests/<int:pk>/retest/", views.test_retest, name="qc-retest"),
]
