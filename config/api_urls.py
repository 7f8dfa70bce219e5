"""The ``/api/v1/`` routes: each app contributes its ``api/urls.py``, named by its dotted
path (``config`` imports no app)."""

from __future__ import annotations

from django.urls import include, path

from config.frontend import FrontendConfigApi

urlpatterns = [
    path("", include("accounts.api.urls")),
    # users/me/avatar/ and users/{id}/avatar/, from the files app (accounts imports none).
    path("users/", include("files.api.avatar_urls")),
    # users/me/quota/, from the limits app.
    path("users/", include("limits.api.urls")),
    path("api-keys/", include("apikeys.api.urls")),
    path("config/", FrontendConfigApi.as_view(), name="frontend-config"),
    path("files/", include("files.api.urls")),
    path("flags/", include("flags.api.urls")),
]
