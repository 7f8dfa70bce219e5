"""Feature flags in the admin (issue 15): the list reads each flag's rules, quick toggles
one click from it go through ``flag_update`` (history, audit, invalidation), an
endpoint's flag switched off asks first, a flag's page edits and deletes through the
services and shows its history, and the stale filter lists what ``stale_flags`` does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone

from accounts.access import SYSTEM_ACTOR
from accounts.constants import AuditKind
from accounts.crypto import encrypt_secret
from accounts.models import AuditEvent, TOTPAuthenticator, User
from config.client import SYSTEM
from config.errors import ApplicationError
from flags.models import Flag, FlagChange
from flags.services import flag_update
from tests.flags.helpers import make_flag
from tests.helpers import account, admin_client_for, otp_verified_staff_client

pytestmark = pytest.mark.django_db

LIST = "/admin/flags/flag/"
ENDPOINT = "api:auth/login/"


def toggle_url(flag: Flag) -> str:
    return f"{LIST}{flag.pk}/everyone/"


def reload(flag: Flag) -> Flag:
    return Flag.objects.get(pk=flag.pk)


@pytest.fixture
def superadmin() -> tuple[Client, User]:
    return otp_verified_staff_client()


@pytest.fixture
def staff(superadmin: tuple[Client, User]) -> Client:
    return superadmin[0]


def staff_without_role(*permissions: str) -> Client:
    """An ``is_staff`` account with its second factor verified, no role, and
    ``permissions``: into the admin, but no flag powers (``accounts.access``)."""
    user = account(is_staff=True)
    TOTPAuthenticator.objects.create(
        user=user, name="app", confirmed=True, encrypted_key=encrypt_secret(b"2" * 20)
    )
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return admin_client_for(user)


# --- the list ----------------------------------------------------------------------------


def test_the_list_reads_each_flags_rules_note_update_and_kind(staff: Client) -> None:
    users = [account() for _ in range(3)]
    make_flag("everyone-on", everyone=True, note="Shown to all since the launch")
    make_flag("everyone-off", everyone=False)
    make_flag(
        "rollout",
        percent=30,
        roles=["tester", "admin"],
        users=[user.pk for user in users],
        note="The new dashboard, " + "rolled out slowly " * 10,
    )
    make_flag("one-of-each", percent="12.5", roles=["tester"], users=[users[0].pk])
    make_flag("dormant")

    response = staff.get(LIST)

    assert response.status_code == 200
    page = response.content.decode()
    rows = {
        flag.name: flag for flag in response.context["cl"].result_list
    }  # every flag, endpoint ones included
    assert {"everyone-on", "rollout", ENDPOINT} <= set(rows)
    admin = response.context["cl"].model_admin
    assert admin.rules(rows["everyone-on"]) == "On for everyone"
    assert admin.rules(rows["everyone-off"]) == "Off for everyone"
    assert (
        admin.rules(rows["rollout"])
        == "30% of signed-in users + roles tester, admin + 3 users"
    )
    assert (
        admin.rules(rows["one-of-each"])
        == "12.5% of signed-in users + role tester + 1 user"
    )
    assert admin.rules(rows["dormant"]) == "Off: no rule turns it on"
    assert "30% of signed-in users + roles tester, admin + 3 users" in page
    assert "Shown to all since the launch" in page
    assert "The new dashboard, rolled out slowly rolled out slowly" in page
    assert "rolled out slowly " * 10 not in page  # the note is cut short
    assert '<td class="field-kind">Endpoint</td>' in page
    assert '<td class="field-kind">Feature</td>' in page
    for column in ("Name", "Rules", "Note", "Updated", "Kind", "Switch"):
        assert column in page


def test_the_list_takes_a_constant_number_of_statements(staff: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_flag("first", roles=["admin"], users=[account().pk])
    with CaptureQueriesContext(connection) as few:
        staff.get(LIST)
    for number in range(5):
        make_flag(f"more-{number}", roles=["tester"], users=[account().pk])
    with CaptureQueriesContext(connection) as many:
        staff.get(LIST)

    assert len(many) == len(few)


def test_search_by_name_and_note(staff: Client) -> None:
    make_flag("new-dashboard", note="charts")
    make_flag("beta-export", note="the new CSV export")

    by_name = staff.get(LIST, {"q": "dashboard"}).context["cl"].result_list
    by_note = staff.get(LIST, {"q": "CSV"}).context["cl"].result_list

    assert [flag.name for flag in by_name] == ["new-dashboard"]
    assert [flag.name for flag in by_note] == ["beta-export"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "feature"}, {"on", "off", "rules"}),
        ({"kind": "feature", "state": "on"}, {"on"}),
        ({"kind": "feature", "state": "off"}, {"off"}),
        ({"kind": "feature", "state": "rules"}, {"rules"}),
    ],
)
def test_filters_by_kind_and_state(
    staff: Client, query: dict[str, str], expected: set[str]
) -> None:
    make_flag("on", everyone=True)
    make_flag("off", everyone=False)
    make_flag("rules", percent=10)

    result = staff.get(LIST, query).context["cl"].result_list

    assert {flag.name for flag in result} == expected


def test_the_kind_filter_lists_endpoint_flags(staff: Client) -> None:
    make_flag("feature")

    result = staff.get(LIST, {"kind": "endpoint"}).context["cl"].result_list

    names = {flag.name for flag in result}
    assert ENDPOINT in names
    assert "feature" not in names
    assert all(name.startswith("api:") for name in names)


def test_the_stale_filter_lists_flags_unchanged_for_90_days_fully_on_or_off(
    staff: Client,
) -> None:
    old, recent = (
        timezone.now() - timedelta(days=91),
        timezone.now() - timedelta(days=89),
    )
    for name, rules, modified in [
        ("old-on", {"everyone": True}, old),
        ("old-off", {"everyone": False}, old),
        ("old-no-rule", {}, old),
        ("old-everyone-by-percent", {"percent": 100}, old),
        ("old-rollout", {"percent": 30}, old),
        ("old-for-testers", {"roles": ["tester"]}, old),
        ("recent-on", {"everyone": True}, recent),
    ]:
        make_flag(name, **rules)
        Flag.objects.filter(name=name).update(modified=modified)
    Flag.objects.filter(name=ENDPOINT).update(modified=old)  # never a candidate

    result = staff.get(LIST, {"stale": "yes"}).context["cl"].result_list

    assert {flag.name for flag in result} == {
        "old-on",
        "old-off",
        "old-no-rule",
        "old-everyone-by-percent",
    }


def test_no_bulk_delete_that_would_skip_the_service(staff: Client) -> None:
    make_flag("feature")

    page = staff.get(LIST).content.decode()

    assert "delete_selected" not in page


# --- quick toggles -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("posted", "before", "after", "message"),
    [
        ("on", None, True, "Flag new-dashboard: now on for everyone."),
        ("off", True, False, "Flag new-dashboard: now off for everyone."),
        ("rules", False, None, "Flag new-dashboard: now by rules."),
    ],
)
def test_a_toggle_changes_a_feature_flag_through_the_service_at_once(
    superadmin: tuple[Client, User],
    posted: str,
    before: bool | None,
    after: bool | None,
    message: str,
) -> None:
    client, chief = superadmin
    flag = make_flag("new-dashboard", percent=20)
    Flag.objects.filter(pk=flag.pk).update(everyone=before)

    response = client.post(
        toggle_url(flag),
        {"everyone": posted, "changelist_query": "kind=feature"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"{LIST}?kind=feature"
    assert message in response.content.decode()
    assert reload(flag).everyone is after
    change = FlagChange.objects.filter(flag=flag).first()
    assert change is not None
    assert (change.actor, change.source) == (chief, FlagChange.Source.ADMIN)
    assert change.changes == {"everyone": {"from": before, "to": after}}
    event = AuditEvent.objects.filter(kind=AuditKind.FLAG_CHANGED).latest("created_at")
    assert event.actor == chief
    assert event.payload["flag"] == "new-dashboard"
    assert event.payload["source"] == "admin"


def test_the_list_offers_the_toggles_as_post_buttons_of_a_csrf_form(
    staff: Client,
) -> None:
    flag = make_flag("new-dashboard", everyone=True)

    page = staff.get(LIST).content.decode()

    assert '<form id="flag-toggles" method="post">' in page
    assert 'name="csrfmiddlewaretoken"' in page
    for value, label in [
        ("on", "On for everyone"),
        ("off", "Off for everyone"),
        ("rules", "By rules"),
    ]:
        assert f'id="toggle-{flag.pk}-{value}"' in page
        assert label in page
    # Its current state is the disabled one.
    assert (
        f'name="everyone" value="on" id="toggle-{flag.pk}-on" class="button" disabled>'
        in page
    )


def test_a_toggle_needs_the_csrf_token() -> None:
    chief = otp_verified_staff_client()[1]
    client = Client(enforce_csrf_checks=True)
    client.cookies = admin_client_for(chief).cookies
    flag = make_flag("new-dashboard")

    response = client.post(toggle_url(flag), {"everyone": "on"})

    assert response.status_code == 403
    assert reload(flag).everyone is None


def test_get_on_a_toggle_changes_nothing(staff: Client) -> None:
    flag = make_flag("new-dashboard")

    response = staff.get(toggle_url(flag), {"everyone": "on"})

    assert response.status_code == 405
    assert reload(flag).everyone is None
    assert not FlagChange.objects.filter(flag=flag, source="admin").exists()


def test_switching_an_endpoint_off_asks_first_and_acts_once_confirmed(
    staff: Client,
) -> None:
    flag = Flag.objects.get(name=ENDPOINT)
    assert flag.everyone is True

    asked = staff.post(toggle_url(flag), {"everyone": "off"})

    assert asked.status_code == 200
    page = asked.content.decode()
    assert "/api/v1/auth/login/" in page
    assert "404 Not found" in page
    assert 'id="confirm-endpoint-off"' in page
    assert reload(flag).everyone is True
    assert not FlagChange.objects.filter(flag=flag).exists()

    confirmed = staff.post(
        toggle_url(flag), {"everyone": "off", "confirmed": "yes"}, follow=True
    )

    assert "Flag api:auth/login/: now off for everyone." in confirmed.content.decode()
    assert reload(flag).everyone is False
    assert FlagChange.objects.get(flag=flag).changes == {
        "everyone": {"from": True, "to": False}
    }


def test_the_endpoint_confirmation_names_a_403_when_so_configured(
    staff: Client, settings
) -> None:
    settings.FLAGS_DISABLED_ENDPOINT_STATUS = 403
    flag = Flag.objects.get(name=ENDPOINT)

    page = staff.post(toggle_url(flag), {"everyone": "off"}).content.decode()

    assert "403 Forbidden" in page


def test_switching_an_endpoint_back_on_acts_at_once(staff: Client) -> None:
    flag = Flag.objects.get(name=ENDPOINT)
    Flag.objects.filter(pk=flag.pk).update(everyone=False)

    staff.post(toggle_url(flag), {"everyone": "on"})

    assert reload(flag).everyone is True


def test_a_verified_moderator_toggles_flags() -> None:
    moderator = account("moderator")
    flag = make_flag("new-dashboard")

    admin_client_for(moderator).post(toggle_url(flag), {"everyone": "on"})

    assert reload(flag).everyone is True
    assert FlagChange.objects.filter(flag=flag, actor=moderator).exists()


def test_a_moderator_without_a_verified_second_factor_cannot_toggle() -> None:
    client = Client()
    client.force_login(account("moderator"))  # the password alone
    flag = make_flag("new-dashboard")

    response = client.post(toggle_url(flag), {"everyone": "on"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert reload(flag).everyone is None


def test_staff_without_flag_powers_are_refused() -> None:
    client = staff_without_role()
    flag = make_flag("new-dashboard")

    listing = client.get(LIST)
    toggled = client.post(toggle_url(flag), {"everyone": "on"})

    assert listing.status_code == 403
    assert toggled.status_code == 403
    assert reload(flag).everyone is None


def test_staff_who_may_only_view_see_the_list_without_toggles() -> None:
    client = staff_without_role("flags.view_flag")
    flag = make_flag("new-dashboard")

    listing = client.get(LIST)
    page = client.get(f"{LIST}{flag.pk}/change/")
    toggled = client.post(toggle_url(flag), {"everyone": "on"})
    changed = client.post(f"{LIST}{flag.pk}/change/", {"everyone": "true"})

    assert listing.status_code == 200
    assert "new-dashboard" in listing.content.decode()
    assert f'id="toggle-{flag.pk}-on"' not in listing.content.decode()
    assert '<form id="flag-toggles"' not in listing.content.decode()
    assert "toggles" not in listing.context["cl"].list_display
    assert page.status_code == 200
    assert 'name="everyone"' not in page.content.decode()  # read-only
    assert (toggled.status_code, changed.status_code) == (403, 403)
    assert reload(flag).everyone is None


def test_a_refusal_of_the_cache_is_an_error_message_not_a_500(
    staff: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> None:
        raise ApplicationError(
            "service_unavailable",
            "Flags cannot be changed right now: nothing changed, try again shortly.",
        )

    flag = make_flag("new-dashboard")
    monkeypatch.setattr("flags.services.rules_changed", refuse)

    response = staff.post(toggle_url(flag), {"everyone": "on"}, follow=True)

    assert response.status_code == 200
    assert (
        "Flag new-dashboard unchanged: Flags cannot be changed right now"
        in response.content.decode()
    )
    assert reload(flag).everyone is None
    assert not FlagChange.objects.filter(flag=flag, source="admin").exists()


def test_an_unknown_toggle_value_changes_nothing(staff: Client) -> None:
    flag = make_flag("new-dashboard")

    response = staff.post(toggle_url(flag), {"everyone": "maybe"}, follow=True)

    assert "Choose on, off or by rules." in response.content.decode()
    assert reload(flag).everyone is None


# --- a flag's page: through the services, with its history --------------------------------


def form_data(**fields: object) -> dict[str, object]:
    return {
        "everyone": "unknown",
        "percent": "",
        "groups": [],
        "users": [],
        "note": "",
        **fields,
    }


def test_the_change_form_writes_through_the_service(
    superadmin: tuple[Client, User],
) -> None:
    client, chief = superadmin
    ada = account(username="ada")
    flag = make_flag("new-dashboard", note="charts")
    admin_role = Group.objects.get(name="admin")

    response = client.post(
        f"{LIST}{flag.pk}/change/",
        form_data(percent="30", groups=[admin_role.pk], users=[ada.pk], note="charts"),
    )

    assert response.status_code == 302
    flag = reload(flag)
    assert flag.percent == Decimal(30)
    assert list(flag.groups.values_list("name", flat=True)) == ["admin"]
    assert list(flag.users.all()) == [ada]
    change = FlagChange.objects.filter(flag=flag).first()
    assert change is not None
    assert (change.actor, change.source) == (chief, FlagChange.Source.ADMIN)
    assert change.changes == {
        "percent": {"from": None, "to": 30.0},
        "roles": {"from": [], "to": ["admin"]},
        "users": {"added": [str(ada.pk)], "removed": []},
    }  # the note did not change, so it is not in the diff
    assert AuditEvent.objects.filter(
        kind=AuditKind.FLAG_CHANGED, actor=chief, payload__flag="new-dashboard"
    ).exists()


def test_the_form_offers_the_role_groups_only_lowest_first(staff: Client) -> None:
    Group.objects.create(name="not-a-role")
    flag = make_flag("new-dashboard")

    form = staff.get(f"{LIST}{flag.pk}/change/").context["adminform"].form

    roles = list(form.fields["groups"].queryset.values_list("name", flat=True))
    assert roles == ["user", "tester", "moderator", "admin", "superadmin"]  # by rank


def test_a_percentage_out_of_range_is_a_form_error(staff: Client) -> None:
    flag = make_flag("new-dashboard")

    response = staff.post(f"{LIST}{flag.pk}/change/", form_data(percent="101"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["percent"]
    assert reload(flag).percent is None


def test_the_add_page_creates_through_the_service(
    superadmin: tuple[Client, User],
) -> None:
    client, chief = superadmin

    response = client.post(
        f"{LIST}add/", {**form_data(everyone="true"), "name": "beta-export"}
    )

    assert response.status_code == 302
    flag = Flag.objects.get(name="beta-export")
    assert (flag.everyone, flag.is_endpoint) == (True, False)
    assert [change.changes for change in FlagChange.objects.filter(flag=flag)] == [
        {"everyone": {"from": None, "to": True}},
        {},
    ]
    assert AuditEvent.objects.filter(kind=AuditKind.FLAG_CREATED, actor=chief).exists()


def test_a_flags_page_shows_its_history_readably(
    superadmin: tuple[Client, User],
) -> None:
    client, chief = superadmin
    ada = account(username="ada")
    flag = make_flag("new-dashboard", users=[ada.pk])
    chief.username = "flagkeeper"
    chief.save()
    client.post(toggle_url(flag), {"everyone": "on"})
    flag_update(
        name="new-dashboard",
        changes={"users": [], "percent": 12.5, "note": "Launch in May"},
        actor=SYSTEM_ACTOR,
        client=SYSTEM,
        source=FlagChange.Source.COMMAND,
    )

    page = client.get(f"{LIST}{flag.pk}/change/").content.decode()
    history = client.get(f"{LIST}{flag.pk}/history/").content.decode()

    for text in (
        'id="flag-history"',
        "Everyone: By rules → On for everyone",
        "<td>flagkeeper</td>",  # the staff member who clicked
        "<td>Admin</td>",
        "<td>manage.py</td>",
        "system (manage.py)",
        "Percentage: none → 12.5%",
        "Users: removed ada",
        "Note: empty → &quot;Launch in May&quot;",
        "Users: added ada",
        "Created",
    ):
        assert text in page
        assert text in history


def test_an_endpoint_flags_page_names_its_route_and_it_cannot_be_deleted(
    staff: Client,
) -> None:
    flag = Flag.objects.get(name=ENDPOINT)

    page = staff.get(f"{LIST}{flag.pk}/change/").content.decode()
    asked = staff.get(f"{LIST}{flag.pk}/delete/")
    deleted = staff.post(f"{LIST}{flag.pk}/delete/", {"post": "yes"})

    assert "<code>/api/v1/auth/login/</code>" in page
    assert (asked.status_code, deleted.status_code) == (403, 403)
    assert Flag.objects.filter(name=ENDPOINT).exists()


def test_the_form_switches_an_endpoint_off_only_once_confirmed(staff: Client) -> None:
    flag = Flag.objects.get(name=ENDPOINT)
    url = f"{LIST}{flag.pk}/change/"
    note = flag.note

    asked = staff.post(url, form_data(everyone="false", note=note))
    confirmed = staff.post(
        url, form_data(everyone="false", note=note, confirm_endpoint_off="on")
    )

    assert asked.status_code == 200
    assert "/api/v1/auth/login/ is refused to every caller" in asked.content.decode()
    assert confirmed.status_code == 302
    assert reload(flag).everyone is False
    assert [change.changes for change in FlagChange.objects.filter(flag=flag)] == [
        {"everyone": {"from": True, "to": False}}
    ]


def test_a_feature_flag_is_deleted_through_the_service(
    superadmin: tuple[Client, User],
) -> None:
    client, chief = superadmin
    flag = make_flag("old-experiment", everyone=True)

    response = client.post(f"{LIST}{flag.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Flag.objects.filter(name="old-experiment").exists()
    event = AuditEvent.objects.get(kind=AuditKind.FLAG_DELETED)
    assert event.actor == chief
    assert event.payload["flag"] == "old-experiment"


# --- waffle's switches and samples, for ops ------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/waffle/switch/", "/admin/waffle/sample/"])
def test_waffles_switches_and_samples_are_for_superusers(
    staff: Client, path: str
) -> None:
    assert staff.get(path).status_code == 200
    assert staff.get(f"{path}add/").status_code == 200
    assert admin_client_for(account("admin")).get(path).status_code == 403


# --- edges -----------------------------------------------------------------------------


def refuse_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache refuses the new version: ``rules_changed``'s 503."""

    def refuse() -> None:
        raise ApplicationError(
            "service_unavailable",
            "Flags cannot be changed right now: nothing changed, try again shortly.",
        )

    monkeypatch.setattr("flags.services.rules_changed", refuse)


