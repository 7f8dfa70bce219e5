"""What a generated client needs from every operation of the OpenAPI schema.

Frontend teams generate their client from ``/api/schema/`` (openapi-typescript,
openapi-python-client). These tests walk every operation of the generated schema, so an
endpoint added later fails here when it forgets one of them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import build_mock_request
from rest_framework.permissions import AllowAny

from config.error_codes import ERROR_CODES

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# A name a client author would write: camelCase, no underscore. drf-spectacular's default
# (``auth_login_create``, ``users_me_partial_update``) always has one, so a view without an
# explicit ``@extend_schema(operation_id=...)`` fails here.
OPERATION_ID = re.compile(r"[a-z][a-zA-Z0-9]*")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield f"{method.upper()} {path}", operation


def test_every_operation_has_an_explicit_camel_case_operation_id(
    schema: dict[str, Any],
) -> None:
    wrong = {
        name: operation.get("operationId")
        for name, operation in operations(schema)
        if not OPERATION_ID.fullmatch(operation.get("operationId", ""))
    }

    assert not wrong, f"set @extend_schema(operation_id=...) in camelCase: {wrong}"


def test_operation_ids_are_unique(schema: dict[str, Any]) -> None:
    counts = Counter(operation["operationId"] for _, operation in operations(schema))

    assert not [name for name, count in counts.items() if count > 1]


def public_operations() -> set[str]:
    """``METHOD path`` of every operation anyone may call (every permission is
    ``AllowAny``), read from the views themselves rather than from the schema."""
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    public = set()
    for path, _, method, view in generator._get_paths_and_endpoints():
        view.request = build_mock_request(method, path, view, None)
        if all(isinstance(p, AllowAny) for p in view.get_permissions()):
            public.add(f"{method.upper()} {path}")
    return public


def test_every_operation_has_a_described_tag(schema: dict[str, Any]) -> None:
    described = {
        tag["name"] for tag in schema.get("tags", []) if tag.get("description")
    }
    wrong = {
        name: operation.get("tags")
        for name, operation in operations(schema)
        if not operation.get("tags") or not set(operation["tags"]) <= described
    }

    assert not wrong, f"describe these tags in SPECTACULAR_SETTINGS['TAGS']: {wrong}"


def test_every_response_has_a_description(schema: dict[str, Any]) -> None:
    wrong = [
        f"{name} {status}"
        for name, operation in operations(schema)
        for status, response in operation["responses"].items()
        if not response.get("description", "").strip()
    ]

    assert not wrong


def test_every_success_body_has_an_example(schema: dict[str, Any]) -> None:
    wrong = [
        f"{name} {status} {media_type}"
        for name, operation in operations(schema)
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for media_type, body in response.get("content", {}).items()
        if not body.get("examples") and "example" not in body
    ]

    assert not wrong, f"add an example (accounts/api/examples.py): {wrong}"


def test_every_error_response_is_a_problem_document(schema: dict[str, Any]) -> None:
    problem = {"$ref": "#/components/schemas/Problem"}
    wrong = [
        f"{name} {status}"
        for name, operation in operations(schema)
        for status, response in operation["responses"].items()
        if int(status) >= 400
        and (
            list(response.get("content", {})) != ["application/problem+json"]
            or response["content"]["application/problem+json"]["schema"] != problem
        )
    ]

    assert not wrong


def test_public_operations_send_no_credentials_and_the_others_name_theirs(
    schema: dict[str, Any],
) -> None:
    public = public_operations()
    assert "POST /api/v1/auth/login/" in public
    assert "POST /api/v1/auth/logout/" in public  # the refresh token is the credential

    for name, operation in operations(schema):
        if name in public:
            # `[]`, not `[{}]`: openapi-python-client reads `[{}]` as "may
            # authenticate" and then wants an authenticated client.
            assert operation.get("security") == [], name
        else:
            security = operation.get("security")
            assert security, name
            assert all(requirement for requirement in security), name


def test_every_response_declares_its_request_id_and_every_429_its_retry_after(
    schema: dict[str, Any],
) -> None:
    for name, operation in operations(schema):
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            assert "X-Request-ID" in headers, (name, status)
            if status == "429":
                assert headers["Retry-After"]["required"] is True, name
                assert "RateLimit-Remaining" in headers, name
                assert "RateLimit-Remaining" in operation["responses"][
                    next(code for code in operation["responses"] if code < "300")
                ].get("headers", {}), name


def test_the_export_declares_its_content_disposition(schema: dict[str, Any]) -> None:
    response = schema["paths"]["/api/v1/users/me/export/"]["get"]["responses"]["200"]

    assert "Content-Disposition" in response["headers"]


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/logout/all/", "/api/v1/auth/mfa/totp/setup/"]
)
def test_a_post_without_a_body_declares_no_400(
    schema: dict[str, Any], path: str
) -> None:
    operation = schema["paths"][path]["post"]

    assert "requestBody" not in operation
    assert "400" not in operation["responses"]


def test_the_login_answers_are_told_apart_by_a_required_constant(
    schema: dict[str, Any],
) -> None:
    components = schema["components"]["schemas"]
    members = {
        ref["$ref"].rsplit("/", 1)[1] for ref in components["LoginOutcome"]["oneOf"]
    }
    assert members == {"LoginResponse", "MfaChallenge"}
    for component, value in (("LoginResponse", False), ("MfaChallenge", True)):
        shape = components[component]
        assert "mfa_required" in shape["required"], component
        assert shape["properties"]["mfa_required"]["type"] == "boolean"
        assert shape["properties"]["mfa_required"]["enum"] == [value]
    login_mfa = schema["paths"]["/api/v1/auth/login/mfa/"]["post"]["responses"]["200"]
    assert login_mfa["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LoginResponse"
    }


def test_the_problem_code_is_the_catalogue_and_its_extra_members_are_declared(
    schema: dict[str, Any],
) -> None:
    components = schema["components"]["schemas"]
    problem = components["Problem"]

    assert components["ErrorCodeEnum"]["enum"] == sorted(ERROR_CODES)
    assert {"retry_after", "banned_until", "checks", "request_id"} <= set(
        problem["properties"]
    )
    assert problem["properties"]["banned_until"]["nullable"] is True
    assert set(problem["required"]) == {"type", "title", "status", "code", "detail"}


def test_an_optional_request_field_has_no_default(schema: dict[str, Any]) -> None:
    # openapi-typescript types a property with a default as required.
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):
            required = set(component.get("required", []))
            for field, field_schema in component.get("properties", {}).items():
                if field not in required:
                    assert "default" not in field_schema, (name, field)
    register = schema["components"]["schemas"]["RegisterInputRequest"]
    assert "display_name" not in register["required"]


def test_page_parameters_are_bounded(schema: dict[str, Any]) -> None:
    operation = schema["paths"]["/api/v1/users/"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}

    assert parameters["page"]["minimum"] == 1
    assert (parameters["page_size"]["minimum"], parameters["page_size"]["maximum"]) == (
        1,
        100,
    )
    page = schema["components"]["schemas"]["PaginatedStaffUserList"]
    for link in ("next", "previous"):
        assert "api.example.org" not in page["properties"][link]["example"]


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_no_component_is_named_like_one_of_its_properties(
    schema: dict[str, Any],
) -> None:
    # openapi-python-client names the instance its from_dict builds after the component
    # (RecoveryCodes -> recovery_codes): a property of that name shadows it, and the
    # generated model fails mypy --strict (openapi-python-client issue #1117).
    clashes = [
        name
        for name, component in schema["components"]["schemas"].items()
        if snake_case(name) in component.get("properties", {})
    ]
    assert clashes == []


def test_field_errors_nest_through_one_recursive_component(
    schema: dict[str, Any],
) -> None:
    field_errors = schema["components"]["schemas"]["FieldErrors"]
    members = field_errors["additionalProperties"]["anyOf"]
    assert {"type": "array", "items": {"type": "string"}} in members
    assert {"$ref": "#/components/schemas/FieldErrors"} in members
    errors = schema["components"]["schemas"]["Problem"]["properties"]["errors"]
    assert {"$ref": "#/components/schemas/FieldErrors"} in errors.get("allOf", [errors])
