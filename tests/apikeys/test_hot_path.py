"""An API-key ``GET me/``: one indexed query cold (plus the minute's last-use write), no
SQL once warm, and one cache round trip, as a bearer token's: the key's entry, its
last-use gate and its owner's snapshot in one ``get_many`` (the process remembers whose
key it is: an owner never changes)."""

from __future__ import annotations

import pytest

from accounts.access import SYSTEM_ACTOR
from apikeys.services import api_key_create
from config.client import SYSTEM
from tests.accounts.test_me_hot_path import count_cache_round_trips
from tests.helpers import account, client_for, count_queries

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
    # Was two: the owner's snapshot on its own. The limiter counts in the same pipeline.
    assert round_trips == ["count_and_read"]


def test_a_wrongly_remembered_owner_is_not_trusted(api_client) -> None:
    """Defensive: the entry names the owner; a snapshot read for anyone else is dropped
    and the right one read on its own."""
    import uuid

    from apikeys import state
    from apikeys.keys import parse_key

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
    assert api_client.get("/api/v1/users/me/").status_code == 200
    someone_else = account()
    api_client.get("/api/v1/users/me/")  # warm
    state.remember_owner(parse_key(key).prefix, str(someone_else.pk))
    client_for_other = client_for(someone_else)  # caches the other one's snapshot
    assert client_for_other.get("/api/v1/users/me/").status_code == 200

    response = api_client.get("/api/v1/users/me/")

    assert response.json()["id"] == str(owner.pk)
    assert uuid.UUID(response.json()["id"]) != someone_else.pk


def test_the_remembered_owners_are_bounded(monkeypatch) -> None:
    from apikeys import state

    monkeypatch.setattr(state, "_OWNERS", {"a": "1", "b": "2"})
    monkeypatch.setattr(state, "_OWNERS_MAX", 2)

    state.remember_owner("c", "3")

    assert state._OWNERS == {"c": "3"}
