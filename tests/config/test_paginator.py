"""Lists of millions of rows are counted up to a cap, never in full (issue 13)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from config.paginator import CappedCountPaginator
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_users(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(CappedCountPaginator, "count_cap", 3)
    return [UserFactory(username=f"listed_{n}").username for n in range(5)]


def users() -> object:
    return User.objects.filter(username__startswith="listed_").order_by("username")


def test_a_count_under_the_cap_is_exact() -> None:
    UserFactory(username="listed_0")
    paginator = CappedCountPaginator(users(), 2)

    assert paginator.count == 1
    assert paginator.count_capped is False


def test_the_count_stops_at_the_cap_with_a_limited_subquery(
    five_users: list[str],
) -> None:
    paginator = CappedCountPaginator(users(), 2)

    with CaptureQueriesContext(connection) as queries:
        page = paginator.page(1)

    assert (paginator.count, paginator.count_capped) == (3, True)
    [count] = [
        q["sql"] for q in queries.captured_queries if "count(" in q["sql"].lower()
    ]
    assert "LIMIT 4" in count  # the cap and one more: never every row
    assert [user.username for user in page] == five_users[:2]
    assert page.has_next()


def test_every_page_stays_reachable_past_the_cap(five_users: list[str]) -> None:
    def page(number: int) -> tuple[list[str], int, bool, bool]:
        paginator = CappedCountPaginator(users(), 2)
        current = paginator.page(number)
        return (
            [user.username for user in current],
            paginator.count,
            paginator.count_capped,
            current.has_next(),
        )

    # Page 2 ends past the cap (3): the count reaches its end (4), and there is more.
    assert page(2) == (five_users[2:4], 4, True, True)
    assert page(3) == (five_users[4:], 5, False, False)


def test_a_page_past_the_first_is_chosen_by_primary_key_first(
    five_users: list[str],
) -> None:
    paginator = CappedCountPaginator(users(), 2)

    with CaptureQueriesContext(connection) as queries:
        rows = [user.username for user in paginator.page(2)]

    assert rows == five_users[2:4]
    [page] = [
        q["sql"] for q in queries.captured_queries if "count(" not in q["sql"].lower()
    ]
    # OFFSET applies to the primary keys alone, not to rows with their select list.
    assert 'IN (SELECT U0."id"' in page


def test_a_page_number_no_database_column_holds_is_past_the_end(
    five_users: list[str],
) -> None:
    """The schema fuzzer's page=3488716715896372994244608 made a LIMIT SQLite refused
    ("datatype mismatch": a 500); such a page is past the end, as any other."""
    from django.core.paginator import EmptyPage

    paginator = CappedCountPaginator(users(), 2)

    with pytest.raises(EmptyPage):
        paginator.page("3488716715896372994244608")
    assert paginator.count == 5
