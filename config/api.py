"""Mixins shared by API views of every app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.request import Request
from rest_framework.response import Response

if TYPE_CHECKING:
    from rest_framework.views import APIView

    # To the type checker, a mixin of API views is a view (it extends their methods
    # through super()); at run time it stays a plain class, listed before the view's.
    ViewMixin = APIView
else:
    ViewMixin = object


class NoStoreMixin(ViewMixin):
    """``Cache-Control: no-store``: for answers holding tokens or personal data, which no
    browser or proxy cache may keep."""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response
