"""Mixins shared by API views of every app."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response


class NoStoreMixin:
    """``Cache-Control: no-store``: for answers holding tokens or personal data, which no
    browser or proxy cache may keep."""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response
