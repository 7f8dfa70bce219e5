"""Pages of lists that may hold millions of rows, without counting them all.

Django's paginator (and the admin's changelist with it) counts the whole list on every page:
``SELECT COUNT(*)`` over 1,000,000 accounts reads every row. ``CappedCountPaginator``
counts up to ``COUNT_CAP`` and says whether it stopped there (``count_capped``). The API's
staff list (``config.pagination.CappedCountPagination``) and the admin's user list use it.
Plain Django, no DRF: selectors and the admin import it.
"""

from __future__ import annotations

import contextlib
from functools import cached_property
from typing import Any, Protocol, cast

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet

# Lists that may hold millions of items count this far, not further.
COUNT_CAP = 1_000
# The furthest item a page may end at: a page asked for beyond it is past the end (404).
# Without a bound, a page number of 25 digits made a LIMIT no database column holds (SQLite:
# "datatype mismatch", a 500 found by the schema fuzzer).
MAX_REACHABLE_ITEM = 10_000_000


class CountsUpTo(Protocol):
    """A list that counts its items only up to a limit (``StaffUserList``)."""

    def count_up_to(self, limit: int) -> int: ...


def count_up_to(items: QuerySet[Any] | CountsUpTo, limit: int) -> int:
    """How many of ``items`` there are, counting no further than ``limit``: the database
    stops reading at ``limit`` rows instead of scanning every match."""
    if not isinstance(items, QuerySet):
        return items.count_up_to(limit)
    matches = items.order_by().values("pk")
    if connections[matches.db].vendor != "postgresql":
        return matches[:limit].count()
    # Planned for every match, read only up to the limit. Under a plain LIMIT the planner
    # expects matches spread evenly and picks a scan of the table that "stops early":
    # ``member_99``'s 11,111 matches among 1,000,000 accounts lie mostly past row 99,000,
    # so counting 1,001 of them that way read a tenth of the table instead of the search
    # indexes. A MATERIALIZED CTE is planned on its own, and produces rows on demand.
    sql, params = matches.query.sql_with_params()
    with connections[matches.db].cursor() as cursor:
        cursor.execute(
            f"WITH matches AS MATERIALIZED ({sql}) "  # noqa: S608 (the ORM's SQL)
            "SELECT count(*) FROM (SELECT 1 FROM matches LIMIT %s) counted",
            [*params, limit],
        )
        return int(cursor.fetchone()[0])


class CappedCountPage(Page):  # type: ignore[type-arg]
    """A page of ``CappedCountPaginator``: a capped count is a lower bound, so the page
    that ends there still has a next one."""

    paginator: CappedCountPaginator

    def has_next(self) -> bool:
        return super().has_next() or self.paginator.count_capped

    def next_page_number(self) -> int:
        if self.paginator.count_capped:
            return self.number + 1  # past the count, which that page's own will reach
        return super().next_page_number()


class CappedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Django's paginator, with a count that stops at ``count_cap`` items, or at the end of
    the page asked for when that lies further: large lists are never counted in full.

    ``count`` is exact when ``count_capped`` is false. Otherwise there are more items than
    ``count``; every page up to the capped count is valid, and the last of them links to
    the next (whose own count reaches further), so any page stays reachable.
    """

    count_cap = COUNT_CAP

    def __init__(
        self,
        object_list: QuerySet[Any] | CountsUpTo,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> None:
        super().__init__(
            cast(Any, object_list), per_page, orphans, allow_empty_first_page
        )
        self.count_capped = False
        self.requested_end = 0

    @cached_property
    def count(self) -> int:
        limit = max(self.count_cap, self.requested_end)
        counted = count_up_to(cast(Any, self.object_list), limit + 1)
        self.count_capped = counted > limit
        return min(counted, limit)

    def expect_page(self, number: Any) -> None:
        """Count at least to the end of page ``number``, when that is a page number: for
        callers that ask for the count before the page (the admin's changelist)."""
        with contextlib.suppress(TypeError, ValueError):
            end = min(int(number) * self.per_page, MAX_REACHABLE_ITEM)
            self.requested_end = max(self.requested_end, end)

    def page(self, number: Any) -> Page[Any]:
        self.expect_page(number)
        if self.requested_end and hasattr(self.object_list, "expect_slice"):
            # A list that can fetch the page with its count (StaffUserList).
            self.object_list.expect_slice(
                slice(self.requested_end - self.per_page, self.requested_end)
            )
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return CappedCountPage(page_of(self.object_list, bottom, top), number, self)


def page_of(items: Any, bottom: int, top: int) -> Any:
    """``items[bottom:top]``. Past the first page, a query set's page is chosen by primary
    key first (``pk IN (SELECT pk … OFFSET n LIMIT m)``): PostgreSQL computes the select
    list of every row it skips, and an annotated list (the admin's, with subqueries per row)
    would otherwise run them for each of the ``bottom`` rows before the page."""
    if bottom and isinstance(items, QuerySet):
        return items.filter(pk__in=items.values("pk")[bottom:top])
    return items[bottom:top]


class CappedCountAdminMixin:
    """For a ``ModelAdmin`` whose list may hold millions of rows: its changelist never
    counts them all (no full count, and a capped one that reaches the page asked for,
    since the changelist counts before it asks for its page)."""

    show_full_result_count = False

    def get_paginator(
        self,
        request: Any,
        queryset: QuerySet[Any],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> CappedCountPaginator:
        from django.contrib.admin.views.main import PAGE_VAR

        paginator = CappedCountPaginator(
            queryset, per_page, orphans, allow_empty_first_page
        )
        paginator.expect_page(request.GET.get(PAGE_VAR))
        return paginator
