"""``GET /api/v1/users/me/quota/`` and the quotas it reports, over HTTP: quotas by role
(a user is refused past its hourly limit, a tester has more, a moderator none), a key's
own quota counted per key while its owner's token is not affected, the counts the
endpoint reports after N requests for a user, a key and staff, and its schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from config import counters
from tests.helpers import account, client_for

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"
QUOTA = "/api/v1/users/me/quota/"
KEYS = "/api/v1/api-keys/"

SetGroups = Callable[[dict[str, dict[str, str]]], None]
# 5 s into a minute and an hour, 10 h into a day: no window edge is crossed while a test
# runs, so counts are exact (the previous slot is empty) and resets known.
NOW = "2026-12-02T10:00:05Z"


@pytest.fixture(autouse=True)
def _clock_stopped() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def make_key(owner_client: APIClient, **body: object) -> dict[str, Any]:
    response = owner_client.post(KEYS, {"name": "script", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def statuses(client: APIClient, count: int, path: str = ME) -> list[int]:
    return [client.get(path).status_code for _ in range(count)]


def group(answer: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [each for each in answer["groups"] if each["name"] == name]
    return found


def window(answer: dict[str, Any], name: str, label: str) -> dict[str, Any]:
    [found] = [
        each for each in group(answer, name)["windows"] if each["window"] == label
    ]
    return found


# --- quotas by role -----------------------------------------------------------------------


def test_a_user_is_refused_past_the_hourly_quota_of_its_role(
    rate_limit_groups: SetGroups,
) -> None:
    rate_limit_groups({"default": {"user": "3/h", "tester": "6/h"}})
    client = client_for(account())

    assert statuses(client, 3) == [200, 200, 200]
    refused = client.get(ME)

    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1
    assert refused["RateLimit-Limit"] == "3"


@pytest.mark.parametrize(
    ("role", "allowed"), [(None, 3), ("tester", 6), ("moderator", None)]
)
def test_each_role_has_its_own_quota_and_staff_none(
    rate_limit_groups: SetGroups, role: str | None, allowed: int | None
) -> None:
    rate_limit_groups({"default": {"user": "3/h", "tester": "6/h"}})
    client = client_for(account(role))

    answered = statuses(client, 10)

    if allowed is None:
        assert answered == [200] * 10
    else:
        assert answered == [200] * allowed + [429] * (10 - allowed)


# --- a key's own quota: per key ----------------------------------------------------------


def test_a_key_with_its_own_quota_is_limited_per_key_and_its_owner_is_not(
    rate_limit_groups: SetGroups,
) -> None:
    rate_limit_groups({"default": {"user": "5/h"}})
    owner = client_for(account())
    tight = make_key(owner, quota_per_hour=2)["key"]
    loose = make_key(owner)["key"]  # the role's 5/h, counted for this key alone

    assert statuses(key_client(tight), 3) == [200, 200, 429]
    assert key_client(tight).get(ME)["RateLimit-Limit"] == "2"
    assert statuses(key_client(loose), 5) == [200] * 5
    assert key_client(loose).get(ME).status_code == 429
    # The owner's own token counts on its own: two key creations so far.
    assert statuses(owner, 3) == [200, 200, 200]


def test_a_keys_daily_quota_replaces_its_roles_daily_limit(
    rate_limit_groups: SetGroups,
) -> None:
    rate_limit_groups({"default": {"user": "100/h,200/d"}})
    key = make_key(client_for(account()), quota_per_day=2)["key"]

    answers = [key_client(key).get(ME) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[0]["RateLimit-Limit"] == "2"


def test_a_change_of_quota_is_in_force_from_the_keys_next_request(
    rate_limit_groups: SetGroups,
) -> None:
    rate_limit_groups({"default": {"user": "100/h"}})
    owner = client_for(account())
    created = make_key(owner)
    client = key_client(created["key"])
    assert statuses(client, 2) == [200, 200]  # its entry is cached now

    lowered = owner.patch(
        f"{KEYS}{created['id']}/", {"quota_per_hour": 2}, format="json"
    )
    assert lowered.status_code == 200
    assert client.get(ME).status_code == 429

    raised = owner.patch(
        f"{KEYS}{created['id']}/", {"quota_per_hour": None}, format="json"
    )
    assert raised.json()["quota_per_hour"] is None
    assert client.get(ME).status_code == 200
    assert client.get(ME)["RateLimit-Limit"] == "100"


# --- what the endpoint reports ------------------------------------------------------------


def test_a_user_sees_its_usage_in_every_group_this_request_included(
    rate_limit_groups: SetGroups,
) -> None:
    rate_limit_groups(
        {
            "default": {"user": "100/m,1000/h"},
            "auth": {"user": "30/m"},
            "refresh": {"anonymous": "600/m"},
        }
    )
    client = client_for(account())
    statuses(client, 4)

    response = client.get(QUOTA)

    assert response.status_code == 200
    answer = response.json()
    assert answer["tier"] == "user"
    assert [each["name"] for each in answer["groups"]] == ["default", "auth", "refresh"]
    hourly = window(answer, "default", "1h")
    assert {
        name: hourly[name] for name in ("seconds", "limit", "used", "remaining")
    } == {
        "seconds": 3600,
        "limit": 1000,
        "used": 5,  # four requests and this one
        "remaining": 995,
    }
    assert hourly["reset"] == 3595  # to 11:00, the same for every caller
    assert window(answer, "default", "1m")["reset"] == 55
    assert window(answer, "default", "1m")["used"] == 5
    assert [each["window"] for each in group(answer, "default")["windows"]] == [
        "1m",
        "1h",
    ]
    assert group(answer, "auth")["unlimited"] is False
    assert window(answer, "auth", "1m")["used"] == 0
    assert group(answer, "refresh") == {
        "name": "refresh",
        "unlimited": True,
        "windows": [],
    }
    # The headers of this answer agree with the body.
    assert response["RateLimit-Remaining"] == "95"


def test_every_group_is_read_in_one_round_trip(rate_limit_groups: SetGroups) -> None:
    rate_limit_groups(
        {
            "default": {"user": "1000/h"},
            "auth": {"user": "30/m"},
            "uploads": {"user": "20/m"},
            "refresh": {"anonymous": "600/m"},
        }
    )
    client = client_for(account())

    with mock.patch("limits.selectors.read_counts", wraps=counters.read_counts) as read:
        assert client.get(QUOTA).status_code == 200

    [(specs,), _] = read.call_args
    assert read.call_count == 1
    # The groups that limit the caller; nothing to read for the unlimited one.
    assert [spec.scope for spec in specs] == ["default", "auth", "uploads"]


def test_reading_the_quota_counts_only_the_request_itself(
    rate_limit_groups: SetGroups,
) -> None:
    rate_limit_groups({"default": {"user": "1000/h"}})
    client = client_for(account())

    used = [window(client.get(QUOTA).json(), "default", "1h")["used"] for _ in range(3)]

    assert used == [1, 2, 3]


def test_a_key_sees_its_own_usage_and_quota_and_its_owner_its_own(
    rate_limit_groups: SetGroups,
) -> None:
    rate_limit_groups({"default": {"user": "100/m,1000/h,10000/d"}})
    owner = client_for(account())
    key = key_client(make_key(owner, quota_per_hour=50)["key"])
    statuses(key, 3)

    seen_by_key = key.get(QUOTA).json()
    seen_by_owner = owner.get(QUOTA).json()

    assert seen_by_key["tier"] == "user"  # its owner's role
    assert [
        (each["window"], each["limit"], each["used"])
        for each in group(seen_by_key, "default")["windows"]
    ] == [("1m", 100, 4), ("1h", 50, 4), ("1d", 10000, 4)]
    # The owner's token: one key creation and this request.
    assert window(seen_by_owner, "default", "1h") == {
        "window": "1h",
        "seconds": 3600,
        "limit": 1000,
        "used": 2,
        "remaining": 998,
        "reset": 3595,
    }


def test_staff_are_unlimited_in_every_group_by_default() -> None:
    client = client_for(account("moderator"))
    statuses(client, 2)

    answer = client.get(QUOTA).json()

    assert answer["tier"] == "moderator"
    assert answer["groups"] == [
        {"name": name, "unlimited": True, "windows": []}
        for name in ("default", "auth", "refresh", "uploads")
    ]


def test_staff_with_a_limit_configured_see_their_counts(
    rate_limit_groups: SetGroups,
) -> None:
    rate_limit_groups({"default": {"user": "10/h", "admin": "500/h"}})
    client = client_for(account("admin"))
    statuses(client, 6)

    answer = client.get(QUOTA).json()

    assert answer["tier"] == "admin"
    assert window(answer, "default", "1h")["used"] == 7
    assert window(answer, "default", "1h")["remaining"] == 493


def test_a_global_key_sees_the_service_tier_and_its_own_quota(
    rate_limit_groups: SetGroups,
) -> None:
    rate_limit_groups({"default": {"service": "600/m,20000/h"}})
    admin = client_for(account("admin"))
    created = make_key(
        admin, scopes=["users:read"], quota_per_hour=30, **{"global": True}
    )

    answer = key_client(created["key"]).get(QUOTA).json()

    assert answer["tier"] == "service"
    assert [
        (each["window"], each["limit"], each["used"])
        for each in group(answer, "default")["windows"]
    ] == [("1m", 600, 1), ("1h", 30, 1)]


def test_with_rate_limits_off_every_group_is_unlimited(
    settings: Any, rate_limit_groups: SetGroups
) -> None:
    rate_limit_groups({"default": {"user": "2/h"}, "auth": {"user": "1/h"}})
    settings.RATELIMIT_ENABLE = False
    client = client_for(account())
    statuses(client, 3)

    answer = client.get(QUOTA).json()

    assert answer["groups"] == [
        {"name": "default", "unlimited": True, "windows": []},
        {"name": "auth", "unlimited": True, "windows": []},
    ]


def test_the_quota_of_a_refused_caller_is_refused_too(
    rate_limit_groups: SetGroups,
) -> None:
    # The endpoint counts in "default" like any route: past the limit it answers 429.
    rate_limit_groups({"default": {"user": "2/h"}})
    client = client_for(account())
    statuses(client, 2)

    assert client.get(QUOTA).status_code == 429


# --- who may ask ----------------------------------------------------------------------


def test_anonymous_callers_are_refused(api_client: APIClient) -> None:
    response = api_client.get(QUOTA)

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("scopes", "status"), [(["users:read"], 200), (["files:read"], 403)]
)
def test_a_key_needs_users_read(scopes: list[str], status: int) -> None:
    key = make_key(client_for(account()), scopes=scopes)["key"]

    response = key_client(key).get(QUOTA)

    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "insufficient_scope"


def test_counters_that_cannot_be_read_answer_503_not_500(
    monkeypatch: pytest.MonkeyPatch, user: User
) -> None:
    client = client_for(user)
    client.get(ME)

    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(cache, "get_many", unreachable)
    response = client.get(QUOTA)

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


# --- the schema -------------------------------------------------------------------------


def test_the_schema_describes_the_answer_with_an_example(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/users/me/quota/"]["get"]
    components = schema["components"]["schemas"]

    assert operation["operationId"] == "getMyQuota"
    assert {"200", "401", "403", "429", "503"} <= set(operation["responses"])
    body = operation["responses"]["200"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/MeQuotaOutput"}
    [example] = body["examples"].values()
    assert {"tier", "groups"} == set(example["value"])
    assert operation["description"].endswith("With an API key: needs `users:read`.")
    assert set(components["MeQuotaOutput"]["required"]) == {"tier", "groups"}
    assert set(components["MeQuotaGroup"]["required"]) == {
        "name",
        "unlimited",
        "windows",
    }
    assert set(components["MeQuotaWindow"]["required"]) == {
        "window",
        "seconds",
        "limit",
        "used",
        "remaining",
        "reset",
    }
