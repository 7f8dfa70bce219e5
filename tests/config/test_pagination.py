"""Every list answers {"count", "next", "previous", "results"}; page_size is a positive
whole number, capped at 100."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.urls("tests.config.urls")


def test_default_page() -> None:
    body = APIClient().get("/test/numbers/").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 250
    assert body["results"] == list(range(20))
    assert body["previous"] is None
    assert body["next"].endswith("/test/numbers/?page=2")


def test_page_and_page_size() -> None:
    body = APIClient().get("/test/numbers/", {"page": 3, "page_size": 50}).json()

    assert body["results"] == list(range(100, 150))
    assert "page=2" in body["previous"]
    assert "page=4" in body["next"]


def test_page_size_is_capped_at_100() -> None:
    body = APIClient().get("/test/numbers/", {"page_size": 1000}).json()

    assert len(body["results"]) == 100


def test_a_page_past_the_end_is_a_404_problem() -> None:
    response = APIClient().get("/test/numbers/", {"page": 99})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("page_size", ["0", "-3", "ten", "null", ""])
def test_a_page_size_that_is_not_a_positive_whole_number_is_a_400_problem(
    page_size: str,
) -> None:
    response = APIClient().get("/test/numbers/", {"page_size": page_size})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {
        "page_size": ["A positive whole number is required."]
    }
