"""The OpenAPI schema, Swagger UI and Redoc."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import UserFactory


def test_schema_is_valid_openapi_without_warnings(tmp_path: Path) -> None:
    # --validate checks against the OpenAPI 3 JSON schema; --fail-on-warn turns any
    # drf-spectacular guess (an undocumented view, an unknown field type) into a failure.
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
    )

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


def test_schema_documents_the_health_probes_with_their_error_shape(
    api_client: APIClient,
) -> None:
    response = api_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    ready = schema["paths"]["/health/ready/"]["get"]
    assert set(ready["responses"]) == {"200", "503"}
    problem = ready["responses"]["503"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert {"type", "title", "status", "code", "detail"} <= set(
        schema["components"]["schemas"]["Problem"]["properties"]
    )


@pytest.mark.parametrize(
    ("path", "asset"),
    [
        ("/api/docs/", "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"),
        ("/api/redoc/", "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"),
    ],
)
def test_docs_pages_load_their_assets_from_this_server(
    api_client: APIClient, path: str, asset: str
) -> None:
    response = api_client.get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert f"/static/{asset}" in page
    assert "cdn" not in page.lower()


@pytest.mark.django_db
@override_settings(API_DOCS_PUBLIC=False)
def test_docs_can_be_restricted_to_staff(api_client: APIClient) -> None:
    assert api_client.get("/api/schema/").status_code == 401
    assert api_client.get("/api/docs/").status_code == 401

    api_client.force_authenticate(UserFactory())
    assert api_client.get("/api/schema/").status_code == 403

    api_client.force_authenticate(UserFactory(is_staff=True))
    assert api_client.get("/api/schema/").status_code == 200
    assert api_client.get("/api/docs/").status_code == 200


# (method, path, statuses the schema must document) for every route built so far.
CONTRACT_ROUTES = [
    ("post", "/api/v1/auth/register/", {"201", "400", "403", "429"}),
    ("post", "/api/v1/auth/email/verify/", {"200", "400", "429"}),
    ("post", "/api/v1/auth/email/resend/", {"202", "400", "429"}),
    ("post", "/api/v1/auth/login/", {"200", "400", "401", "403", "429", "503"}),
    ("post", "/api/v1/auth/token/", {"200", "400", "401", "429", "503"}),
    ("post", "/api/v1/auth/token/refresh/", {"200", "400", "401", "429", "503"}),
    ("post", "/api/v1/auth/logout/", {"204", "400", "401", "503"}),
    ("post", "/api/v1/auth/logout/all/", {"204", "401", "503"}),
    ("post", "/api/v1/auth/password/change/", {"204", "400", "401", "429", "503"}),
    ("post", "/api/v1/auth/password/reset/", {"202", "400", "429"}),
    ("post", "/api/v1/auth/password/reset/confirm/", {"204", "400", "429", "503"}),
    ("get", "/api/v1/auth/sessions/", {"200", "401"}),
    ("delete", "/api/v1/auth/sessions/{session_id}/", {"204", "401", "404", "503"}),
    ("get", "/api/v1/users/me/", {"200", "401"}),
    ("patch", "/api/v1/users/me/", {"200", "400", "401"}),
    ("delete", "/api/v1/users/me/", {"204", "400", "401", "429", "503"}),
    ("post", "/api/v1/users/me/email/", {"202", "400", "401", "429"}),
    (
        "post",
        "/api/v1/users/{user_id}/ban/",
        {"200", "400", "401", "403", "404", "503"},
    ),
    ("delete", "/api/v1/users/{user_id}/ban/", {"204", "401", "403", "404"}),
    (
        "put",
        "/api/v1/users/{user_id}/roles/",
        {"200", "400", "401", "403", "404", "409"},
    ),
    ("get", "/api/v1/users/", {"200", "400", "401", "403"}),
    ("get", "/api/v1/users/{user_id}/", {"200", "401", "404"}),
    ("patch", "/api/v1/users/{user_id}/", {"200", "400", "401", "403", "404", "503"}),
    ("delete", "/api/v1/users/{user_id}/", {"204", "401", "403", "404", "503"}),
    ("post", "/api/v1/users/{user_id}/block/", {"204", "401", "404"}),
    ("delete", "/api/v1/users/{user_id}/block/", {"204", "401", "404"}),
    ("get", "/api/v1/users/me/export/", {"200", "401", "429"}),
    ("get", "/api/v1/users/me/activity/", {"200", "400", "401"}),
    ("get", "/api/v1/config/", {"200"}),
    ("post", "/api/v1/auth/login/mfa/", {"200", "400", "401", "429", "503"}),
    ("post", "/api/v1/auth/login/mfa/email/", {"202", "400", "401", "403", "429"}),
    ("get", "/api/v1/auth/mfa/", {"200", "401"}),
    ("post", "/api/v1/auth/mfa/totp/setup/", {"200", "401", "409"}),
    ("post", "/api/v1/auth/mfa/totp/confirm/", {"200", "400", "401", "429"}),
    ("delete", "/api/v1/auth/mfa/totp/", {"204", "400", "401", "429", "503"}),
    ("post", "/api/v1/auth/mfa/email/", {"204", "400", "401", "429"}),
    ("delete", "/api/v1/auth/mfa/email/", {"204", "400", "401", "429", "503"}),
    ("post", "/api/v1/auth/mfa/recovery-codes/", {"200", "400", "401", "429"}),
]


def test_every_built_route_is_in_the_schema_with_its_status_codes(
    api_client: APIClient,
) -> None:
    """A 503 is declared where a revocation can be refused by the cache (issue 12, Medium
    6): the operation then changed nothing and may be retried."""
    paths = api_client.get("/api/schema/", {"format": "json"}).json()["paths"]

    for method, path, statuses in CONTRACT_ROUTES:
        assert path in paths, path
        documented = set(paths[path][method]["responses"])
        assert statuses <= documented, (method, path, statuses - documented)


def test_authenticated_routes_accept_a_bearer_token_or_swagger_uis_oauth2(
    api_client: APIClient,
) -> None:
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    assert schema["components"]["securitySchemes"]["oauth2"]["flows"]["password"] == {
        "tokenUrl": "/api/v1/auth/token/",
        "scopes": {},
    }
    # An API key in either header, where the view states the scope it needs.
    assert schema["paths"]["/api/v1/users/me/"]["get"]["security"] == [
        {"bearerAuth": []},
        {"oauth2": []},
        {"apiKeyAuth": []},
        {"apiKeyHeader": []},
    ]
    assert schema["components"]["securitySchemes"]["apiKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "`<key>`: a key from `/api/v1/api-keys/`.",
    }
    # The scopes a key needs are in the operation's description.
    assert schema["paths"]["/api/v1/users/me/"]["patch"]["description"].endswith(
        "With an API key: needs `users:write`."
    )
    assert schema["paths"]["/api/v1/users/"]["get"]["description"].endswith(
        "With an API key: needs `users:read`, `admin`."
    )
    # Views that take no key (credentials, sessions, keys) do not list it.
    for path, method in [
        ("/api/v1/users/me/", "delete"),
        ("/api/v1/auth/password/change/", "post"),
        ("/api/v1/api-keys/", "post"),
    ]:
        assert schema["paths"][path][method]["security"] == [
            {"bearerAuth": []},
            {"oauth2": []},
        ], (path, method)
    # Public: no credentials at all (openapi-python-client reads `[{}]` as "a client
    # that may authenticate" and asks for one).
    assert schema["paths"]["/api/v1/auth/login/"]["post"]["security"] == []


# A feature the schema's description names must have routes: the description is the first
# thing a frontend team reads, and it advertised modules that did not exist yet.
ADVERTISED_FEATURES = {
    "social login": "/api/v1/auth/social/",
    "API keys": "/api/v1/api-keys/",
    "feature flags": "/api/v1/flags/",
    "uploads": "/api/v1/files/",
    "two-factor authentication": "/api/v1/auth/mfa/",
    "sessions": "/api/v1/auth/sessions/",
    "bans": "/api/v1/users/{user_id}/ban/",
}


@pytest.mark.django_db
def test_schema_description_names_only_features_that_are_served(
    api_client: APIClient,
) -> None:
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    description = schema["info"]["description"].lower()
    paths = list(schema["paths"])
    for feature, prefix in ADVERTISED_FEATURES.items():
        if feature.lower() in description:
            assert any(path.startswith(prefix) for path in paths), (
                f"the description advertises {feature} but no {prefix} route exists"
            )


def test_every_error_answer_is_declared_as_a_problem_document(
    api_client: APIClient,
) -> None:
    paths = api_client.get("/api/schema/", {"format": "json"}).json()["paths"]

    for path, operations in paths.items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    content = response["content"]
                    assert list(content) == ["application/problem+json"], (method, path)
                    assert content["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/Problem"
                    }, (method, path, status)


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/sessions/", "/api/v1/users/", "/api/v1/users/me/activity/"]
)
def test_lists_declare_their_page_errors(api_client: APIClient, path: str) -> None:
    operation = api_client.get("/api/schema/", {"format": "json"}).json()["paths"][
        path
    ]["get"]

    assert {"400", "404"} <= set(operation["responses"])
    page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
