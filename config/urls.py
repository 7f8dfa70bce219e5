from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.authentication import SessionAuthentication
from rest_framework.settings import api_settings

from config.errors import api_path_without_slash, page_not_found
from config.health import LivenessApi, ReadinessApi, benchmark_reference
from config.openapi import CanReadApiDocs

# Staff reach restricted docs with a bearer token (the API's authentication classes, from
# the settings) or the admin's session cookie.
docs_access = {
    "permission_classes": [CanReadApiDocs],
    "authentication_classes": [
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,
        SessionAuthentication,
    ],
}

urlpatterns = [
    path("health/live/", LivenessApi.as_view(), name="health-live"),
    path("health/ready/", ReadinessApi.as_view(), name="health-ready"),
    path("api/schema/", SpectacularAPIView.as_view(**docs_access), name="schema"),
    path(
        "api/docs/",
        # The "split" view serves Swagger UI's set-up script as a file of its own
        # (?script), so the page's Content-Security-Policy needs no inline script.
        SpectacularSwaggerSplitView.as_view(url_name="schema", **docs_access),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", **docs_access),
        name="redoc",
    ),
    path("api/v1/", include("config.api_urls")),
    path("admin/", admin.site.urls),
    # Unknown API routes answer the JSON problem even with DEBUG on, where Django would
    # otherwise render its HTML debug page. Exempt from CSRF, or a POST or DELETE to an
    # unknown route (an id that is not a UUID) answers 403.
    re_path(r"^api/.*/$", csrf_exempt(page_not_found), name="api-not-found"),
    # A path without its trailing slash: 308 to the slashed route (any method), or 404,
    # instead of CommonMiddleware's APPEND_SLASH redirect, which cannot keep a POST.
    re_path(r"^api/.*[^/]$", csrf_exempt(api_path_without_slash)),
]

if settings.BENCHMARK_REFERENCE_VIEW:
    urlpatterns.append(path("bench/reference/", benchmark_reference))

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
