"""``STORAGE_URL`` (config.env.Settings.storage): the folder or bucket that uploads and
avatars go to, and one-line refusals of what it cannot mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.env import ConfigurationError, Settings
from tests.config.test_settings import STRONG_SECRET_KEY, run_manage_check


def storage(monkeypatch: pytest.MonkeyPatch, url: str | None) -> dict:
    if url is None:
        monkeypatch.delenv("STORAGE_URL", raising=False)
    else:
        monkeypatch.setenv("STORAGE_URL", url)
    return Settings().storage("STORAGE_URL")


def test_unset_is_the_media_root_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    assert storage(monkeypatch, None) == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }


def test_a_file_url_is_that_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    config = storage(monkeypatch, "file:///srv/gatehouse/uploads%20x")

    assert config == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": Path("/srv/gatehouse/uploads x")},
    }


def test_an_s3_url_for_a_server_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    config = storage(
        monkeypatch,
        "s3://KEY:SECRET@127.0.0.1:9000/bucket?secure=false&region=us-east-1",
    )

    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    assert config["OPTIONS"] == {
        "bucket_name": "bucket",
        "location": "",
        "endpoint_url": "http://127.0.0.1:9000",
        "region_name": "us-east-1",
        "addressing_style": "path",
        "signature_version": "s3v4",
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
        "access_key": "KEY",
        "secret_key": "SECRET",
    }


def test_an_s3_url_with_a_prefix_encoded_keys_and_https_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options = storage(
        monkeypatch,
        "s3://AK%2F1:se%2Fcr%40et%3A@s3.eu-west-1.amazonaws.com/media/gatehouse/prod"
        "?region=eu-west-1&addressing=virtual",
    )["OPTIONS"]

    assert options["bucket_name"] == "media"
    assert options["location"] == "gatehouse/prod"
    assert options["endpoint_url"] == "https://s3.eu-west-1.amazonaws.com"
    assert options["addressing_style"] == "virtual"
    assert (options["access_key"], options["secret_key"]) == ("AK/1", "se/cr@et:")


def test_without_keys_boto3_finds_the_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options = storage(monkeypatch, "s3://minio.internal/uploads")["OPTIONS"]

    assert "access_key" not in options
    assert "secret_key" not in options
    assert options["region_name"] is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("file://relative/uploads", "file:///ABSOLUTE/PATH"),
        ("file:uploads", "file:///ABSOLUTE/PATH"),
        ("ftp://host/bucket", "use file:///ABSOLUTE/PATH or s3://"),
        ("s3://KEY:hunter2@host:9000", "use file:///ABSOLUTE/PATH or s3://"),
        ("s3:///bucket", "use file:///ABSOLUTE/PATH or s3://"),
        ("s3://KEY:hunter2@host:port/bucket", "the port is not a number"),
        ("s3://host/bucket?secure=maybe", "secure=true|false"),
        ("s3://host/bucket?addressing=dns", "addressing=path|virtual"),
        ("s3://host/bucket?acl=public-read", "the query may hold"),
    ],
)
def test_a_bad_url_is_refused_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    with pytest.raises(ConfigurationError, match="STORAGE_URL") as raised:
        storage(monkeypatch, url)

    message = str(raised.value)
    assert expected in message
    assert "\n" not in message
    assert "hunter2" not in message  # the credentials are never echoed


def test_a_bad_url_stops_the_process_with_one_line(tmp_path: Path) -> None:
    result = run_manage_check(
        tmp_path,
        SECRET_KEY=STRONG_SECRET_KEY,
        STORAGE_URL="s3://KEY:hunter2@host:port/bucket",
    )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Gatehouse configuration error:")
    assert '"STORAGE_URL" invalid' in lines[0]
    assert "hunter2" not in result.stderr
