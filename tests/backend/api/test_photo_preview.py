"""POST /api/v1/photo-previews: a preview and the EXIF position of a photo the browser
cannot decode (HEIC); checked like an upload, and nothing is stored."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from flask import Flask
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.models import Photo, Report
from backend.settings import Settings
from tests.backend.api.helpers import assert_error
from tests.shared_data import shared_data_dir

URL = "/api/v1/photo-previews"
PHOTOS = shared_data_dir() / "photos"


def _post(client: Any, *files: tuple[bytes, str]) -> Any:
    return client.post(URL, data={"photos": [(io.BytesIO(data), name) for data, name in files]},
                        content_type="multipart/form-data")


def _image(answer: dict[str, Any]) -> Image.Image:
    prefix = "data:image/jpeg;base64,"
    assert answer["preview"].startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(answer["preview"][len(prefix):])))
    image.load()
    return image


def test_an_iphone_heic_gets_an_upright_preview_and_its_position(client: Any) -> None:
    response = _post(client, ((PHOTOS / "mobile" / "IMG_5195.HEIC").read_bytes(), "a.HEIC"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    image = _image(body)
    assert image.format == "JPEG" and max(image.size) == 480
    assert (image.width, image.height) == (body["width"], body["height"])
    assert not image.getexif() and "icc_profile" not in image.info  # no metadata
    assert body["place"] == {"lat": body["place"]["lat"], "lon": body["place"]["lon"]}
    assert abs(body["place"]["lat"] - 39.05) < 0.1 and abs(body["place"]["lon"] + 94.29) < 0.1


def test_a_photo_without_gps_has_no_place(client: Any) -> None:
    response = _post(client, ((PHOTOS / "mobile" / "iphone_13_pro_max.HEIC").read_bytes(),
                              "b.heic"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["place"] is None
    image = _image(body)
    assert image.height > image.width  # the portrait phone photo stays upright


def test_bad_input_is_refused_with_the_field_named(client: Any) -> None:
    assert_error(client.post(URL, json={"photos": "x"}), 415, "unsupported_media_type",
                 {"Content-Type"})
    assert_error(client.post(URL, data={"note": "x"}, content_type="multipart/form-data"),
                 422, "validation_failed", {"photos"})
    jpeg = (PHOTOS / "cameras" / "Canon_40D.jpg").read_bytes()
    assert_error(_post(client, (jpeg, "a.jpg"), (jpeg, "b.jpg")), 422, "validation_failed",
                 {"photos"})
    refused = _post(client, (b"not a photo at all" * 10, "x.heic"))
    assert refused.status_code in (415, 422)
    assert set(refused.get_json()["error"]["fields"]) == {"photos[0]"}
    cut = (PHOTOS / "mobile" / "IMG_5195.HEIC").read_bytes()[:50_000]
    broken = _post(client, (cut, "cut.heic"))
    assert broken.status_code == 422 and set(broken.get_json()["error"]["fields"]) == {
        "photos[0]"}


def test_nothing_is_stored(app: Flask, client: Any, settings: Settings) -> None:
    assert _post(client, ((PHOTOS / "mobile" / "IMG_5195.HEIC").read_bytes(),
                          "a.heic")).status_code == 200
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Photo)) == 0
            assert session.scalar(select(func.count()).select_from(Report)) == 0
    finally:
        engine.dispose()
    media = Path(settings.media_root)
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]
