"""The admin, for staff who use it all day (issue 13): one "Accounts" section with readable
names, readable row titles, times in the staff member's time zone, and no raw editor of
what only services may write.

Before: two "Accounts" sections (ours and allauth's), an ``Otp_Email`` section, a
"Authentication and Authorization" one; bans titled ``<uuid> until 2026-12-09
14:00:00.123456+00:00``; every time in UTC; allauth's and django-otp's edit pages.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import resolve
from django.utils import timezone
from django.utils.formats import date_format

from accounts.admin_layout import gathered
from accounts.constants import AuditKind
from accounts.crypto import encrypt_secret
from accounts.models import (
    AuditEvent,
    AuthSession,
    Ban,
    EmailCodeDevice,
    RecoveryCode,
    RecoveryCodeSet,
    TOTPAuthenticator,
    User,
)
from accounts.timezones import StaffTimezoneMiddleware, moment, zone_of
from tests.helpers import (
    account,
    admin_client_for,
    client_for,
    otp_verified_staff_client,
)

pytestmark = pytest.mark.django_db

SECTION = [
    "Users",
    "Bans",
    "Address bans",
    "Sessions",
    "API keys",
    "Security events",
    "Email addresses",
    "Authenticator apps",
    "Emailed sign-in codes",
    "Recovery codes",
    "Roles",
]
FLAGS_SECTION = ["Feature flags", "Switches", "Samples"]
FILES_SECTION = ["Files", "Avatars"]
TECHNICAL_NAMES = [
    "Otp_Email",
    "OTP_EMAIL",
    "Authentication and Authorization",
    "Email devices",
    "Email codes",
    "Email addresss",
    "Groups",
    "Waffle",
    "Flags",
]
WHEN = datetime(2026, 12, 9, 14, 0, tzinfo=UTC)


@pytest.fixture
def superadmin_client(db: None) -> Client:
    return otp_verified_staff_client()[0]


# --- one Accounts section ---------------------------------------------------------------


def test_the_index_has_accounts_files_and_feature_flags_sections_with_readable_names(
    superadmin_client: Client,
) -> None:
    response = superadmin_client.get("/admin/")

    app_list = response.context["app_list"]
    assert [app["name"] for app in app_list] == ["Accounts", "Files", "Feature flags"]
    assert [model["name"] for model in app_list[0]["models"]] == SECTION
    assert [model["name"] for model in app_list[1]["models"]] == FILES_SECTION
    assert [model["name"] for model in app_list[2]["models"]] == FLAGS_SECTION
    page = response.content.decode()
    for name in TECHNICAL_NAMES:
        assert name not in page


def test_the_side_bar_lists_the_same_section(superadmin_client: Client) -> None:
    response = superadmin_client.get("/admin/accounts/ban/")

    accounts, files, flags = response.context["available_apps"]
    assert accounts["name"] == "Accounts"
    assert files["name"] == "Files"
    assert [model["name"] for model in accounts["models"]] == SECTION
    assert flags["name"] == "Feature flags"
    assert [model["name"] for model in flags["models"]] == FLAGS_SECTION


@pytest.mark.parametrize("label", ["accounts", "account", "auth", "apikeys", "limits"])
def test_a_gathered_apps_page_shows_the_whole_section(
    superadmin_client: Client, label: str
) -> None:
    response = superadmin_client.get(f"/admin/{label}/")

    assert response.status_code == 200
    [section] = response.context["app_list"]
    assert [model["name"] for model in section["models"]] == SECTION
    assert response.context["title"] == "Accounts administration"


@pytest.mark.parametrize("label", ["flags", "waffle"])
def test_the_feature_flags_apps_page_shows_the_whole_section(
    superadmin_client: Client, label: str
) -> None:
    response = superadmin_client.get(f"/admin/{label}/")

    assert response.status_code == 200
    [section] = response.context["app_list"]
    assert [model["name"] for model in section["models"]] == FLAGS_SECTION
    assert response.context["title"] == "Feature flags administration"


def test_the_section_lists_only_what_a_staff_member_may_see() -> None:
    """A moderator sees the models their role's permissions reach, in the same order:
    the feature flags (``flags.view_flag``), not waffle's switches and samples (ops)."""
    response = admin_client_for(account("moderator")).get("/admin/")

    app_list = response.context["app_list"]
    names = [model["name"] for model in app_list[0]["models"]]
    assert names == [name for name in SECTION if name in names]
    assert "Users" in names
    assert [app["name"] for app in app_list] == ["Accounts", "Files", "Feature flags"]
    assert [model["name"] for model in app_list[1]["models"]] == FILES_SECTION
    assert [model["name"] for model in app_list[2]["models"]] == ["Feature flags"]


