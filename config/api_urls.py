"""The ``/api/v1/`` routes: each app contributes its ``api/urls.py``."""

from __future__ import annotations

from django.urls import include, path

from accounts.api.urls import auth_urlpatterns, users_urlpatterns
from config.frontend import FrontendConfigApi

urlpatterns = [
    path("auth/", include((auth_urlpatterns, "auth"))),
    path("users/", include((users_urlpatterns, "users"))),
    path("config/", FrontendConfigApi.as_view(), name="frontend-config"),
]
