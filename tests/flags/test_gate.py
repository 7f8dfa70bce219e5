"""The endpoint gate (``flags.gates``): a route switched off answers what an unknown
route answers; rules on an endpoint's flag decide per caller; every API route is gated
and its schema says so; the staff flag routes never are."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from flags.endpoints import ALWAYS_ON, API_PREFIX, flag_name_for_route, route_path
from flags.gates import EndpointFlagGate
from flags.models import Flag
from limits.throttles import RateLimitThrottle
from tests.flags.helpers import set_rules
from tests.helpers import account, client_for

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"
UNKNOWN = "/api/v1/no-such-route/"


def api_routes() -> list[tuple[str, type]]:
    """Every /api/v1/ route and its view class."""
    found: list[tuple[str, type]] = []

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(API_PREFIX):
                found.append((route, pattern.callback.view_class))

    walk(get_resolver().url_patterns, "")
    return found


def without_request_id(response) -> dict[str, str]:
    return {
        name: value
        for name, value in response.headers.items()
        if name not in {"X-Request-ID", "Content-Length"}
    }


def test_a_route_switched_off_answers_as_an_unknown_route() -> None:
    client = client_for(account())
    assert client.get(ME).status_code == 200
    unknown = client.get(UNKNOWN)

    set_rules("api:users/me/", everyone=False)
    off = client.get(ME)

    assert off.status_code == unknown.status_code == 404
    assert off.content == unknown.content
    assert without_request_id(off) == without_request_id(unknown)
    # Every method, as an unknown route answers every method.
    assert without_request_id(client.post(ME)) == without_request_id(unknown)
    assert client.patch(ME, {}, format="json").content == unknown.content
    assert client.delete(ME).status_code == 404


@override_settings(FLAGS_DISABLED_ENDPOINT_STATUS=403)
def test_the_setting_makes_it_403() -> None:
    client = client_for(account())
    set_rules("api:users/me/", everyone=False)

    response = client.get(ME)

    assert response.status_code == 403
    assert response.json() == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "code": "permission_denied",
        "detail": "You do not have permission to perform this action.",
    }


def test_a_route_on_for_a_role_only() -> None:
    set_rules("api:users/me/", everyone=None, roles=["tester"])

    assert client_for(account("tester")).get(ME).status_code == 200
    assert client_for(account()).get(ME).status_code == 404
    assert client_for(account("admin")).get(ME).status_code == 404


def test_a_route_on_for_named_users_only() -> None:
    chosen, other = account(), account()
    set_rules("api:users/me/", everyone=None, users=[str(chosen.pk)])

    assert client_for(chosen).get(ME).status_code == 200
    assert client_for(other).get(ME).status_code == 404


def test_the_caller_is_refused_by_the_view_before_the_flag_is_asked() -> None:
    # An anonymous caller gets the same 401 whether me/ is on or off: the answer tells
    # nobody the view refuses anything about the flag.
    on = APIClient().get(ME)
    set_rules("api:users/me/", everyone=False)
    off = APIClient().get(ME)

    assert on.status_code == off.status_code == 401
    assert on.json() == off.json()


@pytest.mark.parametrize(
    ("flag", "method", "path"),
    [
        ("api:config/", "get", "/api/v1/config/"),
        # A rate-limited view (its mixin adds RateLimit-* headers).
        ("api:auth/login/", "post", "/api/v1/auth/login/"),
        ("api:auth/register/", "post", "/api/v1/auth/register/"),
    ],
)
def test_a_public_route_switched_off(flag: str, method: str, path: str) -> None:
    unknown = getattr(APIClient(), method)(UNKNOWN, {}, format="json")
    set_rules(flag, everyone=False)

    response = getattr(APIClient(), method)(path, {}, format="json")

    assert response.status_code == 404
    assert response.content == unknown.content
    assert without_request_id(response) == without_request_id(unknown)


def test_a_missing_endpoint_flag_is_on() -> None:
    Flag.objects.filter(name="api:users/me/").delete()

    assert client_for(account()).get(ME).status_code == 200


def test_the_staff_flag_routes_are_never_gated() -> None:
    assert flag_name_for_route("api/v1/flags/all/") is None
    assert flag_name_for_route("api/v1/flags/<path:name>/") is None
    moderator = client_for(account("moderator"))
    Flag.objects.create(name="api:flags/all/", everyone=False)
    Flag.objects.create(name="api:flags/{name}/", everyone=False)
    set_rules("api:flags/", everyone=False)

    assert moderator.get("/api/v1/flags/all/").status_code == 200
    back_on = moderator.patch(
        "/api/v1/flags/api:flags//", {"everyone": True}, format="json"
    )
    assert back_on.status_code == 200
    assert moderator.get("/api/v1/flags/").status_code == 200


def test_every_api_route_is_gated_and_has_its_flag() -> None:
    routes = api_routes()
    assert len(routes) > 30
    flags = set(Flag.objects.filter(is_endpoint=True).values_list("name", flat=True))
    for route, view_class in routes:
        assert issubclass(view_class, APIView), route
        assert view_class.throttle_classes == [EndpointFlagGate, RateLimitThrottle], (
            route
        )
        assert "throttle_classes" not in vars(view_class), route
        name = flag_name_for_route(route)
        if route_path(route) in ALWAYS_ON:
            assert name is None
        else:
            assert name in flags, route


def test_the_schema_documents_the_switched_off_answer_on_every_operation() -> None:
    schema = APIClient().get("/api/schema/?format=json").json()
    checked = 0
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        gated = flag_name_for_route(path.removeprefix("/")) is not None
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            response = operation["responses"].get("404")
            if gated:
                checked += 1
                assert response is not None, (method, path)
                assert "switched off" in response["description"], (method, path)
                content = response["content"]["application/problem+json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
            elif response is not None:
                assert "switched off" not in response["description"], (method, path)
    assert checked > 30


@override_settings(FLAGS_DISABLED_ENDPOINT_STATUS=403)
def test_with_the_setting_the_schema_documents_403() -> None:
    schema = APIClient().get("/api/schema/?format=json").json()

    config = schema["paths"]["/api/v1/config/"]["get"]["responses"]
    assert "switched off" in config["403"]["description"]
    assert "404" not in config
