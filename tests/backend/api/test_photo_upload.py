"""Photos with a report: upload, processing, serving, refusals, idempotency, privacy.

Every test runs on SpatiaLite and PostGIS (through the `backend` fixture) with a real Redis.
The big phone photos appear only in the end-to-end scenario; everything else uses the small
camera and GPS samples from ../shared/data/photos.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.media.storage import FilesystemStorage, original_key
from backend.models import Photo, PhotoDerivative, Report
from backend.settings import Settings
from tests.backend.api.helpers import MARIENPLATZ, REPORTS_URL, assert_error
from tests.shared_data import shared_data_dir
from workers.runner import make_worker

BASE_URL = "http://mm.test"
NOKIA = "mobile/HMD_Nokia_8.3_5G.jpg"
IPHONE_HEIC = "mobile/iphone_13_pro_max.HEIC"
CANON = "cameras/Canon_40D.jpg"
NIKON = "cameras/Nikon_D70.jpg"
FUJI = "cameras/Fujifilm_FinePix_E500.jpg"
SONY = "cameras/Sony_HDR-HC3.jpg"
TUSCANY = "gps/DSCN0010.jpg"  # EXIF GPS near 43.47 N, 11.88 E
TUSCANY_2 = "gps/DSCN0012.jpg"

XMP_NAMESPACE = b"http://ns.adobe.com/xap/1.0/"
EXIF_HEADER = b"Exif\x00\x00"
GPS_IFD = 0x8825
MIMETYPES = {"jpeg": "image/jpeg", "webp": "image/webp"}


# --------------------------------------------------------------------------- helpers


@cache
def photo_bytes(name: str) -> bytes:
    """A sample photo from ../shared/data/photos (skips when the shared data is absent)."""
    return (shared_data_dir() / "photos" / name).read_bytes()


def upload(name: str) -> tuple[bytes, str]:
    """A sample photo as (bytes, file name) for a multipart upload."""
    return photo_bytes(name), Path(name).name


def report_form(point: tuple[float, float] = MARIENPLATZ, **overrides: str) -> dict[str, str]:
    """The text fields of a multipart report (all values are strings, as a browser sends)."""
    lon, lat = point
    fields = {"category": "schild-fehlt", "lat": str(lat), "lon": str(lon),
              "description": "Schild umgefahren, Foto anbei."}
    fields.update(overrides)
    return fields


def files(items: list[tuple[bytes, str]]) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(data), name) for data, name in items]


def post_report(client: Any, photos: list[tuple[bytes, str]], *,
                form: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                **extra_files: list[tuple[bytes, str]]) -> Any:
    """POST /api/v1/reports as multipart/form-data with `photos` (and other file fields)."""
    data: dict[str, Any] = dict(report_form() if form is None else form)
    data["photos"] = files(photos)
    for field, items in extra_files.items():
        data[field] = files(items)
    return client.post(REPORTS_URL, data=data, content_type="multipart/form-data",
                       headers=headers or {})


def created(client: Any, photos: list[tuple[bytes, str]], **kwargs: Any) -> dict[str, Any]:
    response = post_report(client, photos, **kwargs)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def add_photos(client: Any, public_id: str, token: str, photos: list[tuple[bytes, str]]) -> Any:
    return client.post(f"{REPORTS_URL}/{public_id}/photos", data={"photos": files(photos)},
                       content_type="multipart/form-data", headers={"X-Tracking-Token": token})


def storage_of(settings: Settings) -> FilesystemStorage:
    return FilesystemStorage(settings.media_root)


def stored(settings: Settings) -> list[str]:
    """Every file under the media root, relative to it (temporary files included)."""
    root = Path(settings.media_root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def originals(settings: Settings) -> list[str]:
    return [k for k in stored(settings) if k.startswith("originals/")]


def derivatives(settings: Settings) -> list[str]:
    return [k for k in stored(settings) if k.startswith("derivatives/")]


def count_rows(session: Session) -> tuple[int, int]:
    """(reports, photos) in the database, read in a fresh transaction."""
    try:
        return (session.scalar(select(func.count()).select_from(Report)) or 0,
                session.scalar(select(func.count()).select_from(Photo)) or 0)
    finally:
        session.rollback()


@dataclass(frozen=True)
class PhotoRow:
    """A photo row as read at one moment (plain data: no lazy loads, no open transaction)."""

    public_id: str
    status: str
    original_sha256: str
    original_key: str | None
    derivatives: list[tuple[str, str, str]]  # (name, format, sha256)


def photo_rows(session: Session, report_public_id: str) -> list[PhotoRow]:
    """The report's photos in order; the read transaction is ended before returning (a
    SpatiaLite transaction holds the write lock)."""
    try:
        photos = session.scalars(
            select(Photo).join(Report, Report.id == Photo.report_id)
            .where(Report.public_id == report_public_id).order_by(Photo.position)
            .execution_options(populate_existing=True)
        ).all()
        return [PhotoRow(p.public_id, p.status, p.original_sha256, p.original_key,
                         [(d.name, d.format, d.sha256) for d in session.scalars(
                             select(PhotoDerivative).where(PhotoDerivative.photo_id == p.id)
                             .order_by(PhotoDerivative.id))])
                for p in photos]
    finally:
        session.rollback()


def review_flags(session: Session, report_public_id: str) -> list[str] | None:
    try:
        return session.scalar(select(Report.review_flags)
                              .where(Report.public_id == report_public_id))
    finally:
        session.rollback()


def run_jobs(settings: Settings) -> None:
    """Run every queued job in a burst worker (a forked work horse per job)."""
    assert make_worker(settings).work(burst=True) is True


def local(url: str) -> str:
    assert url.startswith(BASE_URL + "/"), url
    return url.removeprefix(BASE_URL)


def all_keys(value: Any) -> set[str]:
    """Every dictionary key anywhere in a decoded JSON document."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


