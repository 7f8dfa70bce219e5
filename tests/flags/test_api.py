"""``/api/v1/flags/`` over HTTP: the caller's flags (anyone), the staff list and
changes, who may do what (403 before 404, nothing changed when refused), and names with
``:`` and ``/`` in the URL."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from accounts.access import SYSTEM_ACTOR
from accounts.constants import AMR_PASSWORD, AuditKind
from accounts.models import AuditEvent
from apikeys.services import api_key_create
from config.client import SYSTEM
from flags.models import Flag, FlagChange
from tests.flags.helpers import make_flag, set_rules
from tests.helpers import account, client_for

pytestmark = pytest.mark.django_db

MINE = "/api/v1/flags/"
ALL = "/api/v1/flags/all/"


def detail(name: str) -> str:
    """A flag's URL, its name encoded as a client's encodeURIComponent does."""
    return f"/api/v1/flags/{quote(name, safe='')}/"


@pytest.fixture
def moderator_client() -> APIClient:
    return client_for(account("moderator"))


# --- GET flags/ ------------------------------------------------------------------------


def test_anonymous_callers_get_only_what_is_on_for_everyone() -> None:
    make_flag("for_all", everyone=True)
    make_flag("for_testers", roles=["tester"])
    make_flag("for_half", percent=100)

    response = APIClient().get(MINE)

    assert response.status_code == 200
    flags = response.json()["flags"]
    assert (flags["for_all"], flags["for_testers"], flags["for_half"]) == (
        True,
        False,
        False,
    )
    assert flags["api:users/me/"] is True  # endpoint flags are listed too
    assert response["Cache-Control"] == "private, no-cache"
    assert "Authorization" in response["Vary"]


def test_signed_in_callers_get_their_own_answer() -> None:
    tester, plain = account("tester"), account()
    make_flag("for_testers", roles=["tester"])
    make_flag("for_plain", users=[str(plain.pk)])

    tester_flags = client_for(tester).get(MINE).json()["flags"]
    plain_flags = client_for(plain).get(MINE).json()["flags"]

    assert (tester_flags["for_testers"], tester_flags["for_plain"]) == (True, False)
    assert (plain_flags["for_testers"], plain_flags["for_plain"]) == (False, True)


def test_a_bad_token_is_refused_not_treated_as_anonymous() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer nonsense")

    response = client.get(MINE)

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_an_api_key_needs_flags_read() -> None:
    owner = account("tester")
    make_flag("for_testers", roles=["tester"])

    def key_with(scopes: list[str]) -> APIClient:
        _, key = api_key_create(
            actor=SYSTEM_ACTOR,
            owner_id=owner.pk,
            name="script",
            scopes=scopes,
            expires_at=None,
            client=SYSTEM,
        )
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=key)
        return client

    allowed = key_with(["flags:read"]).get(MINE)
    refused = key_with(["users:read"]).get(MINE)

    assert allowed.status_code == 200
    assert allowed.json()["flags"]["for_testers"] is True
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"
    assert "X-API-Key" in allowed["Vary"]


# --- Who may list and change -----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (None, 403),
        ("tester", 403),
        ("moderator", 200),
        ("admin", 200),
        ("superadmin", 200),
    ],
)
def test_staff_list_and_change_flags(role: str | None, status: int) -> None:
    make_flag("beta")
    client = client_for(account(role))

    listed = client.get(ALL)
    changed = client.patch(detail("beta"), {"everyone": True}, format="json")

    assert (listed.status_code, changed.status_code) == (status, status)
    assert Flag.objects.get(name="beta").everyone is (True if status == 200 else None)
    if status == 403:
        assert listed.json()["code"] == changed.json()["code"] == "permission_denied"


def test_anonymous_callers_are_asked_to_sign_in() -> None:
    make_flag("beta")

    assert APIClient().get(ALL).status_code == 401
    assert APIClient().patch(detail("beta"), {"everyone": True}).status_code == 401
    assert Flag.objects.get(name="beta").everyone is None


def test_non_staff_get_403_for_unknown_flags_too_so_learn_nothing() -> None:
    client = client_for(account())

    unknown = client.patch(detail("no_such_flag"), {"everyone": True}, format="json")
    known = client.patch(detail("api:users/me/"), {"everyone": False}, format="json")

    assert unknown.status_code == known.status_code == 403
    assert unknown.json() == known.json()
    assert Flag.objects.get(name="api:users/me/").everyone is True


def test_staff_without_a_second_factor_in_their_session() -> None:
    make_flag("beta")
    client = client_for(account("admin"), amr=AMR_PASSWORD)

    listed = client.get(ALL)
    changed = client.patch(detail("beta"), {"everyone": True}, format="json")

    assert listed.status_code == changed.status_code == 403
    assert listed.json()["code"] == changed.json()["code"] == "mfa_setup_required"
    assert Flag.objects.get(name="beta").everyone is None


# --- The staff list ----------------------------------------------------------------------


def test_the_list_shows_every_rule(moderator_client: APIClient) -> None:
    person = account()
    make_flag(
        "rollout",
        percent=30,
        roles=["tester", "admin"],
        users=[str(person.pk)],
        note="new editor",
    )

    response = moderator_client.get(ALL, {"search": "ROLL"})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row.pop("updated_at")
    assert row == {
        "name": "rollout",
        "everyone": None,
        "percent": 30.0,
        "roles": ["admin", "tester"],
        "users": [str(person.pk)],
        "note": "new editor",
        "is_endpoint": False,
    }


def test_the_list_is_paginated_and_lists_endpoint_flags(
    moderator_client: APIClient,
) -> None:
    body = moderator_client.get(ALL, {"page_size": 2}).json()

    assert set(body) >= {"count", "next", "previous", "results"}
    assert len(body["results"]) == 2
    assert body["count"] == Flag.objects.count()
    searched = moderator_client.get(ALL, {"search": "api:users/me/"}).json()
    assert searched["results"][0]["is_endpoint"] is True


def test_the_list_reads_a_fixed_number_of_queries(
    moderator_client: APIClient, django_assert_max_num_queries
) -> None:
    for number in range(5):
        make_flag(f"flag_{number}", roles=["tester"], users=[str(account().pk)])
    moderator_client.get(ALL)  # warm

    with django_assert_max_num_queries(6):
        response = moderator_client.get(ALL, {"page_size": 100})

    assert response.status_code == 200


# --- Changing a flag ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"everyone": True}, {"everyone": True}),
        ({"everyone": False}, {"everyone": False}),
        ({"everyone": None}, {"everyone": None}),
        ({"percent": 12.5}, {"percent": 12.5}),
        ({"percent": 100}, {"percent": 100.0}),
        ({"percent": None}, {"percent": None}),
        ({"roles": ["tester", "admin"]}, {"roles": ["admin", "tester"]}),
        ({"roles": []}, {"roles": []}),
        ({"note": "why"}, {"note": "why"}),
    ],
)
def test_each_rule_changes(
    moderator_client: APIClient, change: dict, expected: dict
) -> None:
    make_flag("beta", percent=50, roles=["user"])

    response = moderator_client.patch(detail("beta"), change, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert {field: body[field] for field in expected} == expected
    assert response.json()["name"] == "beta"


def test_users_are_set_by_id(moderator_client: APIClient) -> None:
    first, second = account(), account()
    make_flag("beta", users=[str(first.pk)])

    response = moderator_client.patch(
        detail("beta"), {"users": [str(second.pk)]}, format="json"
    )

    assert response.json()["users"] == [str(second.pk)]
    change = FlagChange.objects.filter(flag__name="beta").first()
    assert change is not None
    assert change.changes["users"] == {
        "added": [str(second.pk)],
        "removed": [str(first.pk)],
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"percent": 100.5}, "percent"),
        ({"percent": -1}, "percent"),
        ({"percent": 33.33}, "percent"),
        ({"percent": "lots"}, "percent"),
        ({"roles": ["wizard"]}, "roles"),
        ({"roles": "admin"}, "roles"),
        ({"users": ["not-an-id"]}, "users"),
        ({"users": ["0b8f1e9c-5a57-4d0c-9f0e-3b5d3f8f2a61"]}, "users"),
        ({"everyone": "sometimes"}, "everyone"),
        ({"note": "x" * 2001}, "note"),
        ({"name": "renamed"}, "name"),
    ],
)
def test_bad_rules_are_400_and_change_nothing(
    moderator_client: APIClient, change: dict, field: str
) -> None:
    make_flag("beta", percent=10)

    response = moderator_client.patch(detail("beta"), change, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]
    flag = Flag.objects.get(name="beta")
    assert (flag.percent, flag.everyone, flag.note) == (10, None, "")
    assert not FlagChange.objects.filter(flag=flag).exclude(changes={}).count() > 1


def test_an_unknown_flag_is_404_for_staff(moderator_client: APIClient) -> None:
    response = moderator_client.patch(
        detail("no_such_flag"), {"everyone": True}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_change_is_recorded_with_who_and_what(moderator_client: APIClient) -> None:
    make_flag("beta")
    before = AuditEvent.objects.filter(kind=AuditKind.FLAG_CHANGED).count()

    moderator_client.patch(
        detail("beta"), {"everyone": True, "note": "go"}, format="json"
    )

    change = FlagChange.objects.filter(flag__name="beta").first()
    assert change is not None
    assert change.source == FlagChange.Source.API
    assert change.actor is not None
    assert change.actor.groups.filter(name="moderator").exists()
    assert change.changes == {
        "everyone": {"from": None, "to": True},
        "note": {"from": "", "to": "go"},
    }
    event = AuditEvent.objects.filter(kind=AuditKind.FLAG_CHANGED).latest("created_at")
    assert AuditEvent.objects.filter(kind=AuditKind.FLAG_CHANGED).count() == before + 1
    assert event.actor_id == change.actor.pk
    assert event.payload["flag"] == "beta"
    assert event.payload["changes"] == change.changes


def test_the_next_request_sees_a_change(moderator_client: APIClient) -> None:
    make_flag("beta")
    reader = client_for(account())
    assert reader.get(MINE).json()["flags"]["beta"] is False

    moderator_client.patch(detail("beta"), {"everyone": True}, format="json")

    assert reader.get(MINE).json()["flags"]["beta"] is True


# --- Names with ":" and "/" in the URL ----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/flags/api%3Ausers%2F%7Buser_id%7D%2Fban%2F/",  # encodeURIComponent
        "/api/v1/flags/api:users/%7Buser_id%7D/ban//",  # "/" as it is
        "/api/v1/flags/api:users/{user_id}/ban//",
    ],
)
def test_an_endpoint_flag_is_addressed_by_its_name(
    moderator_client: APIClient, url: str
) -> None:
    response = moderator_client.patch(url, {"note": "checked"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "api:users/{user_id}/ban/"


def test_a_flag_named_all_is_reachable(moderator_client: APIClient) -> None:
    make_flag("all")

    response = moderator_client.patch(ALL, {"everyone": True}, format="json")

    assert response.status_code == 200
    assert Flag.objects.get(name="all").everyone is True


@pytest.mark.parametrize(
    "name",
    [
        "",
        "%00",
        "\x00",
        "a\x00b",
        "..",
        "a b",
        "é",
        "x" * 300,
        "%",
        "a/..",
        "?x=1",
        "\\",
        "a//b",
    ],
)
def test_odd_names_are_404_never_500(moderator_client: APIClient, name: str) -> None:
    response = moderator_client.patch(
        f"/api/v1/flags/{quote(name, safe='')}/", {"note": "n"}, format="json"
    )

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_the_staff_routes_have_no_endpoint_flag(moderator_client: APIClient) -> None:
    set_rules("api:flags/", everyone=False)

    assert moderator_client.get(ALL).status_code == 200
    assert moderator_client.get(MINE).status_code == 404
    assert not Flag.objects.filter(name__in=["api:flags/all/", "api:flags/{name}/"])
