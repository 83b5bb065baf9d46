"""The staff queue (filters, orders, pages, service levels) and every staff action."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text, update
from sqlalchemy.exc import DatabaseError

from backend.extensions import db
from backend.models import AuditEntry, Notification, Photo, Report
from backend.models.base import utcnow
from backend.settings import Settings
from tests.backend.api.helpers import ALLIANZ_ARENA, MARIENPLATZ, assert_error, create, offset
from tests.backend.api.staff_helpers import QUEUE_URL, audit_actions, make_user, report_url
from tests.backend.api.staff_helpers import token_for as _token_for
from tests.shared_data import shared_data_dir
from workers.runner import make_worker

MITTE = ("bezirksinspektion-mitte",)


@pytest.fixture
def crew(app: Flask) -> dict[str, str]:
    make_user(app, "anna", "crew", MITTE, password=None)
    return _token_for(app, "anna")


@pytest.fixture
def dispatcher(app: Flask) -> dict[str, str]:
    make_user(app, "dora", "dispatcher", ("anliegenmanagement",), password=None)
    return _token_for(app, "dora")


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [f["id"] for f in response.get_json()["features"]]


def _set(app: Flask, public_id: str, **values: Any) -> None:
    with app.app_context():
        db.session.execute(update(Report).where(Report.public_id == public_id).values(**values))
        db.session.commit()


# --------------------------------------------------------------------------- the queue


def test_priority_order_puts_overdue_first_then_urgency_then_due_date(
    app: Flask, client: Any, crew: dict[str, str],
) -> None:
    normal = create(client, category="schild-unleserlich")
    high = create(client, category="schild-fehlt")
    high_later = create(client, category="schild-verdreht")
    late = create(client, category="schild-unleserlich")
    _set(app, late["id"], due_at=utcnow() - timedelta(hours=1))
    _set(app, high_later["id"], due_at=utcnow() + timedelta(hours=30))

    response = client.get(QUEUE_URL, headers=crew)

    assert _ids(response) == [late["id"], high["id"], high_later["id"], normal["id"]]
    features = {f["id"]: f["properties"] for f in response.get_json()["features"]}
    assert features[late["id"]]["overdue"] is True
    assert features[high["id"]]["overdue"] is False
    assert features[high["id"]]["priority"] == "high"
    assert features[high["id"]]["department"]["code"] == "bezirksinspektion-mitte"
    assert features[high["id"]]["district"]["number"] == "01"
    assert "reporter_email" not in features[high["id"]]
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_the_due_date_is_the_city_service_level_for_the_priority(
    app: Flask, client: Any, crew: dict[str, str],
) -> None:
    high = create(client, category="schild-fehlt")  # high: 24 h in the Munich demo
    detail = client.get(report_url(high["id"]), headers=crew).get_json()
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.public_id == high["id"]))
        assert report.due_at - report.created_at == timedelta(hours=24)
    assert detail["due_at"] and detail["overdue"] is False


def test_age_and_distance_orders(app: Flask, client: Any, crew: dict[str, str]) -> None:
    far = create(client, point=offset(MARIENPLATZ, north_m=900))
    near = create(client, point=offset(MARIENPLATZ, east_m=40))
    middle = create(client, point=offset(MARIENPLATZ, north_m=-300))
    assert _ids(client.get(f"{QUEUE_URL}?sort=age", headers=crew)) == [
        far["id"], near["id"], middle["id"]]
    lon, lat = MARIENPLATZ
    response = client.get(f"{QUEUE_URL}?sort=distance&near={lat},{lon}", headers=crew)
    assert _ids(response) == [near["id"], middle["id"], far["id"]]
    distances = [f["properties"]["distance_m"] for f in response.get_json()["features"]]
    assert distances[0] == pytest.approx(40, abs=1)
    assert distances[1] == pytest.approx(300, abs=2)
    assert_error(client.get(f"{QUEUE_URL}?sort=distance", headers=crew), 422,
                 "validation_failed", {"near"})


def test_filters_by_box_category_and_status(app: Flask, client: Any,
                                            dispatcher: dict[str, str]) -> None:
    sign = create(client, category="schild-fehlt")
    light = create(client, category="ampel-ausfall")
    arena = create(client, point=ALLIANZ_ARENA)
    done = create(client)
    _set(app, done["id"], status="closed")
    lon, lat = MARIENPLATZ
    box = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    assert set(_ids(client.get(f"{QUEUE_URL}?bbox={box}", headers=dispatcher))) == {
        sign["id"], light["id"]}
    assert _ids(client.get(f"{QUEUE_URL}?category=ampel-ausfall", headers=dispatcher)) == [
        light["id"]]
    assert _ids(client.get(f"{QUEUE_URL}?status=closed", headers=dispatcher)) == [done["id"]]
    assert set(_ids(client.get(f"{QUEUE_URL}?department=bezirksinspektion-nord",
                               headers=dispatcher))) == {arena["id"]}
    assert_error(client.get(f"{QUEUE_URL}?category=nope&status=maybe&bbox=1,2",
                            headers=dispatcher), 422, "validation_failed",
                 {"status", "bbox"})
    assert_error(client.get(f"{QUEUE_URL}?category=nope", headers=dispatcher), 422,
                 "validation_failed", {"category"})


def test_pages_follow_each_other_without_gaps_or_repeats(client: Any,
                                                         crew: dict[str, str]) -> None:
    made = {create(client)["id"] for _ in range(5)}
    seen: list[str] = []
    url = f"{QUEUE_URL}?limit=2"
    while url:
        body = client.get(url, headers=crew).get_json()
        seen += [f["id"] for f in body["features"]]
        url = f"{QUEUE_URL}?limit=2&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    assert len(seen) == 5 and set(seen) == made
    assert_error(client.get(f"{QUEUE_URL}?cursor=bogus", headers=crew), 422,
                 "validation_failed", {"cursor"})


# --------------------------------------------------------------------------- actions


def test_detail_has_history_allowed_moves_and_actions(client: Any,
                                                      crew: dict[str, str]) -> None:
    report = create(client, email="melder@example.org")
    body = client.get(report_url(report["id"]), headers=crew).get_json()
    assert body["status"] == "submitted"
    assert set(body["transitions"]) == {"acknowledged", "in_progress", "resolved", "rejected"}
    assert "reporter" in body["actions"] and "assign" not in body["actions"]
    assert body["has_reporter_email"] is True
    assert "melder@example.org" not in str(body)
    assert [h["to_status"] for h in body["history"]] == ["submitted"]
    targets = [d["code"] for d in body["forward_targets"]]
    assert "bezirksinspektion-nord" in targets and "bezirksinspektion-mitte" not in targets


def test_start_then_resolve_with_an_after_photo_through_the_pipeline(
    app: Flask, client: Any, crew: dict[str, str], settings: Settings,
) -> None:
    report = create(client, email="melder@example.org")
    started = client.post(report_url(report["id"], "status"), json={"status": "in_progress"},
                          headers=crew)
    assert started.status_code == 200
    assert started.get_json()["status"] == "in_progress"
    assert started.get_json()["assigned_to"]["username"] == "anna"
    photo = (shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg").read_bytes()
    resolved = client.post(report_url(report["id"], "resolve"), headers=crew,
                           data={"public_note": "Schild neu aufgestellt.",
                                 "photo": (io.BytesIO(photo), "nachher.jpg")},
                           content_type="multipart/form-data")
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["status"] == "resolved"
    assert make_worker(settings).work(burst=True) is True
    detail = client.get(report_url(report["id"]), headers=crew).get_json()
    after = [p for p in detail["photos"] if p["kind"] == "after"]
    assert len(after) == 1 and after[0]["status"] == "ready"
    assert after[0]["display"]["jpeg"].endswith(".jpg")
    public = client.get(f"/api/v1/reports/{report['id']}").get_json()
    assert public["status"] == "resolved"
    assert public["history"][-1]["note"] == "Schild neu aufgestellt."
    with app.app_context():
        kinds = [n.channel for n in db.session.scalars(select(Notification))]
    assert kinds.count("email") == 2  # the reporter hears of both changes


def test_a_resolve_without_note_or_with_a_bad_photo_changes_nothing(
    app: Flask, client: Any, crew: dict[str, str], settings: Settings,
) -> None:
    report = create(client)
    assert_error(client.post(report_url(report["id"], "resolve"), headers=crew,
                             data={"public_note": ""}, content_type="multipart/form-data"),
                 422, "validation_failed", {"public_note"})
    broken = client.post(report_url(report["id"], "resolve"), headers=crew,
                         data={"public_note": "Erledigt.",
                               "photo": (io.BytesIO(b"not an image at all"), "x.jpg")},
                         content_type="multipart/form-data")
    assert broken.status_code in (415, 422)
    assert client.get(f"/api/v1/reports/{report['id']}").get_json()["status"] == "submitted"
    with app.app_context():
        assert db.session.scalar(select(Photo.id)) is None
    assert [p for p in Path(settings.media_root).rglob("*") if p.is_file()] == []


def test_the_same_idempotency_key_replays_instead_of_acting_twice(
    app: Flask, client: Any, crew: dict[str, str],
) -> None:
    report = create(client)
    headers = {**crew, "Idempotency-Key": "crew-action-1"}
    first = client.post(report_url(report["id"], "notes"), json={"text": "Leiter nötig"},
                        headers=headers)
    again = client.post(report_url(report["id"], "notes"), json={"text": "Leiter nötig"},
                        headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [n["text"] for n in again.get_json()["notes"]] == ["Leiter nötig"]
    other = client.post(report_url(report["id"], "claim"), headers=headers)
    assert_error(other, 409, "conflict", {"Idempotency-Key"})


def test_invalid_moves_are_refused_and_change_nothing(client: Any,
                                                      crew: dict[str, str]) -> None:
    report = create(client)
    assert_error(client.post(report_url(report["id"], "status"), json={"status": "closed"},
                             headers=crew), 409, "conflict", {"status"})
    assert_error(client.post(report_url(report["id"], "status"), json={"status": "rejected"},
                             headers=crew), 422, "validation_failed", {"reason", "public_note"})
    assert_error(client.post(report_url(report["id"], "status"), json={"status": "gone"},
                             headers=crew), 422, "validation_failed", {"status"})
    assert_error(client.post(report_url(report["id"], "status"), json={"state": "x"},
                             headers=crew), 422, "validation_failed", {"status", "state"})
    body = client.get(report_url(report["id"]), headers=crew).get_json()
    assert body["status"] == "submitted" and len(body["history"]) == 1


def test_forward_moves_the_report_to_the_other_queue_with_an_internal_reason(
    app: Flask, client: Any, crew: dict[str, str], dispatcher: dict[str, str],
) -> None:
    report = create(client)
    response = client.post(report_url(report["id"], "forward"), headers=crew,
                           json={"department": "bezirksinspektion-nord", "reason": "Nordseite"})
    assert response.status_code == 200
    assert response.get_json() == {"id": report["id"], "visible": False}
    assert report["id"] not in _ids(client.get(QUEUE_URL, headers=crew))
    detail = client.get(report_url(report["id"]), headers=dispatcher).get_json()
    assert detail["department"]["code"] == "bezirksinspektion-nord"
    assert detail["notes"][0]["text"] == "→ bezirksinspektion-nord: Nordseite"
    public = client.get(f"/api/v1/reports/{report['id']}").get_json()
    assert "Nordseite" not in str(public)
    assert_error(client.post(report_url(report["id"], "forward"), headers=dispatcher,
                             json={"department": "nowhere", "reason": ""}), 422,
                 "validation_failed", {"department", "reason"})


def test_marking_a_duplicate_rejects_it_pointing_at_the_original(
    client: Any, crew: dict[str, str],
) -> None:
    original = create(client)
    copy = create(client)
    response = client.post(report_url(copy["id"], "duplicate"), json={"of": original["id"]},
                           headers=crew)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "rejected" and body["reject_reason"] == "duplicate"
    assert body["duplicate_of"] == original["id"]
    assert original["id"] in client.get(f"/api/v1/reports/{copy['id']}").get_json()[
        "history"][-1]["note"]
    assert_error(client.post(report_url(original["id"], "duplicate"),
                             json={"of": "nosuchid"}, headers=crew),
                 422, "validation_failed", {"of"})


def test_notes_stay_internal(client: Any, crew: dict[str, str]) -> None:
    report = create(client)
    client.post(report_url(report["id"], "notes"), json={"text": "Hund im Hof"}, headers=crew)
    assert "Hund" not in str(client.get(f"/api/v1/reports/{report['id']}").get_json())
    assert "Hund" not in str(client.get("/api/v1/reports").get_json())


def test_every_action_and_every_look_at_the_email_is_audited(
    app: Flask, client: Any, crew: dict[str, str],
) -> None:
    report = create(client, email="melder@example.org")
    client.post(report_url(report["id"], "claim"), headers=crew)
    client.post(report_url(report["id"], "status"), json={"status": "acknowledged"},
                headers=crew)
    assert client.get(report_url(report["id"], "reporter"), headers=crew).get_json() == {
        "email": "melder@example.org", "name": None, "phone": None}
    client.get(report_url(report["id"], "reporter"), headers=crew)
    assert audit_actions(app) == [("anna", "claim"), ("anna", "status"),
                                  ("anna", "read_reporter_email"),
                                  ("anna", "read_reporter_email")]
    with app.app_context():
        entry_id = db.session.scalar(select(AuditEntry.id))
        for statement in ("UPDATE audit_log SET actor = 'x' WHERE id = :id",
                          "DELETE FROM audit_log WHERE id = :id"):
            with pytest.raises(DatabaseError):
                db.session.execute(text(statement), {"id": entry_id})
            db.session.rollback()


def test_the_partial_index_predicate_names_exactly_the_open_statuses() -> None:
    import re

    from backend.models.report import OPEN_STATUS_SQL
    from backend.workflow import OPEN_STATUSES

    assert set(re.findall(r"'(\w+)'", OPEN_STATUS_SQL)) == {s.value for s in OPEN_STATUSES}
