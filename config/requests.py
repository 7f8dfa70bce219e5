"""Small helpers over Django and DRF request objects."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.request import Request


def django_request(request: HttpRequest | Request) -> HttpRequest:
    """The Django request under a DRF one (or the request itself)."""
    return getattr(request, "_request", request)