def test_a_site_without_the_sections_lists_the_other_apps() -> None:
    others = [{"app_label": "insights", "name": "Insights", "models": []}]

    assert gathered(others) == others


def test_django_otps_raw_email_device_page_is_gone(superadmin_client: Client) -> None:
    assert superadmin_client.get("/admin/otp_email/").status_code == 404
    assert superadmin_client.get("/admin/otp_email/emaildevice/").status_code == 404


# --- what only services write is read-only here ------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/account/emailaddress/add/",
        "/admin/auth/group/add/",
        "/admin/accounts/totpauthenticator/add/",
        "/admin/accounts/emailcodedevice/add/",
        "/admin/accounts/recoverycodeset/add/",
        "/admin/accounts/ban/add/",
        "/admin/apikeys/apikey/add/",
    ],
)
def test_no_raw_add_pages(superadmin_client: Client, path: str) -> None:
    assert superadmin_client.post(path, {}).status_code == 403


def test_an_email_address_cannot_be_edited_or_verified_here(
    superadmin_client: Client,
) -> None:
    user = account(email="ada@example.com")
    address = EmailAddress.objects.create(
        user=user, email=user.email, primary=True, verified=False
    )
    url = f"/admin/account/emailaddress/{address.pk}/change/"

    page = superadmin_client.get(url)
    edit = superadmin_client.post(url, {"email": "evil@example.com", "verified": "on"})
    verify = superadmin_client.post(
        "/admin/account/emailaddress/",
        {"action": "make_verified", "_selected_action": [address.pk]},
    )

    assert page.status_code == 200  # to read
    assert edit.status_code == 403
    assert verify.status_code in {200, 302}
    address.refresh_from_db()
    assert (address.email, address.verified) == ("ada@example.com", False)


def test_a_role_cannot_be_edited_here(superadmin_client: Client) -> None:
    role = Group.objects.get(name="moderator")

    response = superadmin_client.post(
        f"/admin/auth/group/{role.pk}/change/", {"name": "renamed"}
    )

    assert response.status_code == 403
    assert Group.objects.filter(name="moderator").exists()


def test_factor_pages_show_no_secret(superadmin_client: Client) -> None:
    user = account(username="ada")
    app = TOTPAuthenticator.objects.create(
        user=user, name="phone", confirmed=True, encrypted_key=encrypt_secret(b"7" * 20)
    )
    codes = EmailCodeDevice.objects.create(
        user=user, name="email", confirmed=True, token="digest-12345678"
    )

    app_page = superadmin_client.get(
        f"/admin/accounts/totpauthenticator/{app.pk}/change/"
    ).content.decode()
    codes_page = superadmin_client.get(
        f"/admin/accounts/emailcodedevice/{codes.pk}/change/"
    ).content.decode()
    listing = superadmin_client.get("/admin/accounts/totpauthenticator/")

    assert "phone" in app_page
    assert app.encrypted_key not in app_page
    assert "digest-12345678" not in codes_page
    assert listing.status_code == 200
    assert "Emailed sign-in codes" in codes_page


def test_the_recovery_codes_list_counts_what_is_left(superadmin_client: Client) -> None:
    codes = RecoveryCodeSet.objects.create(user=account(), name="codes", confirmed=True)
    RecoveryCode.objects.create(device=codes, digest="a")
    RecoveryCode.objects.create(device=codes, digest="b")

    response = superadmin_client.get("/admin/accounts/recoverycodeset/")

    assert response.status_code == 200
    assert re.search(r'class="field-codes_left">2<', response.content.decode())


# --- readable row titles ----------------------------------------------------------------


def test_a_ban_reads_as_a_sentence() -> None:
    ada = account(username="ada")

    temporary = Ban(user=ada, reason="spam", until=WHEN)
    permanent = Ban(user=ada, reason="spam")

    assert str(temporary) == "Ban of ada until 2026-12-09 14:00 UTC"
    assert str(permanent) == "Permanent ban of ada"
    with timezone.override(ZoneInfo("Europe/Paris")):
        assert str(temporary) == "Ban of ada until 2026-12-09 15:00 CET"


