from __future__ import annotations

from pathlib import Path

import pytest

from tests.files.samples import on_local_storage, stored_names


@pytest.fixture(autouse=True)
def media_root(settings: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Every test of files starts with an empty storage: a folder of its own on the
    local backend; on another one (``STORAGE_URL``, the S3 stage of ``.ci/run``),
    the bucket emptied of what earlier tests stored under files/ and avatars/."""
    from django.core.files.storage import default_storage

    folder = tmp_path / "media"
    folder.mkdir()
    settings.MEDIA_ROOT = folder
    if not on_local_storage():
        for name in stored_names():
            default_storage.delete(name)
    return folder
