"""The ``/api/v1/`` routes: each app contributes its ``api/urls.py``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
