"""Issue 19, staff side: dispatchers and admins hide, turn, redact more of, restore and
release a report's photos, and look at the private original (audited). Both backends, a real
Redis and photo worker, real photos; the public files are checked pixel by pixel."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask
from PIL import Image
from sqlalchemy import Engine, select

from backend.extensions import db
from backend.media.imaging import render_display
from backend.models import AuditEntry, Department, Report
from backend.settings import Settings
from tests.backend.api.helpers import MARIENPLATZ, REPORTS_URL, assert_error
from tests.backend.api.staff_helpers import make_user, report_url, token_for
from tests.workers.test_photo_jobs import photo_state, public_photos, run_jobs

DATA = Path(__file__).resolve().parents[3] / "data" / "redaction"
ASTRONAUT = "face_skimage_astronaut.jpg"  # public domain (NASA), via scikit-image
HOUSE = "neg_azure_house.jpg"  # no face, no plate (see tests/data/redaction/README.md)


def _submit(client: Any, name: str) -> dict[str, Any]:
    lon, lat = MARIENPLATZ
    response = client.post(REPORTS_URL, content_type="multipart/form-data", data={
        "category": "ampel-ausfall", "lat": str(lat), "lon": str(lon),
        "description": "Ampel dunkel, Haus im Bild.",
        "photos": [(io.BytesIO((DATA / name).read_bytes()), name)]})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _department(app: Flask, report_id: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Department.code).join(
            Report, Report.department_id == Department.id).where(Report.public_id == report_id))


def _photo_url(report_id: str, photo_id: str, action: str) -> str:
    return report_url(report_id, f"photos/{photo_id}/{action}")


def _photo_audits(app: Flask) -> list[tuple[str, str, str | None]]:
    with app.app_context():
        return [(e.actor, e.action, (e.details or {}).get("photo")) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("photo_%")).order_by(AuditEntry.id))]


def _public_display(client: Any, report_id: str) -> np.ndarray:
    [photo] = public_photos(client, report_id)
    url = photo["display"]["jpeg"]
    response = client.get(url[url.index("/media/"):])
    assert response.status_code == 200
    return np.asarray(Image.open(io.BytesIO(response.get_data())).convert("RGB"), np.int16)


def _detail(a: np.ndarray) -> float:
    """Pixel-to-pixel variation: pixelation leaves a fraction of a photo's."""
    return float(np.abs(np.diff(a, axis=1)).mean())


def _box(region: tuple[float, float, float, float], shape: tuple[int, ...]
         ) -> tuple[slice, slice]:
    x, y, w, h = region
    height, width = shape[:2]
    return (slice(int(y * height) + 2, int((y + h) * height) - 2),
            slice(int(x * width) + 2, int((x + w) * width) - 2))


def _staff(app: Flask, name: str, role: str, departments: tuple[str, ...]) -> dict[str, str]:
    make_user(app, name, role, departments, password=None)
    return token_for(app, name)


def test_hiding_takes_the_photo_out_of_every_public_view_and_file_audited(
    app: Flask, client: Any, settings: Settings, engine: Engine
) -> None:
    body = _submit(client, ASTRONAUT)
    run_jobs(settings)
    report, photo = body["id"], body["uploads"][0]["id"]
    dora = _staff(app, "dora", "dispatcher", ())
    shas = [sha for _n, _f, sha in photo_state(engine, photo).derivatives]
    files = [f"/media/photos/{sha}.{'jpg' if fmt == 'jpeg' else fmt}"
             for _n, fmt, sha in photo_state(engine, photo).derivatives]
    public = [f"{REPORTS_URL}/{report}", f"/open311/v2/requests/{report}.json",
              "/api/v1/opendata/reports.geojson", "/api/v1/opendata/reports.csv"]

    def shown() -> list[bool]:
        return [any(sha in client.get(url).get_data(as_text=True) for sha in shas)
                for url in public]
    assert shown()[:2] == [True, True]
    before = shown()
    assert all(client.get(f).status_code == 200 for f in files)

    hidden = client.post(_photo_url(report, photo, "hide"), headers=dora)
    assert hidden.status_code == 200, hidden.get_data(as_text=True)
    assert hidden.headers["Cache-Control"] == "private, no-store"
    state = hidden.get_json()["photo"]
    assert state["hidden"] is True and state["public"] is False and state["status"] == "ready"
    assert public_photos(client, report) == []
    assert shown() == [False] * len(public)
    assert all(client.get(f).status_code == 404 for f in files)
    tracked = client.get(f"/api/v1/track/{body['tracking_token']}").get_json()
    assert tracked["uploads"][0]["status"] == "withheld"
    again = client.post(_photo_url(report, photo, "hide"), headers=dora)
    assert_error(again, 409, "conflict", {"photo"})

    detail = client.get(report_url(report), headers=dora).get_json()
    [entry] = detail["photos"]
    assert entry["hidden"] is True and entry["rotation"] == 0
    assert [r["kind"] for r in entry["regions"]["auto"]] == ["face"]
    assert entry["regions"]["staff"] == [] and entry["display"]["jpeg"].endswith(".jpg")
    assert "photos" in detail["actions"]

    shown_again = client.post(_photo_url(report, photo, "unhide"), headers=dora)
    assert shown_again.status_code == 200 and shown_again.get_json()["photo"]["public"]
    assert shown() == before and all(client.get(f).status_code == 200 for f in files)
    assert _photo_audits(app) == [("dora", "photo_hide", photo), ("dora", "photo_unhide", photo)]
    log = client.get(report_url(report), headers=dora).get_json()["photo_log"]
    assert [(e["actor"], e["action"], e["photo"]) for e in log] == _photo_audits(app)