def derivative_urls(public_photo: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(size name, format, URL) of every file of a public photo."""
    return [(size, fmt, public_photo[size][fmt])
            for size in ("display", "thumb") for fmt in ("jpeg", "webp")]


def assert_no_metadata(data: bytes, fmt: str) -> Image.Image:
    """The file carries pixels only: no EXIF, no XMP, no GPS; returns the decoded image."""
    assert EXIF_HEADER not in data
    assert XMP_NAMESPACE not in data
    assert b"<x:xmpmeta" not in data
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == fmt.upper()
    exif = image.getexif()
    assert len(exif) == 0, dict(exif)
    assert len(exif.get_ifd(GPS_IFD)) == 0
    assert "exif" not in image.info and "xmp" not in image.info
    return image


# --------------------------------------------------------------------------- done-when


def test_phone_photos_are_flagged_processed_and_served_as_metadata_free_web_sizes(
    client: Any, settings: Settings, session: Session
) -> None:
    response = post_report(client, [upload(NOKIA), upload(IPHONE_HEIC)])

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    nokia, heic = body["uploads"]
    assert [nokia["status"], heic["status"]] == ["pending", "pending"]
    assert 60 <= nokia["location"]["lat"] <= 70  # Finland
    assert 20 <= nokia["location"]["lon"] <= 32
    assert nokia["taken_at"] == "2022-08-14T14:12:31+03:00"  # its offset, once
    assert heic["location"] is None
    assert body["photos"] == []  # nothing public before processing
    # Far from the Marienplatz pin: accepted, but flagged for staff.
    assert review_flags(session, body["id"]) == ["photo_far_from_pin"]
    assert body["status"] == "submitted"
    assert len(originals(settings)) == 2

    run_jobs(settings)

    rows = photo_rows(session, body["id"])
    assert [(r.public_id, r.status) for r in rows] == [(nokia["id"], "ready"),
                                                       (heic["id"], "ready")]
    assert all(len(r.derivatives) == 4 for r in rows)
    public = client.get(f"{REPORTS_URL}/{body['id']}").get_json()
    assert [p["id"] for p in public["photos"]] == [nokia["id"], heic["id"]]

    displays = {}
    for photo in public["photos"]:
        for size, fmt, url in derivative_urls(photo):
            served = client.get(local(url))
            assert served.status_code == 200, (url, served.get_data(as_text=True))
            assert served.mimetype == MIMETYPES[fmt]
            assert "immutable" in served.headers["Cache-Control"]
            etag = served.headers["ETag"]
            assert etag
            again = client.get(local(url), headers={"If-None-Match": etag})
            assert again.status_code == 304
            assert again.data == b""
            image = assert_no_metadata(served.data, fmt)
            assert image.size == (photo[size]["width"], photo[size]["height"])
            assert max(image.size) <= (1600 if size == "display" else 320)
            if size == "display" and fmt == "jpeg":
                displays[photo["id"]] = image.size

    width, height = displays[nokia["id"]]
    assert width == 1600 and height < width  # the Nokia panorama stays landscape
    width, height = displays[heic["id"]]
    assert height > width  # the iPhone HEIC is portrait
    # The private originals are gone once the web sizes exist.
    assert originals(settings) == []
    assert len(derivatives(settings)) == 8


def test_kept_originals_are_never_served(
    app_with: Callable[..., tuple[Flask, Settings]], session: Session
) -> None:
    app, cfg = app_with(keep_photo_originals=True)
    client = app.test_client()
    photos = [upload(CANON), upload(TUSCANY)]
    body = created(client, photos)

    run_jobs(cfg)

    rows = photo_rows(session, body["id"])
    assert [r.status for r in rows] == ["ready", "ready"]
    original_shas = [r.original_sha256 for r in rows]
    assert sorted(originals(cfg)) == sorted(original_key(s) for s in original_shas)
    storage = storage_of(cfg)
    assert storage.get(original_key(original_shas[0])) == photo_bytes(CANON)
    assert storage.get(original_key(original_shas[1])) == photo_bytes(TUSCANY)

    views = [
        client.get(f"{REPORTS_URL}/{body['id']}").get_data(as_text=True),
        client.get(f"/api/v1/track/{body['tracking_token']}").get_data(as_text=True),
        client.get(REPORTS_URL, query_string={"bbox": "11.5,48.1,11.6,48.2"}
                   ).get_data(as_text=True),
        post_report(client, photos).get_data(as_text=True),  # a second report, same photos
    ]
    assert [len(r.derivatives) for r in rows] == [4, 4]
    derivative_shas = {sha for r in rows for _, _, sha in r.derivatives}
    for sha in original_shas:
        assert sha not in derivative_shas
        for text in views:
            assert sha not in text
        for ext in ("jpg", "webp"):
            assert_error(client.get(f"/media/photos/{sha}.{ext}"), 404, "not_found")
    public = client.get(f"{REPORTS_URL}/{body['id']}").get_json()
    for photo in public["photos"]:
        for _, _, url in derivative_urls(photo):
            assert client.get(local(url)).status_code == 200


# --------------------------------------------------------------------------- refusals


def _truncated(name: str) -> bytes:
    data = photo_bytes(name)
    return data[: int(len(data) * 0.6)]


REFUSALS = [
    ("text-named-jpg", lambda: [(b"Dies ist kein Foto, nur Text.\n" * 20, "x.jpg")],
     415, "unsupported_photo_type", "photos[0]"),
    ("truncated-jpeg", lambda: [(_truncated(TUSCANY), "cut.jpg")],
     422, "invalid_photo", "photos[0]"),
    ("zero-bytes", lambda: [(b"", "empty.jpg")], 422, "invalid_photo", "photos[0]"),
    ("four-photos", lambda: [upload(CANON), upload(NIKON), upload(FUJI), upload(SONY)],
     422, "validation_failed", "photos"),
    ("valid-then-text", lambda: [upload(CANON), (b"<html>nope</html>", "y.jpg")],
     415, "unsupported_photo_type", "photos[1]"),
    ("valid-then-truncated", lambda: [upload(TUSCANY), (_truncated(NIKON), "z.jpg")],
     422, "invalid_photo", "photos[1]"),
]


@pytest.mark.parametrize(("photos", "status", "code", "field"),
                         [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS])
def test_a_refused_photo_leaves_no_report_no_photo_and_no_file(
    client: Any, settings: Settings, session: Session, photos: Callable[[], list],
    status: int, code: str, field: str,
) -> None:
    response = post_report(client, photos())

    assert_error(response, status, code, {field})
    assert count_rows(session) == (0, 0)
    assert stored(settings) == []


def test_a_photo_over_the_size_limit_is_413_and_leaves_nothing(
    app_with: Callable[..., tuple[Flask, Settings]], session: Session
) -> None:
    app, cfg = app_with(photo_max_bytes=20_000)
    assert len(photo_bytes(CANON)) < 20_000 < len(photo_bytes(TUSCANY))

    response = post_report(app.test_client(), [upload(CANON), upload(TUSCANY)])

    error = assert_error(response, 413, "photo_too_large", {"photos[1]"})
    assert "KB" in error["message"]
    assert count_rows(session) == (0, 0)
    assert stored(cfg) == []


# --------------------------------------------------------------------------- form fields


FORM_CASES = [
    ("lat-text", report_form(lat="abc"), {}, {"lat"}),
    ("lat-nan", report_form(lat="NaN"), {}, {"lat"}),
    ("lon-infinity", report_form(lon="inf"), {}, {"lon"}),
    ("no-description", {k: v for k, v in report_form().items() if k != "description"}, {},
     {"description"}),
    ("extra-file-field", report_form(), {"other": [(b"GIF89a", "other.gif")]}, {"other"}),
]


@pytest.mark.parametrize(("form", "extra", "fields"), [c[1:] for c in FORM_CASES],
                         ids=[c[0] for c in FORM_CASES])
def test_invalid_form_fields_are_named_and_leave_nothing(
    client: Any, settings: Settings, session: Session, form: dict[str, str],
    extra: dict[str, list], fields: set[str],
) -> None:
    extra_files = {k: [(data, name) for data, name in v] for k, v in extra.items()}
    response = post_report(client, [upload(CANON)], form=form, **extra_files)

    assert_error(response, 422, "validation_failed", fields)
    assert count_rows(session) == (0, 0)
    assert stored(settings) == []


# --------------------------------------------------------------------------- idempotency


def test_a_retried_upload_with_the_same_key_returns_the_first_report_and_one_photo(
    client: Any, settings: Settings, session: Session
) -> None:
    headers = {"Idempotency-Key": "outbox-7f3a-photo"}
    first = post_report(client, [upload(TUSCANY)], headers=headers)
    second = post_report(client, [upload(TUSCANY)], headers=headers)

    assert first.status_code == 201 and second.status_code == 201, second.get_data(as_text=True)
    one, two = first.get_json(), second.get_json()
    assert two["id"] == one["id"]
    assert two["tracking_token"] == one["tracking_token"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert [u["id"] for u in two["uploads"]] == [u["id"] for u in one["uploads"]]
    assert count_rows(session) == (1, 1)
    sha = photo_rows(session, one["id"])[0].original_sha256
    assert stored(settings) == [original_key(sha)]


def test_the_same_key_with_a_different_photo_is_a_conflict_and_stores_nothing_new(
    client: Any, settings: Settings, session: Session
) -> None:
    headers = {"Idempotency-Key": "outbox-7f3a-other-photo"}
    created(client, [upload(TUSCANY)], headers=headers)
    before = stored(settings)

    response = post_report(client, [upload(TUSCANY_2)], headers=headers)

    assert_error(response, 409, "conflict", {"Idempotency-Key"})
    assert count_rows(session) == (1, 1)
    assert stored(settings) == before
    assert len(before) == 1


# --------------------------------------------------------------------------- photos later


def test_the_reporter_adds_a_photo_later_with_the_tracking_token(
    client: Any, settings: Settings, session: Session
) -> None:
    body = created(client, [])
    assert body["uploads"] == []

    response = add_photos(client, body["id"], body["tracking_token"], [upload(CANON)])

    assert response.status_code == 201, response.get_data(as_text=True)
    added = response.get_json()["photos"]
    assert [p["status"] for p in added] == ["pending"]
    assert count_rows(session) == (1, 1)
    assert len(originals(settings)) == 1
    assert review_flags(session, body["id"]) is None  # no GPS in this photo: nothing to flag

    run_jobs(settings)

    public = client.get(f"{REPORTS_URL}/{body['id']}").get_json()
    assert [p["id"] for p in public["photos"]] == [added[0]["id"]]
    tracked = client.get(f"/api/v1/track/{body['tracking_token']}").get_json()
    assert [(u["id"], u["status"]) for u in tracked["uploads"]] == [(added[0]["id"], "ready")]


def test_a_photo_added_later_far_from_the_pin_flags_the_report(
    client: Any, session: Session
) -> None:
    body = created(client, [])

    response = add_photos(client, body["id"], body["tracking_token"], [upload(TUSCANY)])

    assert response.status_code == 201, response.get_data(as_text=True)
    assert 43 < response.get_json()["photos"][0]["location"]["lat"] < 44
    assert review_flags(session, body["id"]) == ["photo_far_from_pin"]


def test_adding_photos_with_a_wrong_token_is_404_and_stores_nothing(
    client: Any, settings: Settings, session: Session
) -> None:
    body = created(client, [])

    response = add_photos(client, body["id"], "not-the-token-" + "x" * 20, [upload(CANON)])

    assert_error(response, 404, "not_found")
    assert count_rows(session) == (1, 0)
    assert stored(settings) == []


def test_adding_the_same_photo_again_adds_no_second_row(
    client: Any, settings: Settings, session: Session
) -> None:
    body = created(client, [upload(CANON)])
    keys = stored(settings)

    response = add_photos(client, body["id"], body["tracking_token"], [upload(CANON)])

    assert response.status_code == 201, response.get_data(as_text=True)
    assert [p["id"] for p in response.get_json()["photos"]] == [body["uploads"][0]["id"]]
    assert count_rows(session) == (1, 1)
    assert stored(settings) == keys


def test_more_than_three_photos_in_total_are_refused(
    client: Any, settings: Settings, session: Session
) -> None:
    body = created(client, [upload(CANON), upload(NIKON)])
    keys = stored(settings)

    response = add_photos(client, body["id"], body["tracking_token"],
                          [upload(FUJI), upload(SONY)])

    assert_error(response, 422, "validation_failed", {"photos"})
    assert count_rows(session) == (1, 2)
    assert stored(settings) == keys


def test_adding_photos_as_json_is_415(client: Any, session: Session) -> None:
    body = created(client, [])

    response = client.post(f"{REPORTS_URL}/{body['id']}/photos", json={"photos": []},
                           headers={"X-Tracking-Token": body["tracking_token"]})

    assert_error(response, 415, "unsupported_media_type")
    assert count_rows(session) == (1, 0)


# --------------------------------------------------------------------------- privacy


def test_exif_location_and_time_are_only_shown_to_the_uploader(
    client: Any, settings: Settings
) -> None:
    body = created(client, [upload(TUSCANY)])
    upload_view = body["uploads"][0]
    exif_lat = upload_view["location"]["lat"]
    assert 43 < exif_lat < 44
    assert upload_view["taken_at"].startswith("2008-10-22T16:28:39")
    run_jobs(settings)

    public_response = client.get(f"{REPORTS_URL}/{body['id']}")
    listing_response = client.get(REPORTS_URL, query_string={"bbox": "11.5,48.1,11.6,48.2"})
    tracked = client.get(f"/api/v1/track/{body['tracking_token']}").get_json()

    public = public_response.get_json()
    assert "uploads" not in public
    assert len(public["photos"]) == 1
    assert set(public["photos"][0]) == {"id", "kind", "display", "thumb"}
    assert public["photos"][0]["kind"] == "report"
    assert "taken_at" not in all_keys(public)
    listing = listing_response.get_json()
    assert [f["id"] for f in listing["features"]] == [body["id"]]
    assert not {"uploads", "taken_at", "photos"} & all_keys(listing)
    for text in (public_response.get_data(as_text=True),
                 listing_response.get_data(as_text=True)):
        assert repr(exif_lat) not in text
        assert "2008-10-22" not in text
    # The uploader sees them: in the create response and in the tracking view.
    assert {"location", "taken_at"} <= set(upload_view)
    assert tracked["uploads"] == [{**upload_view, "status": "ready"}]


def test_a_photo_position_read_on_the_device_flags_a_far_away_photo(
    client: Any, session: Session,
) -> None:
    # The app downscaled the photo (no EXIF left) and sent the GPS it had read from it.
    photo = shared_data_dir() / "photos" / "cameras" / "Canon_40D.jpg"
    with photo.open("rb") as fh:
        response = client.post("/api/v1/reports", data={
            "category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755",
            "description": "Schild fehlt", "photo_lat": "43.4674", "photo_lon": "11.8851",
            "photos": [(fh, "small.jpg")],
        }, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    report = session.scalar(select(Report).where(Report.public_id == response.get_json()["id"]))
    assert report.review_flags == ["photo_far_from_pin"]
    half = client.post("/api/v1/reports", data={
        "category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755",
        "description": "Schild fehlt", "photo_lat": "43.4674"},
        content_type="multipart/form-data")
    assert half.status_code == 422 and "photo_lon" in half.get_json()["error"]["fields"]
