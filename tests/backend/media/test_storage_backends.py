"""Both photo storages keep the same contract: content-addressed put, get, exists, delete,
move aside and restore; S3 against an S3-protocol server in the test process."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from backend.media.storage import FilesystemStorage, PhotoStorage, storage_from_settings
from backend.settings import Settings
from tests.shared_data import shared_data_dir
from workers.runner import make_worker


@pytest.fixture(params=["filesystem", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> PhotoStorage:
    if request.param == "filesystem":
        return FilesystemStorage(tmp_path / "media")
    overrides = request.getfixturevalue("s3_settings")
    return storage_from_settings(Settings(media_root=str(tmp_path), **overrides))


def test_the_storage_contract(storage: PhotoStorage) -> None:
    assert storage.exists("originals/ab/abc.jpg") is False
    assert storage.put("originals/ab/abc.jpg", b"one") is True
    assert storage.put("originals/ab/abc.jpg", b"two") is False  # content-addressed: kept
    assert storage.get("originals/ab/abc.jpg") == b"one"
    aside = storage.move_aside("originals/ab/abc.jpg")
    assert aside and not storage.exists("originals/ab/abc.jpg")
    storage.restore(aside, "originals/ab/abc.jpg")
    assert storage.get("originals/ab/abc.jpg") == b"one"
    assert storage.move_aside("originals/none.jpg") is None
    storage.delete("originals/ab/abc.jpg")
    storage.delete("originals/ab/abc.jpg")  # deleting twice is fine
    with pytest.raises(FileNotFoundError):
        storage.get("originals/ab/abc.jpg")
    with pytest.raises(ValueError):
        storage.put("../escape", b"x")


def test_a_photo_report_works_end_to_end_on_s3(app_with: Any, s3_settings: dict) -> None:
    app, settings = app_with(**s3_settings)
    client = app.test_client()
    photo = (shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg").read_bytes()
    created = client.post("/api/v1/reports", data={
        "category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755", "description": "x",
        "photos": (io.BytesIO(photo), "a.jpg")}, content_type="multipart/form-data")
    assert created.status_code == 201
    assert make_worker(settings).work(burst=True) is True
    report = client.get(f"/api/v1/reports/{created.get_json()['id']}").get_json()
    url = report["photos"][0]["display"]["jpeg"].removeprefix(settings.base_url)
    served = client.get(url)
    assert served.status_code == 200 and served.data[:2] == b"\xff\xd8"
    keys = storage_from_settings(settings).list_keys()
    assert any(k.startswith("derivatives/") for k in keys)
    assert not any(k.startswith("originals/") for k in keys)  # deleted once rendered
    assert not (Path(settings.media_root) / "derivatives").exists()  # nothing on local disk
