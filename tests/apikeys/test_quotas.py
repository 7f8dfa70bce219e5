"""A key's own quota (issue 17): set at creation and changed with ``PATCH
api-keys/{id}/`` (owners at most their role's limits, admins any value), in the admin
(admins) and by ``manage.py apikey`` (any value); audited; refused without a change when
the cache cannot take the key's new entry."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.constants import AuditKind
from accounts.models import AuditEvent, User
from apikeys.models import ApiKey
from apikeys.services import api_key_quota_set
from config.client import SYSTEM
from tests.helpers import account, admin_client_for, client_for

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/api-keys/"
ME = "/api/v1/users/me/"
GROUPS = {"default": {"user": "100/m,1000/h,10000/d", "tester": "5000/h,50000/d"}}

SetGroups = Callable[[dict[str, dict[str, str]]], None]


@pytest.fixture(autouse=True)
def _groups(rate_limit_groups: SetGroups) -> None:
    rate_limit_groups(GROUPS)


def create(client: APIClient, **body: object) -> Any:
    return client.post(KEYS, {"name": "script", **body}, format="json")


def quota_of(key_id: str) -> tuple[int | None, int | None]:
    key = ApiKey.objects.get(pk=key_id)
    return key.quota_per_hour, key.quota_per_day


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


# --- creating a key with a quota ----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "body", "status"),
    [
        (None, {"quota_per_hour": 1000, "quota_per_day": 10000}, 201),
        (None, {"quota_per_hour": 1001}, 400),
        (None, {"quota_per_day": 10001}, 400),
        ("tester", {"quota_per_hour": 5000}, 201),
        ("tester", {"quota_per_hour": 5001}, 400),
        # No limit of their role in the default group: any value.
        ("moderator", {"quota_per_hour": 10**6}, 201),
    ],
)
def test_an_owner_gives_a_new_key_at_most_their_roles_quota(
    role: str | None, body: dict[str, int], status: int
) -> None:
    owner = account(role)

    response = create(client_for(owner), **body)

    assert response.status_code == status, response.content
    if status == 201:
        answer = response.json()
        assert {field: answer[field] for field in body} == body
    else:
        problem = response.json()
        assert problem["code"] == "validation_error"
        assert list(problem["errors"]) == list(body)
        assert "your role's limit" in problem["errors"][next(iter(body))][0]
        assert not ApiKey.objects.filter(user=owner).exists()


@pytest.mark.parametrize("value", [0, -1, 2**31, "many"])
def test_a_quota_is_a_positive_whole_number(value: object) -> None:
    response = create(client_for(account()), quota_per_hour=value)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["quota_per_hour"]


def test_a_key_made_without_a_quota_has_its_roles() -> None:
    answer = create(client_for(account())).json()

    assert (answer["quota_per_hour"], answer["quota_per_day"]) == (None, None)
    listed = client_for(User.objects.get()).get(KEYS).json()["results"]
    assert (listed[0]["quota_per_hour"], listed[0]["quota_per_day"]) == (None, None)


def test_an_admin_gives_a_global_key_any_quota() -> None:
    admin = client_for(account("admin"))

    response = create(
        admin, scopes=["users:read"], quota_per_hour=10**6, **{"global": True}
    )

    assert response.status_code == 201, response.content
    assert response.json()["quota_per_hour"] == 10**6


# --- changing a key's quota: who may ------------------------------------------------------


@pytest.fixture
def owner() -> User:
    return account(username="ada")


@pytest.fixture
def owners_key(owner: User) -> dict[str, Any]:
    return create(client_for(owner)).json()


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("owner", 200),
        ("other user", 404),
        ("moderator", 403),
        ("admin", 200),
        ("superadmin", 200),
    ],
)
def test_who_may_change_a_users_key_quota_within_the_role(
    owner: User, owners_key: dict[str, Any], actor: str, status: int
) -> None:
    client = client_for(
        owner if actor == "owner" else account(None if actor == "other user" else actor)
    )

    response = client.patch(
        f"{KEYS}{owners_key['id']}/", {"quota_per_hour": 500}, format="json"
    )

    assert response.status_code == status, response.content
    assert quota_of(owners_key["id"]) == (
        (500, None) if status == 200 else (None, None)
    )


@pytest.mark.parametrize(("actor", "status"), [("owner", 400), ("admin", 200)])
def test_only_admins_go_above_the_owners_role(
    owner: User, owners_key: dict[str, Any], actor: str, status: int
) -> None:
    client = client_for(owner if actor == "owner" else account("admin"))

    response = client.patch(
        f"{KEYS}{owners_key['id']}/",
        {"quota_per_hour": 1500, "quota_per_day": 20000},
        format="json",
    )

    assert response.status_code == status
    if status == 400:
        assert set(response.json()["errors"]) == {"quota_per_hour", "quota_per_day"}
        assert quota_of(owners_key["id"]) == (None, None)
    else:
        assert quota_of(owners_key["id"]) == (1500, 20000)


def test_an_owner_keeps_a_quota_an_admin_gave_and_may_lower_or_drop_it(
    owner: User, owners_key: dict[str, Any]
) -> None:
    url = f"{KEYS}{owners_key['id']}/"
    client_for(account("admin")).patch(url, {"quota_per_hour": 1500}, format="json")
    client = client_for(owner)

    kept = client.patch(
        url, {"quota_per_hour": 1500, "quota_per_day": 9000}, format="json"
    )
    raised = client.patch(url, {"quota_per_hour": 1600}, format="json")
    dropped = client.patch(url, {"quota_per_hour": None}, format="json")

    assert kept.status_code == 200
    assert raised.status_code == 400
    assert dropped.status_code == 200
    assert quota_of(owners_key["id"]) == (None, 9000)


def test_a_moderator_may_not_change_a_global_keys_quota_an_admin_may() -> None:
    created = create(
        client_for(account("admin")), scopes=["users:read"], **{"global": True}
    ).json()
    url = f"{KEYS}{created['id']}/"

    refused = client_for(account("moderator")).patch(
        url, {"quota_per_hour": 5}, format="json"
    )
    changed = client_for(account("admin")).patch(
        url, {"quota_per_hour": 5}, format="json"
    )

    assert refused.status_code == 403
    assert changed.status_code == 200
    assert quota_of(created["id"]) == (5, None)


def test_a_key_cannot_change_quotas_even_its_own(owners_key: dict[str, Any]) -> None:
    response = key_client(owners_key["key"]).patch(
        f"{KEYS}{owners_key['id']}/", {"quota_per_hour": 5}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert quota_of(owners_key["id"]) == (None, None)


def test_a_revoked_keys_quota_does_not_change(
    owner: User, owners_key: dict[str, Any]
) -> None:
    client = client_for(owner)
    client.delete(f"{KEYS}{owners_key['id']}/")

    response = client.patch(
        f"{KEYS}{owners_key['id']}/", {"quota_per_hour": 5}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert quota_of(owners_key["id"]) == (None, None)


def test_only_the_quota_is_changed_here(
    owner: User, owners_key: dict[str, Any]
) -> None:
    response = client_for(owner).patch(
        f"{KEYS}{owners_key['id']}/", {"name": "renamed", "scopes": []}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "scopes"}
    assert ApiKey.objects.get(pk=owners_key["id"]).name == "script"


def test_a_change_is_audited_once_and_no_change_is_not(
    owner: User, owners_key: dict[str, Any]
) -> None:
    client = client_for(owner)
    url = f"{KEYS}{owners_key['id']}/"

    client.patch(url, {"quota_per_hour": 500}, format="json")
    client.patch(url, {"quota_per_hour": 500}, format="json")

    [event] = AuditEvent.objects.filter(kind=AuditKind.API_KEY_QUOTA_CHANGED)
    assert event.target == owner
    assert event.actor == owner
    assert event.payload["quota_per_hour"] == 500
    assert event.payload["previous"] == {"quota_per_hour": None, "quota_per_day": None}


def test_a_cache_that_refuses_the_new_entry_leaves_the_quota_unchanged(
    monkeypatch: pytest.MonkeyPatch, owner: User, owners_key: dict[str, Any]
) -> None:
    client = client_for(owner)

    def refused(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the cache refuses writes")

    monkeypatch.setattr(cache, "set", refused)
    response = client.patch(
        f"{KEYS}{owners_key['id']}/", {"quota_per_hour": 5}, format="json"
    )

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert quota_of(owners_key["id"]) == (None, None)
    assert not AuditEvent.objects.filter(kind=AuditKind.API_KEY_QUOTA_CHANGED).exists()


def test_the_schema_documents_the_quota_fields_and_the_change(
    api_client: APIClient,
) -> None:
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/api-keys/{key_id}/"]["patch"]
    components = schema["components"]["schemas"]

    assert operation["operationId"] == "updateApiKey"
    assert {"200", "400", "401", "403", "404", "409", "503"} <= set(
        operation["responses"]
    )
    for component in ("ApiKeyOutput", "ApiKeyCreateInputRequest"):
        hourly = components[component]["properties"]["quota_per_hour"]
        assert (hourly["minimum"], hourly["maximum"], hourly["nullable"]) == (
            1,
            2**31 - 1,
            True,
        ), component
    assert {"quota_per_hour", "quota_per_day"} <= set(
        components["ApiKeyOutput"]["required"]
    )


# --- manage.py apikey -------------------------------------------------------------------


def apikey(*arguments: str) -> str:
    out = io.StringIO()
    call_command("apikey", *arguments, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_gives_any_key_any_quota_and_takes_it_back(
    owner: User, owners_key: dict[str, Any]
) -> None:
    prefix = owners_key["prefix"]

    set_output = apikey("quota", prefix, "--per-hour", "999999")
    day_output = apikey("quota", prefix, "--per-day", "5")
    assert quota_of(owners_key["id"]) == (999999, 5)
    apikey("quota", prefix, "--per-hour", "none")

    assert quota_of(owners_key["id"]) == (None, 5)
    assert "quota 999999/h,role/d" in set_output
    assert "quota 999999/h,5/d" in day_output
    events = AuditEvent.objects.filter(kind=AuditKind.API_KEY_QUOTA_CHANGED)
    assert [event.actor for event in events] == [None, None, None]


def test_the_command_creates_a_key_with_a_quota_above_the_role(owner: User) -> None:
    output = apikey(
        "create", "--user", "ada", "--name", "partner", "--per-hour", "50000"
    )

    key = ApiKey.objects.get(user=owner)
    assert (key.quota_per_hour, key.quota_per_day) == (50000, None)
    assert "quota 50000/h,role/d" in output
    assert f"{key.prefix}" in apikey("list")
    assert "50000/h,role/d" in apikey("list")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--per-hour", "0"], "from 1"),
        ([], "Give --per-hour and/or --per-day."),
    ],
)
def test_the_command_refuses_a_quota_it_cannot_set(
    owners_key: dict[str, Any], arguments: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        apikey("quota", owners_key["prefix"], *arguments)

    assert quota_of(owners_key["id"]) == (None, None)


def test_the_command_names_an_unknown_prefix() -> None:
    with pytest.raises(CommandError, match="No API key with the prefix"):
        apikey("quota", "nope", "--per-hour", "5")


# --- the admin --------------------------------------------------------------------------


def quota_page(key_id: str) -> str:
    return f"/admin/apikeys/apikey/{key_id}/quota/"


def test_an_admin_sets_a_keys_quota_in_the_admin_above_the_role(
    owners_key: dict[str, Any],
) -> None:
    admin = admin_client_for(account("admin"))
    page = admin.get(f"/admin/apikeys/apikey/{owners_key['id']}/change/")
    assert quota_page(owners_key["id"]) in page.content.decode()

    response = admin.post(
        quota_page(owners_key["id"]), {"quota_per_hour": "5000", "quota_per_day": ""}
    )

    assert response.status_code == 302
    assert quota_of(owners_key["id"]) == (5000, None)
    followed = admin.get(response["Location"]).content.decode()
    assert "5000/h" in followed


def test_the_admins_quota_form_refuses_a_quota_below_one(
    owners_key: dict[str, Any],
) -> None:
    admin = admin_client_for(account("admin"))

    response = admin.post(quota_page(owners_key["id"]), {"quota_per_hour": "0"})

    assert response.status_code == 200
    assert "quota_per_hour" in response.context["form"].errors
    assert quota_of(owners_key["id"]) == (None, None)


def test_a_moderator_sees_a_keys_quota_but_may_not_change_it(
    owners_key: dict[str, Any],
) -> None:
    moderator: Client = admin_client_for(account("moderator"))

    page = moderator.get(f"/admin/apikeys/apikey/{owners_key['id']}/change/")
    refused = moderator.post(quota_page(owners_key["id"]), {"quota_per_hour": "5"})

    assert page.status_code == 200
    assert quota_page(owners_key["id"]) not in page.content.decode()
    assert refused.status_code == 403
    assert quota_of(owners_key["id"]) == (None, None)


def test_an_admin_makes_a_global_key_with_a_quota_in_the_admin() -> None:
    admin = admin_client_for(account("admin"))

    response = admin.post(
        "/admin/apikeys/apikey/create-global/",
        {"name": "ci", "scopes": ["users:read"], "quota_per_hour": "70000"},
    )

    assert response.status_code == 200
    key = ApiKey.objects.get()
    assert (key.user, key.quota_per_hour, key.quota_per_day) == (None, 70000, None)


# --- the export -------------------------------------------------------------------------


def test_the_export_lists_each_keys_quota(
    owner: User, owners_key: dict[str, Any]
) -> None:
    client = client_for(owner)
    client.patch(f"{KEYS}{owners_key['id']}/", {"quota_per_day": 70}, format="json")

    [exported] = client.get("/api/v1/users/me/export/").json()["api_keys"]

    assert (exported["quota_per_hour"], exported["quota_per_day"]) == (None, 70)


def test_the_service_takes_only_quota_fields(
    owner: User, owners_key: dict[str, Any]
) -> None:
    """Every way in hands it quota fields only; the service refuses anything else
    itself rather than ignore it."""
    with pytest.raises(ValidationError) as refused:
        api_key_quota_set(
            actor=owner,
            key_id=owners_key["id"],
            changes={"name": "renamed", "quota_per_hour": 5},
            client=SYSTEM,
        )

    assert set(refused.value.message_dict) == {"name"}
    assert quota_of(owners_key["id"]) == (None, None)
