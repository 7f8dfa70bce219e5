"""``/api/v1/files/`` over HTTP, as API.md's "Files" table reads: uploads of each
allowed type, content over name, refused types, cleaned names, quota, sharing, the 404
of strangers (the same answer as for a file that does not exist), staff, downloads and
API-key scopes."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.constants import AuditKind
from accounts.models import AuditEvent, User
from accounts.services.blocking import user_block
from apikeys.services import api_key_create
from config.client import SYSTEM
from files.models import StoredFile, StoredFilePermission
from tests.factories import DEFAULT_PASSWORD
from tests.files.samples import ELF, EXE, HTML, PDF, SAMPLES, SVG, TEXT, stored_names
from tests.helpers import account, client_for

pytestmark = pytest.mark.django_db

FILES = "/api/v1/files/"


def upload(
    client: APIClient, data: bytes = PDF, name: str = "report.pdf", **fields: str
) -> dict:
    response = client.post(
        FILES, {"file": SimpleUploadedFile(name, data), **fields}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return response.json()


def raw_multipart(name: str, data: bytes) -> tuple[bytes, str]:
    """A form whose file part names the file exactly (RFC 5987 ``filename*``): Django's
    test client would keep only the base name of a path."""
    boundary = "gatehouse-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; '
            f"filename*=UTF-8''{quote(name, safe='')}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def owner() -> User:
    return account()


@pytest.fixture
def owner_client(owner: User) -> APIClient:
    return client_for(owner)


@pytest.fixture
def stranger() -> User:
    return account()


# --- Uploads -----------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", sorted(SAMPLES))
def test_each_allowed_type_is_stored_and_downloaded_as_it_is(
    owner, owner_client, media_root: Path, content_type: str
) -> None:
    data = SAMPLES[content_type]
    body = upload(owner_client, data, name="sample.bin", description="a sample")

    assert body["content_type"] == content_type
    assert body["size"] == len(data)
    assert body["name"] == "sample.bin"
    assert body["description"] == "a sample"
    assert body["access"] == "owner"
    assert body["download_url"] == f"http://testserver{FILES}{body['id']}/download/"
    stored = StoredFile.objects.get(pk=body["id"])
    assert stored.owner == owner
    assert stored.storage_name.startswith(f"files/{owner.pk}/")
    assert stored_names() == [stored.storage_name]
    download = owner_client.get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == content_type
    assert b"".join(download.streaming_content) == data


def test_the_content_decides_the_type_not_the_name_or_the_declared_type(
    owner_client,
) -> None:
    response = owner_client.post(
        FILES,
        {"file": SimpleUploadedFile("photo.png", PDF, content_type="image/png")},
        format="multipart",
    )

    assert response.status_code == 201
    assert response.json()["content_type"] == "application/pdf"
    assert response.json()["name"] == "photo.png"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (HTML, "page.html"),
        (HTML, "page.txt"),
        (SVG, "drawing.svg"),
        (EXE, "setup.exe"),
        (EXE, "invoice.pdf"),
        (ELF, "tool"),
        (b"\x00\x01\x02binary", "data.txt"),
    ],
)
def test_other_types_are_refused_415_and_nothing_is_kept(
    owner_client, media_root: Path, data: bytes, name: str, settings
) -> None:
    settings.FILE_ALLOWED_TYPES = [
        t for t in settings.FILE_ALLOWED_TYPES if t != "text/plain"
    ]
    response = owner_client.post(
        FILES, {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_file_type"
    assert StoredFile.objects.count() == 0
    assert stored_names() == []


@pytest.mark.parametrize(
    ("data", "name"),
    [(HTML, "page.html"), (HTML, "notes.txt"), (SVG, "drawing.svg"), (SVG, "a.png")],
)
def test_html_and_svg_are_refused_though_they_are_utf8_text(
    owner_client, media_root: Path, data: bytes, name: str
) -> None:
    response = owner_client.post(
        FILES, {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )

    assert response.status_code == 415
    assert response.json()["detected_type"] in {"text/html", "image/svg+xml"}
    assert stored_names() == []


def test_an_empty_file_or_no_file_is_400(owner_client) -> None:
    empty = owner_client.post(
        FILES, {"file": SimpleUploadedFile("empty.txt", b"")}, format="multipart"
    )
    missing = owner_client.post(FILES, {"description": "x"}, format="multipart")

    assert empty.status_code == 400
    assert missing.status_code == 400
    assert "file" in missing.json()["errors"]


def test_a_json_body_is_refused_415(owner_client) -> None:
    response = owner_client.post(FILES, {"file": "abc"}, format="json")

    assert response.status_code == 415
    assert StoredFile.objects.count() == 0


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\x.exe", "x.exe"),
        ("/absolute/path/report.pdf", "report.pdf"),
        (".htaccess", "htaccess"),
        ("...", "file"),
        ("a\x00b.pdf", "ab.pdf"),
        ("line\nbreak\r.pdf", "linebreak.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("zero\u200bwidth.pdf", "zerowidth.pdf"),
        ("rapport été.pdf", "rapport été.pdf"),
    ],
)
def test_names_are_kept_cleaned_and_never_name_the_stored_bytes(
    owner, owner_client, media_root: Path, sent: str, kept: str
) -> None:
    body, content_type = raw_multipart(sent, PDF)
    response = owner_client.generic("POST", FILES, body, content_type=content_type)

    assert response.status_code == 201, response.content
    assert response.json()["name"] == kept
    stored = StoredFile.objects.get()
    assert stored.original_name == kept
    assert re.fullmatch(f"files/{owner.pk}/[0-9a-f]{{32}}", stored.storage_name)
    assert stored_names() == [stored.storage_name]


def test_a_long_name_is_capped_with_its_extension(owner_client) -> None:
    body = upload(owner_client, PDF, name="x" * 300 + ".pdf")

    assert len(body["name"]) == 200
    assert body["name"].endswith("x.pdf")


def test_an_upload_is_audited(owner, owner_client) -> None:
    body = upload(owner_client)

    event = AuditEvent.objects.get(kind=AuditKind.FILE_UPLOADED)
    assert event.actor == owner
    assert event.target == owner
    assert event.payload["file_id"] == body["id"]
    assert "report.pdf" not in str(event.payload)


# --- Quota -------------------------------------------------------------------------------


def test_the_quota_admits_an_upload_to_the_exact_byte_and_refuses_one_past(
    owner_client, media_root: Path, settings
) -> None:
    settings.FILE_QUOTA_BYTES = 2 * len(PDF) + len(TEXT)
    upload(owner_client, PDF)
    upload(owner_client, PDF)

    past = owner_client.post(
        FILES, {"file": SimpleUploadedFile("b.txt", TEXT + b"!")}, format="multipart"
    )
    assert past.status_code == 413
    assert past.json()["code"] == "quota_exceeded"
    assert past.json()["quota_bytes"] == settings.FILE_QUOTA_BYTES
    assert StoredFile.objects.count() == 2
    assert len(stored_names()) == 2

    upload(owner_client, TEXT, name="a.txt")  # exactly at the quota
    assert StoredFile.objects.count() == 3


def test_the_quota_is_per_owner(owner_client, settings) -> None:
    settings.FILE_QUOTA_BYTES = len(PDF)
    upload(owner_client, PDF)

    upload(client_for(account()), PDF)


# --- Listing -----------------------------------------------------------------------------


def test_the_list_holds_own_and_shared_files_newest_first_and_nothing_else(
    owner, owner_client, stranger, django_assert_max_num_queries
) -> None:
    mine = upload(owner_client, name="mine.pdf")
    other_client = client_for(stranger)
    theirs = upload(other_client, name="theirs.pdf")
    shared = upload(other_client, name="shared.pdf")
    assert (
        other_client.post(
            f"{FILES}{shared['id']}/shares/",
            {"user": str(owner.pk), "permission": "change"},
            format="json",
        ).status_code
        == 201
    )
    for _ in range(3):
        upload(owner_client, name="more.pdf")

    with django_assert_max_num_queries(6):
        response = owner_client.get(FILES)

    assert response.status_code == 200
    results = response.json()["results"]
    ids = [item["id"] for item in results]
    assert ids[-2:] == [shared["id"], mine["id"]]  # newest first
    assert theirs["id"] not in ids
    by_id = {item["id"]: item for item in results}
    assert by_id[shared["id"]]["access"] == "change"
    assert by_id[shared["id"]]["owner"] == str(stranger.pk)
    assert by_id[mine["id"]]["access"] == "owner"
    assert response.json()["count"] == 5


def test_the_list_is_paginated(owner_client) -> None:
    for _ in range(3):
        upload(owner_client)

    response = owner_client.get(FILES, {"page_size": 2})

    assert len(response.json()["results"]) == 2
    assert response.json()["count"] == 3


# --- Strangers: 404, the same as for no file -----------------------------------------------


def _requests(file_id: str, user_id: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"{FILES}{file_id}/", None),
        ("get", f"{FILES}{file_id}/download/", None),
        ("patch", f"{FILES}{file_id}/", {"description": "mine now"}),
        ("delete", f"{FILES}{file_id}/", None),
        ("post", f"{FILES}{file_id}/shares/", {"user": user_id, "permission": "view"}),
        ("delete", f"{FILES}{file_id}/shares/{user_id}/", None),
    ]


def test_a_stranger_gets_the_answer_of_a_file_that_does_not_exist(
    owner, owner_client, stranger, media_root: Path
) -> None:
    existing = upload(owner_client, description="private")["id"]
    missing = str(uuid.uuid4())
    client = client_for(stranger)

    for (method, path, body), (_, missing_path, _) in zip(
        _requests(existing, str(stranger.pk)),
        _requests(missing, str(stranger.pk)),
        strict=True,
    ):
        seen = getattr(client, method)(path, body, format="json")
        unknown = getattr(client, method)(missing_path, body, format="json")
        assert seen.status_code == unknown.status_code == 404, (method, path)
        assert seen.content == unknown.content
        # RateLimit-Remaining counts down from one request to the next; RateLimit-Reset
        # may cross a second between them.
        ignored = {"X-Request-ID", "Date", "RateLimit-Remaining", "RateLimit-Reset"}
        assert {k: v for k, v in seen.headers.items() if k not in ignored} == {
            k: v for k, v in unknown.headers.items() if k not in ignored
        }

    # Nothing changed.
    stored = StoredFile.objects.get(pk=existing)
    assert stored.description == "private"
    assert not StoredFilePermission.objects.exists()
    assert stored_names() == [stored.storage_name]


def test_anonymous_callers_are_401(owner_client) -> None:
    file_id = upload(owner_client)["id"]
    anonymous = APIClient()

    assert anonymous.get(FILES).status_code == 401
    assert anonymous.get(f"{FILES}{file_id}/download/").status_code == 401
    assert anonymous.post(FILES, {}, format="multipart").status_code == 401


# --- Sharing -----------------------------------------------------------------------------


def share(client: APIClient, file_id: str, user: User, permission: str = "view"):
    return client.post(
        f"{FILES}{file_id}/shares/",
        {"user": str(user.pk), "permission": permission},
        format="json",
    )


def test_a_view_sharee_sees_and_downloads_but_changes_nothing(
    owner_client, stranger
) -> None:
    file_id = upload(owner_client, description="the owner's words")["id"]
    response = share(owner_client, file_id, stranger)
    assert response.status_code == 201
    assert response.json() == {"user": str(stranger.pk), "permission": "view"}
    sharee = client_for(stranger)

    detail = sharee.get(f"{FILES}{file_id}/")
    assert detail.status_code == 200
    assert detail.json()["access"] == "view"
    assert detail.json()["shares"] is None  # a sharee is not told who else holds it
    assert sharee.get(f"{FILES}{file_id}/download/").status_code == 200
    assert [item["id"] for item in sharee.get(FILES).json()["results"]] == [file_id]
    assert (
        sharee.patch(
            f"{FILES}{file_id}/", {"description": "changed"}, format="json"
        ).status_code
        == 403
    )
    assert sharee.delete(f"{FILES}{file_id}/").status_code == 403
    assert share(sharee, file_id, account()).status_code == 403
    assert sharee.delete(f"{FILES}{file_id}/shares/{stranger.pk}/").status_code == 403
    assert StoredFile.objects.get(pk=file_id).description == "the owner's words"
    assert StoredFilePermission.objects.count() == 1


def test_a_change_sharee_also_edits_the_description(owner_client, stranger) -> None:
    file_id = upload(owner_client)["id"]
    share(owner_client, file_id, stranger, "change")

    response = client_for(stranger).patch(
        f"{FILES}{file_id}/", {"description": "edited"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["description"] == "edited"
    assert response.json()["access"] == "change"


def test_sharing_again_replaces_the_permission_and_the_owner_sees_the_shares(
    owner_client, stranger
) -> None:
    file_id = upload(owner_client)["id"]
    share(owner_client, file_id, stranger, "change")
    share(owner_client, file_id, stranger, "view")

    detail = owner_client.get(f"{FILES}{file_id}/").json()

    assert detail["shares"] == [{"user": str(stranger.pk), "permission": "view"}]
    assert StoredFilePermission.objects.count() == 1


def test_unsharing_makes_the_file_not_found_again(owner_client, stranger) -> None:
    file_id = upload(owner_client)["id"]
    share(owner_client, file_id, stranger)

    response = owner_client.delete(f"{FILES}{file_id}/shares/{stranger.pk}/")

    assert response.status_code == 204
    assert client_for(stranger).get(f"{FILES}{file_id}/").status_code == 404
    assert AuditEvent.objects.filter(kind=AuditKind.FILE_UNSHARED).count() == 1
    # Unsharing again answers the same, and records nothing more.
    again = owner_client.delete(f"{FILES}{file_id}/shares/{stranger.pk}/")
    assert again.status_code == 204
    assert AuditEvent.objects.filter(kind=AuditKind.FILE_UNSHARED).count() == 1


def test_sharing_with_nobody_the_directory_shows_is_one_400(
    owner, owner_client
) -> None:
    file_id = upload(owner_client)["id"]
    inactive = account(is_active=False)
    blocker = account()
    user_block(blocker=blocker, blocked=owner)
    answers = [
        share(owner_client, file_id, target)
        for target in (owner, inactive, blocker, User(pk=uuid.uuid4()))
    ]

    assert {answer.status_code for answer in answers} == {400}
    assert len({answer.content for answer in answers}) == 1
    assert answers[0].json()["errors"] == {"user": ["No such user."]}
    assert not StoredFilePermission.objects.exists()


def test_a_bad_permission_is_400(owner_client, stranger) -> None:
    file_id = upload(owner_client)["id"]

    assert share(owner_client, file_id, stranger, "delete").status_code == 400


def test_sharing_is_audited(owner, owner_client, stranger) -> None:
    file_id = upload(owner_client)["id"]
    share(owner_client, file_id, stranger, "change")

    event = AuditEvent.objects.get(kind=AuditKind.FILE_SHARED)
    assert event.actor == owner
    assert event.payload["user_id"] == str(stranger.pk)
    assert event.payload["permission"] == "change"


# --- Deleting ----------------------------------------------------------------------------


def test_deleting_removes_the_row_the_shares_and_the_bytes(
    owner_client, stranger, media_root: Path
) -> None:
    file_id = upload(owner_client)["id"]
    share(owner_client, file_id, stranger)

    response = owner_client.delete(f"{FILES}{file_id}/")

    assert response.status_code == 204
    assert not StoredFile.objects.exists()
    assert not StoredFilePermission.objects.exists()
    assert stored_names() == []
    [event] = AuditEvent.objects.filter(kind=AuditKind.FILE_DELETED)
    assert event.payload["file_id"] == file_id
    assert owner_client.get(f"{FILES}{file_id}/").status_code == 404


# --- Staff -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("staff_role", "owner_role", "status"),
    [
        ("moderator", None, 204),
        ("moderator", "tester", 204),
        ("moderator", "moderator", 403),
        ("admin", "moderator", 204),
        ("admin", "superadmin", 403),
    ],
)
def test_staff_see_any_file_and_delete_those_of_users_they_moderate(
    media_root: Path, staff_role: str, owner_role: str | None, status: int
) -> None:
    owner = account(owner_role)
    file_id = upload(client_for(owner))["id"]
    staff = client_for(account(staff_role))

    detail = staff.get(f"{FILES}{file_id}/")
    assert detail.status_code == 200
    assert detail.json()["access"] == "staff"
    assert staff.get(f"{FILES}{file_id}/download/").status_code == 200
    assert staff.get(FILES).json()["count"] == 0  # the list is a person's own view
    # Staff see a file; they do not edit or share it.
    assert (
        staff.patch(
            f"{FILES}{file_id}/", {"description": "x"}, format="json"
        ).status_code
        == 403
    )
    assert share(staff, file_id, account()).status_code == 403

    response = staff.delete(f"{FILES}{file_id}/")

    assert response.status_code == status
    assert StoredFile.objects.filter(pk=file_id).exists() is (status != 204)
    assert (stored_names() == []) is (status == 204)
    if status == 204:
        event = AuditEvent.objects.get(kind=AuditKind.FILE_DELETED)
        assert event.target == owner
        assert event.actor != owner


def test_staff_without_a_second_factor_are_strangers(owner_client) -> None:
    file_id = upload(owner_client)["id"]
    staff = client_for(account("admin"), amr=["pwd"])

    assert staff.get(f"{FILES}{file_id}/").status_code == 404
    assert staff.delete(f"{FILES}{file_id}/").status_code == 404
    assert StoredFile.objects.filter(pk=file_id).exists()


# --- Downloads ---------------------------------------------------------------------------


def test_a_download_is_an_attachment_with_its_name_etag_and_no_sniffing(
    owner_client,
) -> None:
    body = upload(owner_client, TEXT, name='résumé "final".txt')

    response = owner_client.get(body["download_url"])

    stored = StoredFile.objects.get()
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Length"] == str(len(TEXT))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["ETag"] == f'"{stored.sha256}"'
    assert response["Cache-Control"] == "private, no-cache"
    assert response["Content-Disposition"] == (
        'attachment; filename="r_sum_ _final_.txt"; '
        "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.txt"
    )


def test_a_matching_if_none_match_is_304_without_a_body(owner_client) -> None:
    body = upload(owner_client)
    etag = owner_client.get(body["download_url"])["ETag"]

    again = owner_client.get(body["download_url"], HTTP_IF_NONE_MATCH=etag)
    other = owner_client.get(body["download_url"], HTTP_IF_NONE_MATCH='"abc"')

    assert again.status_code == 304
    assert (
        owner_client.get(body["download_url"], HTTP_IF_NONE_MATCH="*").status_code
        == 304
    )
    weak = owner_client.get(body["download_url"], HTTP_IF_NONE_MATCH=f"W/{etag}")
    assert weak.status_code == 304  # a weak comparison, as RFC 9110 asks for GET
    assert again.content == b""
    assert again["ETag"] == etag
    assert other.status_code == 200


def test_a_file_whose_bytes_are_gone_is_not_found(owner_client) -> None:
    body = upload(owner_client)
    default_storage.delete(StoredFile.objects.get().storage_name)

    assert owner_client.get(body["download_url"]).status_code == 404


# --- API keys ----------------------------------------------------------------------------


def key_client(owner: User, scopes: list[str]) -> APIClient:
    _, key = api_key_create(
        actor=owner,
        owner_id=owner.pk,
        name="script",
        scopes=scopes,
        expires_at=None,
        client=SYSTEM,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_api_keys_need_files_read_to_read_and_files_write_to_write(
    owner, owner_client
) -> None:
    file_id = upload(owner_client)["id"]
    reader = key_client(owner, ["files:read"])
    writer = key_client(owner, ["files:write"])
    unrelated = key_client(owner, ["users:read"])

    assert reader.get(FILES).status_code == 200
    assert reader.get(f"{FILES}{file_id}/").status_code == 200
    assert reader.get(f"{FILES}{file_id}/download/").status_code == 200
    assert unrelated.get(FILES).status_code == 403
    assert unrelated.get(f"{FILES}{file_id}/download/").status_code == 403
    refused = reader.post(
        FILES, {"file": SimpleUploadedFile("a.pdf", PDF)}, format="multipart"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"
    assert StoredFile.objects.count() == 1
    assert (
        writer.post(
            FILES, {"file": SimpleUploadedFile("a.pdf", PDF)}, format="multipart"
        ).status_code
        == 201
    )
    assert (
        writer.patch(
            f"{FILES}{file_id}/", {"description": "x"}, format="json"
        ).status_code
        == 200
    )
    assert reader.delete(f"{FILES}{file_id}/").status_code == 403
    assert writer.delete(f"{FILES}{file_id}/").status_code == 204


def test_deleting_the_account_erases_its_files_and_their_bytes(
    owner, owner_client, stranger
) -> None:
    mine = upload(owner_client)["id"]
    share(owner_client, mine, stranger)
    theirs = upload(client_for(stranger))["id"]
    share(client_for(stranger), theirs, owner)

    response = owner_client.delete(
        "/api/v1/users/me/", {"password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 204
    assert list(StoredFile.objects.values_list("id", flat=True)) == [uuid.UUID(theirs)]
    assert not StoredFilePermission.objects.exists()
    assert stored_names() == [StoredFile.objects.get().storage_name]


def test_the_export_lists_the_files_metadata_and_the_shares_received(
    owner, owner_client, stranger
) -> None:
    mine = upload(owner_client, name="mine.pdf", description="notes")
    theirs = upload(client_for(stranger))["id"]
    share(client_for(stranger), theirs, owner, "change")

    export = owner_client.get("/api/v1/users/me/export/").json()

    [exported] = export["files"]
    assert exported["id"] == mine["id"]
    assert exported["name"] == "mine.pdf"
    assert exported["description"] == "notes"
    assert exported["size"] == len(PDF)
    assert "storage_name" not in exported
    [received] = export["files_shared_with_me"]
    assert received["file_id"] == theirs
    assert received["permission"] == "change"
