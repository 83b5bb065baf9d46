"""Honest outcomes through the API: staff close a report as not the city's and say whose it
is (public, Open311, audited); the reporter's "not fixed" reopens it once, one priority higher,
visibly in the staff queue and against the fix rate; open reports carry their expected date."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from backend.extensions import db
from backend.models import AuditEntry
from tests.backend.api.helpers import assert_error, create
from tests.backend.api.open311_helpers import BASE
from tests.backend.api.staff_helpers import QUEUE_URL, make_user, report_url, token_for

MITTE = "bezirksinspektion-mitte"
DB = {"name": "Deutsche Bahn AG", "url": "https://www.bahn.de/kontakt"}


def _crew(app: Flask) -> dict[str, str]:
    make_user(app, "mitte", "crew", (MITTE,), password=None)
    return token_for(app, "mitte")


def _not_ours(client: Any, headers: dict[str, str], report_id: str, **extra: Any) -> Any:
    return client.post(report_url(report_id, "status"), headers=headers, json={
        "status": "rejected", "reason": "not_responsible",
        "public_note": "Das Schild steht auf Bahngelände.", **extra})


def test_closing_as_not_ours_needs_who_is_responsible(app: Flask, client: Any) -> None:
    headers = _crew(app)
    report = create(client)
    assert_error(_not_ours(client, headers, report["id"]), 422, "validation_failed",
                 {"responsible"})
    assert_error(_not_ours(client, headers, report["id"], responsible={
        "name": "DB", "url": "ftp://x"}), 422, "validation_failed", {"responsible"})


def test_not_ours_is_public_in_open311_and_audited(app: Flask, client: Any) -> None:
    headers = _crew(app)
    report = create(client)
    assert _not_ours(client, headers, report["id"], responsible=DB).status_code == 200

    public = client.get(f"/api/v1/reports/{report['id']}").get_json()
    assert public["status"] == "rejected" and public["outcome"] == "not_responsible"
    assert public["responsible"] == DB and public["expected_at"] is None
    tracked = client.get(f"/api/v1/track/{report['tracking_token']}").get_json()
    assert tracked["responsible"] == DB

    request = client.get(f"{BASE}/requests/{report['id']}.json?extensions=true").get_json()[0]
    assert request["status"] == "closed" and request["expected_datetime"] is None
    assert request["status_notes"] == (
        "Das Schild steht auf Bahngelände. — Deutsche Bahn AG (https://www.bahn.de/kontakt)")
    assert request["extended_attributes"]["outcome"] == "not_responsible"
    assert request["extended_attributes"]["responsible"] == DB

    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "status")
                                   ).all()[-1]
        assert entry.actor == "mitte"
        assert entry.details["outcome"] == "not_responsible" and entry.details["responsible"] == DB


def test_cannot_fix_is_closed_not_fixed(app: Flask, client: Any) -> None:
    headers = _crew(app)
    report = create(client)
    response = client.post(report_url(report["id"], "status"), headers=headers, json={
        "status": "rejected", "reason": "cannot_fix", "public_note": "Privatgrund."})
    assert response.status_code == 200
    public = client.get(f"/api/v1/reports/{report['id']}").get_json()
    assert (public["outcome"], public["responsible"]) == ("not_fixed", None)
    staff = client.get(report_url(report["id"]), headers=headers).get_json()
    assert staff["outcome"] == "not_fixed"


def test_an_open_report_shows_its_expected_date_to_reporter_public_and_map(
    client: Any,
) -> None:
    report = create(client)
    tracked = client.get(f"/api/v1/track/{report['tracking_token']}").get_json()
    assert tracked["outcome"] is None and tracked["expected_at"]
    assert datetime.fromisoformat(tracked["expected_at"]) > datetime.fromisoformat(
        tracked["created_at"])
    features = client.get("/api/v1/reports?status=open&limit=50").get_json()["features"]
    mine = next(f for f in features if f["id"] == report["id"])
    assert mine["properties"]["expected_at"] == tracked["expected_at"]


def test_not_fixed_reopens_once_raised_in_the_queue_and_against_the_fix_rate(
    app: Flask, client: Any,
) -> None:
    headers = _crew(app)
    make_user(app, "ada", "analyst", (), password=None)
    analyst = token_for(app, "ada")
    report = create(client, category="schild-unleserlich")  # normal priority
    assert client.post(report_url(report["id"], "resolve"), headers=headers, json={
        "public_note": "Freigeschnitten."}).status_code == 200
    figures = client.get("/api/v1/analytics/summary", headers=analyst).get_json()["totals"]
    assert figures["fix_rate"] == 1.0 and figures["outcomes"]["fixed"] == 1

    url = f"/api/v1/track/{report['tracking_token']}/fixed"
    first = client.post(url, json={"fixed": False, "note": "Immer noch zugewachsen."})
    again = client.post(url, json={"fixed": False, "note": "Immer noch zugewachsen."})
    assert first.status_code == again.status_code == 200
    assert again.get_json()["status"] == "reopened" and again.get_json()["priority"] == "high"
    assert [e["status"] for e in again.get_json()["history"]].count("reopened") == 1

    queue = client.get(QUEUE_URL, headers=headers).get_json()["features"]
    item = next(f["properties"] for f in queue if f["id"] == report["id"])
    assert item["status"] == "reopened" and item["priority"] == "high"
    assert item["reporter_not_fixed"] == 1
    detail = client.get(report_url(report["id"]), headers=headers).get_json()
    assert detail["department"]["code"] == MITTE and detail["reporter_not_fixed"] == 1
    assert detail["history"][-1]["public_note"] == "Immer noch zugewachsen."
    assert detail["history"][-1]["internal_note"] == "priority: normal → high"

    figures = client.get("/api/v1/analytics/summary", headers=analyst).get_json()["totals"]
    assert figures["fix_rate"] == 0.0 and figures["reporter_not_fixed"] == 1
    csv = client.get("/api/v1/analytics/summary?format=csv", headers=analyst).get_data(as_text=True)
    assert csv.splitlines()[0].endswith(",fix_rate,reporter_not_fixed")
