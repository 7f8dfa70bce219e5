"""The one pagination shape of the contract: ``?page=N&page_size=M`` (max 100).

``page_size`` is validated: a value that is not a positive whole number is a ``400
validation_error`` (it used to fall back to the default silently, which hid a client's
mistake and contradicted the schema); a larger one than 100 is capped. A ``page`` that is
not a number or lies past the last page is DRF's ``404 not_found``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import pagination, serializers
from rest_framework.request import Request
from rest_framework.views import APIView

PAGE_SIZE_INVALID = "A positive whole number is required."


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100
    # The list's path, set by config.openapi.AutoSchema for the schema's link examples.
    schema_path = "/api/v1/users/"

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise serializers.ValidationError(
                {self.page_size_query_param: [PAGE_SIZE_INVALID]}
            )
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
                parameter["description"] = (
                    f"Items per page, at most {self.max_page_size} (a larger value is "
                    f"capped); {self.page_size} by default."
                )
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """DRF's page shape, with every member required (``next`` and ``previous`` are
        null, not absent, at the ends) and links on this server in the examples."""
        paginated: dict[str, Any] = super().get_paginated_response_schema(schema)
        paginated["required"] = ["count", "next", "previous", "results"]
        links = paginated["properties"]
        # The links are absolute URLs of the server that answered (DRF builds them from
        # the request); the examples use the development server's.
        base = f"http://localhost:8000{self.schema_path}?{self.page_query_param}="
        links["next"]["example"] = base + "4"
        links["next"]["description"] = "The next page's URL; null on the last page."
        links["previous"]["example"] = base + "2"
        links["previous"]["description"] = (
            "The previous page's URL; null on the first page."
        )
        return paginated
