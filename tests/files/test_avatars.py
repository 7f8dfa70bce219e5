"""``users/me/avatar/`` and ``users/{id}/avatar/`` (API.md, Users): upload, removal,
the image served (uploaded or generated), its caching headers, the profiles' links, and
who may act. Storage through ``default_storage`` only: these pass on a folder or a bucket
(``.ci/run``'s S3 stage runs them against moto's server)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from accounts.access import SYSTEM_ACTOR
from accounts.models import AuditEvent, User
from config.client import SYSTEM
from config.error_codes import ApplicationError
from files import avatars as avatar_services
from files import images
from files.avatars import avatar_remove, avatar_set
from files.images import background_of
from files.models import Avatar
from tests.factories import DEFAULT_PASSWORD
from tests.files.avatar_images import image_bytes, png_bomb
from tests.files.test_images import jpeg_with_gps
from tests.helpers import account, admin_client_for, client_for
from tests.s3 import isolated_storage

pytestmark = pytest.mark.django_db

ME_AVATAR = "/api/v1/users/me/avatar/"


@pytest.fixture(autouse=True)
def _storage(settings: Any, tmp_path: Path) -> None:
    isolated_storage(settings, tmp_path)


def avatar_path(user: User) -> str:
    return f"/api/v1/users/{user.pk}/avatar/"


def upload(
    client: APIClient, content: bytes, name: str = "me.png", content_type: str = ""
) -> Any:
    file = SimpleUploadedFile(name, content, content_type=content_type or "image/png")
    return client.put(ME_AVATAR, {"file": file}, format="multipart")


def stored(name: str) -> bytes:
    with default_storage.open(name, "rb") as file:
        return bytes(file.read())


def avatar_names(user: User) -> list[str]:
    """What the storage holds under the user's avatar folder."""
    _, names = default_storage.listdir(f"avatars/{user.pk}")
    return sorted(names)


def served(user: User, **headers: str) -> Any:
    return APIClient().get(avatar_path(user), **headers)


def body_of(response: Any) -> bytes:
    return (
        b"".join(response.streaming_content) if response.streaming else response.content
    )


# --- Upload ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_format", "mode", "colour"),
    [
        ("PNG", "RGBA", (10, 20, 30, 128)),
        ("JPEG", "RGB", (10, 20, 30)),
        ("GIF", "P", 3),
        ("WEBP", "RGB", (10, 20, 30)),
        ("BMP", "RGB", (10, 20, 30)),
    ],
)
def test_each_allowed_type_is_stored_as_a_square_png_of_at_most_512(
    image_format: str, mode: str, colour: object
) -> None:
    user = account()
    content = image_bytes(image_format, (900, 700), colour, mode)

    response = upload(client_for(user), content, f"me.{image_format.lower()}")

    assert response.status_code == 200, response.content
    assert response.json() == {"avatar_url": f"http://testserver{avatar_path(user)}"}
    avatar = Avatar.objects.get(user=user)
    image = Image.open(io.BytesIO(stored(avatar.storage_name)))
    assert (image.format, image.size) == ("PNG", (512, 512))
    assert avatar.storage_name.startswith(f"avatars/{user.pk}/")
    assert AuditEvent.objects.filter(kind="avatar.changed", target=user).count() == 1


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n", "me.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>', "me.svg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>', "me.png"),
    ],
)
def test_what_is_not_an_accepted_image_is_415_whatever_its_name(
    content: bytes, name: str
) -> None:
    user = account()

    response = upload(client_for(user), content, name)

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_file_type"
    assert not Avatar.objects.filter(user=user).exists()
    assert not default_storage.exists(f"avatars/{user.pk}")


def test_a_png_bomb_is_400_and_nothing_is_stored() -> None:
    user = account()

    response = upload(client_for(user), png_bomb(20_000))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_image"
    assert not Avatar.objects.filter(user=user).exists()


def test_a_corrupt_image_is_400() -> None:
    user = account()

    response = upload(client_for(user), image_bytes("PNG", (300, 300))[:120])

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_image"


