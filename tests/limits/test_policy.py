"""``limits.policy``: the settings that say which group a route counts in and what each
tier may do there, checked at start-up."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.api.users import MeApi
from config.health import LivenessApi
from files.api.views import FileListApi
from limits.policy import (
    DAY,
    HOUR,
    Limit,
    check_settings,
    group_of,
    limits_for,
    periods_of,
    route_key,
)


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"default": {"robot": "1/m"}}, "unknown tier 'robot'"),
        ({"auth": {"user": "1/m"}}, 'needs a "default" group'),
        ({"default": {"user": "a lot"}}, "Rate limit 'a lot'"),
    ],
)
def test_settings_that_do_not_parse_stop_the_start(
    settings, groups: dict, message: str
) -> None:
    settings.RATE_LIMIT_GROUPS = groups

    with pytest.raises(ImproperlyConfigured, match=message):
        check_settings()


def test_a_route_sent_to_a_group_that_does_not_exist_stops_the_start(
    settings,
) -> None:
    settings.RATE_LIMIT_ROUTE_GROUPS = {"api/v1/users/me/": "bulk"}

    with pytest.raises(ImproperlyConfigured, match="no group 'bulk'"):
        check_settings()


def test_routes_are_written_either_way() -> None:
    assert route_key("api/v1/users/<uuid:user_id>/") == "api/v1/users/{user_id}/"
    assert route_key("/api/v1/users/{user_id}/") == "api/v1/users/{user_id}/"


@pytest.mark.parametrize(
    ("view", "method", "group"),
    [
        (MeApi, "GET", "default"),  # names none
        (FileListApi, "POST", "uploads"),  # {"POST": "uploads", "*": "default"}
        (FileListApi, "GET", "default"),
        (LivenessApi, "GET", None),  # exempt
        (None, "GET", None),  # not a DRF view (the admin): no group
    ],
)
def test_a_views_group(view: type | None, method: str, group: str | None) -> None:
    assert group_of(view, method, "api/v1/some/route/") == group


def test_the_settings_win_over_the_view(settings) -> None:
    settings.RATE_LIMIT_ROUTE_GROUPS = {"api/v1/users/{user_id}/": "auth"}
    settings.RATE_LIMIT_EXEMPT = ["api/v1/files/"]

    assert group_of(MeApi, "GET", "api/v1/users/<uuid:user_id>/") == "auth"
    assert group_of(FileListApi, "POST", "api/v1/files/") is None


def test_a_group_ops_removed_counts_in_the_default_one(settings) -> None:
    settings.RATE_LIMIT_GROUPS = {"default": {"user": "1/m"}}

    assert group_of(FileListApi, "POST", "api/v1/files/") == "default"


def test_every_group_counts_an_hour_and_a_day_whoever_calls(settings) -> None:
    settings.RATE_LIMIT_GROUPS = {"default": {"user": "5/m", "anonymous": "9/15m"}}

    assert periods_of("default") == (60, 900, HOUR, DAY)


def test_a_keys_own_quota_replaces_the_default_groups_hour_and_day(settings) -> None:
    settings.RATE_LIMIT_GROUPS = {
        "default": {"user": "100/m,1000/h,10000/d"},
        "uploads": {"user": "20/m,200/h"},
    }

    assert limits_for("default", "user", quota_per_hour=50) == (
        Limit(100, 60),
        Limit(50, HOUR),
        Limit(10000, DAY),
    )
    assert limits_for("uploads", "user", quota_per_hour=50) == (
        Limit(20, 60),
        Limit(200, HOUR),
    )
    # A quota where the role has no limit (staff) is the key's own limit still.
    assert limits_for("default", "admin", quota_per_day=7) == (Limit(7, DAY),)
