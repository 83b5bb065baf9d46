"""Originals written by a request that died before its commit are removed by the scheduler's
hourly sweep; originals a photo row still names are never touched; on both storages."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

from backend.extensions import db
from backend.media.storage import FilesystemStorage, original_key, storage_from_settings
from backend.services.photos import sweep_orphan_originals
from tests.shared_data import shared_data_dir

PHOTO = shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg"


def _age(storage: FilesystemStorage, key: str, seconds: float) -> None:
    path = Path(storage.root) / key
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_only_old_unreferenced_originals_are_removed(app_with: Any) -> None:
    app, settings = app_with(keep_photo_originals=True)
    client = app.test_client()
    created = client.post("/api/v1/reports", data={
        "category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755", "description": "x",
        "photos": (io.BytesIO(PHOTO.read_bytes()), "a.jpg")}, content_type="multipart/form-data")
    assert created.status_code == 201
    storage = storage_from_settings(settings)
    [kept] = [k for k in storage.list_keys() if k.startswith("originals/")]
    orphan, young = original_key("a" * 64), original_key("b" * 64)
    storage.put(orphan, b"died before the commit")
    storage.put(young, b"its request may still commit")
    for key in (kept, orphan):
        _age(storage, key, 7200)

    with app.app_context():
        assert sweep_orphan_originals(db.session, storage) == 1
        assert sweep_orphan_originals(db.session, storage) == 0
    assert not storage.exists(orphan)
    assert storage.exists(kept) and storage.exists(young)
    assert not any(k.startswith("aside/") for k in storage.list_keys())


def test_the_sweep_works_on_s3(app_with: Any, s3_settings: dict) -> None:
    app, settings = app_with(**s3_settings)
    storage = storage_from_settings(settings)
    orphan = original_key("c" * 64)
    storage.put(orphan, b"orphan")
    with app.app_context():
        assert sweep_orphan_originals(db.session, storage, older_than_s=3600) == 0  # too young
        time.sleep(1.1)
        assert sweep_orphan_originals(db.session, storage, older_than_s=1) == 1
    assert not storage.exists(orphan)
