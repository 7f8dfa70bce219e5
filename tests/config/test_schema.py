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
    problem = ready["responses"]["503"]["content"]["application/json"]["schema"]
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
