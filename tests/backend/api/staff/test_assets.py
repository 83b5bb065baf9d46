"""Staff and assets: the asset in the queue and the detail, an asset's report history, and the
dispatchers' correction of a report's asset (permissions, bad input, audit), both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Asset, AuditEntry
from tests.backend.api.asset_helpers import asset_of, point_at, signals
from tests.backend.api.helpers import assert_error, create
from tests.backend.api.staff_helpers import QUEUE_URL, login, make_user, report_url, token_for

SIGNALS = "verkehrstechnik"


def _history_url(asset_id: int) -> str:
    return f"/api/v1/staff/assets/{asset_id}/reports"


def _audits(app: Flask) -> list[tuple[str, str, dict | None]]:
    with app.app_context():
        return [(e.actor, e.action, e.details) for e in db.session.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]


def test_queue_and_detail_show_the_asset_or_null(app: Flask, client: Any) -> None:
    make_user(app, "vera", "crew", (SIGNALS,), password=None)
    first, _ = signals(app)
    with_asset = create(client, "ampel-lampe")["id"]
    without = create(client, "ampel-lampe")["id"]
    point_at(app, with_asset, first.id)
    headers = token_for(app, "vera")
    queue = client.get(QUEUE_URL, headers=headers).get_json()
    shown = {f["id"]: f["properties"]["asset"] for f in queue["features"]}
    assert shown[without] is None
    assert shown[with_asset]["id"] == first.id
    assert shown[with_asset]["layer"] == "lsa-osm" and shown[with_asset]["type"] == (
        "traffic_signal")
    assert shown[with_asset]["external_id"] == first.external_id
    assert shown[with_asset]["retired"] is False
    detail = client.get(report_url(with_asset), headers=headers).get_json()
    assert detail["asset"] == shown[with_asset]
    assert client.get(report_url(without), headers=headers).get_json()["asset"] is None
    assert "asset" not in detail["actions"]  # crews may not correct it


def test_a_dispatcher_corrects_the_asset_audited_and_shown_publicly(app: Flask,
                                                                    client: Any) -> None:
    make_user(app, "dora", "dispatcher", ("anliegenmanagement",))
    first, second = signals(app)
    report = create(client, "ampel-lampe")["id"]
    point_at(app, report, first.id)
    csrf = login(client, "dora")
    body = {"asset_id": second.id}
    refused = client.put(report_url(report, "asset"), json=body)  # the session needs CSRF
    assert_error(refused, 403, "csrf_failed", {"X-CSRF-Token"})
    assert asset_of(app, report)[0] == first.id
    _, before = asset_of(app, report)
    response = client.put(report_url(report, "asset"), json=body,
                          headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["asset"]["id"] == second.id
    assert "asset" in response.get_json()["actions"]
    stored, after = asset_of(app, report)
    assert stored == second.id and after > before
    assert _audits(app)[-1] == ("dora", "asset", {"previous_asset_id": first.id,
                                                  "asset_id": second.id})
    public = client.get(f"/api/v1/reports/{report}").get_json()
    assert public["updated_at"] > before.isoformat()[:19]  # the public view was rendered again
    assert public["asset"]["id"] == second.id  # the public report page shows the correction
    [request] = client.get(f"/open311/v2/requests/{report}.json?extensions=true").get_json()
    assert request["extended_attributes"]["asset"]["id"] == second.id
    removed = client.put(report_url(report, "asset"), json={"asset_id": None},
                         headers={"X-CSRF-Token": csrf})
    assert removed.status_code == 200 and removed.get_json()["asset"] is None
    assert asset_of(app, report)[0] is None
    assert client.get(f"/api/v1/reports/{report}").get_json()["asset"] is None
    assert _audits(app)[-1][2] == {"previous_asset_id": second.id, "asset_id": None}


def test_crews_may_not_correct_and_strangers_must_log_in(app: Flask, client: Any) -> None:
    make_user(app, "vera", "crew", (SIGNALS,), password=None)
    make_user(app, "ali", "analyst", (), password=None)
    first, second = signals(app)
    report = create(client, "ampel-lampe")["id"]
    point_at(app, report, first.id)
    for who in ("vera", "ali"):
        response = client.put(report_url(report, "asset"), json={"asset_id": second.id},
                              headers=token_for(app, who))
        assert response.status_code in (403, 404), response.get_data(as_text=True)
        assert_error(response, response.status_code, "forbidden" if response.status_code == 403
                     else "not_found")
    assert_error(client.put(report_url(report, "asset"), json={"asset_id": second.id},
                            headers=token_for(app, "vera")), 403, "forbidden", {"action"})
    assert_error(client.put(report_url(report, "asset"), json={"asset_id": second.id}),
                 401, "not_authenticated")
    assert_error(client.get(_history_url(first.id)), 401, "not_authenticated")
    assert_error(client.get(_history_url(first.id), headers=token_for(app, "ali")),
                 403, "forbidden")
    assert asset_of(app, report)[0] == first.id
    assert [a for a in _audits(app) if a[1] == "asset"] == []


def test_bad_corrections_name_the_field_and_change_nothing(app: Flask, client: Any) -> None:
    make_user(app, "dora", "dispatcher", ("anliegenmanagement",), password=None)
    headers = token_for(app, "dora")
    first, second = signals(app)
    signal_report = create(client, "ampel-lampe")["id"]
    sign_report = create(client, "schild-fehlt")["id"]
    point_at(app, signal_report, first.id)
    with app.app_context():
        unknown = (db.session.scalar(select(Asset.id).order_by(Asset.id.desc())) or 0) + 1
    cases: list[tuple[str, Any, str]] = [
        (signal_report, {"asset_id": unknown}, "asset_id"),
        (signal_report, {"asset_id": "12"}, "asset_id"),
        (signal_report, {"asset_id": 1.5}, "asset_id"),
        (signal_report, {}, "asset_id"),
        (signal_report, {"asset_id": second.id, "extra": 1}, "extra"),
        (sign_report, {"asset_id": second.id}, "asset_id"),  # a signal for a sign: wrong type
    ]
    for public_id, body, field in cases:
        response = client.put(report_url(public_id, "asset"), json=body, headers=headers)
        assert_error(response, 422, "validation_failed", {field})
    assert_error(client.put(report_url("XXXXXXXX", "asset"), json={"asset_id": None},
                            headers=headers), 404, "not_found")
    with app.app_context():  # a retired asset is refused too (and put back afterwards)
        db.session.execute(update(Asset).where(Asset.id == second.id)
                           .values(retired_at=datetime.now(UTC)))
        db.session.commit()
    try:
        assert_error(client.put(report_url(signal_report, "asset"),
                                json={"asset_id": second.id}, headers=headers),
                     422, "validation_failed", {"asset_id"})
    finally:
        with app.app_context():
            db.session.execute(update(Asset).where(Asset.id == second.id)
                               .values(retired_at=None))
            db.session.commit()
    assert asset_of(app, signal_report)[0] == first.id
    assert asset_of(app, sign_report)[0] is None
    assert [a for a in _audits(app) if a[1] == "asset"] == []


def test_the_history_of_an_asset_lists_every_report_newest_first(app: Flask,
                                                                 client: Any) -> None:
    make_user(app, "vera", "crew", (SIGNALS,), password=None)
    make_user(app, "nora", "crew", ("bezirksinspektion-nord",), password=None)
    first, second = signals(app)
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    old, fixed, other = (create(client, "ampel-lampe")["id"] for _ in range(3))
    point_at(app, old, first.id, created_at=start)
    point_at(app, fixed, first.id, created_at=start + timedelta(days=2),
             resolved_at=start + timedelta(days=2, hours=5), status="resolved")
    point_at(app, other, second.id)
    body = client.get(_history_url(first.id), headers=token_for(app, "vera")).get_json()
    assert body["asset"]["id"] == first.id
    assert (body["count"], body["open_count"]) == (2, 1)
    assert [r["id"] for r in body["reports"]] == [fixed, old]
    newest, oldest = body["reports"]
    assert newest["status"] == "resolved" and newest["hours_to_fix"] == 5.0
    assert newest["category"]["code"] == "ampel-lampe"
    assert newest["department"]["code"] == SIGNALS
    assert oldest["status"] == "submitted" and oldest["hours_to_fix"] is None
    assert oldest["closed_at"] is None and oldest["resolved_at"] is None
    assert newest["closed_at"] == newest["resolved_at"]
    # A crew sees only its departments' reports of the asset.
    elsewhere = client.get(_history_url(first.id), headers=token_for(app, "nora")).get_json()
    assert elsewhere["count"] == 0 and elsewhere["reports"] == []
    assert_error(client.get(_history_url(10**12), headers=token_for(app, "vera")),
                 404, "not_found", {"id"})


def test_a_correction_through_the_workflow_and_its_replay(app: Flask, client: Any) -> None:
    make_user(app, "dora", "dispatcher", ("anliegenmanagement",), password=None)
    headers = token_for(app, "dora")
    first, second = signals(app)
    report = create(client, "ampel-lampe")["id"]
    point_at(app, report, first.id)
    keyed = {**headers, "Idempotency-Key": "fix-asset-1"}
    done = client.put(report_url(report, "asset"), json={"asset_id": second.id}, headers=keyed)
    again = client.put(report_url(report, "asset"), json={"asset_id": second.id}, headers=keyed)
    assert done.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert [a[1] for a in _audits(app)].count("asset") == 1
    resolved = client.post(report_url(report, "resolve"), json={"public_note": "Lampe neu."},
                           headers=headers)
    assert resolved.status_code == 200, resolved.get_data(as_text=True)
    [entry] = client.get(_history_url(second.id), headers=headers).get_json()["reports"]
    assert entry["status"] == "resolved" and entry["closed_at"] is not None
    assert entry["hours_to_fix"] is not None and entry["hours_to_fix"] >= 0
    assert client.get(_history_url(first.id), headers=headers).get_json()["count"] == 0
