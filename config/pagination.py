"""The one pagination shape of the contract: ``?page=N&page_size=M`` (max 100)."""

from __future__ import annotations

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100
