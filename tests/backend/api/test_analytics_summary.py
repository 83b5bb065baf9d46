"""Service-level figures, checked against hand-made histories; open data without personal
data, checked on the output."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Report, ReportEvent
from backend.services.seeding import seed_reports
from tests.backend.api.helpers import ALLIANZ_ARENA, assert_error, create
from tests.backend.api.staff_helpers import make_user, report_url, token_for

URL = "/api/v1/analytics/summary"


@pytest.fixture
def analyst(app: Flask) -> dict[str, str]:
    make_user(app, "ada", "analyst", (), password=None)
    return token_for(app, "ada")


def _age(app: Flask, public_id: str, hours: float) -> None:
    """Move a report and its history `hours` into the past."""
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.public_id == public_id))
        shift = timedelta(hours=hours)
        db.session.execute(update(Report).where(Report.id == report.id).values(
            created_at=report.created_at - shift, due_at=report.due_at - shift))
        db.session.commit()


def _event_at(app: Flask, public_id: str, status: str, hours_after_creation: float) -> None:
    """Record when (relative to creation) the report reached `status` (history is
    append-only, so the test writes a fresh row with the wanted time)."""
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.public_id == public_id))
        db.session.add(ReportEvent(report_id=report.id, actor="staff:test", to_status=status,
                                   at=report.created_at + timedelta(hours=hours_after_creation)))
        db.session.execute(update(Report).where(Report.id == report.id).values(status=status))
        db.session.commit()


def test_figures_match_hand_made_histories(app: Flask, client: Any,
                                           analyst: dict[str, str]) -> None:
    # Three high-priority sign reports (target 24 h) at Marienplatz (district 01):
    fast = create(client)  # acknowledged after 1 h, resolved after 10 h: in time
    slow = create(client)  # acknowledged after 3 h, resolved after 30 h: late
    waiting = create(client)  # never touched, 48 h old: open and past target
    for report in (fast, slow, waiting):
        _age(app, report["id"], 48)
    _event_at(app, fast["id"], "acknowledged", 1)
    _event_at(app, fast["id"], "resolved", 10)
    _event_at(app, slow["id"], "acknowledged", 3)
    _event_at(app, slow["id"], "resolved", 30)
    light = create(client, category="ampel-ausfall", point=ALLIANZ_ARENA)  # fresh, in time

    body = client.get(URL, headers=analyst).get_json()

    totals = body["totals"]
    assert totals["reports"] == 4 and totals["open"] == 2 and totals["closed"] == 2
    assert totals["by_status"]["resolved"] == 2 and totals["by_status"]["submitted"] == 2
    assert totals["acknowledge_h"] == {"median": 2.0, "p90": pytest.approx(2.8, abs=0.01)}
    assert totals["resolve_h"] == {"median": 20.0, "p90": pytest.approx(28.0, abs=0.01)}
    assert totals["past_target_share"] == 0.5  # slow and waiting
    districts = {d["key"]: d for d in body["by_district"]}
    assert districts["01"]["reports"] == 3 and districts["01"]["past_target_share"] == 0.6667
    assert sum(d["reports"] for d in body["by_district"]) == 4
    categories = {c["key"]: c for c in body["by_category"]}
    assert categories["ampel-ausfall"]["reports"] == 1
    assert categories["ampel-ausfall"]["resolve_h"] == {"median": None, "p90": None}
    assert categories["schild-fehlt"]["resolve_h"]["median"] == 20.0
    departments = {d["key"]: d["reports"] for d in body["by_department"]}
    assert departments == {"bezirksinspektion-mitte": 3, "verkehrstechnik": 1}
    assert light["id"]
    only_lights = client.get(f"{URL}?group=ampel", headers=analyst).get_json()
    assert only_lights["totals"]["reports"] == 1


def test_summary_csv_has_a_row_per_district_and_category(client: Any, app: Flask,
                                                         analyst: dict[str, str]) -> None:
    with app.app_context():
        seed_reports(db.session, 600, random_seed=5)
    response = client.get(f"{URL}?format=csv", headers=analyst)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    districts = [r for r in rows if r["dimension"] == "district"]
    categories = [r for r in rows if r["dimension"] == "category"]
    assert sum(int(r["reports"]) for r in districts) == 600
    assert sum(int(r["reports"]) for r in categories) == 600
    assert sum(int(r["reports"]) for r in rows if r["dimension"] == "department") == 600
    assert all(int(r["open"]) + int(r["closed"]) == int(r["reports"]) for r in rows)
    json_body = client.get(URL, headers=analyst).get_json()
    assert json_body["totals"]["reports"] == 600
    assert_error(client.get(f"{URL}?format=xml&status=maybe", headers=analyst), 422,
                 "validation_failed", {"format", "status"})


def test_crew_may_not_read_figures(app: Flask, client: Any) -> None:
    make_user(app, "anna", "crew", ("bezirksinspektion-mitte",), password=None)
    assert_error(client.get(URL, headers=token_for(app, "anna")), 403, "forbidden")


# --------------------------------------------------------------------------- open data

PERSONAL = ("melder@example.org", "Hinterhof neben der Bäckerei", "Geheime Beschreibung",
            "Interne Notiz")


def _personal_report(app: Flask, client: Any) -> dict[str, Any]:
    report = create(client, email="melder@example.org", address="Hinterhof neben der Bäckerei",
                    description="Geheime Beschreibung: Herr Müller, Tel. 0171 1234567")
    make_user(app, "anna", "crew", ("bezirksinspektion-mitte",), password=None)
    client.post(report_url(report["id"], "notes"), json={"text": "Interne Notiz"},
                headers=token_for(app, "anna"))
    return report


ASSET_COLUMNS = ("asset_id", "asset_layer", "asset_external_id", "asset_name", "asset_number")


def test_open_data_csv_carries_no_personal_data(app: Flask, client: Any) -> None:
    report = _personal_report(app, client)
    response = client.get("/api/v1/opendata/reports.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'rel="license"' in response.headers["Link"]
    text = response.get_data(as_text=True)
    for secret in (*PERSONAL, report["tracking_token"], "0171", "@"):
        assert secret not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == [report["id"]]
    assert set(rows[0]) == {"id", "category", "category_name", "group", "status",
                            "open311_status", "district", "district_name", "department",
                            "created_at", "updated_at", "lon", "lat", *ASSET_COLUMNS,
                            "approximate"}
    assert rows[0]["approximate"] == "false"
    assert re.fullmatch(r"\d+\.\d{1,4}", rows[0]["lon"])
    assert abs(float(rows[0]["lat"]) - 48.1374) <= 0.00005


def test_open_data_geojson_has_licence_and_no_personal_data(app: Flask, client: Any) -> None:
    report = _personal_report(app, client)
    response = client.get("/api/v1/opendata/reports.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    text = response.get_data(as_text=True)
    for secret in (*PERSONAL, report["tracking_token"], "@"):
        assert secret not in text
    body = json.loads(text)
    assert body["metadata"]["licenses"][0]["name"] == "CC-BY-4.0"
    assert "GeodatenService" in body["metadata"]["attribution"]
    [feature] = body["features"]
    assert feature["id"] == report["id"]
    assert set(feature["properties"]) == {
        "id", "category", "category_name", "group", "status", "open311_status", "district",
        "district_name", "department", "created_at", "updated_at", *ASSET_COLUMNS,
        "approximate"}
    lon, lat = feature["geometry"]["coordinates"]
    assert lon == round(lon, 4) and lat == round(lat, 4)
    assert client.get("/api/v1/opendata/metadata.json").get_json()["resources"][0][
        "format"] == "csv"


def test_the_nightly_export_writes_the_same_files(app: Flask, client: Any, settings: Any,
                                                  tmp_path: Path) -> None:
    from click.testing import CliRunner

    from backend.cli import main

    _personal_report(app, client)
    for _ in range(3):
        create(client)
    env = {"MM_DATABASE_URL": settings.database_url, "MM_DATA_DIR": str(tmp_path),
           "MM_SECRET_KEY": settings.secret_key, "MM_BASE_URL": settings.base_url,
           "MM_REDIS_URL": settings.redis_url}
    result = CliRunner().invoke(main, ["opendata", "export", str(tmp_path / "portal")],
                                env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    files = {p.name for p in (tmp_path / "portal").iterdir()}
    assert files == {"reports.csv", "reports.geojson", "datapackage.json"}
    exported = (tmp_path / "portal" / "reports.csv").read_text()
    assert exported == client.get("/api/v1/opendata/reports.csv").get_data(as_text=True)
    for secret in PERSONAL:
        assert secret not in exported
    geojson = json.loads((tmp_path / "portal" / "reports.geojson").read_text())
    assert len(geojson["features"]) == len(exported.splitlines()) - 1 == 4
    package = json.loads((tmp_path / "portal" / "datapackage.json").read_text())
    assert {resource["path"].rsplit("/", 1)[1] for resource in package["resources"]} >= {
        "reports.csv", "reports.geojson"}
