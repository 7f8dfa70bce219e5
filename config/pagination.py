"""The one pagination shape of the contract: ``?page=N&page_size=M`` (max 100).

``page_size`` is validated: a value that is not a positive whole number is a ``400
validation_error`` (it used to fall back to the default silently, which hid a client's
mistake and contradicted the schema); a larger one than 100 is capped. A ``page`` that is
not a number or lies past the last page is DRF's ``404 not_found``.

Lists that may hold millions of items (the staff's user list) count with
``config.paginator.CappedCountPaginator``: exactly up to ``COUNT_CAP``, then no further,
so that no page costs a ``COUNT(*)`` over the whole table; the page says so in
``count_capped``.
"""

from __future__ import annotations

from typing import Any, cast

from rest_framework import pagination, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.paginator import COUNT_CAP, CappedCountPaginator

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


class CappedCountPagination(PageNumberPagination):
    """The page shape, plus ``count_capped``: for lists that can hold millions of items
    (the staff's user list), counted up to ``COUNT_CAP`` (see ``CappedCountPaginator``)."""

    django_paginator_class = CappedCountPaginator

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        paginator = cast(CappedCountPaginator, self.page.paginator)  # type: ignore[union-attr]
        response.data["count_capped"] = paginator.count_capped
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count"]["description"] = (
            f"How many items match: exact up to {COUNT_CAP:,} (or up to the end of the "
            f"page asked for, if further). Past that, `count` stops there and "
            "`count_capped` is true."
        )
        paginated["properties"]["count_capped"] = {
            "type": "boolean",
            "example": False,
            "description": (
                "True when there are more items than `count` says (the count stopped at "
                "its cap); `next` then links on past it."
            ),
        }
        paginated["required"] = [*paginated["required"], "count_capped"]
        return paginated
