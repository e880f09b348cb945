from django.urls import path

from qc import views_specs

urlpatterns = [
    path("qc/spec-sets/", views_specs.spec_set_list, name="spec-set-list"),
    path("qc/spec-sets/<int:pk>/", views_specs.spec_set_detail, name="spec-set-detail"),
]
