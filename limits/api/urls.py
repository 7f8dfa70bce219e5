"""The quota route, mounted under ``/api/v1/users/`` by ``config/api_urls.py`` beside
accounts' own ``users/`` routes (none of which is ``me/quota/``)."""

from __future__ import annotations

from django.urls import path

from limits.api import views

app_name = "quota"

urlpatterns = [
    path("me/quota/", views.MeQuotaApi.as_view(), name="me"),
]
