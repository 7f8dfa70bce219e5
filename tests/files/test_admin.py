"""Files in the admin: staff see every file with its owner and shares, images as
thumbnails through an admin-only view; deleting (one, or the bulk action) goes through
the service; nothing is added or changed here."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from accounts.constants import AuditKind
from accounts.models import AuditEvent, User
from config.client import SYSTEM
from files.constants import SharePermission
from files.models import StoredFile
from files.services import file_share, file_upload
from tests.files.samples import PDF, SAMPLES, stored_names
from tests.helpers import account, admin_client_for

pytestmark = pytest.mark.django_db

LIST = "/admin/files/storedfile/"


def upload(owner: User, data: bytes, name: str) -> StoredFile:
    return file_upload(actor=owner, content=ContentFile(data), name=name, client=SYSTEM)


@pytest.fixture
def owner() -> User:
    return account(username="owner")


@pytest.fixture
def picture(owner: User) -> StoredFile:
    return upload(owner, SAMPLES["image/png"], "holiday.png")


@pytest.fixture
def document(owner: User) -> StoredFile:
    stored = upload(owner, PDF, "contract.pdf")
    file_share(
        actor=owner,
        file_id=stored.pk,
        user_id=account(username="reader").pk,
        permission=SharePermission.VIEW,
        client=SYSTEM,
    )
    return stored


@pytest.fixture
def moderator_client() -> Client:
    return admin_client_for(account("moderator"))


def test_staff_see_every_file_with_owner_type_size_and_shares(
    moderator_client: Client, picture: StoredFile, document: StoredFile
) -> None:
    response = moderator_client.get(LIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "holiday.png" in page
    assert "contract.pdf" in page
    assert "owner" in page
    assert "application/pdf" in page
    assert "reader (view)" in page
    # A thumbnail for the image only, from the admin's own view.
    assert f'src="/admin/files/storedfile/{picture.pk}/image/"' in page
    assert f"/admin/files/storedfile/{document.pk}/image/" not in page


def test_search_and_filters(
    moderator_client: Client, picture: StoredFile, document: StoredFile
) -> None:
    found = moderator_client.get(LIST, {"q": "contract"}).content.decode()
    shared = moderator_client.get(LIST, {"shared": "yes"}).content.decode()
    images = moderator_client.get(LIST, {"content_type": "image/png"}).content.decode()

    assert "contract.pdf" in found
    assert "holiday.png" not in found
    assert "contract.pdf" in shared
    assert "holiday.png" not in shared
    assert "holiday.png" in images
    assert "contract.pdf" not in images


def test_the_image_view_streams_the_bytes_to_staff_only(
    moderator_client: Client, picture: StoredFile, document: StoredFile
) -> None:
    url = f"/admin/files/storedfile/{picture.pk}/image/"

    response = moderator_client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == SAMPLES["image/png"]
    # Not a PDF, not for a plain user (the admin sends them to its login).
    assert (
        moderator_client.get(
            f"/admin/files/storedfile/{document.pk}/image/"
        ).status_code
        == 404
    )
    plain = Client()
    plain.force_login(account())
    assert plain.get(url).status_code == 302


def test_the_file_page_is_read_only_and_there_is_no_add_page(
    moderator_client: Client, document: StoredFile
) -> None:
    page = moderator_client.get(f"{LIST}{document.pk}/change/")

    assert page.status_code == 200
    assert b'name="description"' not in page.content
    assert moderator_client.get(f"{LIST}add/").status_code == 403
    posted = moderator_client.post(
        f"{LIST}{document.pk}/change/", {"description": "changed"}
    )
    assert posted.status_code == 403
    assert StoredFile.objects.get(pk=document.pk).description == ""


def test_deleting_one_file_goes_through_the_service(
    moderator_client: Client, document: StoredFile, media_root: Path
) -> None:
    response = moderator_client.post(f"{LIST}{document.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not StoredFile.objects.filter(pk=document.pk).exists()
    assert stored_names() == []
    event = AuditEvent.objects.get(kind=AuditKind.FILE_DELETED)
    assert event.actor.groups.filter(name="moderator").exists()
    assert event.target.username == "owner"


def test_the_bulk_delete_skips_files_the_staff_member_may_not_delete(
    moderator_client: Client, document: StoredFile, media_root: Path
) -> None:
    admins_file = upload(account("admin"), PDF, "admins.pdf")

    response = moderator_client.post(
        LIST,
        {
            "action": "delete_selected",
            "_selected_action": [str(document.pk), str(admins_file.pk)],
            "post": "yes",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "Not allowed to delete: admins.pdf." in response.content.decode()
    assert list(StoredFile.objects.all()) == [admins_file]
    assert stored_names() == [admins_file.storage_name]


def test_a_file_of_someone_the_moderator_may_not_moderate_offers_no_delete(
    moderator_client: Client,
) -> None:
    admins_file = upload(account("admin"), PDF, "admins.pdf")

    response = moderator_client.post(f"{LIST}{admins_file.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert StoredFile.objects.filter(pk=admins_file.pk).exists()
