"""An API-key ``GET me/``: one indexed query cold (plus the minute's last-use write), no
SQL once warm, and two cache round trips (the key's entry with its last-use gate, then
the owner's snapshot)."""

from __future__ import annotations

import pytest

from accounts.access import SYSTEM_ACTOR
from apikeys.services import api_key_create
from config.client import SYSTEM
from tests.accounts.test_me_hot_path import count_cache_round_trips
from tests.helpers import account, count_queries

pytestmark = pytest.mark.django_db


def test_an_api_key_me_costs_one_lookup_cold_then_no_sql(api_client) -> None:
    owner = account()
    _, key = api_key_create(
        actor=SYSTEM_ACTOR,
        owner_id=owner.pk,
        name="bench",
        scopes=None,
        expires_at=None,
        client=SYSTEM,
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    with count_queries() as cold:
        assert api_client.get("/api/v1/users/me/").status_code == 200
    with count_queries() as warm, count_cache_round_trips() as round_trips:
        response = api_client.get("/api/v1/users/me/")

    assert response.status_code == 200
    assert response.json()["id"] == str(owner.pk)
    lookups = [sql for sql in cold if sql.lstrip().upper().startswith("SELECT")]
    assert len(lookups) == 1, cold
    assert '"apikeys_apikey"."prefix" = ' in lookups[0]
    writes = [sql for sql in cold if sql.lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 1, cold
    assert "last_used_at" in writes[0]
    assert warm == []
    assert round_trips == ["get_many", "get"]
