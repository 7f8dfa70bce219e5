from __future__ import annotations

from collections.abc import Iterator

import pytest
from allauth.core.context import request_context
from django.http import HttpRequest
from django.test import RequestFactory


@pytest.fixture
def allauth_request(rf: RequestFactory) -> Iterator[HttpRequest]:
    """A request in allauth's context, as during an API call that sends account email."""
    request = rf.get("/", REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT="TestBrowser/1.0")
    with request_context(request):
        yield request
