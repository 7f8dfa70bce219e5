"""The avatar routes, mounted under ``/api/v1/users/`` by ``config/api_urls.py`` beside
accounts' own ``users/`` routes (none of which ends in ``avatar/``)."""

from __future__ import annotations

from django.urls import path

from files.api import avatars

app_name = "avatars"

urlpatterns = [
    path("me/avatar/", avatars.MeAvatarApi.as_view(), name="me"),
    path("<uuid:user_id>/avatar/", avatars.UserAvatarApi.as_view(), name="avatar"),
]