def test_sessions_and_events_read_as_sentences() -> None:
    ada = account(username="ada")
    session = AuthSession(user=ada, created_at=WHEN, expires_at=WHEN)
    event = AuditEvent(
        kind=AuditKind.USER_BANNED,
        target=ada,
        created_at=WHEN.replace(second=5, microsecond=123456),
    )
    anonymous = AuditEvent(kind=AuditKind.LOGIN_FAILED, created_at=WHEN)

    assert str(session) == "Session of ada from 2026-12-09 14:00 UTC"
    assert str(event) == "Banned: ada, 2026-12-09 14:00:05 UTC"
    assert str(anonymous) == "Failed sign-in attempt, 2026-12-09 14:00:00 UTC"


def test_the_ban_list_titles_bans_readably(superadmin_client: Client) -> None:
    Ban.objects.create(user=account(username="ada"), reason="spam", until=WHEN)

    page = superadmin_client.get("/admin/accounts/ban/").content.decode()

    assert "Ban of ada until 2026-12-09 14:00 UTC" in page


# --- times in the staff member's time zone -----------------------------------------------


def paris_staff(username: str = "paris") -> User:
    return account("admin", username=username, timezone="Europe/Paris")


def test_staff_read_times_in_their_own_zone() -> None:
    ada = account(username="ada")
    AuditEvent.objects.create(kind=AuditKind.USER_BANNED, target=ada, created_at=WHEN)
    Ban.objects.create(
        user=ada, reason="spam", until=WHEN, created_at=WHEN.replace(hour=1)
    )

    events = admin_client_for(paris_staff("first")).get("/admin/accounts/auditevent/")
    user_page = admin_client_for(paris_staff("second")).get(
        f"/admin/accounts/user/{ada.pk}/change/"
    )

    paris = date_format(WHEN.astimezone(ZoneInfo("Europe/Paris")), "DATETIME_FORMAT")
    utc = date_format(WHEN, "DATETIME_FORMAT")
    assert paris != utc
    assert paris in events.content.decode()
    assert utc not in events.content.decode()
    assert 'id="staff-timezone">Times in Europe/Paris.' in events.content.decode()
    assert "Ban of ada until 2026-12-09 15:00 CET" in user_page.content.decode()


def test_the_user_list_says_until_when_in_the_staff_members_zone() -> None:
    """Before: the list's "banned" column wrote the end in UTC, without saying so."""
    ends = datetime(2099, 1, 15, 14, 0, tzinfo=UTC)
    Ban.objects.create(user=account(username="ada"), reason="spam", until=ends)

    page = admin_client_for(paris_staff()).get("/admin/accounts/user/")

    assert "until 2099-01-15 15:00 CET" in page.content.decode()


def test_staff_in_utc_are_told_so(superadmin_client: Client) -> None:
    page = superadmin_client.get("/admin/").content.decode()

    assert 'id="staff-timezone">Times in UTC.' in page


def test_the_api_answers_in_utc_whoever_asks() -> None:
    """The zone is put in force for admin pages only, and taken back after each."""
    staff = paris_staff()
    admin_client_for(staff).get("/admin/")

    response = client_for(staff).get("/api/v1/users/me/")

    assert response.status_code == 200
    assert response.json()["date_joined"].endswith("Z")
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_zone_is_for_staff_on_admin_pages_only(rf: RequestFactory) -> None:
    """Outside the admin, or for a signed-in non-staff account, times stay in UTC."""
    zones = []
    middleware = StaffTimezoneMiddleware(
        lambda request: zones.append(timezone.get_current_timezone_name())
    )
    user = account(timezone="Europe/Paris")

    for path in ["/admin/", "/api/v1/users/me/"]:
        request = rf.get(path)
        request.user = user
        request.resolver_match = resolve(path)
        middleware.process_view(request, lambda: None, (), {})
        middleware(request)

    assert zones == ["UTC", "UTC"]


@pytest.mark.parametrize(
    ("value", "zone"),
    [("Europe/Paris", "Europe/Paris"), ("", "UTC"), ("Mars/Olympus", "UTC")],
)
def test_an_unknown_zone_falls_back_to_utc(value: str, zone: str) -> None:
    assert str(zone_of(User(timezone=value))) == zone


def test_moment_writes_the_zone_in_force() -> None:
    assert moment(WHEN) == "2026-12-09 14:00 UTC"
    assert moment(WHEN, seconds=True) == "2026-12-09 14:00:00 UTC"
    assert admin.site.is_registered(Ban)