def test_an_oversize_upload_is_413(settings: Any) -> None:
    settings.AVATAR_MAX_BYTES = 20_000
    user = account()
    big = image_bytes("BMP", (200, 200))  # 120 kB of pixels
    assert len(big) > settings.AVATAR_MAX_BYTES

    response = upload(client_for(user), big, "me.bmp")

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert not Avatar.objects.filter(user=user).exists()


def test_no_file_is_a_validation_error() -> None:
    response = client_for(account()).put(ME_AVATAR, {}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_gps_exif_is_gone_from_what_is_served() -> None:
    user = account()
    assert upload(client_for(user), jpeg_with_gps(), "me.jpg").status_code == 200

    png = body_of(served(user))

    assert b"SecretCam" not in png
    assert not Image.open(io.BytesIO(png)).getexif()


def test_a_payload_appended_to_the_image_is_gone() -> None:
    user = account()
    payload = b"<?php echo 'polyglot'; ?>"
    upload(client_for(user), image_bytes("PNG", (64, 64)) + payload)

    assert payload not in stored(Avatar.objects.get(user=user).storage_name)


def test_a_new_upload_replaces_the_old_bytes() -> None:
    user = account()
    client = client_for(user)
    upload(client, image_bytes("PNG", (64, 64), (1, 2, 3)))
    first = Avatar.objects.get(user=user).storage_name

    upload(client, image_bytes("PNG", (64, 64), (200, 2, 3)))

    second = Avatar.objects.get(user=user).storage_name
    assert second != first
    assert avatar_names(user) == [second.rsplit("/", 1)[1]]


def test_a_refused_upload_leaves_the_previous_avatar() -> None:
    user = account()
    client = client_for(user)
    upload(client, image_bytes("PNG", (64, 64)))
    before = Avatar.objects.get(user=user)

    assert upload(client, b"%PDF-1.4 nope").status_code == 415

    assert Avatar.objects.get(user=user).storage_name == before.storage_name
    assert default_storage.exists(before.storage_name)


def test_a_failed_write_leaves_the_previous_avatar_and_no_orphan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = account()
    avatar_set(
        user=user, actor=user, client=SYSTEM, upload=io.BytesIO(image_bytes("PNG"))
    )
    before = Avatar.objects.get(user=user)

    def broken(**kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(avatar_services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        avatar_set(
            user=user,
            actor=user,
            client=SYSTEM,
            upload=io.BytesIO(image_bytes("JPEG")),
        )

    assert Avatar.objects.get(user=user).storage_name == before.storage_name
    assert avatar_names(user) == [before.storage_name.rsplit("/", 1)[1]]


def test_anonymous_callers_cannot_upload() -> None:
    file = SimpleUploadedFile("me.png", image_bytes("PNG"), content_type="image/png")

    response = APIClient().put(ME_AVATAR, {"file": file}, format="multipart")

    assert response.status_code == 401
    assert not Avatar.objects.exists()


# --- Removal ----------------------------------------------------------------------------


def test_delete_removes_the_bytes_and_the_generated_avatar_is_served_again() -> None:
    user = account()
    client = client_for(user)
    generated_etag = served(user)["ETag"]
    upload(client, image_bytes("PNG"))
    name = Avatar.objects.get(user=user).storage_name
    assert served(user)["ETag"] != generated_etag

    response = client.delete(ME_AVATAR)

    assert response.status_code == 204
    assert not Avatar.objects.filter(user=user).exists()
    assert not default_storage.exists(name)
    assert served(user)["ETag"] == generated_etag
    assert AuditEvent.objects.filter(kind="avatar.removed", target=user).count() == 1


def test_delete_without_an_avatar_is_204_and_records_nothing() -> None:
    user = account()

    assert client_for(user).delete(ME_AVATAR).status_code == 204
    assert not AuditEvent.objects.filter(kind="avatar.removed").exists()


@pytest.mark.parametrize(
    ("role", "removed"),
    [(None, False), ("tester", False), ("moderator", True), ("admin", True)],
)
def test_who_may_remove_someone_elses_avatar(role: str | None, removed: bool) -> None:
    owner = account()
    avatar_set(
        user=owner, actor=owner, client=SYSTEM, upload=io.BytesIO(image_bytes("PNG"))
    )
    actor = account(role)

    if removed:
        assert avatar_remove(user=owner, actor=actor, client=SYSTEM) is True
    else:
        with pytest.raises(ApplicationError) as refused:
            avatar_remove(user=owner, actor=actor, client=SYSTEM)
        assert refused.value.code == "permission_denied"

    assert Avatar.objects.filter(user=owner).exists() is not removed
    if removed:
        event = AuditEvent.objects.get(kind="avatar.removed", target=owner)
        assert (event.actor, event.payload) == (actor, {"by_staff": True})


def test_a_moderator_cannot_remove_an_admins_avatar() -> None:
    owner = account("admin")
    avatar_set(
        user=owner, actor=owner, client=SYSTEM, upload=io.BytesIO(image_bytes("PNG"))
    )

    with pytest.raises(ApplicationError):
        avatar_remove(user=owner, actor=account("moderator"), client=SYSTEM)

    assert Avatar.objects.filter(user=owner).exists()


@pytest.mark.parametrize("actor", ["staff", "system"])
def test_nobody_sets_someone_elses_avatar(actor: str) -> None:
    owner = account()
    acting = SYSTEM_ACTOR if actor == "system" else account("superadmin")

    with pytest.raises(ApplicationError) as refused:
        avatar_set(
            user=owner,
            actor=acting,
            client=SYSTEM,
            upload=io.BytesIO(image_bytes("PNG")),
        )

    assert refused.value.code == "permission_denied"
    assert not Avatar.objects.filter(user=owner).exists()


# --- Serving ----------------------------------------------------------------------------


def test_the_generated_avatar_is_a_png_on_the_users_colour() -> None:
    user = account(display_name="Ada Lovelace")

    response = served(user)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=60, must-revalidate"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (512, 512))
    assert image.convert("RGB").getpixel((2, 2)) == background_of(user.pk)


def test_a_warm_generated_avatar_is_not_drawn_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = account(display_name="Grace Hopper")
    images.generated_avatar.cache_clear()
    drawn: list[object] = []
    original = images.Image.new
    monkeypatch.setattr(
        images.Image,
        "new",
        lambda *args, **kwargs: drawn.append(args) or original(*args, **kwargs),
    )

    first, second = served(user), served(user)

    assert first.content == second.content
    assert len(drawn) == 1


def test_the_uploaded_avatar_is_streamed_with_its_etag() -> None:
    user = account()
    upload(client_for(user), image_bytes("PNG", (64, 64)))
    avatar = Avatar.objects.get(user=user)

    response = served(user)

    assert response.status_code == 200
    assert response.streaming  # FileResponse from the storage
    assert response["ETag"] == f'"{avatar.etag}"'
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body_of(response) == stored(avatar.storage_name)


@pytest.mark.parametrize("uploaded", [False, True])
def test_if_none_match_answers_304_without_a_body(uploaded: bool) -> None:
    user = account()
    if uploaded:
        upload(client_for(user), image_bytes("PNG"))
    etag = served(user)["ETag"]

    response = served(user, HTTP_IF_NONE_MATCH=etag)
    stale = served(user, HTTP_IF_NONE_MATCH='"something-else"')

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "public, max-age=60, must-revalidate"
    assert stale.status_code == 200
    assert served(user, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304


def test_the_avatar_costs_one_query(django_assert_num_queries: Any) -> None:
    user = account()
    served(user)  # warm

    with django_assert_num_queries(1):
        assert served(user).status_code == 200


def test_an_unknown_user_is_404_like_an_unknown_route() -> None:
    response = APIClient().get(f"/api/v1/users/{uuid.uuid4()}/avatar/")
    unknown_route = APIClient().get("/api/v1/no-such-route/")

    assert response.status_code == 404
    assert response.json() == unknown_route.json()


def test_a_deactivated_account_shows_its_generated_avatar() -> None:
    user = account()
    generated = served(user)["ETag"]
    upload(client_for(user), image_bytes("PNG"))
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert served(user)["ETag"] == generated
    assert Avatar.objects.filter(user=user).exists()  # back on reactivation


def test_an_erased_account_has_no_upload_left() -> None:
    user = account(display_name="Ada Lovelace")
    client = client_for(user)
    upload(client, image_bytes("PNG"))
    name = Avatar.objects.get(user=user).storage_name

    response = client.delete(
        "/api/v1/users/me/", {"password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 204
    assert not Avatar.objects.filter(user_id=user.pk).exists()
    assert not default_storage.exists(name)
    assert served(user).status_code == 200  # the generated one, "Deleted user"


# --- The profiles' links ------------------------------------------------------------------


def test_every_profile_links_its_avatar() -> None:
    user, moderator = account(), account("moderator")
    url = f"http://testserver{avatar_path(user)}"

    me = client_for(user).get("/api/v1/users/me/").json()
    public = client_for(account()).get(f"/api/v1/users/{user.pk}/").json()
    staff_list = client_for(moderator).get("/api/v1/users/", {"search": user.username})

    assert me["avatar_url"] == url
    assert public["avatar_url"] == url
    [row] = [row for row in staff_list.json()["results"] if row["id"] == str(user.pk)]
    assert row["avatar_url"] == url
    assert served(user).status_code == 200  # and it answers


def test_the_export_lists_an_uploaded_avatar_not_its_bytes() -> None:
    user = account()
    client = client_for(user)
    assert client.get("/api/v1/users/me/export/").json()["avatar"] == []
    upload(client, image_bytes("PNG"))

    [avatar] = client.get("/api/v1/users/me/export/").json()["avatar"]

    assert avatar["uploaded"] is True
    assert avatar["url"] == f"http://testserver{avatar_path(user)}"
    assert set(avatar) == {"uploaded", "updated_at", "url"}


# --- The admin ----------------------------------------------------------------------------


def uploaded_avatar(user: User) -> Avatar:
    return avatar_set(
        user=user, actor=user, client=SYSTEM, upload=io.BytesIO(image_bytes("PNG"))
    )


def test_staff_list_uploaded_avatars_with_thumbnails() -> None:
    owner = account()
    avatar = uploaded_avatar(owner)

    response = admin_client_for(account("moderator")).get("/admin/files/avatar/")

    assert response.status_code == 200
    assert f'src="{avatar_path(owner)}?v={avatar.etag[:8]}"'.encode() in (
        response.content
    )


def test_a_moderator_removes_offensive_avatars_within_reach() -> None:
    user_avatar, admin_avatar = (
        uploaded_avatar(account()),
        uploaded_avatar(account("admin")),
    )
    moderator = account("moderator")

    response = admin_client_for(moderator).post(
        "/admin/files/avatar/",
        {
            "action": "delete_selected",
            "_selected_action": [str(user_avatar.pk), str(admin_avatar.pk)],
            "post": "yes",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert not Avatar.objects.filter(pk=user_avatar.pk).exists()
    assert not default_storage.exists(user_avatar.storage_name)
    assert Avatar.objects.filter(pk=admin_avatar.pk).exists()  # above a moderator
    assert "not removed" in response.content.decode()
    event = AuditEvent.objects.get(kind="avatar.removed")
    assert (event.actor, event.target_id) == (moderator, user_avatar.user_id)


def test_no_avatar_is_added_or_changed_in_the_admin() -> None:
    owner = account()
    uploaded_avatar(owner)
    client = admin_client_for(account("superadmin"))

    assert client.get("/admin/files/avatar/add/").status_code == 403
    page = client.get(f"/admin/files/avatar/{owner.pk}/change/")
    assert page.status_code == 200  # read-only view
    assert b'name="_save"' not in page.content