def test_a_refused_form_save_is_an_error_message_and_changes_nothing(
    staff: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = make_flag("new-dashboard")
    refuse_changes(monkeypatch)

    response = staff.post(
        f"{LIST}{flag.pk}/change/", form_data(percent="50"), follow=True
    )

    assert response.status_code == 200
    assert "Flags cannot be changed right now" in response.content.decode()
    assert reload(flag).percent is None


def test_a_refused_deletion_is_an_error_message_and_deletes_nothing(
    staff: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = make_flag("old-experiment")
    refuse_changes(monkeypatch)

    response = staff.post(f"{LIST}{flag.pk}/delete/", {"post": "yes"}, follow=True)

    assert response.redirect_chain[-1][0] == f"{LIST}{flag.pk}/change/"
    assert "Flags cannot be changed right now" in response.content.decode()
    assert Flag.objects.filter(name="old-experiment").exists()


def test_a_toggle_of_the_state_a_flag_is_in_says_so(staff: Client) -> None:
    flag = make_flag("new-dashboard", everyone=True)
    changes = FlagChange.objects.count()

    response = staff.post(toggle_url(flag), {"everyone": "on"}, follow=True)

    assert "Flag new-dashboard: already on for everyone." in response.content.decode()
    assert FlagChange.objects.count() == changes


def test_a_toggle_of_an_unknown_flag_says_so(staff: Client) -> None:
    response = staff.post(f"{LIST}999999/everyone/", {"everyone": "on"}, follow=True)

    assert "No such flag." in response.content.decode()


def test_the_history_names_roles_and_an_erased_accounts_changes(staff: Client) -> None:
    moderator = account("moderator")
    flag = make_flag("new-dashboard")
    flag_update(
        name="new-dashboard",
        changes={"roles": ["admin", "tester"]},
        actor=moderator,
        client=SYSTEM,
        source=FlagChange.Source.API,
    )
    moderator.delete()  # the change stays, with no actor

    page = staff.get(f"{LIST}{flag.pk}/history/").content.decode()

    assert "Roles: none → tester, admin" in page
    assert "<td>(deleted account)</td>" in page
    assert "<td>API</td>" in page
