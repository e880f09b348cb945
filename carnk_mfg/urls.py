from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from carnk_mfg import sessions, sign_in, views
from carnk_mfg.api.tokens import TokenView

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path(
        "accounts/login/",
        sign_in.throttle_sign_in(auth_views.LoginView.as_view()),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/stay-signed-in/", sessions.stay_signed_in, name="stay-signed-in"),
    # The admin's own login page, throttled like ours (matched before the admin's URLs).
    path("admin/login/", sign_in.throttle_sign_in(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/v1/", include("batches.api.urls")),
    path("api/v1/", include("qc.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/docs.html"),
        name="api-docs",
    ),
    # The web pages; the home page is the dashboard, in batches.web.urls.
    path("", include("batches.web.urls")),
    path("", include("qc.web.urls")),
]

# No answer of the API is HTML, whatever fails (carnk_mfg/request_limits.py).
handler400 = "carnk_mfg.request_limits.bad_request"
handler403 = "carnk_mfg.request_limits.permission_denied"
handler404 = "carnk_mfg.request_limits.page_not_found"
handler500 = "carnk_mfg.request_limits.server_error"
