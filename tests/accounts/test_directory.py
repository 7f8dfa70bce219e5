"""Profiles of other users, blocking, and the staff list."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.access import SYSTEM_ACTOR
from accounts.models import AuditEvent, ProfilePermission
from accounts.services.moderation import user_ban
from config.client import SYSTEM
from tests.factories import UserFactory
from tests.helpers import account, client_for

pytestmark = pytest.mark.django_db


def test_another_users_profile_is_public_fields_only() -> None:
    viewer, other = account(), account(bio="Hello")

    body = client_for(viewer).get(f"/api/v1/users/{other.pk}/").json()

    assert body == {
        "id": str(other.pk),
        "username": other.username,
        "display_name": other.display_name,
        "avatar_url": f"http://testserver/api/v1/users/{other.pk}/avatar/",
        "bio": "Hello",
    }


def test_yourself_and_staff_see_the_full_profile() -> None:
    user, moderator = account(), account("moderator")

    assert "email" in client_for(user).get(f"/api/v1/users/{user.pk}/").json()
    assert "email" in client_for(moderator).get(f"/api/v1/users/{user.pk}/").json()


def test_blocking_hides_the_profile_but_not_from_staff() -> None:
    blocker, blocked, moderator = account(), account(), account("moderator")

    assert (
        client_for(blocker).post(f"/api/v1/users/{blocked.pk}/block/").status_code
        == 204
    )

    hidden = client_for(blocked).get(f"/api/v1/users/{blocker.pk}/")
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "not_found"
    assert client_for(moderator).get(f"/api/v1/users/{blocker.pk}/").status_code == 200
    # the blocker still sees the blocked user
    assert client_for(blocker).get(f"/api/v1/users/{blocked.pk}/").status_code == 200

    assert (
        client_for(blocker).delete(f"/api/v1/users/{blocked.pk}/block/").status_code
        == 204
    )
    assert client_for(blocked).get(f"/api/v1/users/{blocker.pk}/").status_code == 200


def test_blocking_twice_and_blocking_yourself() -> None:
    user, other = account(), account()
    client = client_for(user)

    assert client.post(f"/api/v1/users/{other.pk}/block/").status_code == 204
    assert client.post(f"/api/v1/users/{other.pk}/block/").status_code == 204
    assert ProfilePermission.objects.count() == 1
    assert client.post(f"/api/v1/users/{user.pk}/block/").status_code == 400


def test_a_block_is_a_guardian_object_permission_on_the_blockers_profile() -> None:
    blocker, blocked, bystander = account(), account(), account()

    client_for(blocker).post(f"/api/v1/users/{blocked.pk}/block/")

    # Through Django's permission API (guardian's backend), as any app would check it.
    assert blocked.has_perm("accounts.blocked_from_profile", blocker)
    assert not bystander.has_perm("accounts.blocked_from_profile", blocker)
    assert not blocker.has_perm("accounts.blocked_from_profile", blocked)
    assert client_for(bystander).get(f"/api/v1/users/{blocker.pk}/").status_code == 200

    client_for(blocker).delete(f"/api/v1/users/{blocked.pk}/block/")

    assert not ProfilePermission.objects.exists()


def test_someone_who_blocked_you_can_be_blocked_back() -> None:
    first, second = account(), account()

    assert (
        client_for(first).post(f"/api/v1/users/{second.pk}/block/").status_code == 204
    )
    assert (
        client_for(second).post(f"/api/v1/users/{first.pk}/block/").status_code == 204
    )

    assert client_for(first).get(f"/api/v1/users/{second.pk}/").status_code == 404
    assert client_for(second).get(f"/api/v1/users/{first.pk}/").status_code == 404


def test_blocking_an_unknown_account_is_404_and_unblocking_is_idempotent() -> None:
    import uuid

    client = client_for(account())

    response = client.post(f"/api/v1/users/{uuid.uuid4()}/block/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.delete(f"/api/v1/users/{uuid.uuid4()}/block/").status_code == 204
    gone = account()
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert client.post(f"/api/v1/users/{gone.pk}/block/").status_code == 404
    assert client.delete(f"/api/v1/users/{account().pk}/block/").status_code == 204


def test_a_deactivated_account_is_hidden_from_users_but_not_from_staff() -> None:
    gone = account()
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    assert client_for(account()).get(f"/api/v1/users/{gone.pk}/").status_code == 404
    assert (
        client_for(account("moderator")).get(f"/api/v1/users/{gone.pk}/").status_code
        == 200
    )


def test_profiles_need_authentication_and_unknown_ids_are_404() -> None:
    import uuid

    other = account()
    assert APIClient().get(f"/api/v1/users/{other.pk}/").status_code == 401
    assert (
        client_for(account()).get(f"/api/v1/users/{uuid.uuid4()}/").status_code == 404
    )


@pytest.mark.parametrize(
    ("role", "status"), [(None, 403), ("tester", 403), ("moderator", 200)]
)
def test_the_staff_list_is_for_staff(role: str | None, status: int) -> None:
    assert client_for(account(role)).get("/api/v1/users/").status_code == status


def test_staff_list_searches_filters_orders_and_pages(
    django_assert_max_num_queries,
) -> None:
    moderator = account("moderator")
    ada = UserFactory(
        username="ada", email="ada@example.com", display_name="Ada Lovelace"
    )
    UserFactory(username="alan", email="turing@example.com", display_name="Alan")
    UserFactory(username="grace", is_active=False)
    user_ban(user_id=ada.pk, actor=SYSTEM_ACTOR, reason="x", until=None, client=SYSTEM)
    client = client_for(moderator)

    def names(**params: str) -> list[str]:
        response = client.get("/api/v1/users/", params)
        assert response.status_code == 200, response.content
        return [row["username"] for row in response.json()["results"]]

    assert names(search="ada") == ["ada"]
    assert names(search="al") == ["alan"]
    assert names(search="turing") == ["alan"]
    assert names(search="lovelace") == ["ada"]
    assert names(is_banned="true") == ["ada"]
    assert "grace" in names(is_active="false")
    assert names(role="moderator") == [moderator.username]
    assert names(ordering="-username") == sorted(names(), reverse=True)
    page = client.get("/api/v1/users/", {"page_size": 2}).json()
    assert page["count"] == 4
    assert len(page["results"]) == 2
    assert page["results"][0]["is_banned"] in {True, False}
    # COUNT and the page (the staff member's own snapshot is cached)
    with django_assert_max_num_queries(2):
        client.get("/api/v1/users/", {"page_size": 100, "search": "a", "role": "user"})


def test_staff_list_pages_count_the_whole_result() -> None:
    moderator = account("moderator")
    for number in range(5):
        UserFactory(username=f"paged_{number}")
    client = client_for(moderator)

    def page(**params: str) -> dict:
        return client.get("/api/v1/users/", {"search": "paged_", **params}).json()

    second = page(page_size="2", page="2")
    assert second["count"] == 5
    assert [row["username"] for row in second["results"]] == ["paged_2", "paged_3"]
    assert second["next"]
    assert second["previous"]
    last = page(page_size="2", page="last")
    assert [row["username"] for row in last["results"]] == ["paged_4"]
    assert last["next"] is None
    assert page(search="nobody_at_all") == {
        "count": 0,
        "count_capped": False,
        "next": None,
        "previous": None,
        "results": [],
    }
    for beyond in ("4", "0", "x"):
        response = client.get(
            "/api/v1/users/", {"search": "paged_", "page_size": 2, "page": beyond}
        )
        assert response.status_code == 404, beyond
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "ordering",
    ["username", "-username", "email", "-email", "last_login", "-last_login"],
)
def test_a_searched_page_is_in_the_same_order_whichever_plan_serves_it(
    ordering: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from accounts import selectors

    moderator = account("moderator")
    for number, seen in enumerate([None, 3, None, 1, 2]):
        UserFactory(
            username=f"planned_{number}",
            email=f"{'zyx'[number % 3]}{number}@example.com",
            display_name=f"Planned {number}",
            last_login=seen and timezone.now() - timedelta(days=seen),
        )
    client = client_for(moderator)

    def names() -> list[str]:
        response = client.get(
            "/api/v1/users/", {"search": "planned", "ordering": ordering}
        )
        return [row["username"] for row in response.json()["results"]]

    sorted_from_matches = names()
    monkeypatch.setattr(selectors, "SORT_MATCHES_UP_TO", 0)  # the index walk's plan

    assert names() == sorted_from_matches
    assert len(sorted_from_matches) == 5


def test_staff_list_role_filter_counts_superusers_once() -> None:
    moderator = account("moderator")
    root = UserFactory(username="root_admin", is_superuser=True, is_staff=True)
    root.groups.set(Group.objects.filter(name__in=["superadmin", "admin"]))

    body = client_for(moderator).get("/api/v1/users/", {"role": "superadmin"}).json()

    assert body["count"] == 1
    assert [row["username"] for row in body["results"]] == ["root_admin"]


def test_a_bad_filter_is_a_validation_error() -> None:
    response = client_for(account("moderator")).get(
        "/api/v1/users/", {"ordering": "password"}
    )

    assert response.status_code == 400
    assert "ordering" in response.json()["errors"]


@pytest.mark.parametrize(
    ("actor_role", "target_role", "status"),
    [
        (None, None, 403),
        ("moderator", None, 200),
        ("moderator", "admin", 403),
        ("admin", "moderator", 200),
    ],
)
def test_staff_deactivate_accounts_they_outrank(
    actor_role: str | None, target_role: str | None, status: int
) -> None:
    actor, target = account(actor_role), account(target_role)
    targets_session = client_for(target)
    assert targets_session.get("/api/v1/users/me/").status_code == 200

    response = client_for(actor).patch(
        f"/api/v1/users/{target.pk}/", {"is_active": False, "bio": "x"}, format="json"
    )

    assert response.status_code == status, response.content
    target.refresh_from_db()
    assert target.is_active is (status != 200)
    assert (target.bio == "x") is (status == 200)
    revoked = targets_session.get("/api/v1/users/me/").status_code == 401
    assert revoked is (status == 200)


def test_staff_reactivate_an_account_and_an_unchanged_state_is_not_recorded() -> None:
    moderator, target = account("moderator"), account(is_active=False)
    client = client_for(moderator)

    reactivated = client.patch(
        f"/api/v1/users/{target.pk}/", {"is_active": True}, format="json"
    )
    unchanged = client.patch(
        f"/api/v1/users/{target.pk}/", {"is_active": True}, format="json"
    )

    assert reactivated.status_code == unchanged.status_code == 200
    target.refresh_from_db()
    assert target.is_active is True
    assert list(AuditEvent.objects.values_list("kind", flat=True)) == [
        "user.reactivated"
    ]


def test_staff_patch_refuses_other_fields() -> None:
    target = account()

    response = client_for(account("admin")).patch(
        f"/api/v1/users/{target.pk}/", {"is_superuser": True}, format="json"
    )

    assert response.status_code == 400
    target.refresh_from_db()
    assert target.is_superuser is False


@pytest.mark.parametrize(("actor_role", "status"), [("moderator", 403), ("admin", 204)])
def test_staff_delete_accounts(actor_role: str, status: int) -> None:
    target = account()

    response = client_for(account(actor_role)).delete(f"/api/v1/users/{target.pk}/")

    assert response.status_code == status
    target.refresh_from_db()
    assert target.username.startswith("deleted_") is (status == 204)


# --- At scale (issue 13): a capped count, and a search the trigram index serves cheaply ---


def test_the_staff_list_count_stops_at_its_cap_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from config.paginator import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "count_cap", 3)
    for number in range(5):
        UserFactory(username=f"capped_{number}")
    client = client_for(account("moderator"))

    def page(number: int) -> dict:
        return client.get(
            "/api/v1/users/", {"search": "capped_", "page_size": 2, "page": number}
        ).json()

    first, second, third = page(1), page(2), page(3)
    assert (first["count"], first["count_capped"]) == (3, True)
    assert first["next"]
    # A page ending past the cap is counted to its end, and links on while more remain.
    assert (second["count"], second["count_capped"]) == (4, True)
    assert second["next"]
    assert (third["count"], third["count_capped"]) == (5, False)
    assert third["next"] is None
    assert [row["username"] for row in third["results"]] == ["capped_4"]


def test_a_search_looks_up_the_rare_words_of_a_term_and_checks_the_whole_term(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts import selectors

    # PostgreSQL's statistics say every display name holds "Member".
    sample = tuple(f"MEMBER {n}" for n in range(100))
    monkeypatch.setattr(selectors, "display_names_sampled", lambda: sample)
    UserFactory(username="first", display_name="Member 12345 here")
    UserFactory(username="second", display_name="12345 Member")  # words, not the term
    UserFactory(username="third", display_name="Member 1234")
    client = client_for(account("moderator"))

    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/users/", {"search": "member 12345"}).json()

    assert [row["username"] for row in body["results"]] == ["first"]
    assert body["count"] == 1
    # The index is asked for the uncommon word; the whole term is checked on what it finds.
    sql = "\n".join(q["sql"] for q in queries.captured_queries)
    assert "%12345%" in sql
    assert "%member 12345%" in sql


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("member", ["first", "second"]),  # common, but nothing rarer to look up
        ("12345", ["first", "second"]),  # one word: the term itself
        ("mb", ["first", "second"]),  # too short for a trigram
    ],
)
def test_a_term_without_a_rare_word_is_looked_up_whole(
    monkeypatch: pytest.MonkeyPatch, term: str, expected: list[str]
) -> None:
    from accounts import selectors

    sample = tuple(f"MEMBER {n}" for n in range(100))
    monkeypatch.setattr(selectors, "display_names_sampled", lambda: sample)
    UserFactory(username="first", display_name="Member 12345")
    UserFactory(username="second", display_name="12345 Member")
    client = client_for(account("moderator"))

    body = client.get("/api/v1/users/", {"search": term}).json()

    assert [row["username"] for row in body["results"]] == expected


def test_display_names_are_sampled_from_postgresql_statistics_only() -> None:
    from django.db import connection

    from accounts import selectors

    if connection.vendor != "postgresql":
        # SQLite keeps no statistics, so every term is looked up whole.
        assert selectors.display_names_sampled() == ()
        assert selectors.estimated_rows(selectors.User.objects.all()) == 0
        return
    # PostgreSQL: the planner's sample (pg_stats; empty until ANALYZE) and its estimate.
    assert isinstance(selectors.display_names_sampled(), tuple)
    assert selectors.estimated_rows(selectors.User.objects.all()) >= 0


def test_a_searched_first_page_comes_with_its_count_in_one_query() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for number in range(3):
        UserFactory(username=f"counted_{number}")
    client = client_for(account("moderator"))
    client.get("/api/v1/users/")  # the staff member's own snapshot, cached

    with CaptureQueriesContext(connection) as queries:
        body = client.get(
            "/api/v1/users/", {"search": "counted_", "page_size": 2}
        ).json()

    assert (body["count"], body["count_capped"]) == (3, False)
    assert [row["username"] for row in body["results"]] == ["counted_0", "counted_1"]
    # The matches are sorted for the page, and counted there (COUNT(*) OVER ()).
    # (On PostgreSQL the page was planned from an EXPLAIN estimate first.)
    [page] = [
        q["sql"]
        for q in queries.captured_queries
        if "accounts_user" in q["sql"] and not q["sql"].startswith("EXPLAIN")
    ]
    assert "OVER ()" in page


@pytest.mark.parametrize("search", ["", "\x16Y"])
def test_a_page_far_past_the_end_is_a_404_not_a_500(search: str) -> None:
    """The schema fuzzer's request, replayed: a page number of 25 digits was a 500."""
    client = client_for(account("moderator"))

    response = client.get(
        "/api/v1/users/",
        {
            "page": "3488716715896372994244608",
            "page_size": "97",
            "is_active": "false",
            "ordering": "last_login",
            "role": "moderator",
            "search": search,
        },
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