def test_who_may_moderate_photos_and_see_the_original(
    app: Flask, client: Any, settings: Settings
) -> None:
    body = _submit(client, HOUSE)
    run_jobs(settings)
    report, photo = body["id"], body["uploads"][0]["id"]
    own = _department(app, report)
    other = "anliegenmanagement" if own != "anliegenmanagement" else "verkehrstechnik"
    crew = _staff(app, "carl", "crew", (own,))
    stranger = _staff(app, "otto", "crew", (other,))
    analyst = _staff(app, "anna", "analyst", ())
    admin = _staff(app, "ada", "admin", ())
    for action in ("hide", "preview"):
        send = client.get if action == "preview" else client.post
        url = _photo_url(report, photo, action)
        assert_error(send(url), 401, "not_authenticated")
        assert_error(send(url, headers=crew), 403, "forbidden", {"action"})
        assert_error(send(url, headers=stranger), 404, "not_found", {"id"})
        assert_error(send(url, headers=analyst), 404, "not_found", {"id"})
    assert "photos" not in client.get(report_url(report), headers=crew).get_json()["actions"]
    assert _photo_audits(app) == []
    # The preview needs the original: not kept by default, so even an admin gets 404 (audited).
    assert_error(client.get(_photo_url(report, photo, "preview"), headers=admin), 404,
                 "not_found", {"photo"})
    assert _photo_audits(app) == [("ada", "photo_preview", photo)]
    assert_error(client.post(_photo_url(report, "nosuchphoto", "hide"), headers=admin), 404,
                 "not_found", {"photo"})
    assert_error(client.post(_photo_url(report, photo, "restore"), headers=admin), 409,
                 "conflict", {"photo"})  # nothing to restore from
    assert_error(client.post(_photo_url(report, photo, "release"), headers=admin), 409,
                 "conflict", {"photo"})  # not withheld


def test_bad_moderation_input_names_every_field(app: Flask, client: Any,
                                                settings: Settings) -> None:
    body = _submit(client, HOUSE)
    run_jobs(settings)
    report, photo = body["id"], body["uploads"][0]["id"]
    ada = _staff(app, "ada", "admin", ())
    regions = _photo_url(report, photo, "regions")
    assert_error(client.post(_photo_url(report, photo, "rotate"), json={"degrees": 45},
                             headers=ada), 422, "validation_failed", {"degrees"})
    assert_error(client.post(_photo_url(report, photo, "rotate"), json={}, headers=ada),
                 422, "validation_failed", {"degrees"})
    assert_error(client.post(regions, json={"x": 2, "width": "wide", "colour": 1},
                             headers=ada), 422, "validation_failed",
                 {"x", "y", "width", "height", "colour"})
    assert_error(client.post(regions, json={"x": 0.8, "y": 0.9, "width": 0.5, "height": 0.2},
                             headers=ada), 422, "validation_failed", {"width", "height"})
    assert_error(client.post(regions, json={"x": 0.1, "y": 0.1, "width": 0, "height": 0.2},
                             headers=ada), 422, "validation_failed", {"width"})
    assert_error(client.post(_photo_url(report, photo, "hide"), json={"now": True},
                             headers=ada), 422, "validation_failed", {"now"})
    assert_error(client.delete(_photo_url(report, photo, "regions/0"), headers=ada), 404,
                 "not_found", {"region"})
    assert _photo_audits(app) == []


