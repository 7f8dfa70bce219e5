"""The endpoint groups' limits over HTTP (issue 17, API.md "Rate limits"): per address
for anonymous callers, per account for bearer tokens, per key for API keys, per group;
``429 rate_limited`` with ``Retry-After``; ``RateLimit-*`` on every limited answer;
exempt routes; the global switch; a route switched off counts nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.access import SYSTEM_ACTOR
from accounts.api.users import MeApi
from apikeys.keys import checksum, parse_key
from apikeys.services import api_key_create
from config.client import SYSTEM
from tests.flags.helpers import set_rules
from tests.helpers import account, bearer, client_for, log_in

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"  # a user's, in the default group
SESSIONS = "/api/v1/auth/sessions/"  # a user's, in the default group
MFA = "/api/v1/auth/mfa/"  # a user's, in the auth group
FILES = "/api/v1/files/"  # POST: uploads; GET: default
CONFIG = "/api/v1/config/"  # anyone's, in the default group
LOGIN = "/api/v1/auth/login/"  # anyone's, in the auth group
HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def anonymous(address: str = "203.0.113.9", **headers: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address, **headers)


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def new_key(owner) -> str:
    return api_key_create(
        actor=SYSTEM_ACTOR,
        owner_id=owner.pk,
        name="script",
        scopes=None,
        expires_at=None,
        client=SYSTEM,
    )[1]


def statuses(client: APIClient, path: str, times: int) -> list[int]:
    return [client.get(path).status_code for _ in range(times)]


def limit_headers(response) -> dict[str, str]:
    return {name: response[name] for name in HEADERS if name in response}


def assert_rate_limited(response) -> None:
    """The contract's 429: problem details, ``rate_limited``, ``Retry-After``."""
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 429
    assert body["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1
    assert body["retry_after"] == int(response["Retry-After"])
    assert response["RateLimit-Remaining"] == "0"


# --- Who is counted -------------------------------------------------------------------


def test_anonymous_callers_are_limited_per_address(limit_groups, clock) -> None:
    limit_groups({"default": {"anonymous": "3/m"}})
    caller = anonymous("203.0.113.9")

    answers = [caller.get(CONFIG) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert {answer["RateLimit-Limit"] for answer in answers} == {"3"}
    assert_rate_limited(answers[3])
    # Another address has its own count.
    neighbour = anonymous("203.0.113.10").get(CONFIG)
    assert neighbour.status_code == 200
    assert neighbour["RateLimit-Remaining"] == "2"


def test_users_are_limited_per_account_whatever_the_session(limit_groups) -> None:
    limit_groups({"default": {"user": "3/m"}})
    person, other = account(), account()
    laptop, phone = client_for(person), client_for(person)

    assert statuses(laptop, ME, 2) == [200, 200]
    assert statuses(phone, ME, 2) == [200, 429]  # one count for both sessions
    assert_rate_limited(laptop.get(ME))
    assert client_for(other).get(ME).status_code == 200


def test_users_behind_one_address_are_counted_apart(limit_groups) -> None:
    """Per account, not per address: an office behind one NAT is many callers."""
    limit_groups({"default": {"user": "2/m", "anonymous": "2/m"}})
    first, second = account(), account()
    office = {"REMOTE_ADDR": "198.51.100.7"}

    assert [client_for(first).get(ME, **office).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert client_for(second).get(ME, **office).status_code == 200
    assert anonymous("198.51.100.7").get(CONFIG).status_code == 200


def test_api_keys_are_counted_per_key_not_per_owner(limit_groups) -> None:
    limit_groups({"default": {"user": "3/m"}})
    owner = account()
    first, second = key_client(new_key(owner)), key_client(new_key(owner))

    assert statuses(first, ME, 4) == [200, 200, 200, 429]
    assert_rate_limited(first.get(ME))
    # The owner's other key and their own session are counted on their own.
    assert second.get(ME).status_code == 200
    assert second.get(ME)["RateLimit-Remaining"] == "1"
    assert client_for(owner).get(ME)["RateLimit-Remaining"] == "2"


def test_a_key_is_limited_at_its_owners_role(limit_groups) -> None:
    limit_groups({"default": {"user": "1/m", "tester": "3/m"}})
    tester = account("tester")
    key = key_client(new_key(tester))

    assert statuses(key, ME, 4) == [200, 200, 200, 429]


def test_staff_are_not_limited_where_their_role_has_no_limit(limit_groups) -> None:
    limit_groups({"default": {"user": "1/m"}})
    moderator = client_for(account("moderator"))

    answers = [moderator.get(ME) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert all(limit_headers(answer) == {} for answer in answers)


# --- Nobody is counted for someone else ----------------------------------------------


def test_a_wrong_secret_for_someones_key_costs_that_key_nothing(limit_groups) -> None:
    """A key's prefix is no secret (lists, the admin, logs name it), and the key's
    round trip counts before the secret is checked: that use is taken back."""
    limit_groups({"default": {"user": "3/m"}})
    key = new_key(account())
    owner = key_client(key)
    assert owner.get(ME)["RateLimit-Remaining"] == "2"
    body = f"gth_{parse_key(key).prefix}_{'x' * 32}"
    forged = key_client(body + checksum(body))

    assert statuses(forged, ME, 6) == [401] * 6
    assert owner.get(ME)["RateLimit-Remaining"] == "1"


def test_a_revoked_token_replayed_costs_its_account_nothing(limit_groups) -> None:
    limit_groups({"default": {"user": "3/m"}})
    person = account()
    old, current = log_in(person), bearer(log_in(person)["access"])
    assert (
        APIClient()
        .post("/api/v1/auth/logout/", {"refresh": old["refresh"]}, format="json")
        .status_code
        == 204
    )
    assert current.get(ME)["RateLimit-Remaining"] == "2"

    assert statuses(bearer(old["access"]), ME, 6) == [401] * 6
    assert current.get(ME)["RateLimit-Remaining"] == "1"


# --- Groups ---------------------------------------------------------------------------


def test_groups_are_counted_apart_for_a_user(limit_groups) -> None:
    limit_groups(
        {
            "default": {"user": "2/m"},
            "auth": {"user": "5/m"},
            "uploads": {"user": "4/m"},
        }
    )
    client = client_for(account())

    assert statuses(client, ME, 3) == [200, 200, 429]
    assert statuses(client, SESSIONS, 1) == [429]  # the same group

    auth = client.get(MFA)
    upload = client.post(FILES, {}, format="multipart")  # no file: refused by the view

    assert auth.status_code == 200
    assert auth["RateLimit-Limit"] == "5"
    assert upload.status_code == 400  # counted in uploads, which has room, then refused
    assert upload["RateLimit-Limit"] == "4"
    assert upload["RateLimit-Remaining"] == "3"


def test_groups_are_counted_apart_for_an_address(limit_groups) -> None:
    limit_groups({"default": {"anonymous": "2/m"}, "auth": {"anonymous": "3/m"}})
    caller = anonymous()

    assert statuses(caller, CONFIG, 3) == [200, 200, 429]
    attempts = [
        caller.post(LOGIN, {"login": "nobody", "password": "wrong"}, format="json")
        for _ in range(4)
    ]

    assert [attempt.status_code for attempt in attempts] == [401, 401, 401, 429]
    assert_rate_limited(attempts[3])


def test_a_method_of_a_route_can_count_in_another_group(limit_groups) -> None:
    """``rate_limit_group = {"POST": "uploads", "*": "default"}`` (files, avatars)."""
    limit_groups({"default": {"user": "10/m"}, "uploads": {"user": "1/m"}})
    client = client_for(account())

    assert client.post(FILES, {}, format="multipart").status_code == 400
    assert_rate_limited(client.post(FILES, {}, format="multipart"))
    listed = client.get(FILES)
    assert listed.status_code == 200
    assert listed["RateLimit-Limit"] == "10"


def test_ops_move_a_route_into_another_group(limit_groups, settings) -> None:
    limit_groups({"default": {"user": "10/m"}, "auth": {"user": "2/m"}})
    settings.RATE_LIMIT_ROUTE_GROUPS = {"api/v1/users/<uuid:user_id>/": "auth"}
    person = account()
    client = client_for(person)
    profile = f"/api/v1/users/{person.pk}/"

    assert statuses(client, profile, 3) == [200, 200, 429]
    assert client.get(MFA).status_code == 429  # the same group now
    assert client.get(ME)["RateLimit-Limit"] == "10"


# --- Headers ----------------------------------------------------------------------------


def test_every_limited_answer_reports_its_tightest_window(limit_groups, clock) -> None:
    limit_groups({"default": {"user": "100/m,3/h"}})
    clock.shift(600)  # ten minutes into the hour
    client = client_for(account())

    response = client.get(ME)

    assert response.status_code == 200
    # Three an hour is tighter than a hundred a minute: 2 left, 50 minutes to the edge.
    assert limit_headers(response) == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "2",
        "RateLimit-Reset": "3000",
    }


def test_an_answer_refused_by_the_permissions_counts_nothing(limit_groups) -> None:
    limit_groups({"default": {"user": "5/m"}})
    person, stranger = account(), account()
    client = client_for(person)

    response = client.post(f"/api/v1/users/{stranger.pk}/ban/", {}, format="json")

    assert response.status_code in (403, 404)
    # The permission classes run before the limiter: uncounted, as an unknown route.
    assert limit_headers(response) == {}
    assert client.get(ME)["RateLimit-Remaining"] == "4"


@pytest.mark.parametrize("exempt_by", ["view", "RATE_LIMIT_EXEMPT", "route groups"])
def test_an_exempt_route_carries_no_headers_and_is_never_refused(
    limit_groups, settings, monkeypatch, exempt_by: str
) -> None:
    limit_groups({"default": {"user": "1/m"}})
    if exempt_by == "view":
        monkeypatch.setattr(MeApi, "rate_limit_group", None, raising=False)
    elif exempt_by == "RATE_LIMIT_EXEMPT":
        settings.RATE_LIMIT_EXEMPT = ["api/v1/users/me/"]
    else:
        settings.RATE_LIMIT_ROUTE_GROUPS = {"api/v1/users/me/": None}
    client = client_for(account())

    answers = [client.get(ME) for _ in range(5)]

    assert [answer.status_code for answer in answers] == [200] * 5
    assert all(limit_headers(answer) == {} for answer in answers)
    # Nothing was counted: the group's one request is still there.
    assert statuses(client, SESSIONS, 2) == [200, 429]


def test_the_probes_are_never_limited(limit_groups) -> None:
    limit_groups({"default": {"anonymous": "1/m"}})
    probe = anonymous()

    answers = [probe.get("/health/ready/") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200] * 3
    assert all(limit_headers(answer) == {} for answer in answers)
    assert probe.get(CONFIG).status_code == 200


def test_the_global_switch_turns_every_limit_off(limit_groups, settings) -> None:
    limit_groups({"default": {"user": "1/m", "anonymous": "1/m"}})
    settings.RATELIMIT_ENABLE = False
    client, caller = client_for(account()), anonymous()

    answers = [client.get(ME) for _ in range(3)] + [
        caller.get(CONFIG) for _ in range(3)
    ]

    assert [answer.status_code for answer in answers] == [200] * 6
    assert all(limit_headers(answer) == {} for answer in answers)


def test_a_route_switched_off_counts_nothing(limit_groups) -> None:
    """It answers as an unknown route does (``flags.gates``): no ``RateLimit-*``, and
    the use its session check counted is taken back."""
    limit_groups({"default": {"user": "5/m"}})
    client = client_for(account())
    assert client.get(ME)["RateLimit-Remaining"] == "4"

    set_rules("api:users/me/", everyone=False)
    switched_off = [client.get(ME) for _ in range(6)]
    set_rules("api:users/me/", everyone=True)

    assert [answer.status_code for answer in switched_off] == [404] * 6
    assert all(limit_headers(answer) == {} for answer in switched_off)
    after = client.get(ME)
    assert after.status_code == 200
    assert after["RateLimit-Remaining"] == "3"  # one more than before, no more


def test_a_route_switched_off_for_an_address_counts_nothing(limit_groups) -> None:
    limit_groups({"default": {"anonymous": "5/m"}})
    caller = anonymous()
    assert caller.get(CONFIG)["RateLimit-Remaining"] == "4"

    set_rules("api:config/", everyone=False)
    switched_off = [caller.get(CONFIG) for _ in range(6)]
    set_rules("api:config/", everyone=True)

    assert [answer.status_code for answer in switched_off] == [404] * 6
    assert all(limit_headers(answer) == {} for answer in switched_off)
    assert caller.get(CONFIG)["RateLimit-Remaining"] == "3"


def test_a_route_switched_off_with_the_limits_off_answers_as_an_unknown_one(
    settings,
) -> None:
    """Nothing was counted to take back: the answer is still the unknown route's."""
    settings.RATELIMIT_ENABLE = False
    caller = anonymous()

    set_rules("api:config/", everyone=False)
    switched_off = caller.get(CONFIG)
    set_rules("api:config/", everyone=True)
    unknown = caller.get("/api/v1/no-such-route/")

    assert switched_off.status_code == unknown.status_code == 404
    assert switched_off.content == unknown.content
    assert limit_headers(switched_off) == limit_headers(unknown) == {}


@pytest.mark.parametrize(("group_rate", "reported"), [("3/m", "3"), ("1000/m", "5")])
def test_a_named_limit_and_the_group_report_whichever_is_tighter(
    limit_groups, settings, group_rate: str, reported: str
) -> None:
    limit_groups({"auth": {"anonymous": group_rate}})
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures_per_ip": "5/15m"}

    response = anonymous().post(
        LOGIN, {"login": "nobody", "password": "wrong"}, format="json"
    )

    assert response.status_code == 401
    assert response["RateLimit-Limit"] == reported
