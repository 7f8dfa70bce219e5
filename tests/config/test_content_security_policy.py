"""Every response carries a Content-Security-Policy: a strict one on the pages a browser
renders (the admin, the API docs), "load nothing" on everything else (issue 12, Low)."""

from __future__ import annotations

import re

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings

from config.middleware import DATA_POLICY, PAGE_POLICY, ContentSecurityPolicyMiddleware

pytestmark = pytest.mark.django_db


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.mark.parametrize(
    "path",
    [
        "/admin/login/",
        "/admin/",  # the redirect to the login page
        "/admin/no/such/page/",
        "/api/docs/",
        "/api/docs/?script=",  # Swagger UI's set-up script
        "/api/redoc/",
    ],
)
def test_the_admin_and_the_docs_get_the_page_policy(path: str) -> None:
    """Before issue 12 these pages sent no policy at all."""
    response = Client().get(path)

    assert response["Content-Security-Policy"] == PAGE_POLICY


def test_the_page_policy_allows_only_this_origin_and_no_inline_script() -> None:
    policy = directives(PAGE_POLICY)

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == policy["form-action"] == "'self'"


@pytest.mark.parametrize(
    "path",
    ["/health/live/", "/api/v1/auth/password/reset/", "/api/v1/nothing/", "/nope"],
)
def test_everything_else_may_load_and_be_framed_by_nothing(path: str) -> None:
    response = Client().get(path)

    assert response["Content-Security-Policy"] == DATA_POLICY


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/redoc/"])
def test_the_pages_have_no_inline_script_and_load_nothing_from_elsewhere(
    path: str,
) -> None:
    """What the policy would block: an inline <script> (drf-spectacular's default Swagger
    view has one) or a resource from another origin (its Redoc page loads Google Fonts)."""
    page = Client().get(path).content.decode()

    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts
    assert all(" src=" in script for script in scripts), scripts
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_swagger_uis_set_up_script_is_served_as_a_file() -> None:
    response = Client().get("/api/docs/?script=")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


@override_settings(DEBUG=True)
def test_with_debug_on_djangos_error_pages_keep_their_inline_styles() -> None:
    response = Client().get("/nope")

    assert response["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" not in response


def test_a_policy_a_view_sets_itself_is_kept() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse()
        response["Content-Security-Policy"] = "sandbox"
        return response

    middleware = ContentSecurityPolicyMiddleware(view)

    response = middleware(RequestFactory().get("/anything/"))

    assert response["Content-Security-Policy"] == "sandbox"