def test_regions_and_turns_change_the_public_file_and_restore_goes_back(
    app_with: Callable[..., tuple[Flask, Settings]], engine: Engine
) -> None:
    app, cfg = app_with(keep_photo_originals=True)
    client = app.test_client()
    body = _submit(client, HOUSE)
    run_jobs(cfg)
    report, photo = body["id"], body["uploads"][0]["id"]
    dora = _staff(app, "dora", "dispatcher", ())
    plain = np.asarray(render_display((DATA / HOUSE).read_bytes()), np.int16)
    first = _public_display(client, report)
    assert first.shape == plain.shape
    region = (0.1, 0.2, 0.3, 0.25)
    inside = _box(region, plain.shape)
    assert _detail(first[inside]) > _detail(plain[inside]) * 0.7  # not redacted yet

    # The private preview: the original as it is, for staff only, no metadata, audited.
    preview = client.get(_photo_url(report, photo, "preview"), headers=dora)
    assert preview.status_code == 200 and preview.mimetype == "image/jpeg"
    assert preview.headers["Cache-Control"] == "private, no-store"
    seen = Image.open(io.BytesIO(preview.get_data()))
    assert not seen.getexif() and "icc_profile" not in seen.info
    assert np.abs(np.asarray(seen.convert("RGB"), np.int16) - plain).mean() < 6  # JPEG
    crew = _staff(app, "carl", "crew", (_department(app, report),))
    assert client.get(report_url(report), headers=crew).get_json()["photos"][0][
        "preview"] is None  # a crew member is not even given the address
    assert client.get(report_url(report), headers=dora).get_json()["photos"][0]["preview"]

    added = client.post(_photo_url(report, photo, "regions"), headers=dora, json=dict(
        zip(("x", "y", "width", "height"), region, strict=True)))
    assert added.status_code == 202, added.get_data(as_text=True)
    assert added.get_json()["rerender_queued"] is True
    [staff_region] = added.get_json()["photo"]["regions"]["staff"]
    assert staff_region["box"] == [0.1, 0.2, 0.4, 0.45] and staff_region["kind"] == "region"
    # The public copy shows the area until the re-render: the photo is private meanwhile.
    shown = added.get_json()["photo"]
    assert shown["hidden"] and shown["hidden_until_redrawn"] and not shown["public"]
    assert public_photos(client, report) == []
    run_jobs(cfg)
    after = client.get(report_url(report), headers=dora).get_json()["photos"][0]
    assert after["public"] and not after["hidden"] and not after["hidden_until_redrawn"]
    redacted = _public_display(client, report)
    assert _detail(redacted[inside]) < _detail(plain[inside]) / 4  # pixelated
    far = (slice(plain.shape[0] * 3 // 4, None), slice(plain.shape[1] * 3 // 4, None))
    assert np.abs(redacted[far] - first[far]).mean() < 2  # the rest is as it was

    turned = client.post(_photo_url(report, photo, "rotate"), json={"degrees": 90},
                         headers=dora)
    assert turned.status_code == 202 and turned.get_json()["photo"]["rotation"] == 90
    run_jobs(cfg)
    upright = np.rot90(plain, k=-1)  # 90° clockwise
    rotated = _public_display(client, report)
    assert rotated.shape == upright.shape
    # The staff region turned with the photo: the same part of the house is still hidden.
    x, y, w, h = region
    inside_turned = _box((1 - y - h, x, h, w), upright.shape)
    assert _detail(rotated[inside_turned]) < _detail(upright[inside_turned]) / 4
    far_turned = (slice(upright.shape[0] * 3 // 4, None), slice(None, upright.shape[1] // 4))
    assert np.abs(rotated[far_turned] - upright[far_turned]).mean() < 8  # turned, JPEG
    assert _detail(rotated[far_turned]) > _detail(upright[far_turned]) * 0.7

    restored = client.post(_photo_url(report, photo, "restore"), headers=dora)
    assert restored.status_code == 202
    assert restored.get_json()["photo"]["rotation"] == 0
    assert restored.get_json()["photo"]["regions"]["staff"] == []
    run_jobs(cfg)
    back = _public_display(client, report)
    assert back.shape == plain.shape and np.abs(back - first).mean() < 2
    assert [a for _u, a, _p in _photo_audits(app)] == [
        "photo_preview", "photo_region_add", "photo_rotate", "photo_restore"]


def test_a_withheld_photo_is_public_only_after_a_successful_release(
    app_with: Callable[..., tuple[Flask, Settings]], engine: Engine, tmp_path: Path
) -> None:
    broken = tmp_path / "centerface.onnx"
    broken.write_bytes(b"not a model")
    failing, failing_cfg = app_with(photo_redaction_face_model=str(broken))
    client = failing.test_client()
    body = _submit(client, ASTRONAUT)
    run_jobs(failing_cfg)
    report, photo = body["id"], body["uploads"][0]["id"]
    ada = _staff(failing, "ada", "admin", ())
    assert photo_state(engine, photo).status == "withheld"
    with engine.connect() as conn:
        assert "photo_needs_review" in conn.scalar(
            select(Report.review_flags).where(Report.public_id == report))
    # Staff may look at it and prepare it while it is withheld: nothing is rendered yet.
    assert client.get(_photo_url(report, photo, "preview"), headers=ada).status_code == 200
    extra = client.post(_photo_url(report, photo, "regions"), headers=ada,
                        json={"x": 0.0, "y": 0.6, "width": 0.3, "height": 0.4})
    assert extra.status_code == 200 and extra.get_json()["rerender_queued"] is False

    released = client.post(_photo_url(report, photo, "release"), headers=ada)
    assert released.status_code == 202 and released.get_json()["photo"]["status"] == "withheld"
    run_jobs(failing_cfg)  # the detector still fails: it stays private
    assert photo_state(engine, photo).status == "withheld"
    assert public_photos(client, report) == []

    working, working_cfg = app_with()
    other = working.test_client()
    again = other.post(_photo_url(report, photo, "release"), headers=ada)
    assert again.status_code == 202
    run_jobs(working_cfg)
    state = photo_state(engine, photo)
    assert state.status == "ready" and len(state.derivatives) == 4
    assert len(public_photos(other, report)) == 1
    with engine.connect() as conn:  # reviewed: the report's flag goes with the last withheld
        flags = conn.scalar(select(Report.review_flags).where(Report.public_id == report))
    assert "photo_needs_review" not in (flags or [])
    published = _public_display(other, report)
    corner = _box((0.0, 0.6, 0.3, 0.4), published.shape)
    plain = np.asarray(render_display((DATA / ASTRONAUT).read_bytes()), np.int16)
    assert _detail(published[corner]) < _detail(plain[corner]) / 3  # the staff region
    assert [a for _u, a, _p in _photo_audits(working)] == [
        "photo_preview", "photo_region_add", "photo_release", "photo_release"]


def test_without_the_original_the_public_copy_is_turned_and_redacted_further(
    app: Flask, client: Any, settings: Settings, engine: Engine
) -> None:
    body = _submit(client, HOUSE)  # originals are not kept (the default)
    run_jobs(settings)
    report, photo = body["id"], body["uploads"][0]["id"]
    assert photo_state(engine, photo).original_key is None
    dora = _staff(app, "dora", "dispatcher", ())
    first = _public_display(client, report)

    key = {**dora, "Idempotency-Key": "turn-once"}
    turned = client.post(_photo_url(report, photo, "rotate"), json={"degrees": 90}, headers=key)
    assert turned.status_code == 202
    replayed = client.post(_photo_url(report, photo, "rotate"), json={"degrees": 90},
                           headers=key)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.get_json()["photo"]["rotation"] == 90  # turned once, not twice
    run_jobs(settings)
    rotated = _public_display(client, report)
    expected = np.rot90(first, k=-1)
    assert rotated.shape == expected.shape and np.abs(rotated - expected).mean() < 8

    region = (0.5, 0.1, 0.4, 0.3)
    added = client.post(_photo_url(report, photo, "regions"), headers=dora, json=dict(
        zip(("x", "y", "width", "height"), region, strict=True)))
    assert added.status_code == 202
    # A lost job: asking to show it again hands the re-render out again, still hidden.
    again = client.post(_photo_url(report, photo, "unhide"), headers=dora)
    assert again.status_code == 202 and again.get_json()["photo"]["hidden"] is True
    run_jobs(settings)
    redacted = _public_display(client, report)
    inside = _box(region, redacted.shape)
    assert _detail(redacted[inside]) < _detail(rotated[inside]) / 4
    # Burnt into the only copy left: it cannot be taken back, and there is nothing to restore.
    assert_error(client.delete(_photo_url(report, photo, "regions/0"), headers=dora), 409,
                 "conflict", {"region"})
    assert_error(client.post(_photo_url(report, photo, "restore"), headers=dora), 409,
                 "conflict", {"photo"})
    assert [a for _u, a, _p in _photo_audits(app)] == [
        "photo_rotate", "photo_region_add", "photo_unhide"]
