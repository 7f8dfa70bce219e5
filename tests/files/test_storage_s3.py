"""Storage on S3 against a real S3-compatible server (moto's standalone server on
loopback, spoken to over HTTP): the configuration ``STORAGE_URL=s3://...`` builds,
a generic round trip, and avatars whose bytes are really in the bucket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from files.models import Avatar
from tests.files.avatar_images import image_bytes
from tests.helpers import account, client_for
from tests.s3 import (
    moto_server,
    new_bucket,
    s3_client,
    storage_url,
    storage_url_settings,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def bucket(endpoint: str, settings: Any) -> str:
    """A new bucket, made the default storage through the URL parsing of production."""
    name = new_bucket(endpoint)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": storage_url_settings(storage_url(endpoint, name)),
    }
    return name


def object_bytes(endpoint: str, bucket: str, key: str) -> bytes:
    return bytes(s3_client(endpoint).get_object(Bucket=bucket, Key=key)["Body"].read())


def object_exists(endpoint: str, bucket: str, key: str) -> bool:
    try:
        s3_client(endpoint).head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"404", "NoSuchKey"}:
            raise
        return False
    return True


def test_the_default_storage_is_the_bucket(endpoint: str, bucket: str) -> None:
    assert type(storages["default"]).__name__ == "S3Storage"

    name = default_storage.save("files/round-trip/hello.txt", ContentFile(b"hello s3"))

    assert default_storage.exists(name)
    assert default_storage.size(name) == 8
    with default_storage.open(name, "rb") as file:
        assert file.read() == b"hello s3"
    assert object_bytes(endpoint, bucket, name) == b"hello s3"
    assert default_storage.listdir("files/round-trip") == ([], ["hello.txt"])
    # file_overwrite=False: a second save under the name gets a name of its own
    again = default_storage.save(name, ContentFile(b"other"))
    assert again != name
    assert object_bytes(endpoint, bucket, name) == b"hello s3"

    default_storage.delete(name)

    assert not default_storage.exists(name)
    assert not object_exists(endpoint, bucket, name)


def test_objects_are_private(endpoint: str, bucket: str) -> None:
    name = default_storage.save("files/private/secret.txt", ContentFile(b"mine"))

    acl = s3_client(endpoint).get_object_acl(Bucket=bucket, Key=name)

    assert all(
        "AllUsers" not in grant["Grantee"].get("URI", "") for grant in acl["Grants"]
    )
    assert "X-Amz-Signature=" in default_storage.url(name)  # never a public URL


def test_a_prefix_keeps_objects_under_it(endpoint: str, settings: Any) -> None:
    name = new_bucket(endpoint)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": storage_url_settings(storage_url(endpoint, name, "gatehouse/test")),
    }

    stored = default_storage.save("avatars/x.png", ContentFile(b"png"))

    assert object_bytes(endpoint, name, f"gatehouse/test/{stored}") == b"png"


def test_an_avatar_lives_in_the_bucket_and_goes_with_its_removal(
    endpoint: str, bucket: str
) -> None:
    user = account()
    client = client_for(user)
    upload = SimpleUploadedFile("me.jpg", image_bytes("JPEG", (700, 500)))

    assert (
        client.put(
            "/api/v1/users/me/avatar/", {"file": upload}, format="multipart"
        ).status_code
        == 200
    )

    avatar = Avatar.objects.get(user=user)
    in_bucket = object_bytes(endpoint, bucket, avatar.storage_name)
    assert in_bucket.startswith(b"\x89PNG")
    served = APIClient().get(f"/api/v1/users/{user.pk}/avatar/")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == in_bucket
    assert served["ETag"] == f'"{avatar.etag}"'

    assert client.delete("/api/v1/users/me/avatar/").status_code == 204

    assert not object_exists(endpoint, bucket, avatar.storage_name)
    generated = APIClient().get(f"/api/v1/users/{user.pk}/avatar/")
    assert generated.status_code == 200
    assert generated["ETag"] != served["ETag"]


def test_a_replaced_avatar_leaves_one_object(endpoint: str, bucket: str) -> None:
    user = account()
    client = client_for(user)
    for colour in ((1, 2, 3), (200, 100, 0)):
        upload = SimpleUploadedFile("me.png", image_bytes("PNG", (64, 64), colour))
        client.put("/api/v1/users/me/avatar/", {"file": upload}, format="multipart")

    listed = s3_client(endpoint).list_objects_v2(
        Bucket=bucket, Prefix=f"avatars/{user.pk}/"
    )

    assert [item["Key"] for item in listed["Contents"]] == [
        Avatar.objects.get(user=user).storage_name
    ]
