"""``GET users/me/export/`` and the user-data registry behind it (which also declares how
each model's data is erased: see test_erasure.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.test.utils import isolate_apps
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.test import APIClient

from accounts.api.serializers import UserProfileSerializer
from accounts.constants import AuditKind
from accounts.models import AuditEvent, AuthSession, PasswordHistory, User
from accounts.services.audit import audit_record
from accounts.user_data import (
    Kept,
    UserData,
    UserDataRegistry,
    kept,
    user_data_registry,
    user_export,
)
from accounts.user_data.profile import ExportProfileSerializer
from config.client import ClientInfo
from tests.helpers import bearer

pytestmark = pytest.mark.django_db

EXPORT_URL = "/api/v1/users/me/export/"

# Models that relate to the user but hold none of the user's own personal data, so they
# are neither exported nor erased. Each entry says why; a model that does hold the user's
# data needs an entry in the registry instead (see accounts/user_data/). The user's own
# many-to-manys (groups, user_permissions) point away from the user and are not checked:
# the roles they give are in the profile section, and erasing the profile clears them.
NO_USER_DATA = {
    # django-guardian's generic table of a *group's* object permissions: a row may name
    # the account as its object (a group's right over a profile), by id only; it holds
    # nothing about the person, and the id stays on the anonymised account row.
    "guardian.GroupObjectPermission",
}


def generic_references(model: type[models.Model]) -> list[str]:
    """``content_type/object_id`` for each pair of ``model``'s fields that can name any
    row, the account included: a generic foreign key, or (as the admin's ``LogEntry``
    has, without one) a foreign key to ``ContentType`` beside an object id field."""
    names = {field.name for field in model._meta.get_fields()}
    pairs = {
        f"{field.ct_field}/{field.fk_field}"
        for field in model._meta.private_fields
        if isinstance(field, GenericForeignKey)
    }
    pairs |= {
        f"{field.name}/{object_id}"
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey) and field.related_model is ContentType
        for object_id in ("object_id", "object_pk")
        if object_id in names
    }
    return sorted(pairs)


def user_relations(model: type[models.Model]) -> list[str]:
    """The names of ``model``'s own fields that point at the user model: foreign keys,
    one-to-ones and many-to-manys (reverse relations are the other model's fields), and
    its generic references (``generic_references``), which can name the account.

    Direct relations only: a model that reaches the user through another one (allauth's
    EmailConfirmation through EmailAddress) is for that model's exporter to cover."""
    user_model = get_user_model()
    return [
        field.name
        for field in model._meta.get_fields()
        if not field.auto_created
        and (field.many_to_one or field.one_to_one or field.many_to_many)
        and isinstance(field.related_model, type)
        and issubclass(field.related_model, user_model._meta.concrete_model)
    ] + generic_references(model)


def undeclared_user_models(
    candidates: Iterable[type[models.Model]],
    *,
    entries: Iterable[UserData],
    allowed: set[str],
) -> list[str]:
    """``label (relations): what is missing`` for each candidate with a user key whose
    export or erasure no entry declares and that ``allowed`` does not justify."""
    entries = list(entries)
    missing = []
    for model in candidates:
        if (
            model._meta.proxy  # its concrete model answers for it
            or not user_relations(model)
            or model._meta.label in allowed
        ):
            continue
        own = [e for e in entries if e.model._meta.concrete_model is model]
        lacks = [
            aspect
            for aspect in ("export", "erase")
            if not any(callable(getattr(entry, aspect)) for entry in own)
        ]
        if lacks:
            relations = ", ".join(user_relations(model))
            missing.append(
                f"{model._meta.label} ({relations}): no {', no '.join(lacks)}"
            )
    return sorted(missing)


def test_every_model_that_relates_to_the_user_declares_its_export_and_erasure() -> None:
    missing = undeclared_user_models(
        apps.get_models(), entries=user_data_registry, allowed=NO_USER_DATA
    )

    assert not missing, (
        f"Undeclared user data: {'; '.join(missing)}. Declare the model with "
        "accounts.user_data.register_user_data(model=..., section=..., export=..., "
        "schema=..., erase=...) from the app's AppConfig.ready(), or, if the model holds "
        "none of the user's personal data, add it to NO_USER_DATA in this file with the "
        "reason."
    )


def test_the_allow_list_names_installed_models_that_relate_to_the_user() -> None:
    for label in NO_USER_DATA:
        model = apps.get_model(label)
        assert user_relations(model), f"{label} no longer relates to the user"
        assert model not in user_data_registry.covered_models(), f"{label} is declared"


def test_rows_kept_on_erasure_say_why() -> None:
    for entry in user_data_registry:
        if isinstance(entry.erase, Kept):
            assert len(entry.erase.reason) > 20, entry.section


@isolate_apps("tests")
def test_the_completeness_check_finds_every_kind_of_relation() -> None:
    # Throwaway models in an isolated registry; they need no __str__.
    class Owned(models.Model):  # noqa: DJ008
        owner = models.ForeignKey(User, on_delete=models.CASCADE)

        class Meta:
            app_label = "tests"

    class Settings(models.Model):  # noqa: DJ008
        user = models.OneToOneField(User, on_delete=models.CASCADE)

        class Meta:
            app_label = "tests"

    class Shared(models.Model):  # noqa: DJ008
        readers = models.ManyToManyField(User)

        class Meta:
            app_label = "tests"

    class Unrelated(models.Model):  # noqa: DJ008
        name = models.CharField(max_length=10)
        kind = models.ForeignKey(ContentType, on_delete=models.CASCADE)  # no object

        class Meta:
            app_label = "tests"

    class Tagged(models.Model):  # noqa: DJ008
        content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
        object_id = models.CharField(max_length=36)
        tagged = GenericForeignKey("content_type", "object_id")

        class Meta:
            app_label = "tests"

    class Logged(models.Model):  # noqa: DJ008 (as the admin's LogEntry: no GenericForeignKey)
        content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
        object_pk = models.TextField()

        class Meta:
            app_label = "tests"

    missing = undeclared_user_models(
        [Owned, Settings, Shared, Unrelated, Tagged, Logged, AuthSession],
        entries=[],
        allowed=set(),
    )
    assert missing == [
        "accounts.AuthSession (user): no export, no erase",
        "tests.Logged (content_type/object_pk): no export, no erase",
        "tests.Owned (owner): no export, no erase",
        "tests.Settings (user): no export, no erase",
        "tests.Shared (readers): no export, no erase",
        "tests.Tagged (content_type/object_id): no export, no erase",
    ]
    registered = [e for e in user_data_registry if e.model is AuthSession]
    assert (
        undeclared_user_models(
            [Owned, AuthSession], entries=registered, allowed={"tests.Owned"}
        )
        == []
    )


@isolate_apps("tests")
def test_the_completeness_check_fails_for_a_model_without_erasure() -> None:
    class Exported(models.Model):  # noqa: DJ008
        owner = models.ForeignKey(User, on_delete=models.CASCADE)

        class Meta:
            app_label = "tests"

    # Given a registry where a model's entry declares an export but no erasure (as an
    # entry built by hand, or by an older registration API, could)
    entries = [
        *user_data_registry,
        UserData(
            model=Exported,
            section="exported",
            export=lambda user: [],
            schema=serializers.Field(),
            erase=None,  # type: ignore[arg-type]
        ),
    ]

    missing = undeclared_user_models(
        [*apps.get_models(), Exported], entries=entries, allowed=NO_USER_DATA
    )

    assert missing == ["tests.Exported (owner): no erase"]


def test_a_section_is_registered_once() -> None:
    registry = UserDataRegistry()
    registry.register(
        section="things",
        model=User,
        export=lambda user: [],
        schema=serializers.Field(),
        erase=lambda user: None,
    )

    for section in ("things", "exported_at"):
        with pytest.raises(ImproperlyConfigured):
            registry.register(
                section=section,
                model=User,
                export=lambda user: [],
                schema=serializers.Field(),
                erase=lambda user: None,
            )


def test_an_entry_declares_both_its_export_and_its_erasure() -> None:
    registry = UserDataRegistry()

    with pytest.raises(TypeError):
        registry.register(  # type: ignore[call-arg]
            section="things",
            model=User,
            export=lambda user: [],
            schema=serializers.Field(),
        )
    with pytest.raises(ImproperlyConfigured):
        registry.register(
            section="things",
            model=User,
            export=lambda user: [],
            schema=serializers.Field(),
            erase=None,  # type: ignore[arg-type]
        )
    with pytest.raises(ImproperlyConfigured):
        kept("")
    assert len(registry) == 0


class ExportWidgetSerializer(serializers.Serializer):
    name = serializers.CharField()


def test_a_section_registered_later_is_in_the_document_and_the_schema(
    user: User, user_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an app (widgets, say) that registers its data beside the accounts app's
    registry = UserDataRegistry()
    for entry in user_data_registry:
        registry.register(
            section=entry.section,
            model=entry.model,
            export=entry.export,
            schema=entry.schema,
            erase=entry.erase,
        )
    registry.register(
        section="widgets",
        model=User,
        export=lambda owner: [{"name": f"{owner.username}'s widget"}],
        schema=ExportWidgetSerializer(many=True),
        erase=lambda owner: None,
    )
    monkeypatch.setattr("accounts.user_data.registry.user_data_registry", registry)
    monkeypatch.setattr("accounts.api.data.user_data_registry", registry)

    document = user_client.get(EXPORT_URL).json()
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert document["widgets"] == [{"name": f"{user.username}'s widget"}]
    output = schema["components"]["schemas"]["MeExportOutput"]["properties"]
    assert output["widgets"]["items"] == {"$ref": "#/components/schemas/ExportWidget"}
    assert set(output) == {"exported_at", *(e.section for e in registry)}


def test_the_document_has_one_section_per_registered_exporter(user: User) -> None:
    document = user_export(user=user)

    assert list(document) == ["exported_at", *(e.section for e in user_data_registry)]
    assert {
        "profile",
        "email_addresses",
        "sessions",
        "security_events",
        "password_history",
    } <= set(document)


def test_each_section_matches_its_documented_schema(
    user: User, login: Callable
) -> None:
    """Exporters render their values; their schema serializers document them. Keep the
    two equal, key for key, so the OpenAPI schema tells the truth."""
    login(user)
    PasswordHistory.objects.create(user=user, password="argon2$not-a-real-hash")
    document = user_export(user=user)

    checked = set()
    for exporter in user_data_registry:
        value, schema = document[exporter.section], exporter.schema
        if isinstance(schema, serializers.ListSerializer):
            for row in value:
                assert set(row) == set(schema.child.fields), exporter.section
        elif isinstance(schema, serializers.Serializer):
            assert set(value) == set(schema.fields), exporter.section
        if value:
            checked.add(exporter.section)

    # the accounts app's sections all had something to compare
    assert checked >= {
        "profile",
        "email_addresses",
        "sessions",
        "security_events",
        "password_history",
    }


def test_the_profile_section_holds_the_whole_me_profile() -> None:
    assert set(UserProfileSerializer().fields) <= set(ExportProfileSerializer().fields)


def test_export_holds_the_callers_data(user: User, login: Callable) -> None:
    # Given a session signed out, a live one, a failed attempt and a second address
    signed_out = login(user, HTTP_USER_AGENT="Firefox")
    APIClient().post(
        "/api/v1/auth/logout/", {"refresh": signed_out["refresh"]}, format="json"
    )
    APIClient().post(
        "/api/v1/auth/login/",
        {"login": user.username, "password": "not the password"},
        format="json",
    )
    live = login(user, HTTP_USER_AGENT="Safari")
    EmailAddress.objects.create(
        user=user, email="old@example.com", primary=False, verified=False
    )
    PasswordHistory.objects.create(user=user, password="argon2$an-older-hash")

    # When the user downloads their export
    response = bearer(live["access"]).get(EXPORT_URL)

    # Then it holds every kind of datum about them
    assert response.status_code == 200
    document = response.json()
    assert document["exported_at"].endswith("Z")
    profile = document["profile"]
    assert profile["id"] == str(user.pk)
    assert profile["username"] == user.username
    assert profile["email"] == user.email
    assert profile["is_active"] is True
    assert profile["is_staff"] is False
    assert profile["date_joined"].endswith("Z")
    assert document["email_addresses"] == [
        {"email": user.email, "verified": True, "primary": True},
        {"email": "old@example.com", "verified": False, "primary": False},
    ]
    sessions = {session["user_agent"]: session for session in document["sessions"]}
    assert set(sessions) == {"Firefox", "Safari"}
    assert sessions["Firefox"]["revoked_at"].endswith("Z")
    assert sessions["Firefox"]["revoke_reason"] == "logout"
    assert sessions["Safari"]["revoked_at"] is None
    assert sessions["Safari"]["ip"] == "127.0.0.1"
    # How each session was signed in to is data about the user too (issue 12).
    assert sessions["Safari"]["amr"] == ["pwd"]
    assert sessions["Safari"]["auth_time"].endswith("Z")
    assert [event["kind"] for event in document["security_events"]] == [
        AuditKind.LOGIN_SUCCEEDED,
        AuditKind.LOGIN_FAILED,
        AuditKind.LOGOUT,
        AuditKind.LOGIN_SUCCEEDED,
    ]
    failed = document["security_events"][1]
    assert failed["description"] == "Failed sign-in attempt"
    assert failed["ip"] == "127.0.0.1"
    assert document["security_events"][2]["payload"] == {
        "session": sessions["Firefox"]["id"],
        "reason": "logout",
    }
    assert document["password_history"]["count"] == 1
    assert document["password_history"]["set_at"][0].endswith("Z")


def test_export_holds_the_blocks_made_and_object_permissions_held(
    user: User, login: Callable
) -> None:
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    from accounts.services.blocking import user_block
    from tests.factories import UserFactory

    blocked, blocked_by = UserFactory(), UserFactory()
    user_block(blocker=user, blocked=blocked)
    user_block(blocker=blocked_by, blocked=user)
    group = Group.objects.create(name="reviewers")
    assign_perm("auth.view_group", user, group)  # guardian's generic table

    document = bearer(login(user)["access"]).get(EXPORT_URL).json()

    # who blocked the user is the other person's choice, not the user's data
    assert [row["blocked_user"] for row in document["blocks"]] == [str(blocked.pk)]
    assert document["object_permissions"] == [
        {
            "permission": "auth.view_group",
            "object_type": "auth.group",
            "object_id": str(group.pk),
        }
    ]


def test_export_is_an_uncached_json_attachment(
    user: User, login: Callable, time_machine
) -> None:
    time_machine.move_to("2026-11-21T23:59:00Z", tick=False)
    client = bearer(login(user)["access"])

    response = client.get(EXPORT_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="gatehouse-export-{user.username}-2026-11-21.json"'
    )
    assert response["Cache-Control"] == "no-store"
    assert response.json()["exported_at"].startswith("2026-11-21T23:59:00")


def test_export_holds_no_secret(user: User, login: Callable) -> None:
    first = login(user)
    APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": first["refresh"]}, format="json"
    )
    current = login(user)
    PasswordHistory.objects.create(user=user, password=user.password)
    user.refresh_from_db()
    jtis = list(
        AuthSession.objects.filter(user=user).values_list("refresh_jti", flat=True)
    )

    text = bearer(current["access"]).get(EXPORT_URL).content.decode()

    secrets = [
        user.password,
        user.password.rsplit("$", 1)[-1],  # the hash without its parameters
        *jtis,
        first["refresh"],
        current["refresh"],
        current["access"],
    ]
    assert len(jtis) == 2
    for secret in secrets:
        assert secret not in text
    assert not re.search(r'"(password|refresh_jti|access|refresh|token)"\s*:', text)


def test_export_shows_nothing_of_another_user(
    user: User, other_user: User, login: Callable
) -> None:
    # Given the other user's own sessions, failed attempts and events...
    login(other_user, HTTP_USER_AGENT="TheirBrowser")
    APIClient().post(
        "/api/v1/auth/login/",
        {"login": other_user.username, "password": "wrong"},
        format="json",
    )
    theirs = set(
        AuditEvent.objects.filter(target=other_user).values_list("pk", flat=True)
    )
    # ...an event that another person caused on our user's account (a staff action)...
    staff_client = ClientInfo(ip="198.51.100.77", user_agent="StaffBrowser/1.0")
    done_to_user = audit_record(
        kind=AuditKind.SESSIONS_REVOKED_ALL,
        client=staff_client,
        actor=other_user,
        target=user,
        payload={"sessions": 0, "reason": "account_deactivated"},
    )
    # ...and one our user caused on the other's account
    done_by_user = audit_record(
        kind=AuditKind.PROFILE_UPDATED,
        client=ClientInfo(ip="203.0.113.9", user_agent="UserBrowser"),
        actor=user,
        target=other_user,
        payload={"fields": ["bio"]},
    )
    mine = login(user)

    response = bearer(mine["access"]).get(EXPORT_URL)

    document = response.json()
    text = response.content.decode()
    events = {event["id"]: event for event in document["security_events"]}
    assert not theirs & set(events)
    assert str(done_by_user.pk) in events
    assert events[str(done_by_user.pk)]["ip"] == "203.0.113.9"
    # the staff member's address and browser are theirs, not the user's to see
    assert events[str(done_to_user.pk)]["ip"] is None
    assert events[str(done_to_user.pk)]["user_agent"] == ""
    for datum in (
        str(other_user.pk),
        other_user.username,
        other_user.email,
        "TheirBrowser",
        "198.51.100.77",
        "StaffBrowser",
        *(
            str(pk)
            for pk in AuthSession.objects.filter(user=other_user).values_list(
                "pk", flat=True
            )
        ),
    ):
        assert datum not in text
    assert [address["email"] for address in document["email_addresses"]] == [user.email]


def test_export_queries_do_not_grow_with_the_data(
    user: User, login: Callable, django_assert_max_num_queries: Callable
) -> None:
    for _ in range(5):
        login(user)
    for number in range(5):
        EmailAddress.objects.create(user=user, email=f"alias{number}@example.com")
        PasswordHistory.objects.create(user=user, password=f"argon2$hash{number}")
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=AuditKind.LOGIN_FAILED, target=user, created_at=timezone.now())
        for _ in range(20)
    )
    client = bearer(login(user)["access"])

    # One query per section at most, plus one to authenticate on a cold cache.
    with django_assert_max_num_queries(len(user_data_registry) + 1):
        response = client.get(EXPORT_URL)

    document = response.json()
    assert len(document["sessions"]) == 6
    assert len(document["security_events"]) == 26


def test_export_needs_authentication(db: None) -> None:
    response = APIClient().get(EXPORT_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_export_answers_for_a_user_without_any_row(user: User) -> None:
    """The service-layer entry point works for a user with no session, event or history
    (a staff tool exporting on a data-subject request, for instance)."""
    document = user_export(user=user)

    assert document["sessions"] == []
    assert document["security_events"] == []
    assert document["password_history"] == {"count": 0, "set_at": []}
    assert json.loads(json.dumps(document)) == document  # JSON-ready as it is
