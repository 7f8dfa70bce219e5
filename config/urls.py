from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.permissions import AllowAny, IsAdminUser

from config.health import LivenessApi, ReadinessApi, benchmark_reference

docs_permissions = [AllowAny] if settings.API_DOCS_PUBLIC else [IsAdminUser]

urlpatterns = [
    path("health/live/", LivenessApi.as_view(), name="health-live"),
    path("health/ready/", ReadinessApi.as_view(), name="health-ready"),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=docs_permissions),
        name="schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(
            url_name="schema", permission_classes=docs_permissions
        ),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(
            url_name="schema", permission_classes=docs_permissions
        ),
        name="redoc",
    ),
    path("api/v1/", include("config.api_urls")),
    path("admin/", admin.site.urls),
]

if settings.BENCHMARK_REFERENCE_VIEW:
    urlpatterns.append(path("bench/reference/", benchmark_reference))

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
