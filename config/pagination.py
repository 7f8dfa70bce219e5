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
                parameter["description"] = (
                    f"Items per page, at most {self.max_page_size} (a larger value is "
                    f"capped); {self.page_size} by default."
                )
        return parameters
