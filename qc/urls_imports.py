from django.urls import path

from qc import views_imports

urlpatterns = [
    path("imports/", views_imports.import_upload, name="import-upload"),
    path("imports/<int:pk>/", views_imports.import_detail, name="import-detail"),
]
