from __future__ import annotations

from django.urls import path

from apikeys.api import views

app_name = "api-keys"

# Mounted under /api/v1/api-keys/ by config/api_urls.py.
urlpatterns = [
    path("", views.ApiKeyListApi.as_view(), name="list"),
    path("<uuid:key_id>/", views.ApiKeyDetailApi.as_view(), name="detail"),
]
